"""What the audit pages read: filters, history entries and their changes, access-log rows, the
records that belong to one case."""

import dataclasses
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.db.models import Model, QuerySet
from django.utils import timezone

from jusou.access.fieldpolicy import MASK, declared
from jusou.audit.words import MISSING, Words, field_of
from jusou.ja.wareki import to_wareki
from jusou.models import AccessBasis, Agency, ReadLog, Role, StaffMembership
from jusou.registry import location_protected_ids

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


def may_audit(user) -> bool:
    """Who sees the audit (the history, the access log, a case's whole history): the 管理者."""
    return user.is_authenticated and user.has_role(Role.SUPERVISOR)


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


# Records that hold items of several cases (a 重層的支援会議, a 支援会議): they belong to a case's history
# through their items. Every other record is found by the foreign keys that lead from it to the case.
CASE_CONTAINERS = {"meetings.planconference": "items__case", "meetings.supportmeeting": "briefings__case"}


CASE_PATH_DEPTH = 3


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
