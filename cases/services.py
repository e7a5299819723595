"""Every write in 包括的相談支援: registering people and households, recording consultations,
opening cases and moving them through their state machine, assessments and progress notes.

Services are keyword-only, atomic, check the acting user's right to write, and name the actor (and
the reason, for transitions and corrections) in the history.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import CharField, Exists, F, Max, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone

from cases.models import (
    ALLOWED_TRANSITIONS,
    HANDOVER_CLOSE_REASON,
    LIVING_SITUATION_FIELDS,
    MULTI_AGENCY_STATUSES,
    OPEN_STATUSES,
    AddressConfidentiality,
    Assessment,
    Case,
    CaseHandover,
    CaseStatus,
    CaseTransition,
    Code,
    CodeKind,
    Consultation,
    ConsultationOutcome,
    HandoverStatus,
    Household,
    HouseholdMember,
    NoteKind,
    Person,
    ProgressNote,
)
from cases.policy import confidential_ids, location_allowed_ids
from cases.selectors import (
    case_can_change,
    coordinators,
    household_can_change,
    person_can_change,
    person_duplicates,
)
from jusou import services as core_services
from jusou import versions
from jusou.access import grants as access
from jusou.ja.wareki import to_wareki
from jusou.models import AccessBasis, AccessGrant, Agency, Notification, Role, StaffMembership, User
from jusou.notifications import services as notifications_services
from jusou.registry import check_transition_guards
from jusou.services import save_with_history as _save
from jusou.staff.selectors import active_supervisors


class CaseError(ValidationError):
    """A refused action on a case, with a message for the user."""


class InvalidTransition(CaseError, core_services.InvalidTransition):
    pass


class ConcurrentEdit(CaseError, core_services.EditConflict):
    def __init__(self):
        super().__init__(
            "他の職員が先にこのケースを更新しました。画面を読み込み直してから、もう一度操作してください。"
        )


def _staff_agency(user: User, agency: Agency | None) -> Agency:
    """The agency the user acts for: the one given (if they work there) or their only one."""
    agencies = user.agencies
    if agency is not None:
        if agency not in agencies:
            raise PermissionDenied("所属していない機関として記録することはできません。")
        return agency
    if not agencies:
        raise PermissionDenied("所属機関がないため記録できません。")
    return agencies[0]


# --- People and households ----------------------------------------------------------------------


@transaction.atomic
def person_register(
    *,
    acting_user: User,
    name: str,
    kana: str = "",
    birth_date: date | None = None,
    birth_date_precision: str = "exact",
    sex: str = "unknown",
    address: str = "",
    phone: str = "",
    email: str = "",
    atena_number: str | None = None,
    attributes=(),
    notes: str = "",
    agency: Agency | None = None,
    **living_situation,
) -> Person:
    """Register a person. Invariants: a 宛名番号 is unique; a birth date is plausible (from 1900,
    not in the future: the field's validator, jusou.plausible). `living_situation`: the 申込票 B票's
    structured fields (LIVING_SITUATION_FIELDS), each a choice of its list."""
    unknown = set(living_situation) - set(LIVING_SITUATION_FIELDS)
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    person = Person(
        name=name.strip(),
        kana=kana.strip(),
        birth_date=birth_date,
        birth_date_precision=birth_date_precision if birth_date else "unknown",
        sex=sex,
        address=address,
        phone=phone,
        email=email,
        atena_number=(atena_number or "").strip() or None,
        notes=notes,
        registered_by_agency=_staff_agency(acting_user, agency),
        **{name: value for name, value in living_situation.items() if value is not None},
    )
    _save(person, acting_user=acting_user)
    person.attributes.set(attributes)
    return person


@transaction.atomic
def household_register(
    *, acting_user: User, name: str, address: str = "", agency: Agency | None = None
) -> Household:
    household = Household(
        name=name.strip(), address=address, registered_by_agency=_staff_agency(acting_user, agency)
    )
    return _save(household, acting_user=acting_user)


@transaction.atomic
def household_member_add(
    *,
    acting_user: User,
    household: Household,
    person: Person,
    relationship: str,
    lives_together: bool = True,
    is_main_carer: bool = False,
    is_key_person: bool = False,
    own_issues: str = "",
    joined_on: date | None = None,
) -> HouseholdMember:
    """Add a person to a household. A person belongs to one current household: a move first ends the
    old membership (household_member_leave), so who lived with whom stays in the record."""
    if not household_can_change(acting_user, household):
        raise PermissionDenied("この世帯を更新する権限がありません。")
    member = HouseholdMember(
        household=household,
        person=person,
        relationship=relationship,
        lives_together=lives_together,
        is_main_carer=is_main_carer,
        is_key_person=is_key_person,
        own_issues=own_issues,
        joined_on=joined_on or timezone.localdate(),
    )
    return _save(member, acting_user=acting_user)


# --- Consultations ------------------------------------------------------------------------------


@transaction.atomic
def consultation_problems(
    *, received_at, issues, main_issue, outcome, referred_to, has_person: bool, birth_date: date | None
) -> dict[str, list[ValidationError]]:
    """What consultation_record refuses, by field (each error keeps its code, e.g. date_too_early),
    without writing anything: the intake checks it beside a new person's own errors."""
    errors: dict[str, list[ValidationError]] = {}
    try:  # the field's own rule (jusou.plausible), reported with the others
        Consultation._meta.get_field("received_at").run_validators(received_at)
    except ValidationError as error:
        errors["received_at"] = error.error_list
    if "received_at" in errors:
        pass  # an implausible date says so first
    elif birth_date and birth_date > timezone.localtime(received_at).date():
        errors["received_at"] = [
            ValidationError("受付日時が本人の生年月日より前になっています。", code="before_birth_date")
        ]
    if main_issue not in issues:
        errors["main_issue"] = [ValidationError("主な課題は、選んだ課題分類の中から選んでください。")]
    if outcome in (ConsultationOutcome.CASE, ConsultationOutcome.MULTI_AGENCY) and not has_person:
        errors["outcome"] = [
            ValidationError(
                "ケース化するには本人を選ぶか登録してください（匿名の相談はケース化できません）。"
            )
        ]
    if outcome == ConsultationOutcome.REFERRED_ELSEWHERE and referred_to is None:
        errors["referred_to"] = [ValidationError("つなぎ先機関を選んでください。")]
    return errors


def consultation_record(
    *,
    acting_user: User,
    received_at: datetime,
    channel: Code,
    route: Code,
    issues: list[Code],
    main_issue: Code,
    summary: str,
    outcome: str,
    person: Person | None = None,
    household: Household | None = None,
    first_noticed_by: Code | None = None,
    consulter_name: str = "",
    urgency: str = "normal",
    action_taken: str = "",
    referred_to: Agency | None = None,
    agency: Agency | None = None,
    risks: dict[str, bool] | None = None,
) -> Consultation:
    """Record a consultation (断らない相談: anonymous and one-off calls too).

    `risks` ({"risk_abuse": True …}, RISK_FLAGS) are the case's flags as set at intake; the issues
    虐待 and 自殺リスク set theirs anyway.

    With outcome ケース化 or 多機関協働へ a case is opened for the person at once; the referral to
    多機関協働 itself follows an assessment (case_refer). Refused: an implausible 受付日時 (jusou.plausible:
    before RECORDS_START_DATE or in the future), a birth date after
    the consultation, a main issue not among the issues, a case without a person.
    """
    risks = risks or {}
    errors = consultation_problems(
        received_at=received_at,
        issues=issues,
        main_issue=main_issue,
        outcome=outcome,
        referred_to=referred_to,
        has_person=person is not None,
        birth_date=person.birth_date if person else None,
    )
    if errors:
        raise ValidationError(errors)
    consultation = Consultation(
        agency=_staff_agency(acting_user, agency),
        received_at=received_at,
        recorded_by=acting_user,
        channel=channel,
        route=route,
        first_noticed_by=first_noticed_by,
        consulter_name=consulter_name,
        person=person,
        household=household,
        main_issue=main_issue,
        urgency=urgency,
        summary=summary,
        action_taken=action_taken,
        outcome=outcome,
        referred_to=referred_to if outcome == ConsultationOutcome.REFERRED_ELSEWHERE else None,
    )
    _save(consultation, acting_user=acting_user)
    consultation.issues.set(issues)
    if outcome in (ConsultationOutcome.CASE, ConsultationOutcome.MULTI_AGENCY):
        case = case_open(
            acting_user=acting_user,
            person=person,
            household=household,
            issues=issues,
            agency=consultation.agency,
            risk_abuse=bool(risks.get("risk_abuse")) or any(i.code == "abuse" for i in issues),
            risk_suicide=bool(risks.get("risk_suicide")) or any(i.code == "suicide_risk" for i in issues),
            risk_life=bool(risks.get("risk_life")),
        )
        consultation.case = case
        _save(consultation, acting_user=acting_user, update_fields=["case"])
    return consultation


# --- Cases --------------------------------------------------------------------------------------


@transaction.atomic
def case_open(
    *,
    acting_user: User,
    person: Person,
    household: Household | None = None,
    issues=(),
    agency: Agency | None = None,
    lead_worker: User | None = None,
    risk_abuse: bool = False,
    risk_suicide: bool = False,
    risk_life: bool = False,
) -> Case:
    """Open a case owned by the acting user's agency. Grants (basis 担当): the owning agency's staff
    may read and write it; the lead worker (the opener unless named, one of the agency's staff) is
    recorded personally too, as staff of that agency: the grant ends when they leave it."""
    owning_agency = _staff_agency(acting_user, agency)
    if lead_worker is None and not acting_user.is_machine:
        lead_worker = acting_user
    # A case pushed by an API client (福祉総合システム) has no 主担当者 until the agency names one:
    # a machine is never one.
    if lead_worker is not None:
        _require_lead_worker(lead_worker, owning_agency)
    case = Case(
        person=person,
        household=household,
        owning_agency=owning_agency,
        lead_worker=lead_worker,
        risk_abuse=risk_abuse,
        risk_suicide=risk_suicide,
        risk_life=risk_life,
    )
    _save(case, acting_user=acting_user, reason="ケース開始")
    case.issues.set(issues)
    access.access_grant(
        obj=case,
        agency=owning_agency,
        basis=AccessBasis.ASSIGNMENT,
        permissions=("view", "change"),
        acting_user=acting_user,
        reason="主担当機関",
    )
    if lead_worker is not None:
        access.access_grant(
            obj=case,
            user=lead_worker,
            on_behalf_of=owning_agency,
            basis=AccessBasis.ASSIGNMENT,
            permissions=("view", "change"),
            acting_user=acting_user,
            reason="主担当者",
        )
    return case


LEAD_ROLES = (Role.WORKER, Role.COORDINATOR)


def _require_lead_worker(user: User, agency: Agency) -> None:
    """A 主担当者 is a person working at the owning agency as 相談員 or 推進員 (never an API client's
    service account, which also holds a membership there)."""
    at_agency = [m for m in user.active_memberships if m.agency_id == agency.pk and m.role in LEAD_ROLES]
    if user.is_machine or not at_agency:
        raise ValidationError({"lead_worker": "主担当者は主担当機関の職員から選んでください。"})


def _require_change(case: Case, user: User) -> None:
    if not case_can_change(user, case):
        raise PermissionDenied("このケースを更新する権限がありません。")


def _claim(case: Case, expected_version: int | None) -> Case:
    """Lock the case and claim its next version: of two concurrent writers exactly one gets it.
    (On SQLite the transaction already holds the database's write lock: settings.DATABASES makes
    every transaction immediate, so writers queue instead of failing here; one that waits too long
    answers 503, jusou.busy.)"""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEdit()
    claimed = Case.objects.filter(pk=locked.pk, version=locked.version).update(version=F("version") + 1)
    if not claimed:
        raise ConcurrentEdit()
    locked.version += 1
    return locked


@transaction.atomic
def case_transition(
    *,
    case: Case,
    to_status: str,
    acting_user: User,
    reason: str = "",
    close_reason: Code | None = None,
    suspend_reason: Code | None = None,
    expected_version: int | None = None,
    next_lead_agency: Agency | None = None,
) -> Case:
    """Move a case along ALLOWED_TRANSITIONS, checking the move's preconditions; record who, when,
    from what, to what and why (CaseTransition and history). Two concurrent moves: one wins. A 終結
    with 「主担当機関へ移行」 names the next lead agency and hands the case over to it
    (case_handover_start), in the same transaction."""
    _require_change(case, acting_user)
    case = _claim(case, expected_version)
    from_status = case.status
    if to_status not in ALLOWED_TRANSITIONS[from_status]:
        # Also what the loser of two concurrent moves hears once the winner's commit releases the lock.
        raise InvalidTransition(
            f"「{CaseStatus(from_status).label}」のケースを「{CaseStatus(to_status).label}」にすることはできません。"
        )
    has_assessment = case.assessments.exists()
    if to_status == CaseStatus.SUPPORTING and from_status == CaseStatus.ASSESSING and not has_assessment:
        raise CaseError("支援を開始する前にアセスメントを記録してください。")
    if to_status == CaseStatus.REFERRED:
        if not has_assessment:
            raise CaseError("多機関協働へつなぐ前にアセスメントを記録してください。")
        if not reason.strip():
            raise CaseError("多機関協働へつなぐ理由（複雑化・複合化している点）を入力してください。")
    if from_status in MULTI_AGENCY_STATUSES:
        if not acting_user.has_role(Role.COORDINATOR):
            raise CaseError("多機関協働中のケースを動かすことができるのは相談支援包括化推進員です。")
        if to_status == CaseStatus.SUPPORTING and not reason.strip():
            raise CaseError("主担当機関へ戻す理由を入力してください。")
    if from_status == CaseStatus.SUSPENDED and not reason.strip():
        raise CaseError("支援を再開する理由を入力してください。")
    if to_status == CaseStatus.CLOSED:
        if close_reason is None or close_reason.kind != CodeKind.CLOSE_REASON:
            raise CaseError("終結理由を選んでください。")
        if close_reason.code == HANDOVER_CLOSE_REASON and next_lead_agency is None:
            raise CaseError(
                {
                    "next_lead_agency": "「主担当機関へ移行」で終結するときは、引継ぎ先の主担当機関を選んでください。"
                }
            )
        if close_reason.code == HANDOVER_CLOSE_REASON and next_lead_agency.pk == case.owning_agency_id:
            raise CaseError({"next_lead_agency": "引継ぎ先は今の主担当機関とは別の機関を選んでください。"})
        case.close_reason = close_reason
    if to_status == CaseStatus.SUSPENDED:
        if suspend_reason is None or suspend_reason.kind != CodeKind.SUSPEND_REASON:
            raise CaseError("中断理由を選んでください。")
        case.suspend_reason = suspend_reason
    returning = from_status in MULTI_AGENCY_STATUSES and to_status == CaseStatus.SUPPORTING
    if next_lead_agency is not None and to_status != CaseStatus.CLOSED and not returning:
        raise CaseError(
            {"next_lead_agency": "引継ぎ先の主担当機関を選べるのは、終結と、包括的相談支援へ戻すときです。"}
        )
    check_transition_guards(case, from_status, to_status, acting_user)
    if to_status in (CaseStatus.CLOSED, CaseStatus.SUSPENDED):
        case.closed_at = timezone.now()
    elif from_status == CaseStatus.SUSPENDED:
        case.closed_at = None
        case.suspend_reason = None

    case.status = to_status
    label = f"{CaseStatus(from_status).label}→{CaseStatus(to_status).label}"
    _save(case, acting_user=acting_user, reason=f"{label}: {reason}".strip(": "))
    CaseTransition.objects.create(
        case=case, from_status=from_status, to_status=to_status, actor=acting_user, reason=reason
    )
    if to_status == CaseStatus.REFERRED:
        _referral_open(case, acting_user=acting_user, reason=reason)
    if from_status in MULTI_AGENCY_STATUSES and to_status == CaseStatus.SUPPORTING:
        access.access_revoke_for(
            obj=case,
            acting_user=acting_user,
            reason="主担当機関へ戻した",
            basis=AccessBasis.ASSIGNMENT,
            user__in=coordinators(),
        )
    if next_lead_agency is not None and next_lead_agency.pk != case.owning_agency_id:
        case_handover_start(
            case=case, to_agency=next_lead_agency, acting_user=acting_user, reason=reason, _checked=True
        )
    return case


def _referral_open(case: Case, *, acting_user: User, reason: str) -> None:
    """多機関協働へのつなぎ: the coordinators take the case up (basis 担当), each as staff of the agency
    where they are 相談支援包括化推進員 (the grant ends when they leave it), and are notified."""
    for coordinator in coordinators():
        access.access_grant(
            obj=case,
            user=coordinator,
            on_behalf_of=coordinator.agency_in_role(Role.COORDINATOR),
            basis=AccessBasis.ASSIGNMENT,
            permissions=("view", "change"),
            acting_user=acting_user,
            reason=f"多機関協働へのつなぎ: {reason}"[:500],
        )
        notifications_services.notification_send(
            recipient=coordinator,
            kind="referral",
            title=f"多機関協働へのつなぎ依頼（{case.number}、{case.owning_agency}）",
            link=case.get_absolute_url(),
        )


@transaction.atomic
def case_update(
    *,
    case: Case,
    acting_user: User,
    expected_version: int,
    risk_abuse: bool,
    risk_suicide: bool,
    risk_life: bool,
    next_follow_up_on: date | None,
    issues,
    lead_worker: User | None = None,
) -> Case:
    """Change a case's flags, issues, follow-up date or lead worker, refusing a stale edit."""
    _require_change(case, acting_user)
    case = _claim(case, expected_version)
    case.risk_abuse, case.risk_suicide, case.risk_life = risk_abuse, risk_suicide, risk_life
    case.next_follow_up_on = next_follow_up_on
    if lead_worker is not None and lead_worker != case.lead_worker:
        _require_lead_worker(lead_worker, case.owning_agency)
        if case.lead_worker is not None:
            access.access_revoke_for(
                obj=case, acting_user=acting_user, reason="主担当者の変更", user=case.lead_worker
            )
        access.access_grant(
            obj=case,
            user=lead_worker,
            on_behalf_of=case.owning_agency,
            basis=AccessBasis.ASSIGNMENT,
            permissions=("view", "change"),
            acting_user=acting_user,
            reason="主担当者",
        )
        case.lead_worker = lead_worker
    _save(case, acting_user=acting_user, reason="ケース情報の更新")
    case.issues.set(issues)
    return case


@transaction.atomic
def assessment_record(
    *, case: Case, acting_user: User, issues, based_on: int | None = None, **fields
) -> Assessment:
    """Write a new version of the assessment; earlier versions stay. The first one moves a 受付
    case to アセスメント中. `based_on`: the 版 the writer's page started from (0: none); when someone
    else has written a later one since, the new 版 is refused rather than silently written over it."""
    _require_change(case, acting_user)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not case.is_open or (
        case.status == CaseStatus.REFERRED and not acting_user.has_role(Role.COORDINATOR)
    ):
        raise CaseError(f"「{case.get_status_display()}」のケースにはアセスメントを記録できません。")
    latest = case.assessments.aggregate(v=Max("version"))["v"] or 0
    if based_on is not None and based_on != latest:
        raise versions.StaleEdit(
            f"ほかの人が先に第{latest}版を記録しました。あなたの入力はそのまま残してあります。"
            f"下に示す第{latest}版の内容を確かめてから、必要なら入力を直して、もう一度記録してください"
            f"（第{latest + 1}版になります）。"
        )
    assessment = Assessment(case=case, version=latest + 1, author=acting_user, **fields)
    _save(assessment, acting_user=acting_user, reason=f"アセスメント第{latest + 1}版")
    assessment.issues.set(issues)
    if case.status == CaseStatus.RECEIVED:
        case_transition(
            case=case, to_status=CaseStatus.ASSESSING, acting_user=acting_user, reason="アセスメント記録"
        )
    return assessment


@transaction.atomic
def progress_note_add(
    *, case: Case, acting_user: User, kind: str, content: str, occurred_at: datetime | None = None
) -> ProgressNote:
    _require_change(case, acting_user)
    occurred_at = occurred_at or timezone.now()
    if kind not in NoteKind.values:
        raise ValidationError({"kind": "種別を選んでください。"})
    note = ProgressNote(case=case, kind=kind, content=content, occurred_at=occurred_at, author=acting_user)
    return _save(note, acting_user=acting_user)


@transaction.atomic
def progress_note_correct(
    *, note: ProgressNote, acting_user: User, content: str, reason: str
) -> ProgressNote:
    """Correct a note. The reason is required and the earlier text stays in the history."""
    _require_change(note.case, acting_user)
    if not reason.strip():
        raise ValidationError({"reason": "訂正の理由を入力してください。"})
    note = ProgressNote.objects.select_for_update().get(pk=note.pk)
    note.content = content
    return _save(note, acting_user=acting_user, reason=f"訂正: {reason}", update_fields=["content"])


def duplicate_hidden_match_report(*, acting_user: User, matches: list[Person]) -> None:
    """A person being registered seems to be known where the user cannot see. Tell the coordinators
    (naming both sides, so they can connect them); tell the user nothing more."""
    today = timezone.localdate().isoformat()
    for person in matches:
        for coordinator in coordinators():
            notifications_services.notification_send(
                recipient=coordinator,
                kind="duplicate",
                title="重複の可能性がある相談があります",
                body=(
                    f"{acting_user.get_full_name()}（{', '.join(a.name for a in acting_user.agencies)}）が登録しようとした方が、"
                    f"{person.registered_by_agency} で把握されている本人（登録番号 P-{person.pk:06d}）と一致する可能性があります。"
                ),
                dedupe_key=f"duplicate:{acting_user.pk}:{person.pk}:{today}",
            )


class DuplicateSuspected(ValidationError):
    """A person being registered may already be known; nothing was saved. `check` is the 本人's
    (or the first one found), `checks` every one by whom it is about: "" the 本人, "members.0" … a
    household member's row."""

    def __init__(self, check, checks: dict | None = None):
        self.check = check
        self.checks = checks if checks is not None else {"": check}
        messages = []
        if any(c.visible for c in self.checks.values()):
            messages.append(
                "同じ方がすでに登録されている可能性があります。下の候補から選ぶか、別人であることを確認して登録してください。"
            )
        if any(c.known_elsewhere for c in self.checks.values()):
            messages.append(
                "他の機関で把握されている可能性があります。相談支援包括化推進員に確認してください。"
            )
        super().__init__(messages)


@dataclass
class IntakeMember:
    """One household member on the intake page: a person the user may see (`person`, found by search)
    or a new one (`new_person`, person_register's fields), and their place in the household."""

    relationship: str
    person: Person | None = None
    new_person: dict | None = None
    lives_together: bool = True
    is_main_carer: bool = False
    own_issues: str = ""


RISK_FLAGS = ("risk_abuse", "risk_suicide", "risk_life")


def intake_record(
    *,
    acting_user: User,
    person: Person | None,
    new_person: dict | None,
    duplicate_confirmed: bool,
    household_name: str = "",
    relationship: str = "本人",
    members: list[IntakeMember] = (),
    subject_lives_together: bool = True,
    subject_is_main_carer: bool = False,
    subject_own_issues: str = "",
    risks: dict[str, bool] | None = None,
    **consultation,
) -> Consultation:
    """The intake page in one transaction: the person (picked, new or anonymous), every household
    member the consultation concerns (picked or new, each with 続柄・同居・主介護者・own issues), their
    household, the consultation, and — when it opens a case — the case with its risk flags. Any
    error anywhere creates nothing.

    A new person who may be known already is not registered until the user confirms; if the match is
    at an agency the user cannot see, only the coordinators learn which. The check is logged and
    limited per user by the selector (person_duplicates): beyond the limit it finds nobody to show, so
    the person is registered at once and only the coordinators hear of a match."""
    risky = [flag for flag in RISK_FLAGS if (risks or {}).get(flag)]
    if risky and consultation.get("outcome") not in (
        ConsultationOutcome.CASE,
        ConsultationOutcome.MULTI_AGENCY,
    ):
        raise ValidationError(
            {risky[0]: "リスクはケースに記録します。対応区分で「ケース化」を選んでください。"}
        )
    if members and person is None and new_person is None:
        raise ValidationError({"person": "世帯員を記録するには、本人を選ぶか新しく登録してください。"})
    if not duplicate_confirmed:
        targets = [("", new_person)] + [(f"members.{i}", m.new_person) for i, m in enumerate(members)]
        checks = {}
        for target, details in targets:
            if details is None:
                continue
            check = person_duplicates(
                acting_user,
                name=details["name"],
                kana=details.get("kana", ""),
                birth_date=details.get("birth_date"),
                atena_number=details.get("atena_number"),
            )
            if check.hidden:
                # Committed on its own: the coordinators hear of it even though nothing else is saved.
                duplicate_hidden_match_report(acting_user=acting_user, matches=check.hidden)
            if check.visible or check.known_elsewhere:
                checks[target] = check
        if checks:
            raise DuplicateSuspected(next(iter(checks.values())), checks)
    return _intake_save(
        acting_user=acting_user,
        person=person,
        new_person=new_person,
        household_name=household_name,
        relationship=relationship,
        members=list(members),
        risks=risks or {},
        subject={
            "lives_together": subject_lives_together,
            "is_main_carer": subject_is_main_carer,
            "own_issues": subject_own_issues,
        },
        **consultation,
    )


def _prefixed(error: ValidationError, prefix: str) -> dict[str, list[ValidationError]]:
    if hasattr(error, "error_dict"):
        return {f"{prefix}.{field}": errors for field, errors in error.error_dict.items()}
    return {prefix: error.error_list}


def _intake_household(acting_user, person, members, household_name) -> Household | None:
    """The household the intake records into: the 本人's current one, else the current one of a
    member picked by search, else a new one (named as typed, or after the 本人)."""
    if person is None:
        return None
    for someone in [person] + [m.person for m in members if m.person is not None]:
        current = someone.memberships.filter(left_on__isnull=True).select_related("household").first()
        if current is not None:
            return current.household
    if household_name.strip() or members:
        return household_register(
            acting_user=acting_user, name=household_name.strip() or f"{person.name}さん世帯"
        )
    return None


@transaction.atomic
def _intake_save(
    *, acting_user, person, new_person, household_name, relationship, members, risks, subject, **consultation
) -> Consultation:
    errors: dict[str, list[ValidationError]] = {}
    if new_person is not None:
        try:
            with transaction.atomic():
                person = person_register(acting_user=acting_user, **new_person)
        except ValidationError as refused:
            # Named as the API sends them (new_person.birth_date); the page puts them on its flat fields.
            errors.update(_prefixed(refused, "new_person"))
            person = None
    for i, member in enumerate(members):
        if member.new_person is not None:
            try:
                with transaction.atomic():
                    member.person = person_register(acting_user=acting_user, **member.new_person)
            except ValidationError as refused:
                errors.update(_prefixed(refused, f"members.{i}"))
    chosen = [m.person.pk for m in members if m.person is not None] + ([person.pk] if person else [])
    for i, member in enumerate(members):
        if member.person is not None and chosen.count(member.person.pk) > 1:
            errors.setdefault(f"members.{i}", []).append(
                ValidationError("同じ方が本人・世帯員として二度選ばれています。", code="duplicate_member")
            )
    if errors:
        # Every error at once: the consultation's own (受付日時 …) beside the people's; nothing is kept
        # (the atomic block rolls back the people registered before the error).
        birth_date = (
            None if new_person is None or "new_person.birth_date" in errors else new_person.get("birth_date")
        )
        errors.update(
            consultation_problems(
                received_at=consultation["received_at"],
                issues=consultation["issues"],
                main_issue=consultation["main_issue"],
                outcome=consultation["outcome"],
                referred_to=consultation.get("referred_to"),
                has_person=True,
                birth_date=birth_date,
            )
        )
        raise ValidationError(errors)
    household = _intake_household(acting_user, person, members, household_name)
    if household is not None:
        current = set(
            HouseholdMember.objects.filter(household=household, left_on__isnull=True).values_list(
                "person_id", flat=True
            )
        )
        rows = [(None, person, relationship or "本人", subject)] + [
            (
                i,
                m.person,
                m.relationship,
                {
                    "lives_together": m.lives_together,
                    "is_main_carer": m.is_main_carer,
                    "own_issues": m.own_issues,
                },
            )
            for i, m in enumerate(members)
        ]
        for i, someone, role, place in rows:
            if someone.pk in current:
                continue  # already a member: their place is edited on the household page
            target = "relationship" if i is None else f"members.{i}"
            if someone.memberships.filter(left_on__isnull=True).exists():
                errors.setdefault(target, []).append(
                    ValidationError(
                        "この方はすでに別の世帯に属しています。世帯の画面で転出を記録してから追加してください。",
                        code="in_other_household",
                    )
                )
                continue
            try:
                with transaction.atomic():
                    household_member_add(
                        acting_user=acting_user,
                        household=household,
                        person=someone,
                        relationship=role or "本人",
                        **place,
                    )
            except PermissionDenied as refused:
                errors.setdefault(target, []).append(ValidationError(str(refused), code="permission"))
            except ValidationError as refused:
                errors.update(_prefixed(refused, target))
        if errors:
            raise ValidationError(errors)
    return consultation_record(
        acting_user=acting_user, person=person, household=household, risks=risks, **consultation
    )


PERSON_EDITABLE = (
    "name",
    "kana",
    "birth_date",
    "birth_date_precision",
    "sex",
    "address",
    "phone",
    "email",
    "atena_number",
    "notes",
    *LIVING_SITUATION_FIELDS,
)


@transaction.atomic
def person_update(
    *,
    person: Person,
    acting_user: User,
    reason: str = "",
    attributes=None,
    expected_version: int | None = None,
    **fields,
) -> Person:
    """Correct or update a person's details; the previous values stay in the history. With
    `expected_version` (jusou.versions), a save from an older version is refused (StaleEdit)."""
    if not person_can_change(acting_user, person):
        raise PermissionDenied("この方の情報を更新する権限がありません。")
    person = Person.objects.select_for_update().get(pk=person.pk)
    versions.check(person, expected_version)
    location = set(fields) & set(Person.FIELD_POLICY["location"])
    if location and person.pk in confidential_ids([person.pk]):
        if person.pk not in location_allowed_ids(acting_user, [person.pk]):
            raise PermissionDenied("住所秘匿の方の所在情報は、本人のケースの担当者だけが変更できます。")
    for name, value in fields.items():
        if name not in PERSON_EDITABLE:
            raise ValueError(name)
        setattr(person, name, value)
    person.atena_number = (person.atena_number or "").strip() or None
    _save(person, acting_user=acting_user, reason=reason or "本人情報の更新")
    if attributes is not None:
        person.attributes.set(attributes)
    return person


@transaction.atomic
def household_member_leave(*, member: HouseholdMember, acting_user: User, reason: str) -> HouseholdMember:
    """A member leaves the household (転出・死亡・施設入所 …) from today; the row stays as history."""
    if not reason.strip():
        raise ValidationError({"reason": "世帯から外す理由を入力してください。"})
    if not household_can_change(acting_user, member.household):
        raise PermissionDenied("この世帯を更新する権限がありません。")
    member = HouseholdMember.objects.select_for_update().get(pk=member.pk)
    if member.left_on is not None:
        raise ValidationError("この方はすでに世帯から外れています。")
    member.left_on = timezone.localdate()
    return _save(member, acting_user=acting_user, reason=reason, update_fields=["left_on"])


@transaction.atomic
def address_confidentiality_set(
    *, person: Person, acting_user: User, reason: str, ends_on: date | None = None
) -> AddressConfidentiality:
    """Put a person under 住所秘匿 from today. Invariant: while in force, only staff personally
    assigned to their case see where they are (cases.policy)."""
    if not person_can_change(acting_user, person):
        raise PermissionDenied("この方の情報を更新する権限がありません。")
    if not reason.strip():
        raise ValidationError({"reason": "住所秘匿の理由を入力してください。"})
    if AddressConfidentiality.objects.in_force().filter(person=person).exists():
        raise ValidationError("この方はすでに住所秘匿の対象です。")
    record = AddressConfidentiality(person=person, reason=reason, ends_on=ends_on, set_by=acting_user)
    return _save(record, acting_user=acting_user, reason=reason)


@transaction.atomic
def address_confidentiality_lift(*, record: AddressConfidentiality, acting_user: User, reason: str) -> None:
    """Lift 住所秘匿. Only staff who may see the whereabouts (the assigned) may lift it."""
    if record.person_id not in location_allowed_ids(acting_user, [record.person_id]):
        raise PermissionDenied("住所秘匿を解除できるのは、本人のケースの担当者です。")
    if not reason.strip():
        raise ValidationError({"lift_reason": "解除の理由を入力してください。"})
    record = AddressConfidentiality.objects.select_for_update().get(pk=record.pk)
    if record.lifted_at is not None:
        raise ValidationError("住所秘匿はすでに解除されています。")
    record.lifted_at, record.lifted_by, record.lift_reason = timezone.now(), acting_user, reason
    _save(
        record,
        acting_user=acting_user,
        reason=f"解除: {reason}",
        update_fields=["lifted_at", "lifted_by", "lift_reason"],
    )


EMERGENCY_HOURS = 2
EMERGENCY_MIN_JUSTIFICATION = 20


@transaction.atomic
def emergency_access_open(*, acting_user: User, case_pk: int, justification: str):
    """Break-glass (生命・身体の保護): open a case outside one's basis for a few hours after typing why.
    The supervisors are told at once and one of them reviews it."""
    from cases.models import EmergencyAccess

    if not acting_user.roles & {Role.WORKER, Role.COORDINATOR}:
        raise PermissionDenied("緊急閲覧ができるのは相談員または相談支援包括化推進員です。")
    if len(justification.strip()) < EMERGENCY_MIN_JUSTIFICATION:
        raise ValidationError(
            {
                "justification": f"緊急に閲覧が必要な理由を{EMERGENCY_MIN_JUSTIFICATION}文字以上で入力してください。"
            }
        )
    case = Case.objects.filter(pk=case_pk).first()
    if case is None:
        raise ValidationError({"case_pk": "そのケース番号は見つかりません。"})
    ends_at = timezone.now() + timedelta(hours=EMERGENCY_HOURS)
    record = _save(
        EmergencyAccess(case=case, user=acting_user, justification=justification, ends_at=ends_at),
        acting_user=acting_user,
        reason="緊急閲覧",
    )
    # Opened as a 相談員 or 推進員 of an agency: the access ends early if they leave it.
    on_behalf_of = acting_user.agency_in_role(Role.WORKER, Role.COORDINATOR)
    access.access_grant(
        obj=case,
        user=acting_user,
        on_behalf_of=on_behalf_of,
        basis=AccessBasis.EMERGENCY,
        ends_at=ends_at,
        acting_user=acting_user,
        reason=f"緊急閲覧: {justification}"[:500],
    )
    for supervisor in active_supervisors():
        notifications_services.notification_send(
            recipient=supervisor,
            kind="emergency_access",
            title=f"緊急閲覧がありました（{acting_user.get_full_name()}、{case.number}）",
            body=f"理由: {justification}",
            link="/audit/emergency/",
        )
    return record


@transaction.atomic
def emergency_access_review(*, record, acting_user: User, note: str):
    from cases.models import EmergencyAccess
    from cases.selectors import is_supervisor

    if not is_supervisor(acting_user):
        raise PermissionDenied("確認は管理者が行います。")
    record = EmergencyAccess.objects.select_for_update().get(pk=record.pk)
    if record.reviewed_at is not None:
        raise ValidationError("この緊急閲覧はすでに確認済みです。")
    record.reviewed_by, record.reviewed_at, record.review_note = acting_user, timezone.now(), note
    return _save(record, acting_user=acting_user, reason="緊急閲覧の確認")


# --- A worker leaving the owning agency ---------------------------------------------------------


def lead_cases_handover(user: User, agency: Agency) -> tuple[str, str] | None:
    """What a worker leaves behind at `agency` when their membership there ends (registered with
    jusou.registry.DepartureHandover): the open cases they lead there as 主担当者, for the
    agency's 管理者, with the case list filtered to the worker. Their own grants end with the
    membership; the agency's go on, so colleagues keep the cases. The next 主担当者 is chosen by the
    agency (case_update), never silently here."""
    count = Case.objects.filter(owning_agency=agency, lead_worker=user, status__in=OPEN_STATUSES).count()
    if not count:
        return None
    return f"主担当の支援ケース（{count}件）", f"{reverse('cases:case_list')}?scope=all&worker={user.pk}"


# --- Reminders (beat: cases.tasks) --------------------------------------------------------------


def follow_up_reminders(on: date | None = None) -> int:
    """Beat: an open case whose 次回対応予定日 is today or past reminds its lead worker, once per case
    and due date (the dedupe key: a second run, or a task retried half-way, sends nothing more; a
    new date set on the case is a new reminder). Only a lead worker still working at the owning
    agency is reminded — one who left would find the case closed to them. Cases already reminded
    are left out in the query, so a long list of overdue cases costs nothing on later runs. The
    notice names the case number only (no 要配慮個人情報)."""
    day = on or timezone.localdate()
    key = Concat(
        Value("follow-up:"),
        Cast("pk", CharField()),
        Value(":"),
        Cast("next_follow_up_on", CharField()),
        output_field=CharField(),
    )
    reminded = Notification.objects.filter(
        recipient=OuterRef("lead_worker"), dedupe_key=OuterRef("reminder_key")
    )
    still_there = StaffMembership.objects.active(day).filter(
        user=OuterRef("lead_worker"), agency=OuterRef("owning_agency")
    )
    due = (
        Case.objects.filter(status__in=OPEN_STATUSES, next_follow_up_on__lte=day, lead_worker__is_active=True)
        .filter(Exists(still_there))
        .annotate(reminder_key=key)
        .exclude(Exists(reminded))
        .select_related("lead_worker")
        .order_by("next_follow_up_on", "pk")
    )
    sent = 0
    for case in due:
        when = "は今日です" if case.next_follow_up_on == day else "を過ぎています"
        note = notifications_services.notification_send(
            recipient=case.lead_worker,
            kind="follow_up_due",
            title=f"{case.number} の次回対応予定日（{to_wareki(case.next_follow_up_on)}）{when}",
            link=case.get_absolute_url(),
            dedupe_key=f"follow-up:{case.pk}:{case.next_follow_up_on.isoformat()}",
        )
        sent += note is not None
    return sent


# --- 主担当機関の移行 (handover to the next lead agency) ---------------------------------------------

#: who at an agency hears of a case handed to it, and who may take it (its 主担当者 comes from them)
HANDOVER_TAKERS = (Role.WORKER, Role.COORDINATOR)


def agency_staff(agency: Agency, roles=(Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR)):
    """The active staff working at `agency` today in one of `roles`."""
    memberships = StaffMembership.objects.active().filter(agency=agency, role__in=roles)
    return User.objects.filter(is_active=True, pk__in=memberships.values("user_id")).order_by("pk")


def notify_once(
    users, *, kind: str, title: str, link: str, dedupe_key: str, body: str = "", skip=None
) -> None:
    """One notice to each active user once (not to `skip`, the one who acted); a retried call sends
    nothing again (the dedupe key). Notices carry the case number and a link, nothing of the case."""
    seen = set()
    for user in users:
        if user is None or not user.is_active or user.pk in seen or (skip is not None and user.pk == skip.pk):
            continue
        seen.add(user.pk)
        notifications_services.notification_send(
            recipient=user, kind=kind, title=title, body=body, link=link, dedupe_key=dedupe_key
        )


def _assignment_grants(case: Case):
    return (
        AccessGrant.objects.valid()
        .filter(
            content_type=ContentType.objects.get_for_model(Case),
            object_id=case.pk,
            basis=AccessBasis.ASSIGNMENT,
        )
        .select_related("user", "agency", "on_behalf_of")
    )


def _still_there(user: User, agency: Agency | None) -> bool:
    return agency is None or StaffMembership.objects.active().filter(user=user, agency=agency).exists()


def _regrant(grantees, *, case: Case, acting_user: User, permissions, reason: str, ends_at=None) -> None:
    """Grant each (user, agency, on_behalf_of) again, if the person still works where they held it."""
    for user, agency, on_behalf_of in grantees:
        if user is not None and not (user.is_active and _still_there(user, on_behalf_of)):
            continue
        access.access_grant(
            obj=case,
            user=user,
            agency=agency,
            on_behalf_of=on_behalf_of if user else None,
            basis=AccessBasis.ASSIGNMENT,
            permissions=permissions,
            acting_user=acting_user,
            ends_at=ends_at,
            reason=reason,
        )


@transaction.atomic
def case_handover_start(
    *, case: Case, to_agency: Agency, acting_user: User, reason: str = "", _checked: bool = False
) -> CaseHandover:
    """主担当機関の移行: the case moves to `to_agency` now and waits for it to accept.

    Invariants: the next agency holds 担当 (view and change) from now and owns the case, whose
    主担当者 is empty until the agency accepts and names one; everyone who held 担当 before (the
    previous agency, its lead worker, the coordinators) keeps read-only access until
    HANDOVER_READ_DAYS from now, and nothing more; the history (notes, assessments, transitions) stays
    on the case. The next agency's staff are told. Refused: a case in 多機関協働 (it leaves through
    the 重層的支援会議 or case_return), another handover waiting, the case's own agency, an agency with
    nobody to take it. Called by case_transition (終結 with 主担当機関へ移行) and plan_evaluate (包括的相談支援へ
    戻す naming another agency), or on its own to hand over again a case whose handover was declined."""
    from django.conf import settings

    if not _checked:
        _require_change(case, acting_user)
        case = _claim(case, None)
        if case.status not in (CaseStatus.SUPPORTING, CaseStatus.CLOSED):
            raise InvalidTransition(
                f"「{case.get_status_display()}」のケースは引き継げません。引き継げるのは支援中か終結したケースです"
                "（多機関協働中のケースは、重層的支援会議の評価か、包括的相談支援へ戻すときに引き継ぎます）。"
            )
    if to_agency is None:
        raise CaseError({"next_lead_agency": "引継ぎ先の主担当機関を選んでください。"})
    if to_agency.pk == case.owning_agency_id:
        raise CaseError({"next_lead_agency": "引継ぎ先は今の主担当機関とは別の機関を選んでください。"})
    if not to_agency.is_active or not agency_staff(to_agency, HANDOVER_TAKERS).exists():
        raise CaseError(
            {"next_lead_agency": f"{to_agency}には引継ぎを受け入れる職員がいないため、引き継げません。"}
        )
    if CaseHandover.objects.filter(case=case, status=HandoverStatus.PENDING).exists():
        raise InvalidTransition("このケースには受入れ待ちの引継ぎがすでにあります。")
    now = timezone.now()
    handover = CaseHandover(
        case=case,
        from_agency=case.owning_agency,
        from_lead_worker=case.lead_worker,
        to_agency=to_agency,
        reason=reason,
        requested_by=acting_user,
        requested_at=now,
        read_until=now + timedelta(days=settings.HANDOVER_READ_DAYS),
    )
    _save(handover, acting_user=acting_user, reason="主担当機関の移行")
    # Everyone who held 担当 keeps reading (only) for the set period: a grant with an end, so access
    # stops when the query runs at that moment.
    held = _assignment_grants(case)
    previous = list(dict.fromkeys((g.user, g.agency, g.on_behalf_of) for g in held))
    for grant in held:
        access.access_revoke(
            grant=grant, acting_user=acting_user, reason=f"主担当機関の移行（{to_agency}へ）"
        )
    if settings.HANDOVER_READ_DAYS:
        _regrant(
            previous,
            case=case,
            acting_user=acting_user,
            permissions=("view",),
            ends_at=handover.read_until,
            reason=f"移行前の担当（{to_wareki(timezone.localtime(handover.read_until))}まで閲覧のみ）",
        )
    access.access_grant(
        obj=case,
        agency=to_agency,
        basis=AccessBasis.ASSIGNMENT,
        permissions=("view", "change"),
        acting_user=acting_user,
        reason="主担当機関（引継ぎ）",
    )
    case.owning_agency, case.lead_worker = to_agency, None
    _save(case, acting_user=acting_user, reason=f"主担当機関の移行: {handover.from_agency} → {to_agency}")
    notify_once(
        agency_staff(to_agency),
        kind="handover",
        link=case.get_absolute_url(),
        title=f"支援ケースの引継ぎがあります（{case.number}、{handover.from_agency}から）",
        body="受け入れるか辞退するかを、ケースの画面で選んでください。",
        dedupe_key=f"handover:{handover.pk}",
        skip=acting_user,
    )
    return handover


#: the recorded reason of the move 終結 → 支援中 when the next agency accepts a closed case
HANDOVER_CONTINUE_REASON = "引継ぎの受入れ（主担当機関へ移行）"


def _require_taker(handover, user: User) -> None:
    if not any(
        m.agency_id == handover.to_agency_id and m.role in HANDOVER_TAKERS for m in user.active_memberships
    ):
        raise PermissionDenied("引継ぎを受け入れる・辞退するのは、引継ぎ先の機関の相談員・推進員です。")


def _lock_pending(handover):
    handover = (
        CaseHandover.objects.select_for_update()
        .select_related("case", "from_agency", "to_agency")
        .get(pk=handover.pk)
    )
    if handover.status != HandoverStatus.PENDING:
        raise InvalidTransition(f"この引継ぎはすでに「{handover.get_status_display()}」です。")
    return handover


@transaction.atomic
def case_handover_accept(*, handover, acting_user: User, lead_worker: User | None = None):
    """The next agency takes the case: its 主担当者 (the one accepting unless named, one of the
    agency's 相談員・推進員) is recorded and granted personally, as staff of that agency. A case closed
    with 主担当機関へ移行 continues there as 支援中 (a recorded move 終結 → 支援中 by the one accepting,
    HANDOVER_CONTINUE_REASON); a 支援中 case stays 支援中. The one who handed it over and the previous
    主担当者 are told."""
    _require_taker(handover, acting_user)
    handover = _lock_pending(handover)
    lead_worker = lead_worker or acting_user
    if not any(
        m.agency_id == handover.to_agency_id and m.role in HANDOVER_TAKERS
        for m in lead_worker.active_memberships
    ):
        raise CaseError({"lead_worker": "主担当者は引継ぎ先の機関の職員から選んでください。"})
    case = _claim(handover.case, None)
    case.lead_worker = lead_worker
    continued = case.status == CaseStatus.CLOSED
    if continued:
        # A case closed with 主担当機関へ移行 goes on at the next agency: 支援中 there, in its active
        # list. The 終結 stays counted in its month (CaseTransition; the case keeps its close_reason).
        case.status, case.closed_at = CaseStatus.SUPPORTING, None
    _save(case, acting_user=acting_user, reason=f"引継ぎの受入れ（{handover.to_agency}）")
    if continued:
        CaseTransition.objects.create(
            case=case,
            from_status=CaseStatus.CLOSED,
            to_status=CaseStatus.SUPPORTING,
            actor=acting_user,
            reason=HANDOVER_CONTINUE_REASON,
        )
    access.access_grant(
        obj=case,
        user=lead_worker,
        on_behalf_of=handover.to_agency,
        basis=AccessBasis.ASSIGNMENT,
        permissions=("view", "change"),
        acting_user=acting_user,
        reason="主担当者（引継ぎ）",
    )
    handover.status, handover.decided_by, handover.decided_at = (
        HandoverStatus.ACCEPTED,
        acting_user,
        timezone.now(),
    )
    _save(handover, acting_user=acting_user, reason="引継ぎの受入れ")
    notify_once(
        [handover.requested_by, handover.from_lead_worker],
        kind="handover_accepted",
        link=case.get_absolute_url(),
        title=f"引継ぎが受け入れられました（{case.number}、{handover.to_agency}）",
        dedupe_key=f"handover-accepted:{handover.pk}",
        skip=acting_user,
    )
    return handover


@transaction.atomic
def case_handover_decline(*, handover, acting_user: User, reason: str):
    """The next agency declines, with the reason: the case goes back to the previous agency and its
    主担当者 (if still there), and everyone who held 担当 before — the coordinators who handed it over
    among them — holds it again, read and change; the next agency's 担当 ends. They are told (the
    reason is on the case, not in the notice)."""
    _require_taker(handover, acting_user)
    if not reason.strip():
        raise CaseError({"reason": "辞退の理由を入力してください。"})
    handover = _lock_pending(handover)
    case = _claim(handover.case, None)
    content_type = ContentType.objects.get_for_model(Case)
    before = AccessGrant.objects.filter(
        content_type=content_type,
        object_id=case.pk,
        basis=AccessBasis.ASSIGNMENT,
        permission="view",
        ends_at=handover.read_until,
        starts_at__gte=handover.requested_at,
    ).select_related("user", "agency", "on_behalf_of")
    previous = list(dict.fromkeys((g.user, g.agency, g.on_behalf_of) for g in before))
    if not any(agency == handover.from_agency for _, agency, _ in previous):
        previous.insert(0, (None, handover.from_agency, None))
    for grant in _assignment_grants(case):
        access.access_revoke(
            grant=grant, acting_user=acting_user, reason=f"引継ぎの辞退（{handover.to_agency}）"
        )
    _regrant(
        previous,
        case=case,
        acting_user=acting_user,
        permissions=("view", "change"),
        reason="引継ぎの辞退により担当に戻す",
    )
    lead = handover.from_lead_worker
    case.owning_agency = handover.from_agency
    case.lead_worker = (
        lead if lead is not None and lead.is_active and _still_there(lead, handover.from_agency) else None
    )
    _save(
        case, acting_user=acting_user, reason=f"引継ぎの辞退: {handover.to_agency} → {handover.from_agency}"
    )
    handover.status, handover.decided_by, handover.decided_at = (
        HandoverStatus.DECLINED,
        acting_user,
        timezone.now(),
    )
    handover.decline_reason = reason.strip()
    _save(handover, acting_user=acting_user, reason="引継ぎの辞退")
    returned_to = [user for user, _, _ in previous if user is not None]
    notify_once(
        [handover.requested_by, *returned_to, case.lead_worker],
        kind="handover_declined",
        link=case.get_absolute_url(),
        title=f"引継ぎが辞退されました（{case.number}、{handover.to_agency}）",
        body="辞退の理由はケースの画面で確認し、引継ぎ先を選び直してください。",
        dedupe_key=f"handover-declined:{handover.pk}",
        skip=acting_user,
    )
    return handover
