"""The supervisors' audit views (管理者): who viewed what (the read log) and who changed what (the
history of every record, with field-level diffs). Read-only; whereabouts under 住所秘匿 stay masked
here too, since supervisors are never personally assigned."""

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from jusou.fieldpolicy import MASK, declared
from jusou.models import ReadLog, Role, User
from jusou.registry import location_protected_ids

PAGE = 50
HISTORY_META = {
    "history_id",
    "history_date",
    "history_change_reason",
    "history_type",
    "history_user",
    "history_user_id",
}


def _require_supervisor(request):
    if not request.user.has_role(Role.SUPERVISOR):
        raise PermissionDenied("監査の画面は管理者が使います。")


def audited_models() -> dict[str, type]:
    """label ('cases.case') -> tracked model, for every model with django-simple-history."""
    out = {}
    for model in apps.get_models():
        manager = getattr(model, "history", None)
        if manager is not None and hasattr(manager, "model"):
            out[f"{model._meta.app_label}.{model._meta.model_name}"] = model
    return dict(sorted(out.items(), key=lambda item: str(item[1]._meta.verbose_name)))


def _month(value: str) -> tuple[datetime, datetime] | None:
    try:
        start = datetime.strptime(value, "%Y-%m")
    except ValueError:
        return None
    end = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return timezone.make_aware(start), timezone.make_aware(end)


@require_GET
def access_log(request):
    """閲覧記録: filter by user, month, action and record type."""
    _require_supervisor(request)
    rows = ReadLog.objects.select_related("user", "content_type").order_by("-at", "-pk")
    username = request.GET.get("user", "").strip()
    if username:
        rows = rows.filter(user__username=username)
    month = _month(request.GET.get("month", ""))
    if month:
        rows = rows.filter(at__gte=month[0], at__lt=month[1])
    action = request.GET.get("action", "")
    if action in ReadLog.Action.values:
        rows = rows.filter(action=action)
    page = Paginator(rows, PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "jusou/audit_access_log.html", {
        "page": page, "actions": ReadLog.Action.choices, "querystring": query.urlencode(),
        "users": User.objects.order_by("username").values_list("username", flat=True),
    })  # fmt: skip


@dataclass
class Change:
    field: str
    before: object
    after: object


def _diffs(model, entries) -> None:
    """Attach .changes (field, before → after) to each history entry, in two queries for the page."""
    history_model = model.history.model
    fields = [
        f
        for f in history_model._meta.concrete_fields
        if f.attname not in HISTORY_META and f.name not in HISTORY_META
    ]
    ids = {e.id for e in entries}
    earlier: dict[int, list] = {}
    for row in history_model.objects.filter(id__in=ids).order_by("history_date", "history_id"):
        earlier.setdefault(row.id, []).append(row)
    protected = location_protected_ids(model, ids)
    hidden_fields = set(declared(model, "location"))
    for entry in entries:
        versions = earlier.get(entry.id, [])
        index = next((i for i, v in enumerate(versions) if v.history_id == entry.history_id), 0)
        previous = versions[index - 1] if index > 0 else None
        changes = []
        for field in fields:
            after = getattr(entry, field.attname)
            before = getattr(previous, field.attname) if previous else None
            if (previous is None and after in (None, "", [])) or (previous is not None and before == after):
                continue
            if entry.id in protected and field.name in hidden_fields:
                before, after = (MASK if before not in (None, "") else before), MASK
            changes.append(Change(str(field.verbose_name), before, after))
        entry.changes = changes


@require_GET
def history(request, label=None, pk=None):
    """変更履歴: every change of a record type (or of one record), with who, when, why and the diff."""
    _require_supervisor(request)
    models = audited_models()
    label = label or request.GET.get("type") or "cases.case"
    model = models.get(label)
    if model is None:
        raise Http404("記録の種類が見つかりません。")
    entries = model.history.select_related("history_user").order_by("-history_date", "-history_id")
    if pk is not None:
        entries = entries.filter(id=pk)
    username = request.GET.get("user", "").strip()
    if username:
        entries = entries.filter(history_user__username=username)
    month = _month(request.GET.get("month", ""))
    if month:
        entries = entries.filter(history_date__gte=month[0], history_date__lt=month[1])
    page = Paginator(entries, PAGE).get_page(request.GET.get("page"))
    _diffs(model, list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "jusou/audit_history.html", {
        "page": page, "models": [(key, m._meta.verbose_name) for key, m in models.items()], "label": label,
        "model_name": model._meta.verbose_name, "record_pk": pk, "querystring": query.urlencode(),
    })  # fmt: skip
