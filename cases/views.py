"""Thin views: parse, call a selector or service, render. Reads of case, person and household pages,
of the lists that show names, and every search are written to the read log."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from cases import documents, selectors, services
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
    IntakeMemberFormSet,
    MemberLeaveForm,
    PersonForm,
    ProgressNoteCorrectionForm,
    ProgressNoteForm,
    codes,
)
from cases.models import (
    LIVING_SITUATION_FIELDS,
    Case,
    CaseStatus,
    CodeKind,
    Consultation,
    EmergencyAccess,
    HandoverStatus,
)
from jusou import versions
from jusou.access.decision import AccessDecision
from jusou.audit.readlog import read_log
from jusou.audit.selectors import may_audit
from jusou.forms import apply_service_errors
from jusou.ja.wareki import local_text
from jusou.models import ReadLog, Role, User
from jusou.pdf import pdf_response
from jusou.registry import case_panels
from jusou.staff.selectors import person_accounts
from jusou.views import log_list, post_action

CASE_PAGE_SIZE = 50
NEW_PERSON_FIELDS = (
    "name",
    "kana",
    "birth_date",
    "birth_date_precision",
    "sex",
    "address",
    "phone",
    "atena_number",
    "attributes",
)
CONSULTATION_FIELDS = (
    "received_at",
    "channel",
    "route",
    "first_noticed_by",
    "consulter_name",
    "issues",
    "main_issue",
    "urgency",
    "summary",
    "action_taken",
    "outcome",
    "referred_to",
)


def _require_staff(request):
    if not (request.user.roles & {Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR}):
        raise PermissionDenied("この画面を使う権限がありません。")


def _require_writer(request):
    if not (request.user.roles & {Role.WORKER, Role.COORDINATOR}):
        raise PermissionDenied("管理者は閲覧のみできます。")


# --- Intake -------------------------------------------------------------------------------------


def intake(request):
    """相談受付 with the household: the 本人 and every member the call concerns on one page, saved in
    one transaction (cases.services.intake_record). 「世帯員の欄を増やす」 works without JavaScript:
    it shows the page again with one more row and everything typed."""
    _require_writer(request)
    form = IntakeForm(request.POST or None)
    members = IntakeMemberFormSet(_with_member_management(request.POST), prefix="members")
    duplicates = {}
    if request.method == "POST" and "add_member" in request.POST:
        members = _members_with_extra_row(request.POST)
        form.is_valid()  # show what is typed, and what is wrong with it so far
        form.errors.clear()
    elif request.method == "POST" and form.is_valid() & members.is_valid():
        consultation = _intake_submit(request, form, members, duplicates)
        if consultation is not None:
            if consultation.case_id:
                messages.success(
                    request, f"相談を記録し、支援ケース {consultation.case.number} を開きました。"
                )
                return redirect(consultation.case)
            messages.success(request, "相談を記録しました。")
            return redirect("cases:intake")
    choice = form.data.get("person_choice", "") if form.is_bound else ""
    picked = {"": choice} | {
        str(i): m.data.get(f"{m.prefix}-person", "") for i, m in enumerate(members.forms) if m.is_bound
    }
    ids = [int(v) for v in picked.values() if str(v).isdigit()]
    found = {p.pk: p for p in selectors.persons_visible_to(request.user).filter(pk__in=ids)} if ids else {}
    for i, member_form in enumerate(members.forms):
        value = picked.get(str(i), "")
        member_form.picked = found.get(int(value)) if str(value).isdigit() else None
        member_form.duplicates = duplicates.get(f"members.{i}")
    return render(
        request,
        "cases/intake.html",
        {
            "form": form,
            "members": members,
            "duplicates": duplicates.get(""),
            "selected_person": found.get(int(choice)) if choice.isdigit() else None,
        },
    )


def _with_member_management(data):
    """The posted page, or None. A post without the member rows' management form (an older page, a
    script) has no members rather than being refused."""
    if not data:
        return None
    if "members-TOTAL_FORMS" not in data:
        data = data.copy()
        data.update({"members-TOTAL_FORMS": "0", "members-INITIAL_FORMS": "0"})
    return data


def _members_with_extra_row(data):
    data = data.copy()
    total = data.get("members-TOTAL_FORMS", "1")
    data["members-TOTAL_FORMS"] = str(min(int(total) + 1 if total.isdigit() else 2, 20))
    members = IntakeMemberFormSet(data, prefix="members")
    members.is_valid()
    for member_form in members.forms:
        member_form.errors.clear()
    return members


def _intake_submit(request, form, members, duplicates):
    """Call the service with what the page sent; on a refusal put each error on its field (a member's
    on their row) and return None, keeping everything typed."""
    data = form.cleaned_data
    choice = data["person_choice"]
    person, new_person = None, None
    rows = [m for m in members.forms if m.has_changed()]
    try:
        if choice == IntakeForm.PERSON_NEW:
            new_person = {k: data[k] for k in NEW_PERSON_FIELDS}
            new_person |= {k: data[k] for k in LIVING_SITUATION_FIELDS}
        elif choice != IntakeForm.PERSON_ANONYMOUS:
            person = selectors.person_to_link(request.user, int(choice))
        household_members = []
        for member_form in rows:
            household_members.append(_intake_member(request.user, member_form))
        return services.intake_record(
            acting_user=request.user,
            person=person,
            new_person=new_person,
            duplicate_confirmed=data["duplicate_confirmed"],
            household_name=data["household_name"],
            relationship=data["relationship"],
            members=household_members,
            subject_lives_together=data["subject_lives_together"],
            subject_is_main_carer=data["subject_is_main_carer"],
            subject_own_issues=data["subject_own_issues"],
            risks={k: data[k] for k in services.RISK_FLAGS},
            **{k: data[k] for k in CONSULTATION_FIELDS},
        )
    except _MemberNotFound as missing:
        missing.form.add_error(None, "選んだ世帯員が見つかりません。もう一度検索して選んでください。")
    except Http404:
        form.add_error(None, "選んだ本人が見つかりません。もう一度検索して選んでください。")
    except services.DuplicateSuspected as suspected:
        duplicates.update(suspected.checks)
        form.add_error(None, suspected.messages)
        form.data = form.data.copy()
        form.data["duplicate_confirmed"] = "true"
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            apply_service_errors(form, error)
            return None
        own = {}
        for field, errors in error.error_dict.items():
            if field.startswith("members."):
                _, index, *rest = field.split(".")
                member_form = rows[int(index)]
                name = rest[0] if rest else None
                member_form.add_error(name if name in member_form.fields else None, errors)
            else:  # the form's new-person fields are flat: new_person.name → name
                own[field.removeprefix("new_person.")] = errors
        if own:
            apply_service_errors(form, ValidationError(own))
        if any(m.errors for m in rows) and not form.errors:
            form.add_error(None, "世帯員の欄に誤りがあります。該当する欄を確認してください。")
    return None


class _MemberNotFound(Exception):
    def __init__(self, form):
        self.form = form


def _intake_member(user, member_form) -> services.IntakeMember:
    data = member_form.cleaned_data
    person, new_person = None, None
    if data["person"]:
        try:
            person = selectors.person_to_link(user, int(data["person"]))
        except Http404:
            raise _MemberNotFound(member_form) from None
    else:
        new_person = {k: data[k] for k in ("name", "kana", "birth_date", "sex")}
    return services.IntakeMember(
        relationship=data["relationship"].strip(),
        person=person,
        new_person=new_person,
        lives_together=data["lives_together"],
        is_main_carer=data["is_main_carer"],
        own_issues=data["own_issues"],
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


@require_GET
def pick(request):
    """The pickers' search (static/js/picker.js): cases by ケース番号 or the 本人's name/ふりがな, or people
    by name/ふりがな or 登録番号 — only what the user may see, as list rows. Logged as a search."""
    _require_staff(request)
    kind = request.GET.get("kind", "")
    query = request.GET.get("q", "").strip()[:100]
    if kind not in ("case", "person"):
        raise Http404("検索の種類が正しくありません。")
    rows = []
    if query:
        rows = (
            selectors.case_pick(request.user, query)
            if kind == "case"
            else selectors.person_pick(request.user, query)
        )
        what = "ケース" if kind == "case" else "本人"
        read_log(
            user=request.user, action=ReadLog.Action.SEARCH, detail=f"{what}の選択: {query}（{len(rows)}件）"
        )
    return render(request, "cases/_pick_results.html", {"kind": kind, "query": query, "rows": rows})


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
        log_list(
            request,
            model=Case,
            rows=page.object_list,
            what=f"ケース検索（{filters.describe()}）: {filters.q}",
            action=ReadLog.Action.SEARCH,
        )
    else:
        log_list(request, model=Case, rows=page.object_list, what=f"ケース一覧（{filters.describe()}）")
    workers = (
        person_accounts(
            User.objects.filter(
                memberships__agency__in=request.user.agencies,
                memberships__ended_on__isnull=True,
                is_active=True,
            )
        )
        .distinct()
        .order_by("last_name", "first_name")
    )
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
            "can_audit": may_audit(request.user),
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


# The case's paper forms (FORMS.md 【1】–【3】): form → (name, template, context builder, the part of the
# record it is about, which the reader's decision must open — else 403 like the section's page).
CASE_DOCUMENTS = {
    "intake": ("相談受付・申込票", "pdf/intake.html", documents.intake_form, None),
    "assessment": (
        "インテーク・アセスメントシート",
        "pdf/assessment.html",
        documents.assessment_sheet,
        "issues",
    ),
    "progress": ("支援経過記録シート", "pdf/progress.html", documents.progress_sheet, "progress"),
}


@require_GET
def case_document(request, pk, form):
    """A case's form as a PDF, rendered through the reader's decision and logged as 印刷 (jusou.pdf)."""
    _require_staff(request)
    if form not in CASE_DOCUMENTS:
        raise Http404("書式が見つかりません。")
    name, template, build, section = CASE_DOCUMENTS[form]
    case = selectors.case_get_for_user(request.user, pk)
    if section is not None:
        selectors.require_case_section(request.user, case, section)
    context = build(request.user, case)
    shown = "住所秘匿: 所在情報を表示" if context.get("location_shown") else ""
    return pdf_response(
        request,
        template,
        context,
        obj=case,
        form_name=name,
        case_number=case.number,
        filename=f"{name}_{case.number}.pdf",
        detail=shown,
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
        record=case,
        title="ケースの状態の変更",
    )


@require_POST
def case_handover(request, pk):
    """Hand a case over to the next lead agency (again, after a decline, or a 支援中 case of one's own)."""
    case = selectors.case_get_for_user(request.user, pk, for_change=True)
    return post_action(
        request,
        HandoverStartForm(request.POST, case=case),
        lambda data: services.case_handover_start(case=case, acting_user=request.user, **data),
        lambda data: f"{data['to_agency']}へ引き継ぎました（受入れ待ち）。",
        case,
    )


@require_POST
def handover_accept(request, pk):
    handover = selectors.handover_get_for_user(request.user, pk)
    return post_action(
        request,
        HandoverAcceptForm(request.POST, handover=handover),
        lambda data: services.case_handover_accept(
            handover=handover, acting_user=request.user, lead_worker=data["lead_worker"]
        ),
        "引継ぎを受け入れました。このケースの主担当機関になりました。",
        handover.case,
    )


@require_POST
def handover_decline(request, pk):
    handover = selectors.handover_get_for_user(request.user, pk)
    then = handover.case
    form = HandoverDeclineForm(request.POST)
    response = post_action(
        request,
        form,
        lambda data: services.case_handover_decline(handover=handover, acting_user=request.user, **data),
        "引継ぎを辞退しました。ケースは引継ぎ元に戻りました。",
        then,
    )
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
        record=case,
        title="ケース情報の更新",
    )


