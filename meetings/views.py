from pathlib import Path

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import prefetch_related_objects
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.models import Case, CaseStatus, Person
from cases.selectors import case_can_change, case_get_for_user
from jusou import versions
from jusou.audit.readlog import read_log
from jusou.forms import apply_service_errors
from jusou.models import ReadLog, Role
from jusou.pdf import pdf_response
from jusou.views import log_list, post_action
from meetings import briefings, documents, selectors, services
from meetings.forms import (
    BriefingCaseForm,
    BriefingForm,
    CaseAcceptForm,
    CaseReturnForm,
    ConferenceForm,
    ConsentAmendForm,
    ConsentForm,
    ConsentPrintForm,
    ConsentWithdrawForm,
    EvaluationForm,
    MeetingDecisionForm,
    MeetingForm,
    MeetingWindowForm,
    MinutesForm,
    PlanDecisionForm,
    PlanForm,
    PlanTaskForm,
    PlanTaskFormSet,
    ResourceGapForm,
    SupportDecisionForm,
    TaskStatusForm,
)
from meetings.models import PlanTask, SupportPlan


def _require_coordinator(request):
    if not request.user.has_role(Role.COORDINATOR):
        raise PermissionDenied("この画面は相談支援包括化推進員が使います。")


@require_GET
def inbox(request):
    """多機関協働の受付箱: referred cases waiting, and the cases taken up (both lists name people, so
    the page view is logged with the ids it shows)."""
    _require_coordinator(request)
    referred = selectors.inbox(request.user)
    page = selectors.inbox_page(request.user, CaseStatus.COORDINATING, request.GET.get("page"))
    log_list(request, model=Case, rows=[*referred, *page.object_list], what="多機関協働の受付箱")
    return render(
        request,
        "meetings/inbox.html",
        {
            "referred": referred,
            "page": page,
            "accept_form": CaseAcceptForm(),
            "return_form": CaseReturnForm(),
        },
    )


@require_POST
def case_accept(request, pk):
    case = case_get_for_user(request.user, pk, for_change=True)
    return post_action(
        request,
        CaseAcceptForm(request.POST),
        lambda data: services.case_accept(case=case, acting_user=request.user, reason=data["reason"]),
        f"{case.number} を多機関協働として受理しました。",
        case,
    )


@require_POST
def case_return(request, pk):
    case = case_get_for_user(request.user, pk, for_change=True)
    return post_action(
        request,
        CaseReturnForm(request.POST),
        lambda data: services.case_return(case=case, acting_user=request.user, reason=data["reason"]),
        f"{case.number} を主担当機関（{case.owning_agency}）へ戻しました。",
        "meetings:inbox",
    )


def consent_new(request, pk):
    case = case_get_for_user(request.user, pk, for_change=True)
    people = Person.objects.filter(pk__in=services.case_people(case)).order_by("pk")
    # ?person=: the member an approval refusal named (the link in its message)
    wanted = request.GET.get("person", "")
    chosen = int(wanted) if wanted.isdigit() and int(wanted) in services.case_people(case) else case.person_id
    form = ConsentForm(request.POST or None, request.FILES or None, people=people, initial={"person": chosen})
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_record(case=case, acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"{form.cleaned_data['person'].name}さんの本人同意を記録しました。")
            return redirect(case)
    return render(request, "meetings/consent_form.html", {"case": case, "form": form})


@require_http_methods(["GET", "POST"])
def consent_print(request, pk):
    """同意書 for the person to sign, prefilled with what the consent page holds so far (POSTed from
    that form, so that neither the CSRF token nor what was typed lands in a URL, the server's logs or the
    browser's history; a GET prints it blank but for the case); signed and scanned, it is attached when
    the consent is recorded. For those who record consents on the case (as consent_new)."""
    case = case_get_for_user(request.user, pk, for_change=True)
    people = Person.objects.filter(pk__in=services.case_people(case))
    typed = request.POST if request.method == "POST" else {}
    context = documents.consent_form(case, **ConsentPrintForm(typed, people=people).prefill())
    return pdf_response(
        request,
        "pdf/consent.html",
        context,
        obj=case,
        form_name="同意書",
        case_number=case.number,
        filename=f"同意書_{case.number}.pdf",
        detail="署名用",
    )


