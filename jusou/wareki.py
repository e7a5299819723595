"""和暦 (Japanese era) dates and 年度 (the April–March fiscal year).

Dates are stored ISO and only displayed in 和暦. The era is decided by the exact date, because
several years hold two eras: 2019-04-30 is 平成31年, 2019-05-01 is 令和元年.
"""

from datetime import date, datetime

from django.utils import timezone

# (first day, name), newest first. 明治 is counted from the adoption of the solar calendar (明治6年).
ERAS = (
    (date(2019, 5, 1), "令和"),
    (date(1989, 1, 8), "平成"),
    (date(1926, 12, 25), "昭和"),
    (date(1912, 7, 30), "大正"),
    (date(1873, 1, 1), "明治"),
)
MEIJI_FIRST_YEAR = 1868


def as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def local_text(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) datetime as Asia/Tokyo text for the places the template engine does not reach
    (messages, __str__ shown in lists and history reasons, CSV, command output): formatting an aware
    datetime with an f-string or strftime shows UTC, nine hours early (and the day before until 09:00)."""
    if value is None:
        return ""
    return (timezone.localtime(value) if timezone.is_aware(value) else value).strftime(fmt)


def era_year(value: date | datetime) -> tuple[str, int] | None:
    """('令和', 7) for 2025-04-01; None before 明治6年."""
    day = as_date(value)
    for first_day, name in ERAS:
        if day >= first_day:
            start_year = MEIJI_FIRST_YEAR if name == "明治" else first_day.year
            return name, day.year - start_year + 1
    return None


def to_wareki(value: date | datetime | None) -> str:
    """'令和7年4月1日'; the first year of an era is 元年. Dates before 明治6年 stay Western."""
    if value is None:
        return ""
    day = as_date(value)
    era = era_year(day)
    if era is None:
        return to_seireki(day)
    name, year = era
    return f"{name}{'元' if year == 1 else year}年{day.month}月{day.day}日"


def to_seireki(value: date | datetime | None) -> str:
    """'2025年4月1日'."""
    if value is None:
        return ""
    day = as_date(value)
    return f"{day.year}年{day.month}月{day.day}日"


def fiscal_year(value: date | datetime) -> int:
    """The 年度 a date belongs to, by its starting Western year: 2026-03-31 → 2025."""
    day = as_date(value)
    return day.year if day.month >= 4 else day.year - 1


def to_wareki_datetime(value: datetime | None) -> str:
    """'令和7年4月1日 14:05', the time in Asia/Tokyo (an aware datetime is stored in UTC)."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{to_wareki(local)} {local.strftime('%H:%M')}"