def assessment_new(request, pk):
    case = selectors.case_get_for_user(request.user, pk, for_change=True)
    latest = selectors.case_latest_assessment(case)
    initial = {}
    if latest is not None:
        read_log(
            user=request.user,
            action=ReadLog.Action.VIEW,
            obj=case,
            detail=f"アセスメント 第{latest.version}版（新しい版の入力画面）",
        )
        initial = {
            f: getattr(latest, f) for f in AssessmentForm.base_fields if f not in ("issues", "based_on")
        }
        initial["issues"] = [i.pk for i in latest.issues.all()]
    initial["based_on"] = latest.version if latest is not None else 0
    form = AssessmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.assessment_record(case=case, acting_user=request.user, **form.cleaned_data)
        except versions.StaleEdit as stale:
            return _assessment_stale(request, case, form, stale)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"アセスメント 第{assessment.version}版を記録しました。")
            return redirect(case)
    return render(request, "cases/assessment_form.html", {"case": case, "form": form, "latest": latest})


def _assessment_stale(request, case, form, stale):
    """The page again after a 版 was written since this one was filled: what the user typed, and how
    the latest 版 differs from the one the page started from."""
    based_on = form.cleaned_data["based_on"]
    older = case.assessments.filter(version=based_on).first()
    latest = selectors.case_latest_assessment(case)
    read_log(
        user=request.user,
        action=ReadLog.Action.VIEW,
        obj=case,
        detail=f"アセスメント 第{latest.version}版（先に記録された版との違い）",
    )
    fields = [f for f in form.fields if f != "based_on"]
    changes = versions.differences(
        type(latest), older, latest, fields, who=versions.who(latest.author), when=latest.created_at
    )
    return versions.refuse(
        request,
        form,
        "cases/assessment_form.html",
        {"case": case, "latest": latest},
        changes=changes,
        current_version=latest.version,
        version_field="based_on",
        message=stale.messages[0],
    )


