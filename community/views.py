"""Thin views for 地域づくり. Every staff member reads the register's public fields; who may change a
place, record and correct is decided in community.selectors / community.services."""

import copy

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from community import selectors, services
from community.forms import (
    CORRECTION_FORMS,
    ActivityForm,
    CoordinatorActivityForm,
    CorrectionReasonForm,
    GapAdvanceForm,
    GapForm,
    GapLinkForm,
    PlatformForm,
    RemoveForm,
    ResourceForm,
)
from community.models import CommunityResource, CoordinatorActivityKind, ResourceKind
from jusou import versions
from jusou.forms import apply_service_errors
from jusou.models import Area, ResourceGap, ResourceGapStatus
from jusou.views import post_action

PAGE_SIZE = 50


def _require_reader(request):
    if not selectors.can_read(request.user):
        raise PermissionDenied("この画面を使う権限がありません。")


def _save_form(request, form, save, success, then):
    """POST of a form whose cleaned data goes to a service; None when the page is to be shown again."""
    if request.method == "POST" and form.is_valid():
        try:
            obj = save(form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, success)
            return redirect(then(obj))
    return None


def _recorder_form(request, form_class):
    """The add form of a list page, for those who record; a POST from anyone else is refused."""
    if not selectors.can_record(request.user):
        if request.method == "POST":
            raise PermissionDenied("記録は相談員・相談支援包括化推進員・地域福祉担当が行います。")
        return None
    return form_class(request.POST or None)


def _filters(request):
    """The 圏域 (with everything below it) and the period of a list a figure links to."""
    area = selectors.parse_area(request.GET.get("area"))
    return area, selectors.subtree_of(area), selectors.Period.from_query(request.GET)


def _page(request, rows):
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _with_correctable(request, rows):
    for row in rows:
        row.correctable = services.record_can_correct(request.user, row)
    return rows


# --- the register -------------------------------------------------------------------------------------


def resource_list(request):
    _require_reader(request)
    get = request.GET
    area = selectors.parse_area(get.get("area"))
    filters = selectors.ResourceFilters(
        kind=get.get("kind", "") if get.get("kind", "") in ResourceKind.values else "",
        area=area,
        accepting=get.get("accepting") == "1",
        room=get.get("room", "") if get.get("room", "") in dict(selectors.ROOM_CHOICES) else "",
        q=get.get("q", "").strip()[:100],
    )
    form = None
    if selectors.can_record(request.user):
        form = ResourceForm(request.POST or None, keeper=selectors.keeps_whole_register(request.user))
    elif request.method == "POST":
        raise PermissionDenied("地域資源の登録は相談員・相談支援包括化推進員・地域福祉担当が行います。")
    done = form and _save_form(
        request,
        form,
        lambda data: services.resource_save(acting_user=request.user, **data),
        "地域資源を登録しました。",
        lambda obj: reverse("community:resource_detail", args=[obj.pk]),
    )
    if done:
        return done
    page, querystring = _page(request, selectors.resources(filters))
    rows = list(page.object_list)
    changeable = selectors.changeable_ids(request.user, rows)
    for row in rows:
        row.can_change = row.pk in changeable
    return render(
        request,
        "community/resource_list.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "kinds": ResourceKind.choices,
            "rooms": selectors.ROOM_CHOICES,
            "areas": Area.objects.order_by("code"),
            "form": form,
            "querystring": querystring,
        },
    )


def resource_detail(request, pk):
    _require_reader(request)
    resource = selectors.resource_get(pk)
    if resource is None:
        raise Http404("地域資源が見つかりません。")
    can_change = selectors.resource_can_change(request.user, resource)
    which = request.POST.get("form")
    if request.method == "POST" and not can_change:
        raise PermissionDenied(
            "この地域資源を更新できるのは、運営する機関の職員、相談支援包括化推進員、地域福祉担当です。"
        )
    edit_form = activity_form = None
    if can_change:
        # the form writes the posted values onto its instance: a copy, so that a refused edit (say, a
        # deactivation without a reason) leaves the page's header showing the saved record
        edit_form = ResourceForm(
            request.POST if which == "edit" else None,
            instance=copy.copy(resource),
            keeper=selectors.keeps_whole_register(request.user),
        )
        activity_form = ActivityForm(request.POST if which == "activity" else None)
    if request.method == "POST":
        if which == "edit":
            # the service reloads the place under a lock
            done = _save_form(
                request,
                edit_form,
                lambda data: services.resource_save(
                    acting_user=request.user, resource=CommunityResource(pk=pk), **data
                ),
                "地域資源を更新しました。",
                lambda obj: _resource_url(obj),
            )
        else:
            done = _save_form(
                request,
                activity_form,
                lambda data: services.activity_record(acting_user=request.user, resource=resource, **data),
                "開催記録を追加しました。",
                lambda obj: _resource_url(resource),
            )
        if done:
            return done
    activities = _with_correctable(request, list(resource.activities.select_related("recorded_by")[:50]))
    return render(
        request,
        "community/resource_detail.html",
        {
            "resource": resource,
            "activities": activities,
            "can_change": can_change,
            "edit_form": edit_form,
            "activity_form": activity_form,
        },
    )


