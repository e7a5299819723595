"""Plausible dates: the one rule for every date a person types, as model-field validators.

Services save through jusou.services.save_with_history (full_clean), ModelForms run the same
validators, so the pages and the API refuse the same dates with the same Japanese message, on the
field. Without it a year like 1800 was accepted for 生年月日 and 受付日時 — and a time that old is
shown at Tokyo's local mean time (+09:18:59), 10:18 for a call taken at 10:00.

- 生年月日 and other dates of a life (世帯への加入): from 1900-01-01 (BIRTH_DATE_MIN).
- Dates of this work (受付日時, 経過記録, 同意日, 会議, 予定日): from settings.RECORDS_START_DATE (default
  2000-01-01; a municipality migrating older records sets it earlier).
- What has happened (生年月日, 受付日時, 経過記録の日時, 同意日 …) is not in the future — for a time, up to
  FUTURE_TOLERANCE ahead, for a clock a little fast; what is planned (次回予定日, 見直し予定日, 有効期限)
  at most `years_ahead` years ahead.
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible

BIRTH_DATE_MIN = date(1900, 1, 1)
FUTURE_TOLERANCE = timedelta(minutes=5)

LIFE = "life"  # from BIRTH_DATE_MIN
RECORDS = "records"  # from settings.RECORDS_START_DATE


def earliest_date(earliest: str) -> date:
    return BIRTH_DATE_MIN if earliest == LIFE else settings.RECORDS_START_DATE


def _japanese(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@deconstructible
class PlausibleDate:
    """Validator for a DateField or DateTimeField labelled `label` (the message names it)."""

    def __init__(self, label: str, *, earliest: str = RECORDS, years_ahead: int = 0):
        self.label, self.earliest, self.years_ahead = label, earliest, years_ahead

    def __call__(self, value) -> None:
        if value is None:
            return
        moment = isinstance(value, datetime)
        kind = "日時" if moment else "日付"
        if moment:
            day = (timezone.localtime(value) if timezone.is_aware(value) else value).date()
        else:
            day = value
        lower = earliest_date(self.earliest)
        if day < lower:
            raise ValidationError(
                f"{self.label}は{_japanese(lower)}以降の{kind}を入力してください。", code="date_too_early"
            )
        today = timezone.localdate()
        if self.years_ahead == 0:
            future = value > timezone.now() + FUTURE_TOLERANCE if moment else value > today
            if future:
                raise ValidationError(f"{self.label}に未来の{kind}は入力できません。", code="date_in_future")
        elif day > _years_after(today, self.years_ahead):
            raise ValidationError(
                f"{self.label}は{self.years_ahead}年後までの{kind}を入力してください。", code="date_too_late"
            )

    def __eq__(self, other):
        return isinstance(other, PlausibleDate) and (self.label, self.earliest, self.years_ahead) == (
            other.label,
            other.earliest,
            other.years_ahead,
        )


def birth_date(label: str = "生年月日") -> PlausibleDate:
    """From 1900-01-01 up to today."""
    return PlausibleDate(label, earliest=LIFE)


def happened(label: str) -> PlausibleDate:
    """Something recorded in this work that has happened: from RECORDS_START_DATE up to now."""
    return PlausibleDate(label)


def planned(label: str, years_ahead: int = 10) -> PlausibleDate:
    """A date of this work that may lie ahead: from RECORDS_START_DATE, at most `years_ahead` years on."""
    return PlausibleDate(label, years_ahead=years_ahead)
