"""Every CSV and xlsx file that leaves the system is written here. A statistics report
(jusou.reports.tables.Report) as xlsx laid out to paste into the municipality's report, and as CSV (UTF-8
with BOM, for Excel); and a list — the audit's 閲覧記録 and 変更履歴, the 廃棄簿 — as one table with a
heading row (`table_file`). Pure functions: rows in, bytes out; nothing here reads the database or knows
who asked.

Small counts are suppressed here, on the way out (DOMAIN.md §7: a small cell must not identify a
person), with `jusou.reports.tables.published`: the small cells and every cell the tables' totals and other
relations would give them back with. Both kinds share the guards: a CSV cell Excel would run as a
formula keeps it as text, and an xlsx text cell is a string cell without the characters XML forbids."""

import csv
import io
import re
import unicodedata
from datetime import date, datetime
from urllib.parse import quote

from django.utils import timezone

from jusou.ja.wareki import local_text, period_name, to_seireki, to_wareki, to_wareki_datetime
from jusou.reports.tables import SUPPRESSED, Report, Table, published

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
CONTENT_TYPES = {"xlsx": XLSX_CONTENT_TYPE, "csv": CSV_CONTENT_TYPE}
TABLE_FORMATS = {"csv": "CSV", "xlsx": "Excel"}  # what a list can be exported as, with its name on screen

# 日時 cells stay dates Excel can sort and filter, shown in 和暦 (令和7年4月1日 14:05) in a Japanese Excel.
XLSX_WAREKI_DATETIME = '[$-411]ggge"年"m"月"d"日" hh:mm'

# A cell that starts with one of these is a formula to Excel; an export must show what was typed,
# never run it (OWASP: CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

MULTIPLE_ANSWERS_NOTE = "※複数回答のため、内訳の合計は総数と一致しません。"
COUNT_FORMAT = "#,##0"
RATE_FORMAT = "0.0"


def csv_cell(value) -> str:
    """A value as CSV text: datetimes to the minute, and text that Excel would run as a formula kept
    as text by a leading apostrophe."""
    if isinstance(value, datetime):
        return local_text(value)  # Asia/Tokyo, whatever the caller passed
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def suppression_note(threshold: int) -> str:
    return f"＊は{threshold}件未満のため秘匿（合計や他の表から逆算できる件数も秘匿）"


# --- Labels ----------------------------------------------------------------------------------------------


def period_label(start: date, end: date) -> str:
    """The period in 和暦 with the Western dates: '令和7年4月（2025年4月1日〜2025年4月30日）',
    '令和7年度（2025年4月1日〜2026年3月31日）' or '令和7年4月1日〜令和7年6月30日（2025年4月1日〜…）'."""
    return f"{period_name(start, end)}（{to_seireki(start)}〜{to_seireki(end)}）"


def period_short(start: date, end: date) -> str:
    """The period for a file name — the same words as the title and the period row: '令和7年4月',
    '令和7年度' or '令和7年4月1日〜令和7年6月30日'."""
    return period_name(start, end)


def generated_label(moment: datetime) -> str:
    """When a file was made, the same in every format: '令和7年5月2日 09:30（2025-05-02 09:30）' (Tokyo)."""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return f"{to_wareki(local)} {local:%H:%M}（{local:%Y-%m-%d %H:%M}）"


_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def report_filename(report: Report, fmt: str) -> str:
    """'統計_令和7年4月_みどり市全体.xlsx': what the browser saves the download as."""
    parts = ["統計", period_short(report.date_from, report.date_to), report.coverage]
    name = "_".join(_UNSAFE_IN_NAME.sub("", part).strip() for part in parts if part)
    return f"{name}.{fmt}"


def attachment_header(filename: str, fallback: str) -> str:
    """Content-Disposition for a Japanese file name (RFC 6266 / RFC 5987): an ASCII `filename` for old
    clients and the real name as `filename*=UTF-8''…`."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# --- Tables as rows of cells -------------------------------------------------------------------------------


def _header(table: Table) -> list[str]:
    """The header row: the column headings, with 項目 over the row labels when `columns` names only the
    value columns (the row labels have none)."""
    width = max((len(row.values) for row in table.rows), default=len(table.columns))
    return list(table.columns) if len(table.columns) > width else ["項目", *table.columns]


def _notes(table: Table) -> list[str]:
    notes = [MULTIPLE_ANSWERS_NOTE] if table.multiple_answers else []
    return [*notes, table.note] if table.note else notes


def _text_width(text: str) -> int:
    """Display width in half-width columns: full-width (Japanese) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def _shown(value) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


