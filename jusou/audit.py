"""The supervisors' audit views (管理者): who viewed what (the read log) and who changed what (the
history of every record, with field-level diffs), and their exports for audits (CSV and xlsx).
Read-only; whereabouts under 住所秘匿 stay masked here too, since supervisors are never personally
assigned.

The filters are parsed once (`audit_filters`) and applied by `history_entries` / `access_log_rows`,
which both the pages and the exports use, so an export holds exactly the rows the page lists. Every value
is shown in words by one formatter (jusou.audit_words). `case_history` puts a case's changes and reads, and
those of every record that belongs to it, on one page."""

import csv
import dataclasses
import functools
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from jusou.access import read_log
from jusou.audit_words import EMPTY, MISSING, Words, content_type_name, describe_reads, field_of
from jusou.decision import AccessDecision
from jusou.exports import XLSX_CONTENT_TYPE, csv_cell, fit_to_page_width  # shared: one formula guard
from jusou.fieldpolicy import MASK, declared
from jusou.models import AccessBasis, Agency, ReadLog, Role, StaffMembership, User
from jusou.registry import location_protected_ids
from jusou.wareki import to_wareki, to_wareki_datetime

PAGE = 50
# An export is refused above this many rows (400, asking to narrow the period): an audit of a bounded
# period fits easily, and the response is built in memory, so it must not grow without limit.
EXPORT_LIMIT = 50_000
# History rows are diffed in chunks of this size: a constant number of queries per chunk, not per row.
EXPORT_CHUNK = 500
DEFAULT_HISTORY_TYPE = "cases.case"
HISTORY_META = {
    "history_id",
    "history_date",
    "history_change_reason",
    "history_type",
    "history_user",
    "history_user_id",
}
HISTORY_TYPES = {"+": "作成", "~": "変更", "-": "削除"}
FORMATS = {"csv": "CSV", "xlsx": "Excel"}
# 日時 cells stay dates Excel can sort and filter, shown in 和暦 (令和7年4月1日 14:05) in a Japanese Excel.
XLSX_WAREKI_DATETIME = '[$-411]ggge"年"m"月"d"日" hh:mm'


def may_audit(user) -> bool:
    """Who sees the audit (the history, the access log, a case's whole history): the 管理者."""
    return user.is_authenticated and user.has_role(Role.SUPERVISOR)


def _require_supervisor(request):
    if not may_audit(request.user):
        raise PermissionDenied("監査の画面は管理者が使います。")


def audited_models() -> dict[str, type]:
    """label ('cases.case') -> tracked model, for every model with django-simple-history."""
    return dict(_audited_models())


@functools.cache
def _audited_models() -> dict[str, type]:
    # Worked out once per process: the models do not change, and reading `model.history` builds a
    # new manager class each time (simple-history's descriptor), ~7 ms for the 41 models on every
    # audit page.
    out = {}
    for model in apps.get_models():
        manager = getattr(model, "history", None)
        if manager is not None and hasattr(manager, "model"):
            out[_label(model)] = model
    return dict(sorted(out.items(), key=lambda item: str(item[1]._meta.verbose_name)))