def _resource_url(resource):
    return reverse("community:resource_detail", args=[resource.pk])


# --- figures per 圏域 ----------------------------------------------------------------------------------


def area_view(request, pk=None):
    """One page per 圏域 (and the city): every figure rolls up the 圏域 below and links to its rows."""
    _require_reader(request)
    tree = selectors.AreaTree.load()
    area = None
    if pk is not None:
        area = tree.areas.get(pk)
        if area is None:
            raise Http404("圏域が見つかりません。")
    period = selectors.Period.from_query(request.GET)
    return render(
        request,
        "community/area_view.html",
        {
            "area": area,
            "period": period,
            "figures": selectors.area_figures(area, period, tree),
            "ancestors": tree.ancestors(area) if area else [],
            "children": tree.children.get(area.pk if area else None, []),
            "rows": selectors.area_tree_rows(period, tree) if area is None else None,
            "area_query": f"area={area.pk}&" if area else "",
        },
    )


def activity_list(request):
    _require_reader(request)
    area, ids, period = _filters(request)
    rows = selectors.activities(ids, period)
    page, querystring = _page(request, rows)
    totals = rows.order_by().aggregate(**_sums("participants", "participant_visits"))
    return render(
        request,
        "community/activity_list.html",
        {
            "page": page,
            "rows": _with_correctable(request, list(page.object_list)),
            "area": area,
            "period": period,
            "areas": Area.objects.order_by("code"),
            "totals": totals,
            "querystring": querystring,
        },
    )


def _sums(*names):
    from django.db.models import Sum
    from django.db.models.functions import Coalesce

    return {name: Coalesce(Sum(name), 0) for name in names}


def platform_list(request):
    _require_reader(request)
    form = _recorder_form(request, PlatformForm)
    done = form and _save_form(
        request,
        form,
        lambda data: services.platform_record(acting_user=request.user, **data),
        "プラットフォームの記録を追加しました。",
        lambda obj: reverse("community:platform_list"),
    )
    if done:
        return done
    area, ids, period = _filters(request)
    rows = selectors.platforms(ids, period if request.GET.get("from") or request.GET.get("to") else None)
    page, querystring = _page(request, rows)
    return render(
        request,
        "community/platform_list.html",
        {
            "page": page,
            "rows": _with_correctable(request, list(page.object_list)),
            "form": form,
            "area": area,
            "period": period,
            "areas": Area.objects.order_by("code"),
            "querystring": querystring,
        },
    )


def coordinator_log(request):
    _require_reader(request)
    form = _recorder_form(request, CoordinatorActivityForm)
    done = form and _save_form(
        request,
        form,
        lambda data: services.coordinator_activity_record(acting_user=request.user, **data),
        "活動記録を追加しました。",
        lambda obj: reverse("community:coordinator_log"),
    )
    if done:
        return done
    area, ids, period = _filters(request)
    kind = (
        request.GET.get("kind", "") if request.GET.get("kind", "") in CoordinatorActivityKind.values else ""
    )
    dated = period if request.GET.get("from") or request.GET.get("to") else None
    page, querystring = _page(request, selectors.coordinator_log(ids, dated, kind))
    return render(
        request,
        "community/coordinator_log.html",
        {
            "page": page,
            "rows": _with_correctable(request, list(page.object_list)),
            "form": form,
            "area": area,
            "period": period,
            "kind": kind,
            "kinds": CoordinatorActivityKind.choices,
            "areas": Area.objects.order_by("code"),
            "querystring": querystring,
        },
    )


def _correctable_record(kind: str, pk: int):
    model = services.CORRECTABLE.get(kind)
    if model is None:
        raise Http404()
    return get_object_or_404(model.objects.select_related("recorded_by"), pk=pk)


def _record_back(kind, record):
    if kind == "activity":
        return _resource_url(record.resource)
    return reverse("community:platform_list" if kind == "platform" else "community:coordinator_log")