# --- xlsx --------------------------------------------------------------------------------------------------


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unique worksheet name: Excel refuses []:*?/\\, more than 31 characters, a leading or
    trailing apostrophe, and names differing only in case."""
    base = _SHEET_FORBIDDEN.sub("", name).strip().strip("'") or "統計"
    candidate, number = base[:SHEET_NAME_MAX], 1
    while candidate.casefold() in taken:
        number += 1
        suffix = f"({number})"
        candidate = base[: SHEET_NAME_MAX - len(suffix)] + suffix
    taken.add(candidate.casefold())
    return candidate


def fit_to_page_width(sheet, *, landscape: bool = True) -> None:
    """Print the sheet one page wide and as many pages tall as it needs (A4). Every worksheet the app
    writes goes through here: openpyxl's fitToWidth alone does nothing — Excel reads the fit-to numbers
    only when the sheet's pageSetUpPr says fitToPage, and fitToHeight must be 0 ("automatic"), or the
    default 1 squeezes a long sheet onto a single unreadable page."""
    from openpyxl.worksheet.properties import PageSetupProperties

    properties = sheet.sheet_properties
    if properties.pageSetUpPr is None:
        properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    else:
        properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.page_setup.paperSize = "9"  # A4 (ECMA-376 ST_PaperSize; Worksheet.PAPERSIZE_A4)
    if landscape:
        sheet.page_setup.orientation = "landscape"


def _xlsx_cell(cell, value, **style):
    """Put `value` into an openpyxl cell: text as a string cell (never a formula, whatever it starts
    with) without the control characters XML forbids; a datetime as Tokyo wall time shown in 和暦."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
    elif isinstance(value, datetime):
        cell.value = timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
        cell.number_format = XLSX_WAREKI_DATETIME
    else:
        cell.value = value
    for name, style_value in style.items():
        setattr(cell, name, style_value)
    return cell


class _SheetWriter:
    """Puts values into one worksheet and remembers the widest text of each column."""

    def __init__(self, sheet):
        self.sheet, self.widths = sheet, {}

    def put(self, row: int, column: int, value, *, measure=True, **style):
        cell = _xlsx_cell(self.sheet.cell(row=row, column=column), value, **style)
        if measure:
            self.widths[column] = max(self.widths.get(column, 0), _text_width(_shown(value)))
        return cell

    def fit_columns(self):
        from openpyxl.utils import get_column_letter

        for column, width in self.widths.items():
            # Excel's width unit is about one half-width character: a little air, and a cap so that a
            # long label wraps rather than pushing the figures off the page.
            self.sheet.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 8), 60)