def _label(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


# --- Filters: parsed in one place for the pages and the exports -------------------------------------


@dataclass
class AuditFilters:
    """What a supervisor narrowed the history or the access log to. Invalid values are left out and
    explained in `errors` (Japanese); a page shows them, an export refuses to run with them."""

    user: str = ""
    agency: Agency | None = None
    start: date | None = None  # 期間（開始）, inclusive, an Asia/Tokyo day
    end: date | None = None  # 期間（終了）, inclusive
    month: str = ""  # YYYY-MM, kept from the first version of the pages
    label: str = ""  # record type, 'cases.case'
    action: str = ""
    basis: str = ""
    record: int | None = None  # one record's history
    errors: list[str] = dataclasses.field(default_factory=list)

    @property
    def model(self) -> type[Model] | None:
        return apps.get_model(self.label) if self.label else None

    def windows(self) -> list[tuple[datetime | None, datetime | None]]:
        """[start, end) datetimes to apply: the month and the day range (both, if both are given)."""
        out = []
        if self.month:
            out.append(_month(self.month))
        if self.start or self.end:
            start = _day_start(self.start) if self.start else None
            end = _day_start(self.end + timedelta(days=1)) if self.end else None
            out.append((start, end))
        return out

    def summary(self) -> str:
        """The filters in words, for the read-log row of an export."""
        parts = []
        if self.label:
            parts.append(f"記録の種類={self.model._meta.verbose_name}")
        if self.record is not None:
            parts.append(f"記録ID={self.record}")
        if self.user:
            parts.append(f"職員={self.user}")
        if self.agency:
            parts.append(f"機関={self.agency.name}")
        if self.start or self.end:
            parts.append(f"期間={to_wareki(self.start)}〜{to_wareki(self.end)}")
        if self.month:
            parts.append(f"月={self.month}")
        if self.action:
            parts.append(f"操作={ReadLog.Action(self.action).label}")
        if self.basis:
            parts.append(f"根拠={AccessBasis(self.basis).label}")
        return "、".join(parts) or "条件なし"


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def _month(value: str) -> tuple[datetime, datetime] | None:
    try:
        start = datetime.strptime(value, "%Y-%m")
    except ValueError:
        return None
    end = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return _day_start(start.date()), _day_start(end.date())


def _date(value: str, name: str, errors: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{name}の日付が正しくありません（例: 2025-04-01）。")
        return None


def audit_filters(params, *, history: bool) -> AuditFilters:
    """Parse the query string of an audit page or export. `history`: the record type is a tracked
    model and defaults to ケース; in the access log any model may be named, and none means all."""
    errors: list[str] = []
    filters = AuditFilters(user=params.get("user", "").strip(), errors=errors)
    agency = params.get("agency", "").strip()
    if agency:
        filters.agency = Agency.objects.filter(pk=int(agency)).first() if agency.isdigit() else None
        if filters.agency is None:
            errors.append("指定された機関が見つかりません。")
    filters.start = _date(params.get("from", "").strip(), "期間（開始）", errors)
    filters.end = _date(params.get("to", "").strip(), "期間（終了）", errors)
    if filters.start and filters.end and filters.start > filters.end:
        errors.append("期間の開始日が終了日より後になっています。")
        filters.start = filters.end = None
    month = params.get("month", "").strip()
    if month:
        if _month(month):
            filters.month = month
        else:
            errors.append("月の指定が正しくありません（例: 2025-04）。")
    label = params.get("type", "").strip().lower()
    if label:
        if _model_for(label, history=history) is not None:
            filters.label = label
        else:
            errors.append("記録の種類が見つかりません。")
    if history and not filters.label:
        filters.label = DEFAULT_HISTORY_TYPE
    record = params.get("record", "").strip()
    if history and record:
        if record.isdigit():
            filters.record = int(record)
        else:
            errors.append("記録IDの指定が正しくありません。")
    if not history:
        action = params.get("action", "")
        if action in ReadLog.Action.values:
            filters.action = action
        elif action:
            errors.append("操作の指定が正しくありません。")
        basis = params.get("basis", "")
        if basis in AccessBasis.values:
            filters.basis = basis
        elif basis:
            errors.append("根拠の指定が正しくありません。")
    return filters


def _model_for(label: str, *, history: bool):
    if history:
        return audited_models().get(label)
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _acting_users_of(agency: Agency) -> QuerySet:
    # Any membership, past or present: an audit asks who acted for the agency at the time. A subquery
    # rather than a join, so a user with several memberships there is not counted twice.
    return StaffMembership.objects.filter(agency=agency).values("user_id")


def history_entries(filters: AuditFilters) -> QuerySet:
    """The history rows of filters.label, newest first, narrowed by the filters."""
    entries = filters.model.history.select_related("history_user").order_by("-history_date", "-history_id")
    if filters.record is not None:
        entries = entries.filter(id=filters.record)
    if filters.user:
        entries = entries.filter(history_user__username=filters.user)
    if filters.agency:
        entries = entries.filter(history_user__in=_acting_users_of(filters.agency))
    for start, end in filters.windows():
        if start:
            entries = entries.filter(history_date__gte=start)
        if end:
            entries = entries.filter(history_date__lt=end)
    return entries


def access_log_rows(filters: AuditFilters) -> QuerySet:
    """The read-log rows, newest first, narrowed by the filters."""
    rows = ReadLog.objects.select_related("user", "content_type").order_by("-at", "-pk")
    if filters.user:
        rows = rows.filter(user__username=filters.user)
    if filters.agency:
        rows = rows.filter(user__in=_acting_users_of(filters.agency))
    for start, end in filters.windows():
        if start:
            rows = rows.filter(at__gte=start)
        if end:
            rows = rows.filter(at__lt=end)
    if filters.label:
        model = filters.model
        rows = rows.filter(
            content_type__app_label=model._meta.app_label, content_type__model=model._meta.model_name
        )
    if filters.action:
        rows = rows.filter(action=filters.action)
    if filters.basis:
        rows = rows.filter(basis=filters.basis)
    return rows


# --- Diffs -------------------------------------------------------------------------------------------


@dataclass
class Change:
    """One field of one history row: `before` → `after` in words (`before` is None for a creation)."""

    field: str
    before: object
    after: object
    model_field: object = None
    rows: tuple = ()  # (previous history row or None, this history row): for generic ids


def m2m_history(history_model) -> list[tuple[object, type, str]]:
    """(many-to-many field, its history model, the attname of the related record's id there) for each
    many-to-many field the history tracks (HistoricalRecords(m2m_fields=…))."""
    out = []
    for field in getattr(history_model, "_history_m2m_fields", ()):
        m2m_model = getattr(history_model, field.name).model
        target = next(
            f
            for f in m2m_model._meta.concrete_fields
            if f.is_relation and f.related_model is field.related_model and f.name != "history"
        )
        out.append((field, m2m_model, target.attname))
    return out


def _diffs(model, entries, words: Words | None = None) -> None:
    """Attach .changes (field, before → after, in words) to each history entry: a constant number of
    queries for the page (the versions, each tracked many-to-many, the names of related records).
    With `words`, the names are only noted there; the caller resolves them and calls `_render`."""
    history_model = model.history.model
    fields = [
        (f, field_of(model, f.name) or f)
        for f in history_model._meta.concrete_fields
        if f.attname not in HISTORY_META and f.name not in HISTORY_META
    ]
    # The record's own id names the entry (its record_name), not a change.
    fields = [(f, model_field) for f, model_field in fields if not getattr(model_field, "primary_key", False)]
    ids = {e.id for e in entries}
    earlier: dict[int, list] = {}
    for row in history_model.objects.filter(id__in=ids).order_by("history_date", "history_id"):
        earlier.setdefault(row.id, []).append(row)
    m2m_values: dict[str, dict[int, frozenset]] = {}
    m2m = m2m_history(history_model)
    for field, m2m_model, target in m2m:
        values: dict[int, set] = {}
        version_ids = [v.history_id for versions in earlier.values() for v in versions]
        for history_id, pk in m2m_model.objects.filter(history_id__in=version_ids).values_list(
            "history_id", target
        ):
            values.setdefault(history_id, set()).add(pk)
        m2m_values[field.name] = {k: frozenset(v) for k, v in values.items()}
    protected = location_protected_ids(model, ids)
    hidden_fields = set(declared(model, "location"))
    own = words is None
    words = words if words is not None else Words()
    for entry in entries:
        versions = earlier.get(entry.id, [])
        index = next((i for i, v in enumerate(versions) if v.history_id == entry.history_id), 0)
        previous = versions[index - 1] if index > 0 else None
        changes = []
        pairs = [
            (f, mf, getattr(entry, f.attname), getattr(previous, f.attname) if previous else None)
            for f, mf in fields
        ]
        for field, _, _ in m2m:
            after = m2m_values[field.name].get(entry.history_id, frozenset())
            before = m2m_values[field.name].get(previous.history_id, frozenset()) if previous else None
            pairs.append((field, field, after, before))
        for field, model_field, after, before in pairs:
            if (previous is None and after in (None, "", [], frozenset())) or (
                previous is not None and before == after
            ):
                continue
            if entry.id in protected and field.name in hidden_fields:
                before, after = (MASK if before not in (None, "") else before), MASK
            change = Change(str(model_field.verbose_name), before, after, model_field, (previous, entry))
            words.want(model, model_field, after, entry)
            if previous is not None:
                words.want(model, model_field, before, previous)
            changes.append(change)
        entry.changes = changes
        entry.change_kind = HISTORY_TYPES.get(entry.history_type, entry.history_type)
        entry.record_model = model
    words.want_records(model, ids)
    if own:
        words.resolve()
        _render(entries, words)


def _render(entries, words: Words) -> None:
    """Turn each entry's raw changes into words, once `words` holds the names they need."""
    for entry in entries:
        model = entry.record_model
        name = words.name(model, entry.id)
        entry.record_name = name if name != MISSING else f"（削除済み）記録ID {entry.id}"
        for change in entry.changes:
            previous, row = change.rows
            after = words.text(model, change.model_field, change.after, row)
            if previous is None and change.before is None:
                before = None
            else:
                before = words.text(model, change.model_field, change.before, previous)
            change.before, change.after = before, after


def _diffed(model, entries: Iterable) -> Iterator:
    """The entries with their diffs, EXPORT_CHUNK at a time (queries per chunk, not per row)."""
    chunk = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) == EXPORT_CHUNK:
            _diffs(model, chunk)
            yield from chunk
            chunk = []
    if chunk:
        _diffs(model, chunk)
        yield from chunk


# --- Pages -------------------------------------------------------------------------------------------


def _querystring(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _access_log_page(request, filters: AuditFilters, *, errors=(), status=200):
    page = Paginator(access_log_rows(filters), PAGE).get_page(request.GET.get("page"))
    describe_reads(page.object_list)
    # 管理者 read with every read logged (DOMAIN.md §4): the access log itself names who read what.
    read_log(
        user=request.user,
        action=ReadLog.Action.VIEW,
        model=ReadLog,
        decision=AccessDecision.supervisor(),
        detail=f"閲覧記録の確認: {filters.summary()}、{len(page.object_list)}件",
    )
    return render(
        request,
        "jusou/audit_access_log.html",
        {
            "page": page,
            "filters": filters,
            "errors": [*filters.errors, *errors],
            "querystring": _querystring(request),
            "actions": ReadLog.Action.choices,
            "bases": AccessBasis.choices,
            "models": [*_type_choices(audited_models()), ("jusou.readlog", ReadLog._meta.verbose_name)],
            "users": _user_choices(),
            "agencies": Agency.objects.order_by("name").values_list("pk", "name"),
        },
        status=status,
    )


def _history_page(request, filters: AuditFilters, *, errors=(), status=200):
    model = filters.model
    page = Paginator(history_entries(filters), PAGE).get_page(request.GET.get("page"))
    _diffs(model, list(page.object_list))
    record_name = _record_name(model, filters.record, page.object_list)
    # Change history shows record contents (progress-note text, consents …): a 管理者 read, logged.
    ids = ",".join(str(entry.id) for entry in page.object_list)
    read_log(
        user=request.user,
        action=ReadLog.Action.VIEW,
        model=model,
        decision=AccessDecision.supervisor(),
        detail=f"変更履歴の確認: {filters.summary()}、{len(page.object_list)}件 [{ids}]",
    )
    return render(
        request,
        "jusou/audit_history.html",
        {
            "page": page,
            "filters": filters,
            "errors": [*filters.errors, *errors],
            "querystring": _querystring(request),
            "models": _type_choices(audited_models()),
            "label": filters.label,
            "model_name": model._meta.verbose_name,
            "record_pk": filters.record,
            "record_name": record_name,
            "export_query": _export_query(request, filters),
            "users": _user_choices(),
            "agencies": Agency.objects.order_by("name").values_list("pk", "name"),
        },
        status=status,
    )


def _record_name(model, pk, entries) -> str:
    """The name of the one record a history page is about (「2025-0012 山田 太郎」), from its entries."""
    if pk is None:
        return ""
    if entries:
        return entries[0].record_name
    words = Words()
    words.want_records(model, [pk])
    words.resolve()
    name = words.name(model, pk)
    return name if name != MISSING else f"記録ID {pk}"


def _export_query(request, filters: AuditFilters) -> str:
    """The export link's query string: the page's own, plus the type and id of a one-record page
    (/audit/history/<type>/<id>/ has them in the path)."""
    query = request.GET.copy()
    query.pop("page", None)
    if filters.record is not None:
        query["type"], query["record"] = filters.label, str(filters.record)
    return query.urlencode()


def _type_choices(models: dict[str, type]) -> list[tuple[str, str]]:
    return [(key, model._meta.verbose_name) for key, model in models.items()]


@require_GET
def access_log(request):
    """閲覧記録: filter by user, agency, period, record type, action and basis."""
    _require_supervisor(request)
    return _access_log_page(request, audit_filters(request.GET, history=False))


@require_GET
def history(request, label=None, pk=None):
    """変更履歴: every change of a record type (or of one record), with who, when, why and the diff."""
    _require_supervisor(request)
    filters = _history_filters(request, label, pk)
    return _history_page(request, filters)


def _history_filters(request, label, pk) -> AuditFilters:
    filters = audit_filters(request.GET, history=True)
    if label is not None:
        if label not in audited_models():
            raise Http404("記録の種類が見つかりません。")
        filters.label, filters.record = label, pk
    return filters


# --- Exports -----------------------------------------------------------------------------------------


ACCESS_LOG_COLUMNS = [
    ("日時", 22),
    ("職員（ユーザー名）", 18),
    ("氏名", 16),
    ("操作", 10),
    ("記録の種類", 20),
    ("記録ID", 10),
    ("根拠", 22),
    ("内容", 60),
    ("記録", 30),
]
HISTORY_COLUMNS = [
    ("日時", 22),
    ("職員", 26),
    ("記録の種類", 20),
    ("記録ID", 10),
    ("変更種別", 10),
    ("理由", 40),
    ("変更内容", 80),
    ("記録", 30),
]


def _too_many(count: int) -> str | None:
    if count > EXPORT_LIMIT:
        return (
            f"該当する記録が {count:,} 件あり、一度に出力できる {EXPORT_LIMIT:,} 件を超えています。"
            "期間や条件を絞ってから出力してください。"
        )
    return None


@require_GET
def access_log_export(request, fmt):
    """閲覧記録の出力: the rows the page lists for the same query string, as CSV or xlsx."""
    _require_supervisor(request)
    if fmt not in FORMATS:
        raise Http404("出力の形式が見つかりません。")
    filters = audit_filters(request.GET, history=False)
    if filters.errors:
        return _access_log_page(request, filters, status=400)
    rows = access_log_rows(filters)
    count = rows.count()
    if refusal := _too_many(count):
        return _access_log_page(request, filters, errors=[refusal], status=400)
    lines = (
        [
            timezone.localtime(r.at),
            r.user.username,
            r.user.get_full_name(),
            r.get_action_display(),
            content_type_name(r.content_type_id) if r.content_type_id else "",
            r.object_id,
            r.get_basis_display(),
            r.detail_text,
            r.record_text,
        ]
        for r in _described(rows.iterator(chunk_size=EXPORT_CHUNK))
    )
    response, written = _export(fmt, "閲覧記録", ACCESS_LOG_COLUMNS, lines)
    read_log(
        user=request.user,
        action=ReadLog.Action.EXPORT,
        model=ReadLog,
        decision=AccessDecision.supervisor(),
        detail=f"閲覧記録の出力（{FORMATS[fmt]}）: {filters.summary()}、{written}件",
    )
    return _attach(response, fmt, "access-log")


@require_GET
def history_export(request, fmt):
    """変更履歴の出力: the entries the page lists for the same query string (one record's history:
    ?type=…&record=…), with their diffs masked as on the page."""
    _require_supervisor(request)
    if fmt not in FORMATS:
        raise Http404("出力の形式が見つかりません。")
    filters = audit_filters(request.GET, history=True)
    if filters.errors:
        return _history_page(request, filters, status=400)
    model = filters.model
    entries = history_entries(filters)
    count = entries.count()
    if refusal := _too_many(count):
        return _history_page(request, filters, errors=[refusal], status=400)
    type_name = str(model._meta.verbose_name)
    lines = (
        [
            timezone.localtime(e.history_date),
            _actor(e.history_user),
            type_name,
            e.id,
            e.change_kind,
            e.history_change_reason or "",
            changes_text(e),
            e.record_name,
        ]
        for e in _diffed(model, entries.iterator(chunk_size=EXPORT_CHUNK))
    )
    response, written = _export(fmt, "変更履歴", HISTORY_COLUMNS, lines)
    read_log(
        user=request.user,
        action=ReadLog.Action.EXPORT,
        model=model,
        decision=AccessDecision.supervisor(),
        detail=f"変更履歴の出力（{FORMATS[fmt]}）: {filters.summary()}、{written}件",
    )
    return _attach(response, fmt, "history")


def _actor(user: User | None) -> str:
    if user is None:
        return "システム"
    name = user.get_full_name()
    return f"{name}（{user.username}）" if name else user.username


def changes_text(entry) -> str:
    """An entry's changes as lines of 「項目: 変更前 → 変更後」 (a creation: 「項目: （空） → 値」)."""
    return "\n".join(
        f"{c.field}: {EMPTY if c.before is None else c.before} → {c.after}" for c in entry.changes
    )


def _described(rows: Iterable) -> Iterator:
    """Read-log rows with their words (describe_reads), EXPORT_CHUNK at a time."""
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == EXPORT_CHUNK:
            describe_reads(chunk)
            yield from chunk
            chunk = []
    if chunk:
        describe_reads(chunk)
        yield from chunk


def _export(fmt: str, title: str, columns, lines) -> tuple[HttpResponse, int]:
    """The file and the number of rows written into it (for the read-log entry)."""
    if fmt == "csv":
        return _csv(columns, lines)
    return _xlsx(title, columns, lines)


def _csv(columns, lines) -> tuple[HttpResponse, int]:
    out = io.StringIO()
    out.write("\ufeff")  # BOM: Excel reads the file as UTF-8 only with it
    writer = csv.writer(out)
    writer.writerow([name for name, _ in columns])
    written = 0
    for line in lines:
        writer.writerow([csv_cell(to_wareki_datetime(v) if isinstance(v, datetime) else v) for v in line])
        written += 1
    return HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8"), written


def _xlsx(title: str, columns, lines) -> tuple[HttpResponse, int]:
    # Imported here: only an export needs openpyxl, not every process that loads the URLconf.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
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

    def cell(value, **style):
        c = WriteOnlyCell(sheet)
        if isinstance(value, datetime):
            c.value = value.replace(tzinfo=None)  # Excel has no time zones: Asia/Tokyo wall time
            c.number_format = XLSX_WAREKI_DATETIME
        elif isinstance(value, str):
            c.value = ILLEGAL_CHARACTERS_RE.sub("", value)
            c.data_type = "s"  # never a formula, whatever the text starts with
        else:
            c.value = value
        for name, style_value in style.items():
            setattr(c, name, style_value)
        return c

    sheet.append([cell(name, font=bold) for name, _ in columns])
    written = 0
    for line in lines:
        written += 1
        sheet.append(
            [
                cell(value, alignment=wrap) if isinstance(value, str) and "\n" in value else cell(value)
                for value in line
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return HttpResponse(out.getvalue(), content_type=XLSX_CONTENT_TYPE), written


def _user_choices() -> list[tuple[str, str]]:
    """The 職員 filter's options: the user name it filters by, shown with the person's name
    (「青木 春香（intake_a）」, an API client's service account by its system's name)."""
    users = User.objects.order_by("username").only("username", "first_name", "last_name")
    return [
        (user.username, f"{user}（{user.username}）" if user.get_full_name() else user.username)
        for user in users
    ]


def _attach(response: HttpResponse, fmt: str, name: str) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    # A Japanese name (廃棄簿) as RFC 6266 filename*: a raw non-ASCII header value would be MIME-encoded
    # (=?utf-8?b?…?=), which no browser reads as a file name.
    response["Content-Disposition"] = content_disposition_header(True, f"{name}-{stamp}.{fmt}")
    response["Cache-Control"] = "no-store"  # personal data: not kept in any cache on the way
    return response


# --- One history per case ----------------------------------------------------------------------------

# Records that hold items of several cases (a 重層的支援会議, a 支援会議): they belong to a case's history
# through their items. Every other record is found by the foreign keys that lead from it to the case.
CASE_CONTAINERS = {"meetings.planconference": "items__case", "meetings.supportmeeting": "briefings__case"}
CASE_PATH_DEPTH = 3
KIND_CHANGES, KIND_READS = "changes", "reads"


def _case_model():
    return apps.get_model("cases", "Case")


def case_record_paths() -> dict[str, str]:
    """label -> the lookup from a tracked model's history to the case's id: 'id' for the case, 'case_id',
    'plan__case_id' (a 役割分担 through its plan), …, found from the models' foreign keys (shortest path,
    at most CASE_PATH_DEPTH steps), so a record type added later joins the case's history by itself."""
    case = _case_model()
    out = {}
    for label, model in audited_models().items():
        if model is case:
            out[label] = "id"
        elif label in CASE_CONTAINERS:
            out[label] = CASE_CONTAINERS[label]
        elif path := _path_to(model, case):
            out[label] = path
    return out


def _path_to(model, target) -> str | None:
    frontier = [(model, [])]
    for _ in range(CASE_PATH_DEPTH):
        following = []
        for current, path in frontier:
            for field in current._meta.concrete_fields:
                if not (field.is_relation and (field.many_to_one or field.one_to_one)):
                    continue
                if field.related_model is target:
                    return "__".join([*path, field.attname if not path else field.name])
                following.append((field.related_model, [*path, field.name]))
        frontier = following
    return None


def _case_histories(case) -> dict[str, QuerySet]:
    """label -> that record type's history rows that belong to `case`."""
    out = {}
    for label, path in case_record_paths().items():
        model = audited_models()[label]
        rows = model.history.all()
        if label in CASE_CONTAINERS:
            rows = rows.filter(id__in=model.objects.filter(**{path: case}).values("pk"))
        else:
            rows = rows.filter(**{path: case.pk})
        out[label] = rows
    return out


def _case_reads(case, ids_by_label: dict[str, set]) -> QuerySet:
    """The read-log rows of the case and of its records, and the list reads that showed the case."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Q

    condition = Q(
        content_type=ContentType.objects.get_for_model(_case_model()),
        object_id__isnull=True,
        detail__regex=rf"\[([0-9]+,)*{case.pk}(,[0-9]+)*\]",
    )
    models = audited_models()
    for label, ids in ids_by_label.items():
        if ids:
            content_type = ContentType.objects.get_for_model(models[label])
            condition |= Q(content_type=content_type, object_id__in=ids)
    return ReadLog.objects.filter(condition)


@require_GET
def case_history(request, pk):
    """A case's whole history: every change to the case and to the records that belong to it, and every
    read of them, in time order (newest first), filterable by kind: 変更のみ, 閲覧のみ or one record type."""
    _require_supervisor(request)
    case = get_object_or_404(_case_model(), pk=pk)
    kind = request.GET.get("kind", "")
    histories = _case_histories(case)
    models = audited_models()
    if kind not in ("", KIND_CHANGES, KIND_READS, *histories):
        kind = ""
    # The whole timeline as (moment, kind, key) first: a case's records number in the hundreds, not more;
    # only the page's rows are then loaded and put into words.
    timeline, ids_by_label = [], {}
    for label, rows in histories.items():
        for history_id, moment, record_id in rows.values_list("history_id", "history_date", "id"):
            ids_by_label.setdefault(label, set()).add(record_id)
            if kind in ("", KIND_CHANGES, label):
                timeline.append((moment, 1, label, history_id))
    reads = _case_reads(case, ids_by_label)
    if kind not in ("", KIND_READS) and kind != KIND_CHANGES:
        model = models[kind]
        reads = reads.filter(
            content_type__app_label=model._meta.app_label, content_type__model=model._meta.model_name
        )
    if kind != KIND_CHANGES:
        timeline += [(moment, 0, "", read_id) for read_id, moment in reads.values_list("pk", "at")]
    timeline.sort(key=lambda item: (item[0], item[1], item[3]), reverse=True)
    page = Paginator(timeline, PAGE).get_page(request.GET.get("page"))
    page.object_list = _case_page_rows(page.object_list, models)
    read_log(
        user=request.user,
        action=ReadLog.Action.VIEW,
        model=_case_model(),
        object_id=case.pk,
        decision=AccessDecision.supervisor(),
        detail=f"ケースの履歴の確認: {dict(_kind_choices(models, histories)).get(kind, 'すべて')}、{len(page.object_list)}件",
    )
    return render(
        request,
        "jusou/audit_case_history.html",
        {
            "case": case,
            "page": page,
            "kind": kind,
            "kinds": _kind_choices(models, histories),
            "querystring": _querystring(request),
        },
    )


def _kind_choices(models, histories) -> list[tuple[str, str]]:
    return [
        ("", "すべて"),
        (KIND_CHANGES, "変更のみ"),
        (KIND_READS, "閲覧のみ"),
        *((label, models[label]._meta.verbose_name) for label in histories),
    ]


@dataclass
class TimelineRow:
    moment: datetime
    entry: object = None  # a history row, with .changes
    read: ReadLog | None = None
    type_name: str = ""


def _case_page_rows(keys, models) -> list[TimelineRow]:
    """The page's rows loaded and in words: per record type its history rows (and their diffs), and the
    reads — a constant number of queries per record type on the page, not per row."""
    by_label: dict[str, list] = {}
    read_ids = []
    for _, _, label, key in keys:
        if label:
            by_label.setdefault(label, []).append(key)
        else:
            read_ids.append(key)
    words = Words()
    loaded = {}
    for label, history_ids in by_label.items():
        model = models[label]
        entries = list(model.history.select_related("history_user").filter(history_id__in=history_ids))
        _diffs(model, entries, words)
        loaded.update({(label, e.history_id): e for e in entries})
    words.resolve()
    _render(list(loaded.values()), words)
    reads = {r.pk: r for r in ReadLog.objects.select_related("user").filter(pk__in=read_ids)}
    describe_reads(list(reads.values()))
    rows = []
    for moment, _, label, key in keys:
        if label:
            rows.append(
                TimelineRow(moment, entry=loaded[(label, key)], type_name=models[label]._meta.verbose_name)
            )
        else:
            rows.append(TimelineRow(moment, read=reads[key]))
    return rows
