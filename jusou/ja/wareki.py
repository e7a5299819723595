"""和暦 (Japanese era) dates and 年度 (the April–March fiscal year): the one place that knows the eras.

Dates are stored ISO and only displayed in 和暦. The era of a day is decided by the exact date, because
several years hold two eras: 2019-04-30 is 平成31年, 2019-05-01 is 令和元年.

A period is labelled by one rule, used for every title, period row, file name, picker and chart axis
(`month_label`, `fiscal_year_label`): **the era in force on the period's last day, when the period's
first Western year already counts in that era; otherwise the era of its first day.** So

- 2019年度 (2019-04-01〜2020-03-31) is 令和元年度 — as the government's statistics name it since the
  改元 (e-Stat: 福祉行政報告例 令和元年度, 生活困窮者自立支援制度 支援状況調査 令和元年度), although
  2019-04-01 was 平成 (平成31年度 is only the name used before 1 May 2019);
- 1988年度 (to 1989-03-31) stays 昭和63年度: 平成 counts from 1989, so 1988年度 cannot be 平成;
- 1989年度 is 平成元年度; 2019年4月 is 平成31年4月, 2019年5月 is 令和元年5月, 1989年1月 is 平成元年1月.

Typed dates (`parse_date`) accept 西暦 and 和暦 in the forms people write them — 昭和19年5月10日, S19.5.10,
R7.4.1, 元年, full-width digits, ㍼ — and refuse a day outside its era (平成31年5月1日, 平成32年) with a
Japanese message naming the right reading.
"""

import json
import re
import unicodedata
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


# --- Labels of periods (年度, months, years) -------------------------------------------------------------


def _numbered(name: str, year: int) -> str:
    return f"{name}{'元' if year == 1 else year}"


def _start_year(name: str, first_day: date) -> int:
    return MEIJI_FIRST_YEAR if name == "明治" else first_day.year


def _period_era(first: date, last: date) -> tuple[str, int] | None:
    """(era, year in it) of a period by the module's rule: the era of `last` if `first.year` counts in
    it, else the era of `first`; numbered from `first.year`. None before 明治."""
    for first_day, name in ERAS:
        if last >= first_day:
            if first.year >= _start_year(name, first_day):
                return name, first.year - _start_year(name, first_day) + 1
            break
    return era_year(first)


def fiscal_year_label(year: int) -> str:
    """'令和7年度' for 年度 2025 (2025-04-01〜2026-03-31); 2019 is 令和元年度, 1988 昭和63年度."""
    era = _period_era(date(year, 4, 1), date(year + 1, 3, 31))
    return f"{_numbered(*era)}年度" if era else f"{year}年度"


def fiscal_year_choice_label(year: int) -> str:
    """'令和7年度（2025年度）': a picker's option, with the Western year to type or compare."""
    return f"{fiscal_year_label(year)}（{year}年度）"