@require_GET
def consent_record_print(request, pk):
    """A recorded consent as the 同意書 to sign (a consent taken orally, signed afterwards): for those
    who may read the case's consents (its decision opens 支援プラン, as on the case page)."""
    consent = selectors.consent_get_for_user(request.user, pk)
    selectors.require_case_section(request.user, consent.case, "plan")
    return pdf_response(
        request,
        "pdf/consent.html",
        documents.consent_record_form(consent),
        obj=consent,
        form_name="同意書",
        case_number=consent.case.number,
        filename=f"同意書_{consent.case.number}_{consent.pk}.pdf",
    )


def consent_amend(request, pk):
    """変更: a new version of the consent (more agencies or categories, a later expiry), with its own
    date, method and taker; the page opens with the current scope."""
    consent = selectors.consent_get_for_user(request.user, pk)
    case = case_get_for_user(request.user, consent.case_id, for_change=True)
    if not case.decision.covers("plan"):
        raise PermissionDenied("本人同意の範囲に含まれない情報です。")
    form = ConsentAmendForm(request.POST or None, request.FILES or None, consent=consent)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.consent_amend(consent=consent, acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request, f"{consent.person.name}さんの本人同意を変更しました（第{new.version}版）。"
            )
            return redirect(case)
    return render(request, "meetings/consent_amend.html", {"case": case, "consent": consent, "form": form})


@require_POST
def consent_withdraw(request, pk):
    consent = selectors.consent_get_for_user(request.user, pk)
    case = case_get_for_user(request.user, consent.case_id, for_change=True)
    return post_action(
        request,
        ConsentWithdrawForm(request.POST),
        lambda data: services.consent_withdraw(consent=consent, acting_user=request.user, **data),
        "本人同意の撤回を記録しました。この同意による情報共有は直ちに停止しました。",
        case,
    )


@require_POST
def decision_new(request, pk):
    case = case_get_for_user(request.user, pk, for_change=True)
    return post_action(
        request,
        SupportDecisionForm(request.POST),
        lambda data: services.support_decision_record(case=case, acting_user=request.user, **data),
        "支援決定を記録しました。",
        case,
    )


# --- 支援プラン ----------------------------------------------------------------------------------


def plan_new(request, pk):
    """Write the plan (a new version; the latest one pre-fills the form)."""
    case = case_get_for_user(request.user, pk, for_change=True)
    _require_coordinator(request)
    latest = selectors.case_plans(case)[:1]
    initial, task_initial = {}, []
    if latest:
        plan = latest[0]
        initial = {
            f: getattr(plan, f) for f in PlanForm.base_fields if f not in ("goals", "members", "based_on")
        }
        initial["goals"] = "\n".join(g.text for g in plan.goals.all())
        initial["members"] = [p.pk for p in plan.members.all() if p.pk != case.person_id]
        task_initial = [{f: getattr(t, f) for f in PlanTaskForm.base_fields} for t in plan.tasks.all()]
    initial["based_on"] = latest[0].version if latest else 0
    household = Person.objects.filter(pk__in=services.case_people(case) - {case.person_id}).order_by("pk")
    form = PlanForm(
        request.POST or None,
        initial=initial,
        members=household,
        relationships=selectors.household_relationships(case),
    )
    tasks = PlanTaskFormSet(request.POST or None, initial=task_initial, prefix="tasks")
    if request.method == "POST" and form.is_valid() and tasks.is_valid():
        data = dict(form.cleaned_data)
        goals = data.pop("goals").splitlines()
        task_rows = [row for row in tasks.cleaned_data if row]
        try:
            plan = services.plan_create(
                case=case, acting_user=request.user, goals=goals, tasks=task_rows, **data
            )
        except versions.StaleEdit as stale:
            plans = list(selectors.case_plans(case))  # through the selector: the plans this user may read
            newest = plans[0]
            older = next((p for p in plans if p.version == data["based_on"]), None)
            fields = [f for f in form.fields if f not in ("goals", "members", "based_on")]
            changes = versions.differences(
                SupportPlan, older, newest, fields, who=versions.who(newest.author), when=newest.created_at
            )
            return versions.refuse(
                request,
                form,
                "meetings/plan_form.html",
                {"case": case, "tasks": tasks},
                changes=changes,
                current_version=newest.version,
                version_field="based_on",
                message=stale.messages[0],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request, f"支援プラン 第{plan.version}版を作成しました。重層的支援会議で協議してください。"
            )
            return redirect("meetings:plan_detail", plan.pk)
    return render(request, "meetings/plan_form.html", {"case": case, "form": form, "tasks": tasks})


