"""Statistics the municipality reports (DOMAIN.md §7): one report for a period, composed of the sections
each 事業 contributes through `jusou.registry.register_statistics`.

jusou imports no app: the cases, meetings, outreach, participation and community apps register a
provider in their AppConfig.ready(); a provider takes a `StatisticsScope` (the period and the agencies
whose records the reader may count) and returns (事業 name, list of Tables). Every figure is an aggregate
computed in the database.
"""

from dataclasses import dataclass
from datetime import date

from jusou.models import Agency, Area
from jusou.reports import Report

PERIOD_CHOICES = (("month", "月"), ("fiscal", "年度"), ("range", "期間"))


@dataclass(frozen=True)
class StatisticsParams:
    """What the reader asked for: a period (inclusive dates) and optional agency / 圏域 filters."""

    date_from: date
    date_to: date
    agency: Agency | None = None
    #: 圏域, with its sub-areas
    area: Area | None = None
    #: 'month' | 'fiscal' | 'range' — how the period was asked for (for the label)
    period: str = "range"
    #: '' | 'area' | 'agency': add a table with one column per 中圏域 or per agency
    by: str = ""

    @classmethod
    def from_query(cls, query) -> "StatisticsParams":
        """Parse `period=month&month=YYYY-MM`, `period=fiscal&fiscal_year=YYYY` (年度 YYYY = April YYYY –
        March YYYY+1), `period=range&date_from=…&date_to=…`, `agency=<code>`, `area=<code>`, `by=area|agency`.
        Raises ValidationError (Japanese messages) on bad input."""
        raise NotImplementedError


def statistics_report(user, params: StatisticsParams) -> Report:
    """The report for `params` as `user` may see it in aggregate (DOMAIN.md §4/§7): supervisors and
    coordinators count the whole municipality (narrowed by the agency / 圏域 filters), workers and API
    clients only their own agencies' records. Raises PermissionDenied (Japanese message) when the reader
    asks for an agency outside that scope. Figures are raw; renderings that leave the system apply
    `jusou.reports.suppressed` with settings.STATISTICS_SUPPRESS_BELOW."""
    raise NotImplementedError
