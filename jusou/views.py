import logging
import re

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from jusou import services, versions
from jusou.access import read_log
from jusou.fieldpolicy import FieldPolicyModel
from jusou.forms import StaffLoginForm, apply_service_errors
from jusou.models import ReadLog
from jusou.registry import panels_for
from jusou.selectors import notifications_for_user
from jusou.services import EditConflict

log = logging.getLogger(__name__)

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


class LoginView(auth_views.LoginView):
    form_class = StaffLoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return self.request.user.home_url()


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


@require_GET
def notification_list(request):
    page = Paginator(notifications_for_user(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "jusou/notification_list.html", {"page": page})


@require_POST
def notification_open(request, pk):
    """Mark read and follow the notification's link (a local path only)."""
    notification = get_object_or_404(notifications_for_user(request.user), pk=pk)
    services.notification_mark_read(notification=notification, acting_user=request.user)
    if notification.link and url_has_allowed_host_and_scheme(notification.link, allowed_hosts=None):
        return redirect(notification.link)
    return redirect("notification_list")


@require_POST
def notification_read_all(request):
    count = services.notifications_mark_all_read(acting_user=request.user)
    messages.success(request, f"{count}件のお知らせを既読にしました。")
    return redirect("notification_list")


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


def api_tokens(request):
    """APIトークン: staff see their own personal tokens, issue one (shown once) or revoke one."""
    from knox.models import AuthToken

    from jusou.api.auth import api_client_of, token_issue

    if not request.user.roles or api_client_of(request.user) is not None:
        raise PermissionDenied("この画面を使う権限がありません。")
    tokens = AuthToken.objects.filter(user=request.user).order_by("-created")
    issued = None
    if request.method == "POST":
        if request.POST.get("revoke"):
            deleted, _ = tokens.filter(token_key=request.POST["revoke"][:20]).delete()
            if deleted:
                messages.success(request, "トークンを無効にしました。")
            return redirect("api_tokens")
        instance, issued = token_issue(user=request.user)
        log.info("API token issued for %s (%s)", request.user.username, instance.token_key)
    return render(
        request, "jusou/api_tokens.html", {"tokens": list(tokens), "issued": issued, "now": timezone.now()}
    )
