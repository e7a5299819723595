"""Statistics the municipality reports (DOMAIN.md §7): one report for a period, composed of the sections
each 事業 contributes (`jusou.registry.Statistics`).

jusou imports no app: the cases, meetings, outreach, participation and community apps declare a
provider among their AppConfig's contributions(); a provider takes a `StatisticsScope` (the period and the agencies
whose records the reader may count) and returns (事業 name, list of Tables). Every figure is an aggregate
computed in the database, and the number of queries does not depend on the number of records.

Who counts what (DOMAIN.md §4/§7) is decided in one place, `statistics_agency_scope`.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from jusou.ja.wareki import fiscal_year, period_name
from jusou.models import Agency, Area, AreaLevel, Role
from jusou.registry import statistics_providers
from jusou.reports.tables import Ref, Relation, Report, Row, Table, adds_up

PERIOD_CHOICES = (("month", "月"), ("fiscal", "年度"), ("range", "期間"))
BY_CHOICES = (("", "なし"), ("area", "圏域別"), ("agency", "機関別"))
#: years a query may name: wide enough for any real report, narrow enough to keep dates sane
YEAR_MIN, YEAR_MAX = 2000, 2100
#: whole-municipality readers (DOMAIN.md §4: supervisors audit, coordinators run 多機関協働 across agencies)
MUNICIPAL_ROLES = frozenset({Role.SUPERVISOR, Role.COORDINATOR})
#: readers who count only their own agencies' records
AGENCY_ROLES = frozenset({Role.WORKER, Role.API_CLIENT})
NO_POPULATION_MESSAGE = "人口が設定されていないため、10万人あたりの件数は表示していません。"
RATE_COLUMN = "人口10万人あたり（月平均）"


def _month_start(year: int, month: int) -> date:
    return date(year, month, 1)


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


@dataclass(frozen=True)
class StatisticsParams:
    """What the reader asked for: a period (inclusive dates) and optional agency / 圏域 filters."""

    date_from: date
    date_to: date
    agency: Agency | None = None
    #: 圏域, with its sub-areas
    area: Area | None = None
    #: 'month' | 'fiscal' | 'range' — how the period was asked for (for the label and the form)
    period: str = "range"
    #: '' | 'area' | 'agency': add a table with one column per 中圏域 or per agency
    by: str = ""

    @classmethod
    def from_query(cls, query) -> "StatisticsParams":
        """Parse `period=month&month=YYYY-MM`, `period=fiscal&fiscal_year=YYYY` (年度 YYYY = April YYYY –
        March YYYY+1), `period=range&date_from=…&date_to=…`, `agency=<code>`, `area=<code>`, `by=area|agency`.
        With neither `period` nor `month`: this month. Raises ValidationError (Japanese messages, by
        field) on bad input. Other keys are ignored."""

        def get(name):
            return (query.get(name) or "").strip()

        # Every parameter is checked whenever it is sent, whichever period it belongs to: a bad
        # `fiscal_year` beside `period=month` (or no period) is a mistake, not a value to ignore silently.
        errors: dict[str, str] = {}
        period = get("period") or "month"
        if period not in dict(PERIOD_CHOICES):
            errors["period"] = "集計期間は「月」「年度」「期間」のいずれかを選んでください。"
        required = {"month": ("month",), "fiscal": ("fiscal_year",), "range": ("date_from", "date_to")}
        needed = required.get(period, ())
        values: dict[str, object] = {}

        text = get("month") or ("" if get("period") else timezone.localdate().strftime("%Y-%m"))
        if text:
            match = re.fullmatch(r"(\d{4})-(\d{1,2})", text)
            if not match or not 1 <= int(match[2]) <= 12 or not YEAR_MIN <= int(match[1]) <= YEAR_MAX:
                errors["month"] = (
                    f"月は {YEAR_MIN}-01 から {YEAR_MAX}-12 の範囲で、YYYY-MM の形で指定してください。"
                )
            else:
                values["month"] = (int(match[1]), int(match[2]))
        elif "month" in needed:
            errors["month"] = "月を指定してください（例: 2025-04）。"

        text = get("fiscal_year")
        if text:
            if not re.fullmatch(r"\d{4}", text) or not YEAR_MIN <= int(text) <= YEAR_MAX - 1:
                errors["fiscal_year"] = f"年度は {YEAR_MIN} から {YEAR_MAX - 1} の西暦4桁で指定してください。"
            else:
                values["fiscal_year"] = int(text)
        elif "fiscal_year" in needed:
            errors["fiscal_year"] = "年度を指定してください（例: 2025）。"

        for name, label in (("date_from", "開始日"), ("date_to", "終了日")):
            text = get(name)
            try:
                day = date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
            except ValueError:
                day = None
            if not text:
                if name in needed:
                    errors[name] = f"{label}を指定してください。"
            elif day is None or not YEAR_MIN <= day.year <= YEAR_MAX:
                errors[name] = (
                    f"{label}は {YEAR_MIN}〜{YEAR_MAX}年の日付を YYYY-MM-DD の形で指定してください。"
                )
            else:
                values[name] = day

        date_from = date_to = None
        if period == "month" and "month" in values:
            year, month = values["month"]
            date_from, date_to = _month_start(year, month), _month_end(year, month)
        elif period == "fiscal" and "fiscal_year" in values:
            year = values["fiscal_year"]
            date_from, date_to = date(year, 4, 1), date(year + 1, 3, 31)
        elif period == "range":
            date_from, date_to = values.get("date_from"), values.get("date_to")
            # the order is a rule of the range, not of either date: only when the range is asked for
            if date_from and date_to and date_from > date_to:
                errors["date_to"] = "終了日は開始日以降の日付にしてください。"

        agency = area = None
        if code := get("agency"):
            agency = Agency.objects.filter(code=code).first()
            if agency is None:
                errors["agency"] = "指定された機関が見つかりません。"
        if code := get("area"):
            area = Area.objects.filter(code=code).first()
            if area is None:
                errors["area"] = "指定された圏域が見つかりません。"
        by = get("by")
        if by not in dict(BY_CHOICES):
            errors["by"] = "内訳は「圏域別」か「機関別」を選んでください。"
        if errors:
            raise ValidationError(errors)
        return cls(date_from=date_from, date_to=date_to, agency=agency, area=area, period=period, by=by)

    @property
    def label(self) -> str:
        """The period in 和暦: 令和7年4月 / 令和7年度 / 令和7年4月1日〜令和7年6月30日."""
        return period_name(self.date_from, self.date_to)

    def query(self) -> dict[str, str]:
        """The parameters as a query (the inverse of from_query), e.g. for export links."""
        if self.period == "month":
            values = {"period": "month", "month": self.date_from.strftime("%Y-%m")}
        elif self.period == "fiscal":
            values = {"period": "fiscal", "fiscal_year": str(fiscal_year(self.date_from))}
        else:
            values = {
                "period": "range",
                "date_from": self.date_from.isoformat(),
                "date_to": self.date_to.isoformat(),
            }
        if self.agency:
            values["agency"] = self.agency.code
        if self.area:
            values["area"] = self.area.code
        if self.by:
            values["by"] = self.by
        return values

    def query_string(self) -> str:
        return urlencode(self.query())


# --- Who counts what ---------------------------------------------------------------------------------


def statistics_agency_scope(user) -> frozenset[int] | None:
    """The agencies whose records `user` may count in aggregate (DOMAIN.md §4/§7), or None for the
    whole municipality.

    Supervisors and coordinators count the whole municipality (supervisors read everything, read-only;
    coordinators work across agencies). A 相談員 counts only their own agencies' records — consultations
    their agency received, cases their agency owns, their agency's outreach … — never another agency's,
    even as a number. A machine client (statistics:read) counts its agency's. Anyone else: refused."""
    roles = user.roles if user.is_authenticated else frozenset()
    if roles & MUNICIPAL_ROLES:
        return None
    if roles & AGENCY_ROLES:
        return frozenset(
            m.agency_id for m in user.active_memberships if m.role in AGENCY_ROLES and m.agency_id is not None
        )
    raise PermissionDenied("統計を見る権限がありません。")