def plan_detail(request, pk):
    plan = selectors.plan_get_for_user(request.user, pk)
    prefetch_related_objects([plan], "members")
    printing = request.GET.get("print") == "1"
    # Printing confidential material is a disclosure (DOMAIN.md §8): logged.
    read_log(
        user=request.user,
        action=ReadLog.Action.PRINT if printing else ReadLog.Action.VIEW,
        obj=plan,
        detail=f"支援プラン {plan.case.number} 第{plan.version}版",
    )
    context = selectors.plan_detail(plan)
    agencies = {a.pk for a in request.user.agencies}
    context["my_task_ids"] = {t.pk for t in context["tasks"] if t.agency_id in agencies}
    context["task_form"] = TaskStatusForm()
    versions.attach(PlanTask, context["tasks"])
    context["printing"] = printing
    if plan.status == "draft" and not printing and request.user.has_role(Role.COORDINATOR):
        # what approval will ask for, before the meeting: each member's consent gap, with the way to fix it
        if case_can_change(request.user, plan.case):
            agencies = sorted({t.agency_id: t.agency for t in context["tasks"]}.values(), key=lambda a: a.pk)
            gaps = services.consent_gaps(plan, agencies=agencies, relationships=context["relationships"])
            context["consent_gaps"] = [_consent_gap_message(plan, gap) for gap in gaps]
    return render(request, "meetings/plan_detail.html", context)


PLAN_DOCUMENTS = {
    "plan": ("プラン兼事業等利用申込書", "pdf/plan.html", documents.plan_form),
    "evaluation": ("評価シート", "pdf/evaluation.html", documents.evaluation_sheet),
}


@require_GET
def plan_document(request, pk, sheet):
    """【5】プラン兼事業等利用申込書 or the 評価シート as a PDF, through the plan's decision (jusou.pdf)."""
    if sheet not in PLAN_DOCUMENTS:
        raise Http404("書式が見つかりません。")
    name, template, build = PLAN_DOCUMENTS[sheet]
    plan = selectors.plan_get_for_user(request.user, pk)
    return pdf_response(
        request,
        template,
        build(request.user, plan),
        obj=plan,
        form_name=name,
        case_number=plan.case.number,
        detail=f"第{plan.version}版",
        filename=f"{name}_{plan.case.number}_第{plan.version}版.pdf",
    )


@require_POST
def task_status(request, pk):
    task = selectors.task_get_for_user(request.user, pk)
    plan = task.plan
    return post_action(
        request,
        TaskStatusForm(request.POST),
        lambda data: services.task_update_status(
            task=task, acting_user=request.user, status=data["status"], expected_version=data["version"]
        ),
        "役割分担の状況を更新しました。",
        reverse("meetings:plan_detail", args=[plan.pk]),
        record=task,
        title=f"役割分担の状況の更新（{task.agency}）",
    )


# --- 重層的支援会議 ------------------------------------------------------------------------------


def conference_list(request):
    _require_coordinator(request)
    form = ConferenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        conference = services.conference_create(acting_user=request.user, **form.cleaned_data)
        messages.success(request, "重層的支援会議を登録しました。")
        return redirect("meetings:conference_detail", conference.pk)
    return render(
        request,
        "meetings/conference_list.html",
        {"conferences": selectors.conferences_for(request.user)[:50], "form": form},
    )