@require_POST
def note_add(request, pk):
    case = selectors.case_get_for_user(request.user, pk, for_change=True)
    return post_action(
        request,
        ProgressNoteForm(request.POST),
        lambda data: services.progress_note_add(case=case, acting_user=request.user, **data),
        "経過記録を追加しました。",
        case,
        title="経過記録の追加",
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
    initial["version"] = versions.version_of(person)
    form = PersonForm(request.POST or None, initial=initial, person=person)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        expected = data.pop("version")
        try:
            services.person_update(person=person, acting_user=request.user, expected_version=expected, **data)
        except versions.StaleEdit:
            return versions.refuse(
                request,
                form,
                "cases/person_form.html",
                {"person": person},
                changes=versions.changes_since(person, expected, form.fields),
                current_version=versions.version_of(person),
            )
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
        acting_user=request.user,
        household=household,
        person=person,
        relationship=data["relationship"],
        lives_together=data["lives_together"],
        is_main_carer=data["is_main_carer"],
        is_key_person=data["is_key_person"],
        own_issues=data["own_issues"],
    )
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
        return post_action(
            request,
            EmergencyReviewForm(request.POST),
            lambda data: services.emergency_access_review(record=record, acting_user=request.user, **data),
            "確認を記録しました。",
            "cases:emergency_review",
        )
    page = Paginator(selectors.emergency_accesses_for_review(), CASE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    read_log(
        user=request.user,
        action=ReadLog.Action.VIEW,
        model=EmergencyAccess,
        decision=AccessDecision.supervisor(),
        detail=f"緊急閲覧の確認 {len(page.object_list)}件",
    )
    return render(
        request,
        "cases/emergency_review.html",
        {"records": page.object_list, "page": page, "form": EmergencyReviewForm()},
    )
