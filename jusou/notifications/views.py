"""The お知らせ pages."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from jusou.notifications import services
from jusou.notifications.selectors import notifications_for_user


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