def can_read_statistics(user) -> bool:
    return bool(user.is_authenticated and user.roles & (MUNICIPAL_ROLES | AGENCY_ROLES))


def statistics_agencies_for(user):
    """The agencies a reader may choose in the agency filter."""
    scope = statistics_agency_scope(user)
    agencies = Agency.objects.filter(is_active=True) if scope is None else Agency.objects.filter(pk__in=scope)
    return agencies.order_by("name")


# --- The scope a provider counts over ----------------------------------------------------------------


@dataclass(frozen=True)
class StatisticsScope:
    """The period and the records a provider may count. Providers filter with the helpers below so
    that the access rule and the period boundaries (Asia/Tokyo days) are applied the same way
    everywhere."""

    date_from: date
    date_to: date
    #: None: no agency restriction (the whole municipality); else only these agencies' records
    agency_ids: frozenset[int] | None = None
    #: None: no 圏域 filter; else the chosen 圏域 and its sub-areas
    area_ids: frozenset[int] | None = None
    #: '' | 'area' | 'agency' (a breakdown table with one column per 中圏域 or agency)
    by: str = ""
    population: int = 0

    @property
    def start(self) -> datetime:
        """The first instant of the period in Asia/Tokyo (a consultation at 2026-04-01 00:10 JST belongs
        to 年度2026, one at 2026-03-31 23:30 JST to 年度2025)."""
        return timezone.make_aware(datetime.combine(self.date_from, time.min))

    @property
    def end(self) -> datetime:
        """The first instant after the period (exclusive)."""
        return timezone.make_aware(datetime.combine(self.date_to + timedelta(days=1), time.min))

    def during(self, field_name: str) -> Q:
        """A DateTimeField inside the period (a range on the column, so indexes apply)."""
        return Q(**{f"{field_name}__gte": self.start, f"{field_name}__lt": self.end})

    def during_days(self, field_name: str) -> Q:
        """A DateField inside the period."""
        return Q(**{f"{field_name}__gte": self.date_from, f"{field_name}__lte": self.date_to})

    @property
    def is_restricted(self) -> bool:
        return self.agency_ids is not None or self.area_ids is not None

    def agencies(self, field_name: str) -> Q:
        """Records whose agency (a ForeignKey path to Agency) the reader may count, inside the 圏域."""
        q = Q()
        if self.agency_ids is not None:
            q &= Q(**{f"{field_name}__in": self.agency_ids})
        if self.area_ids is not None:
            q &= Q(**{f"{field_name}__area__in": self.area_ids})
        return q

    def agency_queryset(self):
        """The agencies whose records are counted (all of them for the whole municipality)."""
        agencies = Agency.objects.all()
        if self.agency_ids is not None:
            agencies = agencies.filter(pk__in=self.agency_ids)
        if self.area_ids is not None:
            agencies = agencies.filter(area__in=self.area_ids)
        return agencies

    def areas(self, field_name: str) -> Q:
        """Records placed in a 圏域 (a ForeignKey path to Area): the 圏域 filter only. Such records
        (地域づくり) belong to no agency and hold no personal data, so the agency scope does not apply."""
        if self.area_ids is None:
            return Q()
        return Q(**{f"{field_name}__in": self.area_ids})

    @property
    def months(self) -> float:
        """Months in the period: whole calendar months when the period is made of them, else days ÷
        the mean month length."""
        if self.date_from.day == 1 and (self.date_to + timedelta(days=1)).day == 1:
            return (
                (self.date_to.year - self.date_from.year) * 12 + self.date_to.month - self.date_from.month + 1
            )
        return round(((self.date_to - self.date_from).days + 1) / (365.2425 / 12), 4)

    @property
    def rates_available(self) -> bool:
        """A rate per 10万人 needs the population the figures cover: configured for the municipality
        only, so narrowed figures (an agency, a 圏域) get no rate."""
        return self.population > 0 and not self.is_restricted

    def rate(self, count: int | None) -> float | None:
        """件数 ÷ months ÷ population × 100,000 (生活困窮者自立支援 統計の慣行: a monthly rate)."""
        if count is None or not self.rates_available:
            return None
        return round(count / self.months / self.population * 100_000, 2)

    @property
    def rate_note(self) -> str:
        if self.population <= 0:
            return NO_POPULATION_MESSAGE
        if self.is_restricted:
            return "10万人あたりの件数は市全体の集計でのみ表示します。"
        return f"人口 {self.population:,}人、{self.months:g}か月で計算しています。"

    # --- breakdowns (by=area / by=agency) ---

    def group_expression(self, agency_field: str):
        """The column key of a record in a `by` breakdown: its agency, or the 中圏域 its agency lies in
        (the agency's own 圏域 if it is a 中圏域, else that 圏域's parent)."""
        if self.by == "agency":
            return F(agency_field)
        return Case(
            When(**{f"{agency_field}__area__level": AreaLevel.MIDDLE}, then=F(f"{agency_field}__area_id")),
            When(
                **{f"{agency_field}__area__parent__level": AreaLevel.MIDDLE},
                then=F(f"{agency_field}__area__parent_id"),
            ),
            default=Value(None),
        )

    def group_columns(self) -> list[tuple[int | None, str]]:
        """(key, heading) of the breakdown columns, one query; the last column gathers records whose
        agency has no 中圏域."""
        if self.by == "agency":
            return [(a.pk, a.name) for a in self.agency_queryset().order_by("name")]
        areas = Area.objects.filter(level=AreaLevel.MIDDLE)
        if self.area_ids is not None:
            # a 小圏域 filter still counts its records in its 中圏域's column, so the columns add up
            areas = areas.filter(
                Q(pk__in=self.area_ids)
                | Q(pk__in=Area.objects.filter(pk__in=self.area_ids).values("parent_id"))
            )
        return [*((a.pk, a.name) for a in areas.order_by("code")), (None, "圏域未設定")]