def _month_last_day(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def month_era(value: date | datetime) -> tuple[str, int] | None:
    """(era, year) of the month of `value`: 2019年4月 → ('平成', 31), 2019年5月 → ('令和', 1)."""
    day = as_date(value)
    return _period_era(day.replace(day=1), _month_last_day(day))


def month_label(value: date | datetime) -> str:
    """'令和7年4月' for the month of `value` (titles, file names, table rows)."""
    day = as_date(value)
    era = month_era(day)
    return f"{_numbered(*era)}年{day.month}月" if era else f"{day.year}年{day.month}月"


def month_year_label(value: date | datetime) -> str:
    """'令和7年': the year line under a month on a chart axis (the month's era, as in month_label)."""
    day = as_date(value)
    era = month_era(day)
    return f"{_numbered(*era)}年" if era else f"{day.year}年"


def is_month(start: date, end: date) -> bool:
    return start.day == 1 and end == _month_last_day(start)


def is_fiscal_year(start: date, end: date) -> bool:
    return (start.month, start.day) == (4, 1) and end == date(start.year + 1, 3, 31)


def period_name(start: date, end: date) -> str:
    """A period (inclusive dates) in words — the one label for a report's title, period row and file
    name: '令和7年4月' for a whole month, '令和7年度' for a whole 年度, else '令和7年4月1日〜令和7年6月30日'."""
    if is_month(start, end):
        return month_label(start)
    if is_fiscal_year(start, end):
        return fiscal_year_label(start.year)
    return f"{to_wareki(start)}〜{to_wareki(end)}"


# --- Typed dates ---------------------------------------------------------------------------------------------

ERA_ABBREVIATIONS = {"明治": "M", "大正": "T", "昭和": "S", "平成": "H", "令和": "R"}
_ERA_BY_TOKEN = {
    **{name: name for name in ERA_ABBREVIATIONS},
    **{letter: name for name, letter in ERA_ABBREVIATIONS.items()},
    **{name[0]: name for name in ERA_ABBREVIATIONS},  # 昭19.5.10
}
_WAREKI = re.compile(
    r"^(?P<era>明治|大正|昭和|平成|令和|[MTSHR明大昭平令])\s*(?P<year>\d{1,2}|元)\s*(?:年|[./\-・])\s*"
    r"(?P<month>\d{1,2})\s*(?:月|[./\-・])\s*(?P<day>\d{1,2})\s*日?$"
)
_WAREKI_COMPACT = re.compile(r"^(?P<era>[MTSHR])(?P<year>\d{2})(?P<month>\d{2})(?P<day>\d{2})$")
_WESTERN = re.compile(
    r"^(?:西暦)?\s*(?P<year>\d{4})\s*(?:年|[./\-・])\s*(?P<month>\d{1,2})\s*(?:月|[./\-・])\s*"
    r"(?P<day>\d{1,2})\s*日?$"
)
_WESTERN_COMPACT = re.compile(r"^(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})$")
# Dashes people type in Japanese text (ー is the katakana long vowel mark, often typed for a hyphen).
_DASHES = str.maketrans({c: "-" for c in "ー―‐‑–—−"})
INPUT_EXAMPLE = "1944-05-10、昭和19年5月10日、S19.5.10"


class DateInputError(ValueError):
    """A typed date that cannot be read; `message` is Japanese and names what is wrong."""

    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.message, self.code = message, code


def normalise_input(text: str) -> str:
    """Full-width digits, letters and punctuation to half-width (NFKC: also ㍼ → 昭和, ㋿ → 令和), the
    dashes of Japanese text to '-', upper-case era letters, no surrounding space."""
    return unicodedata.normalize("NFKC", text).translate(_DASHES).strip().upper()


def _era_span(name: str) -> tuple[date, date | None, int]:
    """(first day, first day of the next era or None, Western year of 元年) of an era."""
    following = None
    for first_day, era in ERAS:
        if era == name:
            return first_day, following, _start_year(era, first_day)
        following = first_day
    raise KeyError(name)


def _day(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DateInputError(f"「{text}」は存在しない日付です。", code="no_such_date") from None


def parse_date(text: str) -> date:
    """The date typed in `text`, 西暦 or 和暦. Raises DateInputError (Japanese message) for text that
    is not a date, a day that does not exist, and a 和暦 day outside its era: 平成31年5月1日 and
    平成32年 are refused with their 令和 reading named, 令和元年4月30日 with its 平成 reading."""
    raw = (text or "").strip()
    value = normalise_input(raw)
    if match := (_WESTERN.match(value) or _WESTERN_COMPACT.match(value)):
        return _day(int(match["year"]), int(match["month"]), int(match["day"]), raw)
    match = _WAREKI.match(value) or _WAREKI_COMPACT.match(value)
    if match is None:
        raise DateInputError(f"日付は {INPUT_EXAMPLE} のように入力してください。")
    name = _ERA_BY_TOKEN[match["era"]]
    number = 1 if match["year"] == "元" else int(match["year"])
    month, day_of_month = int(match["month"]), int(match["day"])
    typed = f"{_numbered(name, number)}年{month}月{day_of_month}日"
    if number < 1:
        raise DateInputError(f"「{raw}」の年は元年（1年）からです。", code="era_year")
    first_day, next_first_day, base_year = _era_span(name)
    day = _day(base_year + number - 1, month, day_of_month, raw)
    if next_first_day is not None and day >= next_first_day:
        last = date.fromordinal(next_first_day.toordinal() - 1)
        raise DateInputError(
            f"{name}は{to_wareki(last)}までです（{typed}は{to_wareki(day)}）。", code="after_era"
        )
    if day < first_day:
        if name == "明治":
            raise DateInputError(
                "明治6年（1873年）より前の日付は旧暦のため入力できません。", code="before_era"
            )
        raise DateInputError(
            f"{name}は{to_wareki(first_day)}からです（{typed}は{to_wareki(day)}）。", code="before_era"
        )
    return day


# A time after the date: 14:00, 14:00:00, 14時, 14時05分, 午後2時, 午後2:30 (the date part is parse_date's).
_TIME = re.compile(
    r"(?:^|(?<=[\sT日]))\s*(?P<half>午前|午後|AM|PM)?\s*(?P<hour>\d{1,2})\s*"
    r"(?:時\s*(?:(?P<jminute>\d{1,2})\s*分)?|:\s*(?P<minute>\d{2})(?::\d{2}(?:\.\d+)?)?)$"
)
DATETIME_INPUT_EXAMPLE = "2025-04-01 14:00、令和7年4月1日 14時00分、R7.4.1 14:00"
# Below this a time cannot be kept (Tokyo's local mean time, +09:18:59, runs out of the calendar at year 1);
# whether a date is plausible (from 1900, 2000 …) is the model's rule, jusou.plausible, with its own message.
DATETIME_EARLIEST_YEAR = 1000


def parse_datetime(text: str) -> datetime:
    """The date and time typed in `text` (naive, as read: the page's time zone is the form field's),
    the date 西暦 or 和暦 as parse_date reads it, then the time: 「R7.4.1 14:00」, 「令和7年4月1日 14時00分」,
    「2025-04-01T14:00」 (a browser's datetime-local), 「令和7年4月1日 午後2時」. Raises DateInputError
    (Japanese message) for a missing or impossible time, a day parse_date refuses, a year before 1000."""
    raw = (text or "").strip()
    value = normalise_input(raw)
    match = _TIME.search(value)
    if match is None:
        try:
            parse_date(value)
        except DateInputError:
            raise DateInputError(f"日時は {DATETIME_INPUT_EXAMPLE} のように入力してください。") from None
        raise DateInputError(
            f"「{raw}」に時刻がありません。14:00 のように時刻も入力してください。", code="no_time"
        )
    day_text = value[: match.start()].strip().removesuffix("T").strip()
    if not day_text:
        raise DateInputError(f"日時は {DATETIME_INPUT_EXAMPLE} のように入力してください。")
    day = parse_date(day_text)
    hour = int(match["hour"])
    minute = int(match["minute"] or match["jminute"] or 0)
    if match["half"]:
        if hour > 12:
            raise DateInputError(
                f"「{raw}」は存在しない時刻です（午前・午後は12時まで）。", code="no_such_time"
            )
        hour = hour % 12 + (12 if match["half"] in ("午後", "PM") else 0)
    if hour > 23 or minute > 59:
        raise DateInputError(f"「{raw}」は存在しない時刻です。", code="no_such_time")
    if day.year < DATETIME_EARLIEST_YEAR:
        raise DateInputError(f"「{raw}」の年（{day.year}年）は日時として扱えません。", code="date_too_early")
    return datetime(day.year, day.month, day.day, hour, minute)


def reading_datetime(value: datetime | None) -> str:
    """What is shown beside a date-and-time field: '令和7年4月1日 14:00（2025年4月1日）'."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{to_wareki(local)} {local.strftime('%H:%M')}（{to_seireki(local)}）"


def reading(value: date | None) -> str:
    """What is shown beside a date field: '昭和19年5月10日（1944年5月10日）'."""
    if value is None:
        return ""
    return f"{to_wareki(value)}（{to_seireki(value)}）"


def eras_json() -> str:
    """The era table for the page's script (static/js/wareki.js), so that it is written only here:
    [[name, letter, first day, Western year of 元年], …], newest first."""
    table = [
        [name, ERA_ABBREVIATIONS[name], first_day.isoformat(), _start_year(name, first_day)]
        for first_day, name in ERAS
    ]
    return json.dumps(
        table,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def to_wareki_datetime(value: datetime | None) -> str:
    """'令和7年4月1日 14:05', the time in Asia/Tokyo (an aware datetime is stored in UTC)."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{to_wareki(local)} {local.strftime('%H:%M')}"