def report_xlsx(report: Report, suppress_below: int, *, generated_at: datetime | None = None) -> bytes:
    """The report as a workbook: one sheet per 事業, each with the title block (title, period in 和暦 and
    Western dates, coverage, time of generation, the suppression note) and its tables, bold headers,
    borders, #,##0 for counts and 0.0 for rates; cells under `suppress_below`, and those that would
    give them back, show ＊."""
    # Imported here: only an export needs openpyxl, not every process that loads the models.
    from openpyxl import Workbook

    report = published(report, suppress_below)
    generated_at = timezone.localtime(generated_at or timezone.now())
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    for section, tables in report.sections or [("統計", [])]:
        sheet = book.create_sheet(sheet_name(section, taken))
        _write_section(_SheetWriter(sheet), report, section, tables, suppress_below, generated_at)
        sheet.sheet_view.showGridLines = False
        fit_to_page_width(sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _write_section(writer: _SheetWriter, report, section, tables, suppress_below, generated_at) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    bold = Font(bold=True)
    header_style = {
        "font": bold,
        "border": border,
        "fill": PatternFill("solid", fgColor="DDEBF7"),
        "alignment": Alignment(horizontal="center", vertical="center", wrap_text=True),
    }
    put = writer.put
    # The title block overflows into the empty cells on its right, so it does not set column widths.
    put(1, 1, report.title, measure=False, font=Font(bold=True, size=14))
    put(2, 1, f"事業: {section}", measure=False, font=bold)
    put(3, 1, f"期間: {period_label(report.date_from, report.date_to)}", measure=False)
    put(4, 1, f"対象: {report.coverage}", measure=False)
    put(5, 1, f"作成日時: {generated_label(generated_at)}", measure=False)
    put(6, 1, suppression_note(suppress_below), measure=False)
    row = 8
    if not tables:
        put(row, 1, "該当する集計はありません。", measure=False)
    for table in tables:
        put(row, 1, table.title, measure=False, font=bold)
        row += 1
        for note in _notes(table):
            put(row, 1, note, measure=False)
            row += 1
        for column, heading in enumerate(_header(table), start=1):
            put(row, column, heading, **header_style)
        row += 1
        for line in table.rows:
            put(row, 1, line.label, border=border)
            for column, value in enumerate(line.values, start=2):
                cell = put(row, column, value, border=border)
                if value == SUPPRESSED:
                    cell.alignment = Alignment(horizontal="right")
                elif isinstance(value, float):
                    cell.number_format = RATE_FORMAT
                elif isinstance(value, int):
                    cell.number_format = COUNT_FORMAT
            row += 1
        row += 1
    writer.fit_columns()


# --- CSV ---------------------------------------------------------------------------------------------------


def report_csv(report: Report, suppress_below: int, *, generated_at: datetime | None = None) -> bytes:
    """The report as CSV, UTF-8 with a BOM (Excel reads UTF-8 only with it): the title block, then one
    block per table — its title line (事業／表題), notes, the header, the rows, a blank line. Suppressed
    like the xlsx."""
    report = published(report, suppress_below)
    generated_at = timezone.localtime(generated_at or timezone.now())
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")

    def line(*cells):
        writer.writerow([csv_cell(cell) if isinstance(cell, str) else _csv_value(cell) for cell in cells])

    line(report.title)
    line("期間", period_label(report.date_from, report.date_to))
    line("対象", report.coverage)
    line("作成日時", generated_label(generated_at))
    line(suppression_note(suppress_below))
    line()
    for section, tables in report.sections:
        for table in tables:
            line(f"{section}／{table.title}")
            for note in _notes(table):
                line(note)
            line(*_header(table))
            for row in table.rows:
                line(row.label, *row.values)
            line()
    return out.getvalue().encode("utf-8")


def _csv_value(value) -> str:
    # Plain figures (no thousands separator) so that the cells stay numbers when opened in Excel.
    if isinstance(value, float):
        return f"{value:.1f}"
    return "" if value is None else str(value)


# --- A list as one table -------------------------------------------------------------------------------------


def table_file(fmt: str, title: str, columns, lines) -> tuple[bytes, int]:
    """A list as a file in `fmt` (TABLE_FORMATS): a heading row from `columns` — (heading, xlsx column
    width) pairs — then one row per line; the bytes and the number of rows written (for the read log)."""
    if fmt == "csv":
        return _table_csv(columns, lines)
    return _table_xlsx(title, columns, lines)


def _table_csv(columns, lines) -> tuple[bytes, int]:
    out = io.StringIO()
    out.write("\ufeff")  # BOM: Excel reads the file as UTF-8 only with it
    writer = csv.writer(out)
    writer.writerow([name for name, _ in columns])
    written = 0
    for line in lines:
        writer.writerow([csv_cell(to_wareki_datetime(v) if isinstance(v, datetime) else v) for v in line])
        written += 1
    return out.getvalue().encode("utf-8"), written


def _table_xlsx(title: str, columns, lines) -> tuple[bytes, int]:
    # Imported here: only an export needs openpyxl, not every process that loads the URLconf.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    # Write-only mode streams rows into the file instead of holding a cell object for each.
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    fit_to_page_width(sheet)
    sheet.print_title_rows = "1:1"  # the column headings on every printed page
    for index, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")

    def cell(value):
        style = {"alignment": wrap} if isinstance(value, str) and "\n" in value else {}
        return _xlsx_cell(WriteOnlyCell(sheet), value, **style)

    sheet.append([_xlsx_cell(WriteOnlyCell(sheet), name, font=bold) for name, _ in columns])
    written = 0
    for line in lines:
        written += 1
        sheet.append([cell(value) for value in line])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), written