def record_correct(request, kind, pk):
    """Correct a session, platform or coordinator's entry (author or 推進員, within the window)."""
    _require_reader(request)
    record = _correctable_record(kind, pk)
    if not services.record_can_correct(request.user, record):
        raise PermissionDenied(
            f"訂正・削除できるのは、記録した職員と相談支援包括化推進員です（記録から{services.CORRECTION_WINDOW.days}日以内）。"
        )
    # a copy: a refused correction must not show its values as the saved record's (header, back link)
    form = CORRECTION_FORMS[kind](request.POST or None, instance=copy.copy(record))
    reason_form = CorrectionReasonForm(request.POST or None, initial={"version": versions.version_of(record)})
    stale_changes = None
    if request.method == "POST" and form.is_valid() and reason_form.is_valid():
        expected = reason_form.cleaned_data["version"]
        try:
            services.record_correct(
                record=type(record)(pk=record.pk),
                acting_user=request.user,
                reason=reason_form.cleaned_data["reason"],
                expected_version=expected,
                **form.cleaned_data,
            )
        except versions.StaleEdit as stale:
            stale_changes = versions.changes_since(record, expected, form.fields)
            reason_form.data = reason_form.data.copy()
            reason_form.data["version"] = str(versions.version_of(record))
            form.add_error(None, stale.messages)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "記録を訂正しました（訂正前の内容は変更履歴に残ります）。")
            return redirect(_record_back(kind, record))
    return render(
        request,
        "community/record_correct.html",
        {
            "record": record,
            "kind": kind,
            "form": form,
            "reason_form": reason_form,
            "remove_form": RemoveForm(),
            "back": _record_back(kind, record),
            "window_days": services.CORRECTION_WINDOW.days,
            "stale_changes": stale_changes,
        },
        status=409 if stale_changes is not None else 200,
    )


@require_POST
def record_remove(request, kind, pk):
    _require_reader(request)
    record = _correctable_record(kind, pk)
    back = _record_back(kind, record)
    return post_action(
        request,
        RemoveForm(request.POST),
        lambda data: services.record_remove(record=record, acting_user=request.user, **data),
        "記録を削除しました（変更履歴には残ります）。",
        back,
    )


# --- gaps ---------------------------------------------------------------------------------------------


def gap_list(request):
    _require_reader(request)
    status = request.GET.get("status", "")
    status = status if status in ResourceGapStatus.values or status == "open" else ""
    form = _recorder_form(request, GapForm)
    done = form and _save_form(
        request,
        form,
        lambda data: services.gap_record(acting_user=request.user, **data),
        "不足する社会資源を記録しました。",
        lambda obj: reverse("community:gap_list"),
    )
    if done:
        return done
    area, ids, _ = _filters(request)
    page, querystring = _page(request, selectors.gaps(status, ids))
    recorder, mover = selectors.can_record(request.user), selectors.gap_can_move(request.user)
    # only the places the user may name (a 相談員: those their agency runs); no form without one
    choices = selectors.resource_choices_for_gaps(request.user) if recorder else []
    return render(
        request,
        "community/gap_list.html",
        {
            "page": page,
            "rows": page.object_list,
            "form": form,
            "area": area,
            "areas": Area.objects.order_by("code"),
            "recorder": recorder,
            "advance_form": GapAdvanceForm(resource_choices=choices) if mover else None,
            "link_form": GapLinkForm(resource_choices=choices) if choices else None,
            "statuses": ResourceGapStatus.choices,
            "status": status,
            "querystring": querystring,
        },
    )


def _gap_choices(request):
    # any active place parses; the service refuses (403) a place the user may not name
    return selectors.resource_choices_for_gaps(None)


@require_POST
def gap_advance(request, pk):
    _require_reader(request)
    services.require_gap_mover(request.user)
    gap = get_object_or_404(ResourceGap, pk=pk)
    return post_action(
        request,
        GapAdvanceForm(request.POST, resource_choices=_gap_choices(request)),
        lambda data: services.gap_advance(gap=gap, acting_user=request.user, **data),
        "状況を更新しました。",
        reverse("community:gap_list"),
        title=f"不足する社会資源の状況変更（{gap.category}）",
    )


@require_POST
def gap_link(request, pk):
    _require_reader(request)
    gap = get_object_or_404(ResourceGap, pk=pk)
    return post_action(
        request,
        GapLinkForm(request.POST, resource_choices=_gap_choices(request)),
        lambda data: services.gap_link(gap=gap, acting_user=request.user, **data),
        "この不足に応える地域資源を追加しました。",
        reverse("community:gap_list"),
    )
