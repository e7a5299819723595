"""Thin views: parse, call a selector or service, render. Reads of case, person and household pages,
of the lists that show names, and every search are written to the read log."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from cases import selectors, services
from cases.forms import (
    AssessmentForm,
    CaseTransitionForm,
    CaseUpdateForm,
    ConfidentialityLiftForm,
    ConfidentialitySetForm,
    EmergencyAccessForm,
    EmergencyReviewForm,
    HandoverAcceptForm,
    HandoverDeclineForm,
    HandoverStartForm,
    HouseholdMemberForm,
    IntakeForm,
    MemberLeaveForm,
    PersonForm,
    ProgressNoteCorrectionForm,
    ProgressNoteForm,
    codes,
)
from cases.models import Case, CaseStatus, CodeKind, Consultation, EmergencyAccess, HandoverStatus
from jusou.access import read_log
from jusou.decision import AccessDecision
from jusou.forms import apply_service_errors
from jusou.models import ReadLog, Role, User
from jusou.registry import case_panels
from jusou.views import log_list, post_action
from jusou.wareki import local_text

CASE_PAGE_SIZE = 50
NEW_PERSON_FIELDS = ("name", "kana", "birth_date", "birth_date_precision", "sex", "address", "phone",
                     "atena_number", "attributes")  # fmt: skip
CONSULTATION_FIELDS = ("received_at", "channel", "route", "first_noticed_by", "consulter_name", "issues",
                       "main_issue", "urgency", "summary", "action_taken", "outcome", "referred_to")  # fmt: skip


def _require_staff(request):
    if not (request.user.roles & {Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR}):
        raise PermissionDenied("この画面を使う権限がありません。")


def _require_writer(request):
    if not (request.user.roles & {Role.WORKER, Role.COORDINATOR}):
        raise PermissionDenied("管理者は閲覧のみできます。")


# --- Intake -------------------------------------------------------------------------------------


def intake(request):
    _require_writer(request)
    form = IntakeForm(request.POST or None)
    duplicates = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        choice = data["person_choice"]
        person, new_person = None, None
        try:
            if choice == IntakeForm.PERSON_NEW:
                new_person = {k: data[k] for k in NEW_PERSON_FIELDS}
            elif choice != IntakeForm.PERSON_ANONYMOUS:
                person = selectors.person_to_link(request.user, int(choice))
            consultation = services.intake_record(
                acting_user=request.user,
                person=person,
                new_person=new_person,
                duplicate_confirmed=data["duplicate_confirmed"],
                household_name=data["household_name"],
                relationship=data["relationship"],
                **{k: data[k] for k in CONSULTATION_FIELDS},
            )
        except Http404:
            form.add_error(None, "選んだ本人が見つかりません。もう一度検索して選んでください。")
        except services.DuplicateSuspected as suspected:
            duplicates = suspected.check
            form.add_error(None, suspected.messages)
            form.data = form.data.copy()
            form.data["duplicate_confirmed"] = "true"
        except ValidationError as error:
            if hasattr(error, "error_dict"):  # the form's new-person fields are flat: new_person.name → name
                error = ValidationError(
                    {field.removeprefix("new_person."): errors for field, errors in error.error_dict.items()}
                )
            apply_service_errors(form, error)
        else:
            if consultation.case_id:
                messages.success(
                    request, f"相談を記録し、支援ケース {consultation.case.number} を開きました。"
                )
                return redirect(consultation.case)
            messages.success(request, "相談を記録しました。")
            return redirect("cases:intake")
    selected = None
    choice = form.data.get("person_choice", "") if form.is_bound else ""
    if choice.isdigit():
        selected = selectors.persons_visible_to(request.user).filter(pk=int(choice)).first()
    return render(
        request,
        "cases/intake.html",
        {"form": form, "duplicates": duplicates, "selected_person": selected},
    )


@require_GET
def person_search(request):
    """Search as you type (fragment) and the search page. Only people the user may see."""
    _require_staff(request)
    query = request.GET.get("q", "").strip()[:100]
    results = selectors.person_search(request.user, query) if query else []
    if query:
        read_log(
            user=request.user, action=ReadLog.Action.SEARCH, detail=f"本人検索: {query}（{len(results)}件）"
        )
    template = "cases/_person_results.html" if request.GET.get("fragment") else "cases/person_search.html"
    return render(
        request, template, {"query": query, "results": results, "pick": bool(request.GET.get("pick"))}
    )


# --- Cases --------------------------------------------------------------------------------------


def _filters_from(request) -> tuple[selectors.CaseFilters, list[str]]:
    """The list's filters, and the names of those sent with a value we cannot read: they are left
    unapplied (the form shows すべて) and named on the page, not dropped silently (issue 15's rule
    for the API: a filter is never ignored without a word). Empty values, as the form sends them, are
    no filter."""
    get = request.GET
    unreadable: list[str] = []

    def number(name):
        value = get.get(name, "")
        if value and not value.isdigit():
            unreadable.append(name)
        return int(value) if value.isdigit() else None

    def flag(name):
        value = get.get(name, "")
        if value not in ("", "1"):
            unreadable.append(name)
        return value == "1"

    default_scope = "mine" if request.user.has_role(Role.WORKER) else "agency"
    scope = get.get("scope") or default_scope
    if scope not in ("mine", "agency", "all"):
        unreadable.append("scope")
        scope = "agency"
    status = get.get("status", "")
    if status and status not in CaseStatus.values:
        unreadable.append("status")
        status = ""
    filters = selectors.CaseFilters(
        scope=scope,
        status=status,
        issue=number("issue"),
        risk=flag("risk"),
        worker=number("worker"),
        overdue=flag("overdue"),
        q=get.get("q", "").strip()[:100],
    )
    return filters, unreadable


@require_GET
def case_list(request):
    _require_staff(request)
    filters, unreadable = _filters_from(request)
    page = Paginator(selectors.case_list(request.user, filters), CASE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # Rows carry no 要配慮個人情報 and no 住所秘匿 whereabouts, as in the API's list.
    page.object_list = selectors.case_list_rows(request.user, page.object_list)
    if filters.q:
        log_list(request, model=Case, rows=page.object_list, what=f"ケース検索: {filters.q}",
                 action=ReadLog.Action.SEARCH)  # fmt: skip
    else:
        log_list(request, model=Case, rows=page.object_list, what="ケース一覧")
    workers = User.objects.filter(
        memberships__agency__in=request.user.agencies, memberships__ended_on__isnull=True, is_active=True
    ).distinct().order_by("last_name", "first_name")  # fmt: skip
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "cases/case_list.html",
        {
            "page": page,
            "filters": filters,
            "unreadable_filters": unreadable,
            "statuses": CaseStatus.choices,
            "issues": codes(CodeKind.ISSUE),
            "workers": workers,
            "querystring": query.urlencode(),
        },
    )


def case_detail(request, pk):
    _require_staff(request)
    case = selectors.case_get_for_user(request.user, pk)
    decision = case.decision
    read_log(user=request.user, action=ReadLog.Action.VIEW, obj=case)
    can_change = selectors.case_page_can_change(request, case)
    issues = list(case.issues.all()) if decision.covers("issues") else []
    handovers = selectors.case_handovers(case)
    timeline, timeline_more = [], False
    if decision.covers("progress"):
        whole = request.GET.get("timeline") == "all"
        timeline, timeline_more = selectors.case_timeline(
            case, limit=None if whole else selectors.TIMELINE_PAGE, handovers=handovers
        )
    pending = next((h for h in handovers if h.is_pending), None)
    writable = {}
    if can_change:
        writable = {
            "transition_form": CaseTransitionForm(case=case)
            if case.allowed_transitions() and pending is None
            else None,
            "update_form": CaseUpdateForm.for_case(case, issues) if pending is None else None,
            "note_form": ProgressNoteForm() if case.is_open else None,
            "handover_form": HandoverStartForm(case=case)
            if pending is None and case.status in (CaseStatus.SUPPORTING, CaseStatus.CLOSED)
            else None,
        }
    takes = pending is not None and any(
        m.agency_id == pending.to_agency_id and m.role in services.HANDOVER_TAKERS
        for m in request.user.active_memberships
    )
    return render(
        request,
        "cases/case_detail.html",
        {
            "case": case,
            "can_change": can_change,
            "issues": issues,
            "decision": decision,
            "household_members": selectors.household_panel(request.user, case.household, decision),
            "assessment": selectors.case_latest_assessment(case) if decision.covers("issues") else None,
            "timeline": timeline,
            "timeline_more": timeline_more,
            "panels": case_panels(request, case) if decision.covers("plan") else [],
            "handovers": handovers,
            "pending_handover": pending,
            "accept_form": HandoverAcceptForm(handover=pending) if takes else None,
            "decline_form": HandoverDeclineForm() if takes else None,
            **writable,
        },
    )


@require_POST
def case_transition(request, pk):
    case = selectors.case_get_for_user(request.user, pk, for_change=True)
    return post_action(
        request,
        CaseTransitionForm(request.POST, case=case),
        lambda data: services.case_transition(
            case=case,
            to_status=data["to_status"],
            acting_user=request.user,
            reason=data["reason"],
            close_reason=data["close_reason"],
            suspend_reason=data["suspend_reason"],
            expected_version=data["version"],
            next_lead_agency=data["next_lead_agency"],
        ),
        lambda data: (
            f"ケースを「{CaseStatus(data['to_status']).label}」にしました。"
            + (
                f"{data['next_lead_agency']}へ引き継ぎました（受入れ待ち）。"
                if data["next_lead_agency"]
                else ""
            )
        ),
        case,
    )


@require_POST
def case_handover(request, pk):
    """Hand a case over to the next lead agency (again, after a decline, or a 支援中 case of one's own)."""
    case = selectors.case_get_for_user(request.user, pk, for_change=True)
    return post_action(
        request, HandoverStartForm(request.POST, case=case),
        lambda data: services.case_handover_start(case=case, acting_user=request.user, **data),
        lambda data: f"{data['to_agency']}へ引き継ぎました（受入れ待ち）。", case,
    )  # fmt: skip


@require_POST
def handover_accept(request, pk):
    handover = selectors.handover_get_for_user(request.user, pk)
    return post_action(
        request, HandoverAcceptForm(request.POST, handover=handover),
        lambda data: services.case_handover_accept(handover=handover, acting_user=request.user,
                                                   lead_worker=data["lead_worker"]),
        "引継ぎを受け入れました。このケースの主担当機関になりました。", handover.case,
    )  # fmt: skip


@require_POST
def handover_decline(request, pk):
    handover = selectors.handover_get_for_user(request.user, pk)
    then = handover.case
    form = HandoverDeclineForm(request.POST)
    response = post_action(
        request, form,
        lambda data: services.case_handover_decline(handover=handover, acting_user=request.user, **data),
        "引継ぎを辞退しました。ケースは引継ぎ元に戻りました。", then,
    )  # fmt: skip
    handover.refresh_from_db()
    if handover.status == HandoverStatus.DECLINED:
        # The case went back: the agency that declined may not open it any more.
        return redirect("dashboard")
    return response


@require_POST
def case_update(request, pk):
    case = selectors.case_get_for_user(request.user, pk, for_change=True)
    return post_action(
        request,
        CaseUpdateForm(request.POST, case=case),
        lambda data: services.case_update(
            case=case,
            acting_user=request.user,
            expected_version=data["version"],
            **{k: v for k, v in data.items() if k != "version"},
        ),
        "ケース情報を更新しました。",
        case,
    )


def assessment_new(request, pk):
    case = selectors.case_get_for_user(request.user, pk, for_change=True)
    latest = selectors.case_latest_assessment(case)
    initial = {}
    if latest is not None:
        read_log(user=request.user, action=ReadLog.Action.VIEW, obj=case,
                 detail=f"アセスメント 第{latest.version}版（新しい版の入力画面）")  # fmt: skip
        initial = {f: getattr(latest, f) for f in AssessmentForm.base_fields if f != "issues"}
        initial["issues"] = [i.pk for i in latest.issues.all()]
    form = AssessmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.assessment_record(case=case, acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"アセスメント 第{assessment.version}版を記録しました。")
            return redirect(case)
    return render(request, "cases/assessment_form.html", {"case": case, "form": form, "latest": latest})


@require_POST
def note_add(request, pk):
    case = selectors.case_get_for_user(request.user, pk, for_change=True)
    return post_action(
        request,
        ProgressNoteForm(request.POST),
        lambda data: services.progress_note_add(case=case, acting_user=request.user, **data),
        "経過記録を追加しました。",
        case,
    )


def note_correct(request, pk):
    note = selectors.note_get_for_user(request.user, pk, for_change=True)
    case = note.case
    if request.method != "POST":
        read_log(
            user=request.user, action=ReadLog.Action.VIEW, obj=case, detail=f"経過記録 #{note.pk}（訂正画面）"
        )
    form = ProgressNoteCorrectionForm(request.POST or None, initial={"content": note.content})
    if request.method == "POST" and form.is_valid():
        try:
            services.progress_note_correct(note=note, acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "経過記録を訂正しました（訂正前の内容は履歴に残ります）。")
            return redirect(case)
    return render(request, "cases/note_correct.html", {"case": case, "note": note, "form": form})


# --- People and households ----------------------------------------------------------------------


def person_detail(request, pk):
    _require_staff(request)
    person = selectors.person_get_for_user(request.user, pk)
    read_log(user=request.user, action=ReadLog.Action.VIEW, obj=person)
    context = selectors.person_detail_context(request.user, person)
    context["can_change"] = selectors.person_can_change(request.user, person)
    context["confidentiality"] = selectors.person_confidentiality(person, request.user)
    if context["can_change"] and context["confidentiality"] is None:
        context["confidentiality_form"] = ConfidentialitySetForm()
    elif context["confidentiality"] is not None and "address" not in person.masked_fields:
        context["lift_form"] = ConfidentialityLiftForm()
    return render(request, "cases/person_detail.html", context)


@require_POST
def confidentiality_set(request, pk):
    person = selectors.person_get_for_user(request.user, pk, log=False)
    return post_action(
        request,
        ConfidentialitySetForm(request.POST),
        lambda data: services.address_confidentiality_set(person=person, acting_user=request.user, **data),
        "住所秘匿を設定しました。所在情報は本人のケースの担当者だけに表示されます。",
        person,
    )


@require_POST
def confidentiality_lift(request, pk):
    person = selectors.person_get_for_user(request.user, pk, log=False)
    record = selectors.person_confidentiality(person)
    if record is None:
        raise Http404("住所秘匿の記録が見つかりません。")
    return post_action(
        request,
        ConfidentialityLiftForm(request.POST),
        lambda data: services.address_confidentiality_lift(
            record=record, acting_user=request.user, reason=data["lift_reason"]
        ),
        "住所秘匿を解除しました。",
        person,
    )


def person_edit(request, pk):
    person = selectors.person_get_for_user(request.user, pk)
    if not selectors.person_can_change(request.user, person):
        raise PermissionDenied("この方の情報を更新する権限がありません。")
    if request.method != "POST":
        read_log(user=request.user, action=ReadLog.Action.VIEW, obj=person, detail="本人情報（編集画面）")
    initial = {f: getattr(person, f) for f in services.PERSON_EDITABLE if f not in person.masked_fields}
    initial["attributes"] = [a.pk for a in person.attributes.all()]
    form = PersonForm(request.POST or None, initial=initial, person=person)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.person_update(person=person, acting_user=request.user, **data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "本人の情報を更新しました（変更前の内容は履歴に残ります）。")
            return redirect(person)
    return render(request, "cases/person_form.html", {"person": person, "form": form})


def household_detail(request, pk):
    _require_staff(request)
    household = selectors.household_get_for_user(request.user, pk)
    read_log(user=request.user, action=ReadLog.Action.VIEW, obj=household)
    can_change = selectors.household_can_change(request.user, household)
    form = HouseholdMemberForm(request.POST or None, household=household) if can_change else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("この世帯を更新する権限がありません。")
        if form.is_valid():
            try:
                _household_member_add(request, household, form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, "世帯員を追加しました。")
                return redirect(household)
    return render(
        request,
        "cases/household_detail.html",
        {
            "household": household,
            "household_members": selectors.household_panel(request.user, household, household.decision),
            "member_form": form,
            "can_change": can_change,
            "leave_form": MemberLeaveForm() if can_change else None,
        },
    )


@transaction.atomic
def _household_member_add(request, household, data):
    person = services.person_register(
        acting_user=request.user,
        name=data["name"],
        kana=data["kana"],
        birth_date=data["birth_date"],
        sex=data["sex"],
    )
    member = services.household_member_add(
        acting_user=request.user, household=household, person=person, relationship=data["relationship"],
        lives_together=data["lives_together"], is_main_carer=data["is_main_carer"],
        is_key_person=data["is_key_person"], own_issues=data["own_issues"],
    )  # fmt: skip
    member.cares_for.set(data["cares_for"])


@require_POST
def household_member_leave(request, pk):
    member = selectors.household_member_get_for_user(request.user, pk)
    household = member.household
    return post_action(
        request,
        MemberLeaveForm(request.POST),
        lambda data: services.household_member_leave(
            member=member, acting_user=request.user, reason=data["reason"]
        ),
        f"{member.person.name}さんを世帯から外しました（記録は残ります）。",
        household,
    )


@require_GET
def consultation_list(request):
    """The consultations the user's agency received (and those of cases they may see), newest first:
    how yesterday's anonymous call is found again."""
    _require_staff(request)
    page = selectors.consultation_page(request.user, request.GET.get("page"), CASE_PAGE_SIZE)
    log_list(request, model=Consultation, rows=page.object_list, what="相談受付一覧")
    return render(request, "cases/consultation_list.html", {"page": page})


def emergency_access(request):
    """Break-glass: justified, time-limited, reported to supervisors at once."""
    _require_writer(request)
    form = EmergencyAccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.emergency_access_open(acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.warning(
                request,
                f"緊急閲覧を開始しました（{local_text(record.ends_at, '%H:%M')} まで）。管理者に通知され、記録は確認されます。",
            )
            return redirect(record.case)
    return render(request, "cases/emergency_access.html", {"form": form, "hours": services.EMERGENCY_HOURS})


def emergency_review(request):
    """Supervisors review each emergency access."""
    if not selectors.is_supervisor(request.user):
        raise PermissionDenied("監査の画面は管理者が使います。")
    if request.method == "POST":
        record_pk = request.POST.get("record", "")
        record = get_object_or_404(EmergencyAccess, pk=int(record_pk) if record_pk.isdigit() else 0)
        return post_action(request, EmergencyReviewForm(request.POST),
                           lambda data: services.emergency_access_review(record=record, acting_user=request.user, **data),
                           "確認を記録しました。", "cases:emergency_review")  # fmt: skip
    page = Paginator(selectors.emergency_accesses_for_review(), CASE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    read_log(user=request.user, action=ReadLog.Action.VIEW, model=EmergencyAccess,
             decision=AccessDecision.supervisor(), detail=f"緊急閲覧の確認 {len(page.object_list)}件")  # fmt: skip
    return render(request, "cases/emergency_review.html",
                  {"records": page.object_list, "page": page, "form": EmergencyReviewForm()})  # fmt: skip