def statistics_scope(user, params: StatisticsParams) -> StatisticsScope:
    """The scope for `user` asking `params`: the agency filter can only narrow the reader's own scope."""
    readable = statistics_agency_scope(user)
    agency_ids = readable
    if params.agency is not None:
        if readable is not None and params.agency.pk not in readable:
            raise PermissionDenied(
                "この機関の統計を見る権限がありません。所属する機関の統計のみ見ることができます。"
            )
        agency_ids = frozenset({params.agency.pk})
    area_ids = None
    if params.area is not None:
        area_ids = frozenset(
            Area.objects.filter(
                Q(pk=params.area.pk) | Q(parent_id=params.area.pk) | Q(parent__parent_id=params.area.pk)
            ).values_list("pk", flat=True)
        )
    return StatisticsScope(
        date_from=params.date_from,
        date_to=params.date_to,
        agency_ids=agency_ids,
        area_ids=area_ids,
        by=params.by,
        population=settings.STATISTICS_POPULATION,
    )


def _coverage(user, params: StatisticsParams, scope: StatisticsScope) -> str:
    parts = []
    if params.area is not None:
        parts.append(params.area.name)
    if params.agency is not None:
        parts.append(params.agency.name)
    elif scope.agency_ids is not None:
        names = sorted(a.name for a in user.agencies if a.pk in scope.agency_ids)
        parts.append("、".join(names) or "所属機関なし")
    if not parts:
        municipality = Area.objects.filter(level=AreaLevel.MUNICIPAL).order_by("code").first()
        parts.append(municipality.name if municipality else "市全体")
    return "・".join(parts)