def conference_detail(request, pk):
    _require_coordinator(request)
    conference = selectors.conference_get_for_user(request.user, pk)
    printing = request.GET.get("print") == "1"
    read_log(
        user=request.user,
        action=ReadLog.Action.PRINT if printing else ReadLog.Action.VIEW,
        obj=conference,
        detail=f"重層的支援会議の記録 {conference}",
    )
    open_plans = selectors.conference_open_plans(request.user)
    return render(
        request,
        "meetings/conference_detail.html",
        {
            "conference": conference,
            "printing": printing,
            "items": selectors.conference_items_for(request.user, conference),
            "drafts": [
                (plan, PlanDecisionForm(initial={"plan": plan.pk}, prefix=f"p{plan.pk}"))
                for plan in open_plans["drafts"]
            ],
            "approved": [
                (
                    plan,
                    EvaluationForm(goals=plan.goals.all(), initial={"plan": plan.pk}, prefix=f"e{plan.pk}"),
                    ResourceGapForm(initial={"plan": plan.pk}, prefix=f"g{plan.pk}"),
                )
                for plan in open_plans["approved"]
            ],
        },
    )


@require_GET
def conference_document(request, pk):
    """会議録（重層的支援会議） as a PDF: the agenda items of the cases the reader may see."""
    _require_coordinator(request)
    conference = selectors.conference_get_for_user(request.user, pk)
    return pdf_response(
        request,
        "pdf/conference_minutes.html",
        documents.conference_minutes(request.user, conference),
        obj=conference,
        form_name="会議録（重層的支援会議）",
        detail=str(conference),
        filename=f"会議録_{conference.title}.pdf",
    )


def _conference_plan(request, conference_pk, prefix):
    _require_coordinator(request)
    conference = selectors.conference_get_for_user(request.user, conference_pk)
    plan_pk = request.POST.get(f"{prefix}-plan", "")
    if not plan_pk.isdigit():
        raise Http404("支援プランが見つかりません。")
    return conference, selectors.plan_get_for_user(request.user, int(plan_pk))


@require_POST
def conference_plan_decision(request, pk, plan_pk):
    conference, plan = _conference_plan(request, pk, f"p{plan_pk}")

    def decide(data):
        if data["decision"] == "approve":
            try:
                services.plan_approve(
                    conference=conference, plan=plan, acting_user=request.user, notes=data["notes"]
                )
            except services.ConsentMissing as refusal:
                raise ValidationError([_consent_gap_message(plan, gap) for gap in refusal.gaps]) from None
        else:
            services.plan_send_back(
                conference=conference, plan=plan, acting_user=request.user, notes=data["notes"]
            )

    return post_action(
        request,
        PlanDecisionForm(request.POST, prefix=f"p{plan_pk}"),
        decide,
        lambda data: (
            "プランを承認しました。" if data["decision"] == "approve" else "プランを差し戻しました。"
        ),
        reverse("meetings:conference_detail", args=[conference.pk]),
    )


def _consent_gap_message(plan, gap):
    """The refusal for one person, with the way to their consent: amend the current one when it
    exists and only lacks agencies, else record one for them."""
    if gap.current_id is not None:
        url, action = (
            reverse("meetings:consent_amend", args=[gap.current_id]),
            f"{gap.person.name}さんの同意を変更する",
        )
    else:
        url = reverse("meetings:consent_new", args=[plan.case_id]) + f"?person={gap.person.pk}"
        action = f"{gap.person.name}さんの本人同意を記録する"
    return format_html('{} <a href="{}">{}</a>', gap.message, url, action)


@require_POST
def conference_evaluation(request, pk, plan_pk):
    conference, plan = _conference_plan(request, pk, f"e{plan_pk}")
    form = EvaluationForm(request.POST, goals=plan.goals.all(), prefix=f"e{plan_pk}")
    return post_action(
        request,
        form,
        lambda data: services.plan_evaluate(
            conference=conference,
            plan=plan,
            acting_user=request.user,
            goal_results=form.goal_results(),
            person_change=data["person_change"],
            next_step=data["next_step"],
            notes=data["notes"],
            close_reason=data["close_reason"],
            next_lead_agency=data["next_lead_agency"],
            suspend_reason=data["suspend_reason"],
        ),
        "評価を記録しました。",
        reverse("meetings:conference_detail", args=[conference.pk]),
    )


