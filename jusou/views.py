import logging

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from jusou import services
from jusou.forms import StaffLoginForm
from jusou.registry import panels_for
from jusou.selectors import notifications_for_user

log = logging.getLogger(__name__)


def post_action(request, form, action, success, then):
    """A POST-only action: the form's errors or the service's refusal come back as messages on the
    page the user came from (`then`); nothing is saved unless the service succeeds."""
    try:
        if not form.is_valid():
            raise ValidationError([
                f"{form.fields[name].label}: {error}" if name in form.fields else error
                for name, errors in form.errors.items()
                for error in errors
            ])  # fmt: skip
        action(form.cleaned_data)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, success(form.cleaned_data) if callable(success) else success)
    return redirect(then)


class LoginView(auth_views.LoginView):
    form_class = StaffLoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return self.request.user.home_url()


def dashboard(request):
    """The start page, with the sections the user's roles call for."""
    return render(
        request,
        "jusou/dashboard.html",
        {
            "today": timezone.localdate(),
            "memberships": request.user.active_memberships,
            "recent_notifications": list(notifications_for_user(request.user)[:5]),
            "panels": panels_for(request),
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
    return render(request, "jusou/api_tokens.html", {"tokens": list(tokens), "issued": issued,
                                                     "now": timezone.now()})  # fmt: skip
