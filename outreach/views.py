from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cases.models import Case, Person
from jusou.access.fieldpolicy import mask_sensitive
from jusou.audit.readlog import read_log
from jusou.forms import apply_service_errors
from jusou.models import ReadLog, Role
from jusou.views import post_action
from outreach import selectors, services
from outreach.forms import ContactForm, EndForm, EngagementForm, LinkForm, StageForm

STAFF = {Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR}


def _require_staff(request):
    if not request.user.roles & STAFF:
        raise PermissionDenied("この画面を使う権限がありません。")


def engagement_list(request):
    _require_staff(request)
    show = request.GET.get("show", "open")
    rows = selectors.engagements_visible_to(request.user).select_related("owning_agency", "lead_worker")
    rows = rows.filter(ended_at__isnull=True) if show == "open" else rows.filter(ended_at__isnull=False)
    page = Paginator(rows.order_by("next_contact_on", "-pk"), 50).get_page(request.GET.get("page"))
    page.object_list = selectors.engagement_location_policy(request.user, mask_sensitive(page.object_list))
    form = (
        EngagementForm(request.POST or None) if request.user.roles & {Role.WORKER, Role.COORDINATOR} else None
    )
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("アウトリーチを始められるのは相談員または相談支援包括化推進員です。")
        if form.is_valid():
            try:
                engagement = services.engagement_start(acting_user=request.user, **form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, f"アウトリーチ {engagement.number} を始めました。")
                return redirect(engagement)
    return render(request, "outreach/engagement_list.html", {"page": page, "form": form, "show": show})


def engagement_detail(request, pk):
    _require_staff(request)
    engagement = selectors.engagement_get_for_user(request.user, pk)
    selectors.engagement_location_policy(request.user, [engagement])
    read_log(user=request.user, action=ReadLog.Action.VIEW, obj=engagement)
    can_change = selectors.engagement_can_change(request.user, engagement) and engagement.is_open
    return render(
        request,
        "outreach/engagement_detail.html",
        {
            "engagement": engagement,
            "contacts": list(engagement.contacts.select_related("recorded_by")),
            "can_change": can_change,
            "contact_form": ContactForm() if can_change else None,
            "stage_form": StageForm(initial={"stage": engagement.stage}) if can_change else None,
            "link_form": LinkForm(user=request.user) if can_change else None,
            "end_form": EndForm() if can_change else None,
        },
    )


def _writable(request, pk):
    engagement = selectors.engagement_get_for_user(request.user, pk)
    if not selectors.engagement_can_change(request.user, engagement):
        raise PermissionDenied("このアウトリーチを更新する権限がありません。")
    return engagement


@require_POST
def contact_add(request, pk):
    engagement = _writable(request, pk)
    form = ContactForm(request.POST)
    return post_action(
        request,
        form,
        lambda data: services.contact_record(
            engagement=engagement, acting_user=request.user, **form.service_kwargs()
        ),
        "接触記録を追加しました。",
        engagement,
    )


@require_POST
def stage_change(request, pk):
    engagement = _writable(request, pk)
    return post_action(
        request,
        StageForm(request.POST),
        lambda data: services.stage_set(engagement=engagement, acting_user=request.user, **data),
        "関係の段階を更新しました。",
        engagement,
    )


@require_POST
def link(request, pk):
    engagement = _writable(request, pk)

    def do(data):
        if not data["person"] and not data["case"]:
            raise ValidationError("本人かケースを選んでください。")
        try:
            person = Person.objects.get(pk=data["person"]) if data["person"] else None
            case = Case.objects.get(pk=data["case"]) if data["case"] else None
            services.engagement_link(
                engagement=engagement, acting_user=request.user, person=person, case=case
            )
        except (Person.DoesNotExist, Case.DoesNotExist, Http404):
            raise ValidationError("その本人・ケースは見つかりません。") from None

    return post_action(
        request, LinkForm(request.POST, user=request.user), do, "本人・ケースと紐づけました。", engagement
    )


@require_POST
def end(request, pk):
    engagement = _writable(request, pk)
    return post_action(
        request,
        EndForm(request.POST),
        lambda data: services.engagement_end(engagement=engagement, acting_user=request.user, **data),
        "アウトリーチを終了しました。",
        engagement,
    )