@require_POST
def conference_resource_gap(request, pk, plan_pk):
    conference, plan = _conference_plan(request, pk, f"g{plan_pk}")
    return post_action(
        request,
        ResourceGapForm(request.POST, prefix=f"g{plan_pk}"),
        lambda data: services.resource_gap_record(
            conference=conference,
            plan=plan,
            acting_user=request.user,
            category=data["category"],
            area=data["area"],
            description=data["description"],
        ),
        "不足する社会資源を記録しました。",
        reverse("meetings:conference_detail", args=[conference.pk]),
    )


# --- 支援会議 ----------------------------------------------------------------------------------


def meeting_list(request):
    """Members find their meetings (and the 守秘義務 still to acknowledge); hosts convene from here."""
    return render(
        request,
        "meetings/meeting_list.html",
        {
            "awaiting": selectors.meetings_awaiting_pledge(request.user),
            "page": selectors.meeting_list_page(request.user, request.GET.get("page")),
            "can_convene": request.user.has_role(Role.COORDINATOR),
        },
    )


def meeting_new(request):
    """招集: the host names the members (each granted the meeting for the access window only)."""
    _require_coordinator(request)
    form = MeetingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_convene(acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request, "支援会議を招集しました。構成員は守秘義務を確認してから資料を閲覧できます。"
            )
            return redirect("meetings:meeting_detail", meeting.pk)
    return render(request, "meetings/meeting_form.html", {"form": form})


def meeting_detail(request, pk):
    """Briefings and minutes: 404 until the member has acknowledged 守秘義務 (see meeting_pledge)."""
    meeting = selectors.meeting_get_for_user(request.user, pk)
    printing = request.GET.get("print") == "1"
    read_log(
        user=request.user,
        action=ReadLog.Action.PRINT if printing else ReadLog.Action.VIEW,
        obj=meeting,
        detail=f"支援会議 {meeting}",
    )
    context = selectors.meeting_detail(meeting)
    briefings.attach_contents(context["briefings"], meeting, request.user)
    context["printing"] = printing
    if meeting.host_id == request.user.pk:
        window = {
            "access_from": timezone.localtime(meeting.access_from),
            "access_until": timezone.localtime(meeting.access_until),
        }
        decision_form = MeetingDecisionForm()
        # The same two fields under every agenda item: rendered once for the page, not once per item.
        decision_fields = render_to_string("meetings/_decision_fields.html", {"decision_form": decision_form})
        context |= {
            "briefing_form": BriefingCaseForm(user=request.user),
            "decision_form": decision_form,
            "decision_fields": decision_fields,
            "minutes_form": MinutesForm(initial={"minutes": meeting.minutes}),
            "window_form": MeetingWindowForm(initial=window),
            "window_changes": selectors.meeting_window_changes(meeting),
        }
    return render(request, "meetings/meeting_detail.html", context)


@require_GET
def meeting_document(request, pk):
    """会議録（支援会議） as a PDF, for the host and the members who acknowledged 守秘義務 (as the page),
    each with the briefings in the rendering they read."""
    meeting = selectors.meeting_get_for_user(request.user, pk)
    return pdf_response(
        request,
        "pdf/meeting_minutes.html",
        documents.meeting_minutes(request.user, meeting),
        obj=meeting,
        form_name="会議録（支援会議）",
        detail=str(meeting),
        filename=f"会議録_{meeting.title}.pdf",
    )


def meeting_pledge(request, pk):
    """守秘義務の確認: the only page of a meeting a member can open before acknowledging."""
    meeting = selectors.meeting_awaiting_pledge(request.user, pk)
    if meeting is None:
        raise Http404("支援会議が見つかりません。")
    if request.method == "POST":
        services.pledge_acknowledge(meeting=meeting, acting_user=request.user)
        messages.success(request, "守秘義務を確認しました。")
        return redirect("meetings:meeting_detail", meeting.pk)
    return render(
        request, "meetings/pledge.html", {"meeting": meeting, "statement": services.PLEDGE_STATEMENT}
    )


def _hosted(request, pk):
    meeting = selectors.meeting_get_for_user(request.user, pk)
    if meeting.host_id != request.user.pk:
        raise PermissionDenied("この操作は会議の主催者が行います。")
    return meeting