def statistics_report(user, params: StatisticsParams, *, on_section=None) -> Report:
    """The report for `params` as `user` may see it in aggregate (DOMAIN.md §4/§7): supervisors and
    coordinators count the whole municipality (narrowed by the agency / 圏域 filters), workers and API
    clients only their own agencies' records. Raises PermissionDenied (Japanese message) when the reader
    asks for an agency outside that scope. Figures are raw; renderings that leave the system pass the
    report through `jusou.reports.tables.published` with settings.STATISTICS_SUPPRESS_BELOW (small cells and
    those the tables' relations would give back). `on_section(done, total)` is called after each 事業
    (the progress bar of an export, jusou.exports.jobs)."""
    scope = statistics_scope(user, params)
    report = Report(
        title=f"重層的支援体制整備事業 実績統計（{params.label}）",
        date_from=params.date_from,
        date_to=params.date_to,
        coverage=_coverage(user, params, scope),
    )
    providers = statistics_providers()
    for done, provider in enumerate(providers, start=1):
        name, tables = provider(scope)
        report.sections.append((name, tables))
        if on_section is not None:
            on_section(done, len(providers))
    return report


# --- Helpers for providers -----------------------------------------------------------------------------


def count_rows(labels, counts: dict, *, total: str | None = "合計", extra=()) -> list[Row]:
    """One row per (key, label) with its count (0 when absent); keys counted but not labelled (a
    retired code, a value outside the list) are kept under their own key so the total stays true.
    `extra` rows come after the total."""
    labels = list(labels)
    known = {key for key, _ in labels}
    rows = [Row(label, [counts.get(key, 0)]) for key, label in labels]
    rows += [
        Row(str(key) if key is not None else "未設定", [n]) for key, n in counts.items() if key not in known
    ]
    if total is not None:
        rows.append(Row(total, [sum(counts.values())]))
    rows.extend(extra)
    return rows


def count_table(
    title: str,
    column: str,
    labels,
    counts: dict,
    *,
    total: str = "合計",
    same_as: Ref | None = None,
    extra=(),
    relations: list[Relation] = (),
    note: str = "",
) -> Table:
    """A table of `count_rows` that declares what its figures obey: the rows add up to the total, and
    the total is `same_as` (the same figure in another table, e.g. the 新規受付件数 every breakdown of
    the consultations adds up to). Further `relations` (an `extra` row within the total …) are added."""
    rows = count_rows(labels, counts, total=total, extra=extra)
    at = len(rows) - len(extra) - 1
    declared = [adds_up(at, range(at))]
    if same_as is not None:
        declared.append(adds_up(at, [same_as]))
    return Table(title, [column], rows, note=note, relations=[*declared, *relations])
