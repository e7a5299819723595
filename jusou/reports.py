"""The shape of a statistics report, shared by what computes it (jusou.statistics and the apps'
providers) and what renders it (the page, xlsx/CSV exports, the API).

A report holds only counts, never a person: each table is a title, column headings and labelled rows
of whole numbers (None where a figure does not apply). Small counts are suppressed only when the
report leaves the system (exports, the API), by `suppressed()`.
"""

from dataclasses import dataclass, field
from datetime import date

SUPPRESSED = "＊"


@dataclass
class Row:
    label: str
    values: list[int | float | None]


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)
    #: 複数回答: the rows may add up to more than the total (課題分類 …)
    multiple_answers: bool = False
    note: str = ""


@dataclass
class Report:
    title: str
    date_from: date
    date_to: date
    #: what the figures cover, in words (e.g. 「みどり市全体」「みどり中央地域包括支援センター」「中央圏域」)
    coverage: str
    sections: list[tuple[str, list[Table]]] = field(default_factory=list)  # (事業, tables)

    def tables(self):
        for _, tables in self.sections:
            yield from tables


def suppressed(value, threshold: int):
    """A count as it may leave the system: 1..threshold-1 become ＊ so that a small cell cannot
    identify a person (DOMAIN.md §7); 0 stays 0, rates and None pass through."""
    if isinstance(value, int) and 0 < value < threshold:
        return SUPPRESSED
    return value