def meeting_briefing(request, pk):
    """Put a case on the agenda: the host chooses item by item and sees, before sharing, exactly what a
    staff member and an external member will each see (the same rendering is frozen: a choice changed
    since the preview is shown again, not shared)."""
    meeting = _hosted(request, pk)
    case_form = BriefingCaseForm(request.POST or request.GET, user=request.user)
    try:
        if not case_form.is_valid():
            for error in case_form.errors.get("case", []):
                messages.error(request, error)
            return redirect("meetings:meeting_detail", meeting.pk)
        if case_form.cleaned_data["case"] is None:
            raise Http404
        case = case_get_for_user(request.user, case_form.cleaned_data["case"])
    except Http404:
        messages.error(request, "そのケースは見つかりません。")
        return redirect("meetings:meeting_detail", meeting.pk)
    options = briefings.member_options(request.user, case)
    form = BriefingForm(request.POST or None, options=options)
    if request.method == "POST" and form.is_valid():
        choice = form.choice()
        if "share" in request.POST:
            try:
                services.briefing_share(
                    meeting=meeting,
                    case=case,
                    acting_user=request.user,
                    categories=choice.categories,
                    members=choice.members,
                    external_named=choice.external_named,
                    pseudonymised=choice.pseudonymised,
                    previewed=form.cleaned_data["previewed"],
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, "ケースを議題に加え、資料を共有しました。")
                return redirect("meetings:meeting_detail", meeting.pk)
    else:
        choice = briefings.default_choice(options)
        form.initial_from(choice)
    choice, rendering = briefings.briefing_preview(
        meeting=meeting, case=case, acting_user=request.user, choice=choice
    )
    # The host reads the case to choose from it: logged like the case page, on the host's own basis.
    read_log(
        user=request.user, action=ReadLog.Action.VIEW, obj=case, detail=f"支援会議の資料の準備 {case.number}"
    )
    form.data = form.data.copy() if form.is_bound else form.data
    if form.is_bound:
        form.data["previewed"] = rendering.digest
    else:
        form.initial["previewed"] = rendering.digest
    return render(
        request,
        "meetings/briefing_form.html",
        {
            "meeting": meeting,
            "case": case,
            "form": form,
            "case_form": case_form,
            "choice": choice,
            "preview": [
                (briefings.AUDIENCE_LABELS[briefings.STAFF], rendering.staff),
                (briefings.AUDIENCE_LABELS[briefings.EXTERNAL], rendering.external),
            ],
        },
    )


@require_POST
def meeting_window(request, pk):
    meeting = _hosted(request, pk)
    return post_action(
        request,
        MeetingWindowForm(request.POST),
        lambda data: services.meeting_window_change(meeting=meeting, acting_user=request.user, **data),
        "閲覧期間を変更しました。",
        reverse("meetings:meeting_detail", args=[meeting.pk]),
    )


@require_POST
def meeting_decision(request, pk, briefing_pk):
    meeting = _hosted(request, pk)
    briefing = get_object_or_404(meeting.briefings, pk=briefing_pk)
    return post_action(
        request,
        MeetingDecisionForm(request.POST),
        lambda data: services.meeting_decision_record(briefing=briefing, acting_user=request.user, **data),
        "決定を記録しました。",
        reverse("meetings:meeting_detail", args=[meeting.pk]),
    )


@require_POST
def meeting_minutes(request, pk):
    meeting = _hosted(request, pk)
    return post_action(
        request,
        MinutesForm(request.POST),
        lambda data: services.meeting_minutes_update(meeting=meeting, acting_user=request.user, **data),
        "議事録を保存しました。",
        reverse("meetings:meeting_detail", args=[meeting.pk]),
    )


@require_GET
def consent_document(request, pk):
    """The signed consent form, to the agencies it names, the case's own agency and 管理者 (see
    selectors.consent_document_get_for_user); each download is logged."""
    consent = selectors.consent_document_get_for_user(request.user, pk)
    case = consent.case
    read_log(
        user=request.user,
        action=ReadLog.Action.EXPORT,
        obj=consent,
        detail=f"同意書のダウンロード {case.number}",
    )
    return FileResponse(
        consent.document.open("rb"),
        as_attachment=True,
        filename=f"consent-{case.number}-{consent.pk}{Path(consent.document.name).suffix}",
    )
