"""What every app's pages share: the dashboard, the 403 page, posting a form through a service, logging
the read of a list, the health check."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from jusou import versions
from jusou.access.fieldpolicy import FieldPolicyModel
from jusou.audit.readlog import read_log
from jusou.forms import apply_service_errors
from jusou.models import ReadLog
from jusou.notifications.selectors import notifications_for_user
from jusou.registry import panels_for
from jusou.services import EditConflict

#: a refusal's message is shown on the 403 page when it is one of ours: a sentence in Japanese written
#: for the user (kana or kanji). Django's, a library's or an empty one keeps the generic text. A record
#: outside the user's basis never gets here: it answers 404, exactly like a missing one.
_OUR_REASON = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def permission_denied(request, exception):
    """handler403: the page names why, when the refusal says so in words written for the user."""
    reason = str(exception or "")
    return render(request, "403.html", {"reason": reason if _OUR_REASON.search(reason) else ""}, status=403)


def post_action(request, form, action, success, then, *, record=None, title="入力内容を確認してください"):
    """A POST-only action of a page (a form inside a record's page): on success a message and back to
    `then`. Refused — the form's errors, or the service's — the form comes back on a page of its own
    (jusou/form_again.html) with everything typed and each error on its field (200), never lost through
    a redirect; nothing is saved unless the service succeeds. A save refused because `record` changed
    since the form's `version` (jusou.versions) also shows what the other person changed (409)."""
    stale = None
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except EditConflict as error:
            stale = error
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, success(form.cleaned_data) if callable(success) else success)
            return redirect(then)
    context = {"form": form, "title": title, "back": resolve_url(then)}
    if stale is not None:
        if record is not None and "version" in form.fields:
            record.refresh_from_db()
            expected = form.cleaned_data.get("version")
            return versions.refuse(
                request,
                form,
                "jusou/form_again.html",
                context,
                changes=versions.changes_since(record, expected, form.fields),
                current_version=versions.version_of(record),
            )
        apply_service_errors(form, stale)
    return render(request, "jusou/form_again.html", context)


def log_list(request, *, model, rows, what: str, action: str = ReadLog.Action.VIEW) -> None:
    """A page listing records that carry names is a read of each of them: one read-log row per page
    view naming how many were shown and which (as the API's lists do, ApiViewSet.log_list). Ids that
    would not fit in one row's detail go on to further rows, so none is ever cut off."""
    ids = list(dict.fromkeys(str(row.pk) for row in rows))
    head = f"{what} {len(ids)}件"
    room = ReadLog._meta.get_field("detail").max_length - len(head) - len(" [] (99/99)")
    chunks, chunk = [], []
    for pk in ids:
        if chunk and len(",".join([*chunk, pk])) > room:
            chunks.append(chunk)
            chunk = []
        chunk.append(pk)
    chunks.append(chunk)
    for number, chunk in enumerate(chunks, start=1):
        part = f" ({number}/{len(chunks)})" if len(chunks) > 1 else ""
        read_log(user=request.user, action=action, model=model, detail=f"{head} [{','.join(chunk)}]{part}")


def _log_dashboard(request, panels) -> None:
    """The panels' lists of protected records (a FIELD_POLICY model: cases due, at risk, waiting in the
    inbox …) are reads like any list page: one row per model for the rendered dashboard, naming what it
    showed. Found in what the panels hand the template, so a new panel that lists cases is logged too."""
    shown: dict[type, list] = {}
    for panel in panels:
        for value in panel.values():
            if isinstance(value, list | tuple):
                for item in value:
                    if isinstance(item, FieldPolicyModel):
                        shown.setdefault(type(item), []).append(item)
    for model, rows in shown.items():
        log_list(request, model=model, rows=rows, what="ダッシュボード")


def dashboard(request):
    """The start page, with the sections the user's roles call for."""
    panels = panels_for(request)
    _log_dashboard(request, panels)
    return render(
        request,
        "jusou/dashboard.html",
        {
            "today": timezone.localdate(),
            "memberships": request.user.active_memberships,
            "recent_notifications": list(notifications_for_user(request.user)[:5]),
            "panels": panels,
        },
    )


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Liveness for docker-compose: the process answers and the database is reachable."""
    try:
        connection.ensure_connection()
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return HttpResponse("ok", content_type="text/plain")
