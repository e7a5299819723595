"""The supervisors' audit views (管理者): who viewed what (the read log) and who changed what (the
history of every record, with field-level diffs), and their exports for audits (CSV and xlsx).
Read-only; whereabouts under 住所秘匿 stay masked here too, since supervisors are never personally
assigned.

The filters are parsed once (`audit_filters`) and applied by `history_entries` / `access_log_rows`,
which both the pages and the exports use, so an export holds exactly the rows the page lists. Every value
is shown in words by one formatter (jusou.audit.words). `case_history` puts a case's changes and reads, and
those of every record that belongs to it, on one page."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from jusou.access.decision import AccessDecision
from jusou.audit.readlog import read_log
from jusou.audit.selectors import (
    EXPORT_CHUNK,
    AuditFilters,
    _case_histories,
    _case_model,
    _case_reads,
    _diffed,
    _diffs,
    _render,
    access_log_rows,
    audit_filters,
    audited_models,
    history_entries,
    may_audit,
)
from jusou.audit.words import EMPTY, MISSING, Words, content_type_name, describe_reads
from jusou.exports.files import TABLE_FORMATS, table_file
from jusou.exports.views import attachment
from jusou.models import AccessBasis, Agency, ReadLog, User

PAGE = 50


# An export is refused above this many rows (400, asking to narrow the period): an audit of a bounded
# period fits easily, and the response is built in memory, so it must not grow without limit.
EXPORT_LIMIT = 50_000


def _require_supervisor(request):
    if not may_audit(request.user):
        raise PermissionDenied("監査の画面は管理者が使います。")


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
    if fmt not in TABLE_FORMATS:
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
    content, written = table_file(fmt, "閲覧記録", ACCESS_LOG_COLUMNS, lines)
    read_log(
        user=request.user,
        action=ReadLog.Action.EXPORT,
        model=ReadLog,
        decision=AccessDecision.supervisor(),
        detail=f"閲覧記録の出力（{TABLE_FORMATS[fmt]}）: {filters.summary()}、{written}件",
    )
    return attachment(content, fmt, "access-log")


@require_GET
def history_export(request, fmt):
    """変更履歴の出力: the entries the page lists for the same query string (one record's history:
    ?type=…&record=…), with their diffs masked as on the page."""
    _require_supervisor(request)
    if fmt not in TABLE_FORMATS:
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
    content, written = table_file(fmt, "変更履歴", HISTORY_COLUMNS, lines)
    read_log(
        user=request.user,
        action=ReadLog.Action.EXPORT,
        model=model,
        decision=AccessDecision.supervisor(),
        detail=f"変更履歴の出力（{TABLE_FORMATS[fmt]}）: {filters.summary()}、{written}件",
    )
    return attachment(content, fmt, "history")


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


def _user_choices() -> list[tuple[str, str]]:
    """The 職員 filter's options: the user name it filters by, shown with the person's name
    (「青木 春香（intake_a）」, an API client's service account by its system's name)."""
    users = User.objects.order_by("username").only("username", "first_name", "last_name")
    return [
        (user.username, f"{user}（{user.username}）" if user.get_full_name() else user.username)
        for user in users
    ]


KIND_CHANGES, KIND_READS = "changes", "reads"


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


@require_GET
def sign_ins(request):
    """統合認証の記録: every SSO login, refusal (and why), logout, session ended by the IdP and mapping
    change (jusou.sso), newest first, by kind. Logged as a 管理者 read: it names who signed in when."""
    _require_supervisor(request)
    from jusou.models import SsoEvent

    kind = request.GET.get("kind", "")
    events = SsoEvent.objects.select_related("user").order_by("-at", "-pk")
    if kind in SsoEvent.Kind.values:
        events = events.filter(kind=kind)
    page = Paginator(events, PAGE).get_page(request.GET.get("page"))
    read_log(
        user=request.user,
        action=ReadLog.Action.VIEW,
        model=SsoEvent,
        decision=AccessDecision.supervisor(),
        detail=f"統合認証の記録の確認: {SsoEvent.Kind(kind).label if kind in SsoEvent.Kind.values else 'すべて'}、"
        f"{len(page.object_list)}件",
    )
    return render(
        request,
        "jusou/audit_sign_ins.html",
        {"page": page, "kind": kind, "kinds": SsoEvent.Kind.choices, "querystring": _querystring(request)},
    )
