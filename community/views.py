"""Thin views for 地域づくり. The register and its records are readable by all staff."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from community import selectors, services
from community.forms import (
    ActivityForm,
    CoordinatorActivityForm,
    GapAdvanceForm,
    GapForm,
    PlatformForm,
    ResourceForm,
)
from community.models import CommunityResource, CoordinatorActivity, Platform, ResourceKind
from jusou.forms import apply_service_errors
from jusou.models import Area, ResourceGap, ResourceGapStatus, Role
from jusou.views import post_action

STAFF = {Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR}


def _require_staff(request):
    """Everyone in the programme reads the register; only 相談員 and 推進員 write to it."""
    if not request.user.roles & STAFF:
        raise PermissionDenied("この画面を使う権限がありません。")
    if request.method == "POST" and not _editor(request):
        raise PermissionDenied("登録・更新は相談員または相談支援包括化推進員が行います。")


def _editor(request) -> bool:
    return bool(request.user.roles & {Role.WORKER, Role.COORDINATOR})


def _save_form(request, form, save, success, then):
    """GET/POST with a ModelForm whose cleaned data goes to a service."""
    if request.method == "POST":
        if form.is_valid():
            try:
                obj = save(form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, success)
                return redirect(then(obj))
    return None


def resource_list(request):
    _require_staff(request)
    get = request.GET
    area = get.get("area", "")
    filters = selectors.ResourceFilters(
        kind=get.get("kind", "") if get.get("kind", "") in ResourceKind.values else "",
        area=int(area) if area.isdigit() else None,
        accepting=get.get("accepting") == "1",
        q=get.get("q", "").strip()[:100],
    )
    page = Paginator(selectors.resources(filters), 50).get_page(get.get("page"))
    form = ResourceForm(request.POST or None) if _editor(request) else None
    done = form and _save_form(
        request, form, lambda data: services.resource_save(acting_user=request.user, **data),
        "地域資源を登録しました。", lambda obj: reverse("community:resource_detail", args=[obj.pk]),
    )  # fmt: skip
    if done:
        return done
    query = get.copy()
    query.pop("page", None)
    return render(request, "community/resource_list.html", {
        "page": page, "filters": filters, "kinds": ResourceKind.choices, "areas": Area.objects.order_by("code"),
        "form": form, "querystring": query.urlencode(),
    })  # fmt: skip


def resource_detail(request, pk):
    _require_staff(request)
    resource = get_object_or_404(CommunityResource.objects.select_related("area", "developed_for_gap"), pk=pk)
    edit_form = (
        ResourceForm(request.POST if request.POST.get("form") == "edit" else None, instance=resource)
        if _editor(request)
        else None
    )
    activity_form = (
        ActivityForm(request.POST if request.POST.get("form") == "activity" else None)
        if _editor(request)
        else None
    )
    if request.method == "POST":
        if request.POST.get("form") == "edit" and edit_form is not None:
            done = _save_form(
                request,
                edit_form,
                lambda data: services.resource_save(acting_user=request.user, resource=resource, **data),
                "地域資源を更新しました。",
                lambda obj: obj_url(obj),
            )
        elif activity_form is not None:
            done = _save_form(
                request,
                activity_form,
                lambda data: services.activity_record(acting_user=request.user, resource=resource, **data),
                "開催記録を追加しました。",
                lambda obj: obj_url(resource),
            )
        else:
            raise PermissionDenied(
                "登録・更新は相談員または相談支援包括化推進員が行います。"
            )  # unreachable form
        if done:
            return done
    return render(request, "community/resource_detail.html", {
        "resource": resource, "activities": resource.activities.select_related("recorded_by")[:50],
        "edit_form": edit_form, "activity_form": activity_form,
    })  # fmt: skip


def obj_url(resource):
    return reverse("community:resource_detail", args=[resource.pk])


def area_view(request):
    """Resources per 圏域 (server-rendered: no external map tiles exist here)."""
    _require_staff(request)
    return render(
        request,
        "community/area_view.html",
        {"rows": selectors.area_overview(), "kinds": ResourceKind.choices},
    )


def platform_list(request):
    _require_staff(request)
    form = PlatformForm(request.POST or None) if _editor(request) else None
    done = form and _save_form(request, form, lambda data: services.platform_record(acting_user=request.user, **data),
                               "プラットフォームの記録を追加しました。", lambda obj: reverse("community:platform_list"))  # fmt: skip
    if done:
        return done
    rows = Platform.objects.select_related("area").order_by("-held_on", "-pk")[:100]
    return render(request, "community/platform_list.html", {"rows": rows, "form": form})


def coordinator_log(request):
    _require_staff(request)
    form = CoordinatorActivityForm(request.POST or None) if _editor(request) else None
    done = form and _save_form(request, form,
                               lambda data: services.coordinator_activity_record(acting_user=request.user, **data),
                               "活動記録を追加しました。", lambda obj: reverse("community:coordinator_log"))  # fmt: skip
    if done:
        return done
    rows = CoordinatorActivity.objects.select_related("area", "recorded_by").order_by("-done_on", "-pk")[:100]
    return render(request, "community/coordinator_log.html", {"rows": rows, "form": form})


def gap_list(request):
    _require_staff(request)
    status = request.GET.get("status", "")
    form = GapForm(request.POST or None) if _editor(request) else None
    done = form and _save_form(request, form, lambda data: services.gap_record(acting_user=request.user, **data),
                               "不足する社会資源を記録しました。", lambda obj: reverse("community:gap_list"))  # fmt: skip
    if done:
        return done
    return render(request, "community/gap_list.html", {
        "rows": selectors.gaps(status if status in ResourceGapStatus.values else ""), "form": form,
        "advance_form": GapAdvanceForm() if _editor(request) else None, "statuses": ResourceGapStatus.choices,
        "status": status,
    })  # fmt: skip


@require_POST
def gap_advance(request, pk):
    _require_staff(request)
    gap = get_object_or_404(ResourceGap, pk=pk)
    return post_action(
        request, GapAdvanceForm(request.POST),
        lambda data: services.gap_advance(gap=gap, acting_user=request.user, **data),
        "状況を更新しました。", reverse("community:gap_list"),
    )  # fmt: skip
