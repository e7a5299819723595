"""Writes in 多機関協働: taking up referred cases, 本人同意 and its withdrawal, 支援決定.

Case moves go through cases.services.case_transition, so the state machine, locking and history
stay in one place.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from cases.models import Case, CaseStatus, CaseTransition, HouseholdMember, Person
from cases.selectors import case_can_change
from jusou import versions
from jusou.access import grants as access
from jusou.ja.wareki import to_wareki
from jusou.models import AccessBasis, AccessGrant, Agency, ResourceGap, Role, StaffMembership, User
from jusou.services import InvalidTransition
from jusou.services import save_with_history as _save
from meetings import briefings
from meetings.models import (
    AgendaItem,
    AgendaKind,
    ConfidentialityPledge,
    Consent,
    ConsentingParty,
    ConsentMethod,
    Evaluation,
    GoalEvaluation,
    InformationCategory,
    MeetingBriefing,
    MeetingDecision,
    MeetingMember,
    NextStep,
    PlanConference,
    PlanGoal,
    PlanStatus,
    PlanTask,
    SupportDecision,
    SupportMeeting,
    SupportPlan,
    consent_changes,
)


def _require_coordinator(user: User) -> None:
    if not user.has_role(Role.COORDINATOR):
        raise PermissionDenied("この操作は相談支援包括化推進員が行います。")


def case_accept(*, case: Case, acting_user: User, reason: str = "") -> Case:
    """The coordinator takes a referred case into 多機関協働 (つなぎ依頼 → 多機関協働中); the worker who
    referred it is told."""
    _require_coordinator(acting_user)
    case = case_services.case_transition(
        case=case,
        to_status=CaseStatus.COORDINATING,
        acting_user=acting_user,
        reason=reason or "多機関協働として受理",
    )
    _tell_referrer(case, acting_user, kind="referral_accepted", what="受理されました")
    return case


def case_return(
    *, case: Case, acting_user: User, reason: str, next_lead_agency: Agency | None = None
) -> Case:
    """Return to 包括的相談支援: the owning agency leads again and the coordinators' 担当 ends — or,
    naming another agency, the case is handed over to it (cases.services.case_handover_start). The
    worker who referred it is told."""
    _require_coordinator(acting_user)
    referral = _referral(case)
    case = case_services.case_transition(
        case=case,
        to_status=CaseStatus.SUPPORTING,
        acting_user=acting_user,
        reason=reason,
        next_lead_agency=next_lead_agency,
    )
    _tell_referrer(case, acting_user, kind="referral_returned", what="戻されました", referral=referral)
    return case


def _referral(case: Case) -> CaseTransition | None:
    """The latest つなぎ依頼 of the case (who referred it, and when)."""
    return (
        CaseTransition.objects.filter(case=case, to_status=CaseStatus.REFERRED)
        .select_related("actor")
        .order_by("-at", "-pk")
        .first()
    )


def _tell_referrer(case: Case, acting_user: User, *, kind: str, what: str, referral=None) -> None:
    """The worker who referred the case hears what the coordinator did with it: once per referral and
    outcome (a retried call sends nothing again). The notice carries the case number only."""
    referral = referral or _referral(case)
    if referral is None:
        return
    case_services.notify_once(
        [referral.actor],
        kind=kind,
        link=case.get_absolute_url(),
        skip=acting_user,
        title=f"多機関協働へのつなぎ依頼が{what}（{case.number}）",
        dedupe_key=f"{kind}:{referral.pk}",
    )


def conference_words(conference: PlanConference) -> str:
    """The 重層的支援会議 in words for reasons and the timeline: its name and date in 和暦."""
    return f"{conference.title}（{to_wareki(timezone.localtime(conference.held_at))}）"


def case_people(case: Case) -> set[int]:
    """The case's person and the current members of its household."""
    ids = {case.person_id}
    if case.household_id:
        ids |= set(
            HouseholdMember.objects.filter(household_id=case.household_id, left_on__isnull=True).values_list(
                "person_id", flat=True
            )
        )
    return ids


@transaction.atomic
def consent_record(
    *,
    case: Case,
    person: Person,
    acting_user: User,
    consenting_party: str,
    consented_on: date,
    method: str,
    recipients: list[Agency],
    categories: list[str],
    purpose: str,
    proxy_name: str = "",
    proxy_relation: str = "",
    expires_on: date | None = None,
    document=None,
) -> Consent:
    """Record a person's consent (each household member consents separately).

    Refused: a person outside the case's household, a future date, no agency, no category."""
    if not case_can_change(acting_user, case):
        raise PermissionDenied("このケースを更新する権限がありません。")
    errors = {}
    if person.pk not in case_people(case):
        errors["person"] = "このケースの本人または世帯員を選んでください。"
    if consented_on > timezone.localdate():
        errors["consented_on"] = "同意日に未来の日付は入力できません。"
    if not recipients:
        errors["recipients"] = "情報を共有する機関を選んでください。"
    if not categories or not set(categories) <= set(InformationCategory.values):
        errors["categories"] = "共有する情報の範囲を選んでください。"
    errors |= _scan_errors(method, document)
    if errors:
        raise ValidationError(errors)
    consent = Consent(
        case=case,
        person=person,
        consenting_party=consenting_party,
        proxy_name=proxy_name if consenting_party == ConsentingParty.PROXY else "",
        proxy_relation=proxy_relation if consenting_party == ConsentingParty.PROXY else "",
        consented_on=consented_on,
        taken_by=acting_user,
        method=method,
        categories=list(categories),
        purpose=purpose,
        expires_on=expires_on,
        document=document or "",
    )
    _save(consent, acting_user=acting_user, reason="本人同意の記録")
    consent.recipients.set(recipients)
    consent_access_sync(case=case, acting_user=acting_user, reason="本人同意の記録")
    return consent


def _scan_errors(method: str, document) -> dict:
    """The municipality may ask for the signed form of every written consent (CONSENT_SCAN_REQUIRED);
    an oral consent has none to scan."""
    if settings.CONSENT_SCAN_REQUIRED and method == ConsentMethod.WRITTEN and not document:
        return {
            "document": ValidationError(
                "書面で同意を得た場合は、同意書のスキャン（PDF・JPEG・PNG）を添付してください。",
                code="document_required",
            )
        }
    return {}


def agencies_without_consent(case: Case, agencies, on=None) -> list[Agency]:
    """Of `agencies`, those that no valid consent of the case's person names (DOMAIN.md §2 step 5)."""
    covered = set(
        Consent.objects.valid(on)
        .filter(case=case, person_id=case.person_id)
        .values_list("recipients", flat=True)
    )
    return [agency for agency in agencies if agency.pk not in covered]


@transaction.atomic
def consent_withdraw(
    *,
    consent: Consent,
    acting_user: User,
    method: str,
    note: str = "",
    withdrawn_at: datetime | None = None,
) -> Consent:
    """Withdrawal takes effect at once: every 本人同意-based grant on the case that no remaining
    valid consent still covers is revoked in the same transaction."""
    if not case_can_change(acting_user, consent.case):
        raise PermissionDenied("このケースを更新する権限がありません。")
    consent = Consent.objects.select_for_update().select_related("case").get(pk=consent.pk)
    if consent.withdrawn_at is not None:
        raise InvalidTransition("この同意はすでに撤回されています。")
    if consent.superseded_at is not None:
        raise InvalidTransition("この同意は変更されています。最新の版の撤回を記録してください。")
    consent.withdrawn_at = withdrawn_at or timezone.now()
    consent.withdrawal_method = method
    consent.withdrawal_received_by = acting_user
    consent.withdrawal_note = note
    _save(consent, acting_user=acting_user, reason=f"同意の撤回（{ConsentMethod(method).label}）")
    consent_access_sync(case=consent.case, acting_user=acting_user, reason="本人同意の撤回")
    _consent_notify(
        consent,
        acting_user=acting_user,
        kind="consent_withdrawn",
        title=f"本人同意が撤回されました（{consent.case.number}）。この同意による情報共有は停止しています",
        dedupe_key=f"consent-withdrawn:{consent.pk}",
    )
    return consent


@transaction.atomic
def consent_amend(
    *,
    consent: Consent,
    acting_user: User,
    consented_on: date,
    method: str,
    recipients: list[Agency],
    categories: list[str],
    expires_on: date | None = None,
    document=None,
) -> Consent:
    """変更 of a consent: more agencies, more categories or a later expiry, agreed on `consented_on` by
    `method` and taken by the acting user, recorded as a new version naming the first one.

    Invariants: only the latest version in force is amended (a withdrawn, expired or already replaced
    one is refused); nothing is taken away (fewer agencies or categories, an earlier or added end —
    that is a withdrawal and a new consent); something is added. The old version is kept and marked
    superseded in the same transaction that writes the new one, and the case's 本人同意 grants are
    synced then: an agency both versions name keeps its grant (or gets the longer one at that very
    moment), a newly named plan agency gains it, so no reader loses anything in between. The scan
    rule is the one for recording (CONSENT_SCAN_REQUIRED, 書面 only)."""
    if not case_can_change(acting_user, consent.case):
        raise PermissionDenied("このケースを更新する権限がありません。")
    old = Consent.objects.select_for_update().select_related("case", "person").get(pk=consent.pk)
    if old.superseded_at is not None:
        raise InvalidTransition("この同意はすでに変更されています。最新の版を変更してください。")
    if old.withdrawn_at is not None:
        raise InvalidTransition("撤回された同意は変更できません。新しく同意を記録してください。")
    if old.expires_on and old.expires_on < timezone.localdate():
        raise InvalidTransition("期限切れの同意は変更できません。新しく同意を記録してください。")
    errors = {}
    if consented_on > timezone.localdate():
        errors["consented_on"] = "同意日に未来の日付は入力できません。"
    elif consented_on < old.consented_on:
        errors["consented_on"] = (
            f"変更の同意日は、元の同意日（{to_wareki(old.consented_on)}）以降にしてください。"
        )
    before = {agency.pk: agency for agency in old.recipients.all()}
    chosen = {agency.pk for agency in recipients}
    dropped = [agency.name for pk, agency in before.items() if pk not in chosen]
    if dropped:
        errors["recipients"] = (
            f"変更では共有先を減らせません（{'、'.join(dropped)}）。外す場合は同意の撤回を記録し、新しく同意を記録してください。"
        )
    if not categories or not set(categories) <= set(InformationCategory.values):
        errors["categories"] = "共有する情報の範囲を選んでください。"
    elif not set(old.categories) <= set(categories):
        lost = [InformationCategory(c).label for c in old.categories if c not in categories]
        errors["categories"] = f"変更では共有する情報の範囲を狭められません（{'、'.join(lost)}）。"
    if old.expires_on is None and expires_on is not None:
        errors["expires_on"] = (
            "期限のない同意に有効期限を付けることはできません。期限を設ける場合は新しく同意を記録してください。"
        )
    elif old.expires_on and expires_on and expires_on < old.expires_on:
        errors["expires_on"] = f"有効期限は延ばすことだけができます（現在: {to_wareki(old.expires_on)}）。"
    errors |= _scan_errors(method, document)
    if errors:
        raise ValidationError(errors)
    ordered = [c for c in InformationCategory.values if c in set(categories)]
    new = Consent(
        case=old.case,
        person=old.person,
        consenting_party=old.consenting_party,
        proxy_name=old.proxy_name,
        proxy_relation=old.proxy_relation,
        consented_on=consented_on,
        taken_by=acting_user,
        method=method,
        categories=ordered,
        purpose=old.purpose,
        expires_on=expires_on,
        document=document or "",
        original=old.original or old,
        version=old.version + 1,
    )
    agencies = sorted(recipients, key=lambda a: a.pk)
    words = consent_changes(old, agencies, new.categories, new.expires_on)
    if not words:
        raise ValidationError("変更がありません。共有先か範囲を加えるか、有効期限を延ばしてください。")
    old.superseded_at = timezone.now()
    _save(
        old,
        acting_user=acting_user,
        reason=f"第{new.version}版への変更により終了",
        update_fields=["superseded_at"],
    )
    _save(
        new,
        acting_user=acting_user,
        reason=f"本人同意の変更（第{new.version}版、{ConsentMethod(method).label}）: {words}"[:100],
    )
    new.recipients.set(agencies)
    consent_access_sync(case=old.case, acting_user=acting_user, reason=f"本人同意の変更（第{new.version}版）")
    _consent_notify(
        new,
        acting_user=acting_user,
        kind="consent_amended",
        title=f"本人同意が変更されました（{old.case.number}、第{new.version}版）",
        dedupe_key=f"consent-amended:{new.pk}",
    )
    return new


def _consent_notify(consent: Consent, *, acting_user: User, kind: str, title: str, dedupe_key: str) -> int:
    """A consent was withdrawn or amended: tell those who rely on it — the staff (相談員・推進員) of the
    agencies in the case's plans in force or in preparation, the coordinators holding the case under
    担当, and whoever took any version of the consent — except the person who recorded it. The notice
    names the case number only: not the person, nor what was shared (the page shows that to those
    who may still see it)."""
    case = consent.case
    plan_agencies_ = PlanTask.objects.filter(
        plan__case=case, plan__status__in=[PlanStatus.APPROVED, PlanStatus.DRAFT]
    ).values("agency_id")
    staff = (
        StaffMembership.objects.active()
        .filter(agency_id__in=plan_agencies_, role__in=[Role.WORKER, Role.COORDINATOR])
        .values("user_id")
    )
    assigned = (
        AccessGrant.objects.valid()
        .filter(
            content_type=ContentType.objects.get_for_model(Case),
            object_id=case.pk,
            basis=AccessBasis.ASSIGNMENT,
            user__isnull=False,
        )
        .values("user_id")
    )
    coordinating = StaffMembership.objects.active().filter(role=Role.COORDINATOR, user_id__in=assigned)
    takers = Consent.objects.filter(
        pk__in=[consent.pk, consent.original_id or consent.pk]
    ) | Consent.objects.filter(original_id=consent.original_id or consent.pk)
    recipients = (
        User.objects.filter(
            Q(pk__in=staff)
            | Q(pk__in=coordinating.values("user_id"))
            | Q(pk__in=takers.values("taken_by_id"))
        )
        .exclude(pk=acting_user.pk)
        .order_by("pk")
    )
    return _remind(recipients, kind=kind, title=title, link=case.get_absolute_url(), dedupe_key=dedupe_key)


@transaction.atomic
def support_decision_record(
    *, case: Case, acting_user: User, decided_on: date, decision_number: str = "", note: str = ""
) -> SupportDecision:
    """支援決定 for a case in 多機関協働 (recorded by the municipality's coordinator)."""
    _require_coordinator(acting_user)
    if not case_can_change(acting_user, case):
        raise PermissionDenied("このケースを更新する権限がありません。")
    if case.status != CaseStatus.COORDINATING:
        raise ValidationError(
            "支援決定は多機関協働中のケースに記録します。先につなぎ依頼を受理してください。"
        )
    if decided_on > timezone.localdate():
        raise ValidationError({"decided_on": "決定日に未来の日付は入力できません。"})
    decision = SupportDecision(
        case=case, decided_on=decided_on, decided_by=acting_user, decision_number=decision_number, note=note
    )
    return _save(decision, acting_user=acting_user, reason="支援決定")


# --- 支援プラン ----------------------------------------------------------------------------------


def _require_plan_writer(case: Case, user: User) -> None:
    _require_coordinator(user)
    if not case_can_change(user, case):
        raise PermissionDenied("このケースを更新する権限がありません。")


def _plan_members_clean(case: Case, members) -> list[Person]:
    """The case's 本人 and the chosen household members (current ones only); anyone else is refused."""
    people = case_people(case)
    strangers = [p for p in members or () if p.pk not in people]
    if strangers:
        raise ValidationError(
            {"members": ValidationError("このケースの世帯員から選んでください。", code="not_in_household")}
        )
    chosen = {p.pk: p for p in members or ()}
    chosen.pop(case.person_id, None)
    return [case.person, *sorted(chosen.values(), key=lambda p: p.pk)]


@transaction.atomic
def plan_create(
    *,
    case: Case,
    acting_user: User,
    goals: list[str],
    tasks: list[dict],
    members: list[Person] | None = None,
    based_on: int | None = None,
    **fields,
) -> SupportPlan:
    """Write a new version of the plan (作成中). Earlier versions, approved ones included, stay.
    `members`: the household members it concerns besides the case's 本人, who is always one.
    `based_on`: the 版 the writer's page started from (0: none); a later one written since refuses it."""
    _require_plan_writer(case, acting_user)
    people = _plan_members_clean(case, members)
    if case.status != CaseStatus.COORDINATING:
        raise ValidationError("支援プランは多機関協働中のケースについて作成します。")
    if SupportPlan.objects.filter(case=case, status=PlanStatus.DRAFT).exists():
        raise ValidationError("作成中の支援プランがすでにあります。そちらを協議にかけるか修正してください。")
    goals = [g.strip() for g in goals if g and g.strip()]
    if not goals:
        raise ValidationError({"goals": "短期目標を1つ以上入力してください。"})
    if not tasks:
        raise ValidationError({"tasks": "役割分担を1行以上入力してください。"})
    latest = SupportPlan.objects.filter(case=case).aggregate(v=models.Max("version"))["v"] or 0
    if based_on is not None and based_on != latest:
        raise versions.StaleEdit(
            f"ほかの人が先に第{latest}版を作成しました。あなたの入力はそのまま残してあります。"
            f"第{latest}版を確かめてから、必要なら入力を直して、もう一度作成してください。"
        )
    plan = SupportPlan(case=case, version=latest + 1, author=acting_user, **fields)
    _save(plan, acting_user=acting_user, reason=f"支援プラン第{latest + 1}版の作成")
    plan.members.set(people)
    PlanGoal.objects.bulk_create([PlanGoal(plan=plan, order=i, text=text) for i, text in enumerate(goals)])
    for task in tasks:
        _save(PlanTask(plan=plan, **task), acting_user=acting_user)
    return plan


@transaction.atomic
def plan_members_set(*, plan: SupportPlan, acting_user: User, members: list[Person]) -> SupportPlan:
    """Change whom a plan in preparation (作成中) concerns; the case's 本人 stays one of them."""
    _require_plan_writer(plan.case, acting_user)
    plan = SupportPlan.objects.select_for_update().select_related("case__person").get(pk=plan.pk)
    if plan.status != PlanStatus.DRAFT:
        raise InvalidTransition(f"「{plan.get_status_display()}」のプランの対象者は変更できません。")
    people = _plan_members_clean(plan.case, members)
    plan._history_user = acting_user
    plan.members.set(people)
    return plan


def plan_agencies(plan: SupportPlan) -> list[Agency]:
    return list(Agency.objects.filter(plan_tasks__plan=plan).distinct().order_by("pk"))


def plan_members(plan: SupportPlan) -> list[Person]:
    """Whom the plan concerns: the case's 本人 first, then the household members chosen for it (a
    plan written before members were recorded concerns the 本人 alone)."""
    chosen = [p for p in plan.members.all() if p.pk != plan.case.person_id]
    return [plan.case.person, *sorted(chosen, key=lambda p: p.pk)]


@dataclass
class ConsentGap:
    """A person the plan concerns whose valid consents (on this case) leave out plan agencies."""

    person: Person
    relationship: str
    missing: list[Agency]
    has_consent: bool
    agencies: list[Agency] = field(default_factory=list)
    #: the id of the person's newest valid consent on the case (the one to amend), if any
    current_id: int | None = None

    @property
    def label(self) -> str:
        if self.relationship == "本人":
            return f"本人 {self.person.name}さん"
        return f"{self.relationship or '世帯員'} {self.person.name}さん"

    @property
    def message(self) -> str:
        names = "、".join(a.name for a in self.missing)
        if not self.has_consent:
            return (
                f"{self.label}の本人同意がないため、重層的支援会議でプランを承認できません"
                f"（共有が必要な機関: {names}）。先に{self.person.name}さんの本人同意を記録してください。"
            )
        return (
            f"{self.label}の本人同意の共有先に含まれていない機関があります（{names}）。"
            f"{self.person.name}さんの同意を変更して共有先に加えてください。"
        )


class ConsentMissing(ValidationError):
    """Approval refused: `gaps` names each person the plan concerns and the plan agencies their valid
    consents leave out (pages link each to that person's consent form; the API lists them)."""

    def __init__(self, gaps: list[ConsentGap]):
        self.gaps = gaps
        super().__init__({"members": [ValidationError(gap.message, code="consent_missing") for gap in gaps]})


def consent_gaps(plan: SupportPlan, on=None, *, agencies=None, relationships=None) -> list[ConsentGap]:
    """For each person the plan concerns (plan_members): the plan agencies no valid consent of theirs
    on this case names (DOMAIN.md §2 step 5, §4: a consent covers the person who gave it — a household
    member's consent recorded on the household's case counts for them; they need no case of their
    own). The 支援会議 basis (社会福祉法 第106条の6) shares without consent among its members only and
    never opens a plan to its agencies: the 重層的支援会議 needs the consent (§2 step 7). `agencies`
    and `relationships` when the caller has them already; a constant number of queries."""
    from meetings.selectors import household_relationships

    members = plan_members(plan)
    agencies = plan_agencies(plan) if agencies is None else agencies
    relationships = household_relationships(plan.case) if relationships is None else relationships
    covered: dict[int, set[int]] = {}
    newest: dict[int, int] = {}
    rows = (
        Consent.objects.valid(on)
        .filter(case_id=plan.case_id, person__in=[p.pk for p in members])
        .order_by("-consented_on", "-pk")
        .values_list("person_id", "pk", "recipients")
    )
    for person_id, consent_id, agency_id in rows:
        covered.setdefault(person_id, set()).add(agency_id)
        newest.setdefault(person_id, consent_id)
    gaps = []
    for person in members:
        named = covered.get(person.pk)
        missing = [agency for agency in agencies if agency.pk not in (named or ())]
        if missing or named is None:
            gaps.append(
                ConsentGap(
                    person,
                    relationships.get(person.pk, ""),
                    missing,
                    named is not None,
                    agencies,
                    newest.get(person.pk),
                )
            )
    return gaps


@transaction.atomic
def conference_create(
    *, acting_user: User, held_at: datetime, title: str = "重層的支援会議", agencies=(), minutes: str = ""
) -> PlanConference:
    _require_coordinator(acting_user)
    conference = PlanConference(held_at=held_at, title=title, host=acting_user, minutes=minutes)
    _save(conference, acting_user=acting_user)
    conference.agencies.set(agencies)
    return conference


def _agenda(conference, plan, kind, acting_user, notes) -> AgendaItem:
    item = AgendaItem(
        conference=conference,
        case=plan.case,
        plan=plan,
        kind=kind,
        notes=notes,
        decided_by=acting_user,
        decided_at=timezone.now(),
    )
    return _save(item, acting_user=acting_user)


@transaction.atomic
def plan_approve(
    *, conference: PlanConference, plan: SupportPlan, acting_user: User, notes: str = ""
) -> AgendaItem:
    """プランの適切性の協議 → 承認. Refused without a 支援決定, or — for each person the plan concerns
    (the case's 本人 and the household members chosen) — without their own valid consent naming
    every agency in the 役割分担 (ConsentMissing, naming the person and the agencies). On approval each
    of those agencies may read the case — within the 本人's consent, and only while the plan is in
    force; a household member's own record follows that member's own consent (jusou.access.grants)."""
    case = plan.case
    _require_plan_writer(case, acting_user)
    plan = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != PlanStatus.DRAFT:
        raise ValidationError(f"「{plan.get_status_display()}」のプランは承認できません。")
    if not SupportDecision.objects.filter(case=case).exists():
        raise ValidationError(
            "支援決定がないため、重層的支援会議でプランを協議できません。先に支援決定を記録してください。"
        )
    gaps = consent_gaps(plan)
    if gaps:
        raise ConsentMissing(gaps)
    item = _agenda(conference, plan, AgendaKind.PLAN, acting_user, notes)
    item.outcome = "approved"
    _save(item, acting_user=acting_user, update_fields=["outcome"])
    for previous in SupportPlan.objects.select_for_update().filter(case=case, status=PlanStatus.APPROVED):
        _end_plan(previous, PlanStatus.SUPERSEDED, acting_user, "改訂版の承認")
    plan.status, plan.approved_at = PlanStatus.APPROVED, timezone.now()
    _save(
        plan,
        acting_user=acting_user,
        reason=f"{conference_words(conference)}で承認",
        update_fields=["status", "approved_at"],
    )
    consent_access_sync(case=case, acting_user=acting_user, reason=f"支援プラン第{plan.version}版の役割分担")
    _tell_plan_agencies(plan, acting_user)
    return item


def _tell_plan_agencies(plan: SupportPlan, acting_user: User) -> None:
    """Each agency of the approved plan's 役割分担 — which may now read the case within the consent —
    hears of it: its 相談員・推進員, once per plan version (the dedupe key). Case number and version
    only; the task itself is on the plan page and the dashboard."""
    link = reverse("meetings:plan_detail", args=[plan.pk])
    for agency in plan_agencies(plan):
        case_services.notify_once(
            case_services.agency_staff(agency, case_services.HANDOVER_TAKERS),
            kind="plan_task",
            link=link,
            title=f"支援プランが承認され、{agency}に役割分担があります（{plan.case.number} 第{plan.version}版）",
            dedupe_key=f"plan-approved:{plan.pk}:{agency.pk}",
            skip=acting_user,
        )


@transaction.atomic
def plan_send_back(
    *, conference: PlanConference, plan: SupportPlan, acting_user: User, notes: str
) -> AgendaItem:
    _require_plan_writer(plan.case, acting_user)
    if not notes.strip():
        raise ValidationError({"notes": "差し戻しの理由を入力してください。"})
    plan = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != PlanStatus.DRAFT:
        raise ValidationError(f"「{plan.get_status_display()}」のプランは差し戻せません。")
    item = _agenda(conference, plan, AgendaKind.PLAN, acting_user, notes)
    item.outcome = "sent_back"
    _save(item, acting_user=acting_user, update_fields=["outcome"])
    plan.status, plan.sent_back_reason = PlanStatus.SENT_BACK, notes
    _save(plan, acting_user=acting_user, reason="差し戻し", update_fields=["status", "sent_back_reason"])
    return item


def _end_plan(plan: SupportPlan, status: str, acting_user: User, reason: str) -> None:
    """End a plan; its agencies' 本人同意-based access to the case ends with it."""
    plan.status = status
    _save(plan, acting_user=acting_user, reason=reason, update_fields=["status"])
    consent_access_sync(case=plan.case, acting_user=acting_user, reason=f"支援プランの終了（{reason}）")


@transaction.atomic
def plan_evaluate(
    *,
    conference: PlanConference,
    plan: SupportPlan,
    acting_user: User,
    goal_results: dict[int, tuple[str, str]],
    person_change: str,
    next_step: str,
    notes: str = "",
    close_reason=None,
    suspend_reason=None,
    next_lead_agency: Agency | None = None,
) -> Evaluation:
    """評価, goal by goal, and the decision that follows: continue, revise (the plan stays in force
    until the revision is approved), close, suspend, or return to 包括的相談支援."""
    case = plan.case
    _require_plan_writer(case, acting_user)
    plan = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != PlanStatus.APPROVED:
        raise ValidationError("評価できるのは承認済みのプランです。")
    goals = list(plan.goals.all())
    if {g.pk for g in goals} != set(goal_results):
        raise ValidationError({"goal_results": "すべての短期目標について達成状況を入力してください。"})
    kind = AgendaKind.CLOSURE if next_step in (NextStep.CLOSE, NextStep.SUSPEND) else AgendaKind.EVALUATION
    item = _agenda(conference, plan, kind, acting_user, notes)
    item.outcome = next_step
    _save(item, acting_user=acting_user, update_fields=["outcome"])
    evaluation = _save(
        Evaluation(
            plan=plan,
            item=item,
            person_change=person_change,
            next_step=next_step,
            evaluated_by=acting_user,
            next_lead_agency=next_lead_agency,
        ),
        acting_user=acting_user,
    )
    GoalEvaluation.objects.bulk_create(
        [
            GoalEvaluation(evaluation=evaluation, goal_id=goal_id, result=result, comment=comment)
            for goal_id, (result, comment) in goal_results.items()
        ]
    )
    held = conference_words(conference)
    if next_step == NextStep.CLOSE:
        _end_plan(plan, PlanStatus.ENDED, acting_user, "終結")
        case_services.case_transition(
            case=case,
            to_status=CaseStatus.CLOSED,
            acting_user=acting_user,
            reason=f"{held}で終結",
            close_reason=close_reason,
            next_lead_agency=next_lead_agency,
        )
    elif next_step == NextStep.SUSPEND:
        _end_plan(plan, PlanStatus.ENDED, acting_user, "中断")
        case_services.case_transition(
            case=case,
            to_status=CaseStatus.SUSPENDED,
            acting_user=acting_user,
            reason=f"{held}で中断",
            suspend_reason=suspend_reason,
        )
    elif next_step == NextStep.RETURN:
        _end_plan(plan, PlanStatus.ENDED, acting_user, "包括的相談支援へ戻す")
        case_return(
            case=case,
            acting_user=acting_user,
            next_lead_agency=next_lead_agency,
            reason=f"{held}の評価により主担当機関が支援を継続",
        )
    return evaluation


@transaction.atomic
def resource_gap_record(
    *,
    conference: PlanConference,
    plan: SupportPlan,
    acting_user: User,
    category: str,
    description: str,
    area=None,
) -> ResourceGap:
    """社会資源の充足状況の把握と開発: a missing local resource noticed for this case. The gap joins the
    shared register (地域づくり and 参加支援先の開拓 follow it up); it names the meeting, not the person."""
    _require_plan_writer(plan.case, acting_user)
    item = AgendaItem.objects.filter(conference=conference, plan=plan, kind=AgendaKind.RESOURCES).first()
    if item is None:
        item = _agenda(conference, plan, AgendaKind.RESOURCES, acting_user, "")
    gap = ResourceGap(
        category=category,
        area=area,
        description=description,
        recorded_by=acting_user,
        source_label=f"{conference.title}（{timezone.localtime(conference.held_at):%Y-%m-%d}）",
        source_type=ContentType.objects.get_for_model(AgendaItem),
        source_id=item.pk,
    )
    return _save(gap, acting_user=acting_user, reason="重層的支援会議で把握")


@transaction.atomic
def task_update_status(
    *, task: PlanTask, acting_user: User, status: str, expected_version: int | None = None
) -> PlanTask:
    """Each agency updates the status of its own 役割分担 (the coordinator may update any); a page
    filled before someone else's update is refused (jusou.versions)."""
    if task.agency not in acting_user.agencies and not acting_user.has_role(Role.COORDINATOR):
        raise PermissionDenied("自機関の役割分担だけを更新できます。")
    if task.plan.status != PlanStatus.APPROVED:
        raise ValidationError("承認済みのプランの役割分担だけを更新できます。")
    task = PlanTask.objects.select_for_update().get(pk=task.pk)
    versions.check(task, expected_version)
    task.status = status
    return _save(task, acting_user=acting_user, reason="状況の更新", update_fields=["status"])


def plans_due_for_review(on=None):
    day = on or timezone.localdate()
    return SupportPlan.objects.filter(status=PlanStatus.APPROVED, review_on__lte=day).select_related("case")


def _remind(recipients, *, kind: str, title: str, link: str, dedupe_key: str) -> int:
    """One notification to each recipient (each active user once), deduplicated per recipient by
    `dedupe_key`: what was sent before — by an earlier run, or by this task before it was
    interrupted and retried — is not sent again. Returns how many were sent now."""
    from jusou.notifications import services as core_services

    unique = {user.pk: user for user in recipients if user is not None and user.is_active}
    sent = 0
    for user in unique.values():
        note = core_services.notification_send(
            recipient=user, kind=kind, title=title, link=link, dedupe_key=dedupe_key
        )
        sent += note is not None
    return sent


def plan_review_reminders(on=None) -> int:
    """Beat: plans whose review is due or overdue.

    - due (the review date is today or past): the coordinators, once per plan and review date;
    - overdue (the review date has passed and the plan has no 評価 yet): the coordinators and the
      case's lead worker, once per plan and review date.

    The dedupe keys make a second run the same day, or a retried task, send nothing more. Notices
    name the case number and the plan version only (no 要配慮個人情報)."""
    from cases.selectors import coordinators

    day = on or timezone.localdate()
    staff = list(coordinators())
    plans = (
        plans_due_for_review(day)
        .select_related("case__lead_worker")
        .annotate(evaluated=Exists(Evaluation.objects.filter(plan=OuterRef("pk"))))
        .order_by("review_on", "pk")
    )
    sent = 0
    for plan in plans:
        number, link, review_on = plan.case.number, plan.case.get_absolute_url(), plan.review_on
        sent += _remind(
            staff,
            kind="plan_review",
            link=link,
            dedupe_key=f"plan-review:{plan.pk}:{review_on.isoformat()}",
            title=f"支援プランの見直し期限（{number} 第{plan.version}版、{review_on:%Y-%m-%d}）",
        )
        if review_on < day and not plan.evaluated:
            sent += _remind(
                [*staff, plan.case.lead_worker],
                kind="plan_review_overdue",
                link=link,
                dedupe_key=f"plan-review-overdue:{plan.pk}:{review_on.isoformat()}",
                title=f"支援プランの見直し期限を過ぎています（{number} 第{plan.version}版、{to_wareki(review_on)}）。"
                "重層的支援会議で評価してください",
            )
    return sent


def consent_expiry_reminders(on=None) -> int:
    """Beat: 本人同意 ending within 30 days (meetings.selectors.CONSENT_AHEAD_DAYS), and again on the
    day it ends, remind the coordinators and the case's lead worker (owning agency) — once per
    consent and threshold. A consent already renewed is left alone (consents_expiring)."""
    from cases.selectors import coordinators
    from meetings.selectors import CONSENT_AHEAD_DAYS, consents_expiring

    day = on or timezone.localdate()
    staff = list(coordinators())
    sent = 0
    for consent in consents_expiring(day).select_related("case__lead_worker").order_by("expires_on", "pk"):
        number, ends = consent.case.number, consent.expires_on
        if ends == day:
            threshold, title = "0", f"本人同意の有効期限は今日（{to_wareki(ends)}）までです（{number}）"
        else:
            threshold = str(CONSENT_AHEAD_DAYS)
            title = f"本人同意の有効期限が近づいています（{number}、{to_wareki(ends)}まで）"
        sent += _remind(
            [*staff, consent.case.lead_worker],
            kind="consent_expiring",
            title=title,
            link=consent.case.get_absolute_url(),
            dedupe_key=f"consent-expiring:{consent.pk}:{threshold}:{ends.isoformat()}",
        )
    return sent


#: members who acknowledged 守秘義務 hear this many days before a 支援会議's access window ends
MEETING_WINDOW_NOTICE_DAYS = 3


def meeting_window_reminders(now=None) -> int:
    """Beat: the access window of a 支援会議 ends within MEETING_WINDOW_NOTICE_DAYS days — each
    member who acknowledged 守秘義務 (the only ones who can read it) is told once per meeting and
    window end. The notice carries the meeting's date, not its title or any case."""
    from django.urls import reverse

    now = now or timezone.now()
    pledged = ConfidentialityPledge.objects.filter(meeting=OuterRef("meeting"), user=OuterRef("user"))
    members = (
        MeetingMember.objects.filter(
            meeting__access_until__gt=now,
            meeting__access_until__lte=now + timedelta(days=MEETING_WINDOW_NOTICE_DAYS),
        )
        .filter(Exists(pledged))
        .select_related("meeting", "user")
        .order_by("meeting_id", "pk")
    )
    sent = 0
    for member in members:
        meeting = member.meeting
        until = timezone.localtime(meeting.access_until)
        sent += _remind(
            [member.user],
            kind="meeting_window",
            link=reverse("meetings:meeting_detail", args=[meeting.pk]),
            dedupe_key=f"meeting-window:{meeting.pk}:{meeting.access_until.isoformat()}",
            title=f"支援会議（{to_wareki(meeting.held_at)}開催）の資料を閲覧できるのは"
            f"{to_wareki(until)} {until:%H:%M}までです",
        )
    return sent


def guard_plan_in_force(case: Case, from_status: str, to_status: str, acting_user: User) -> None:
    """A case with an approved plan leaves 多機関協働 only through an evaluation at the 重層的支援会議
    (plan_evaluate ends the plan first)."""
    leaving = to_status in (CaseStatus.CLOSED, CaseStatus.SUSPENDED, CaseStatus.SUPPORTING)
    if leaving and SupportPlan.objects.filter(case=case, status=PlanStatus.APPROVED).exists():
        raise ValidationError(
            "承認済みの支援プランがあるケースは、重層的支援会議で評価してから終結・中断・主担当機関への返却を行ってください。"
        )


# --- 支援会議 (社会福祉法 第106条の6) ------------------------------------------------------------

PLEDGE_STATEMENT = (
    "私は、社会福祉法第106条の6第5項に基づき、この支援会議の事務に関して知り得た秘密を漏らしません。"
    "共有された情報は、この会議の目的（支援の方向性の検討）のためにだけ用い、閲覧期間の後は参照しません。"
)


@transaction.atomic
def meeting_convene(
    *,
    acting_user: User,
    held_at: datetime,
    access_from: datetime,
    access_until: datetime,
    members,
    title: str = "支援会議",
    acting_body: str = "",
) -> SupportMeeting:
    """Convene a 支援会議. The host holds it under 担当; each member is granted the meeting for the
    access window only (basis 支援会議), and still sees nothing until they acknowledge 守秘義務.
    Refused: a window wholly in the past (no member could ever read anything)."""
    _require_coordinator(acting_user)
    if access_until <= timezone.now():
        raise ValidationError(
            {"access_until": "閲覧期間がすべて過去です。終了日時を現在より後にしてください。"}
        )
    meeting = SupportMeeting(
        held_at=held_at,
        title=title,
        acting_body=acting_body,
        host=acting_user,
        access_from=access_from,
        access_until=access_until,
    )
    _save(meeting, acting_user=acting_user, reason="支援会議の招集")
    access.access_grant(
        obj=meeting,
        user=acting_user,
        on_behalf_of=acting_user.agency_in_role(Role.COORDINATOR),
        basis=AccessBasis.ASSIGNMENT,
        permissions=("view", "change"),
        acting_user=acting_user,
        reason="主催",
    )
    for member in members:
        meeting_member_add(meeting=meeting, user=member, acting_user=acting_user)
    return meeting


@transaction.atomic
def meeting_window_change(
    *, meeting: SupportMeeting, acting_user: User, access_from: datetime, access_until: datetime, reason: str
) -> SupportMeeting:
    """The host shortens or extends the access window, with the reason (in the meeting's history and
    on each member grant replaced). Each member's 支援会議 grant is replaced by one for the new window
    — revoked now and granted again, so the ledger keeps both — unless it was ended for another
    reason than its window running out (the member left their agency, say): that stays ended."""
    if meeting.host_id != acting_user.pk:
        raise PermissionDenied("閲覧期間を変更できるのは会議の主催者です。")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "閲覧期間を変更する理由を入力してください。"})
    if access_until <= access_from:
        raise ValidationError({"access_until": "閲覧期間の終了は開始より後にしてください。"})
    meeting = SupportMeeting.objects.select_for_update().get(pk=meeting.pk)
    before = (meeting.access_from, meeting.access_until)
    if before == (access_from, access_until):
        raise ValidationError("閲覧期間が変わっていません。")
    meeting.access_from, meeting.access_until = access_from, access_until
    window = f"{_when(before[0])}〜{_when(before[1])} → {_when(access_from)}〜{_when(access_until)}"
    _save(
        meeting,
        acting_user=acting_user,
        reason=f"閲覧期間の変更（{window}）: {reason}",
        update_fields=["access_from", "access_until"],
    )
    grants = AccessGrant.objects.filter(
        content_type__app_label="meetings",
        content_type__model="supportmeeting",
        object_id=meeting.pk,
        basis=AccessBasis.SUPPORT_MEETING,
    ).order_by("user_id", "-pk")
    latest = {}
    for grant in grants:
        latest.setdefault(grant.user_id, grant)
    members = MeetingMember.objects.filter(meeting=meeting).select_related("user")
    for member in members:
        grant = latest.get(member.user_id)
        ended_otherwise = (
            grant is not None and grant.revoked_at is not None and grant.revoked_at != grant.ends_at
        )
        if grant is None or ended_otherwise:
            continue
        access.access_revoke(grant=grant, acting_user=acting_user, reason=f"閲覧期間の変更: {reason}")
        access.access_grant(
            obj=meeting,
            user=member.user,
            on_behalf_of=grant.on_behalf_of,
            basis=AccessBasis.SUPPORT_MEETING,
            acting_user=acting_user,
            starts_at=access_from,
            ends_at=access_until,
            reason=f"社会福祉法第106条の6 支援会議の構成員（閲覧期間の変更: {reason}）",
        )
    return meeting


def _when(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{to_wareki(local)} {local:%H:%M}"


@transaction.atomic
def meeting_member_add(*, meeting: SupportMeeting, user: User, acting_user: User) -> MeetingMember:
    if meeting.host_id != acting_user.pk:
        raise PermissionDenied("構成員を選べるのは会議の主催者です。")
    if not user.is_active:
        raise ValidationError("利用停止中のアカウントは構成員にできません。")
    if user.is_machine:
        raise ValidationError("外部システム（API連携）のアカウントは構成員にできません。")
    if not user.get_full_name():
        raise ValidationError(
            f"氏名が登録されていないアカウント（{user.username}）は構成員にできません。システム管理者に氏名の登録を依頼してください。"
        )
    member, created = MeetingMember.objects.get_or_create(
        meeting=meeting, user=user, defaults={"added_by": acting_user}
    )
    if created:
        # Staff attend as staff of their agency (the first, if several): leaving it ends the grant. An
        # external member (民生委員 …) belongs to none; theirs is bounded by the access window alone.
        access.access_grant(
            obj=meeting,
            user=user,
            on_behalf_of=user.agencies[0] if user.agencies else None,
            basis=AccessBasis.SUPPORT_MEETING,
            acting_user=acting_user,
            starts_at=meeting.access_from,
            ends_at=meeting.access_until,
            reason="社会福祉法第106条の6 支援会議の構成員",
        )
        # The invitation carries the meeting's date and the way to the 守秘義務, not its title (hosts
        # sometimes name the household in it) and nothing of the agenda.
        opens = timezone.localtime(meeting.access_from)
        case_services.notify_once(
            [user],
            kind="meeting_invite",
            link=reverse("meetings:meeting_pledge", args=[meeting.pk]),
            skip=acting_user,
            title=f"支援会議（{to_wareki(timezone.localtime(meeting.held_at))}開催）の構成員に選ばれました。"
            "守秘義務を確認してください",
            body=f"資料は守秘義務の確認の後、{to_wareki(opens)} {opens:%H:%M}から閲覧できます。",
            dedupe_key=f"meeting-invite:{meeting.pk}",
        )
    return member


@transaction.atomic
def pledge_acknowledge(*, meeting: SupportMeeting, acting_user: User) -> ConfidentialityPledge:
    """守秘義務の確認, timestamped, once per member and meeting."""
    if not MeetingMember.objects.filter(meeting=meeting, user=acting_user).exists():
        raise PermissionDenied("この支援会議の構成員ではありません。")
    pledge, _ = ConfidentialityPledge.objects.get_or_create(
        meeting=meeting, user=acting_user, defaults={"statement": PLEDGE_STATEMENT}
    )
    return pledge


#: the first format's section names, still accepted by briefing_share: each is read as the category it
#: belongs to (a household member then appears with their place in the household only)
LEGACY_SECTIONS = {
    "summary": InformationCategory.ISSUES,
    "household": InformationCategory.HOUSEHOLD,
    "issues": InformationCategory.ISSUES,
    "risks": InformationCategory.ISSUES,
}


@transaction.atomic
def briefing_share(
    *,
    meeting: SupportMeeting,
    case: Case,
    acting_user: User,
    categories=None,
    members: dict | None = None,
    external_named: bool = False,
    pseudonymised: bool = False,
    previewed: str = "",
    sections=None,
) -> MeetingBriefing:
    """Put a case on the agenda with what the host chose, item by item (meetings.briefings), frozen as
    it is now: members never see the live case, and later changes to the case do not reach them.

    Invariants: the case's `categories` and each household member's own (`members`: person id → their
    categories; None: every member with their place in the household only) are narrowed to what the
    host may see; a member's 病歴・障害・虐待 goes only where it was chosen for that member; external
    members get the pseudonymised rendering unless `external_named`; both renderings come from
    jusou.access.fieldpolicy.project. With `previewed` (the digest of the preview the host saw), content
    that changed since is refused, so what is frozen is what was previewed. `sections` (the first
    format's names) is read as categories."""
    from cases.selectors import case_get_for_user

    if meeting.host_id != acting_user.pk:
        raise PermissionDenied("資料を共有できるのは会議の主催者です。")
    case = case_get_for_user(acting_user, case.pk)
    wanted = set(categories or ()) | {LEGACY_SECTIONS[s] for s in sections or () if s in LEGACY_SECTIONS}
    options = briefings.member_options(acting_user, case)
    if members is None:
        chosen_members = briefings.default_choice(options).members
    else:
        chosen_members = {int(pk): frozenset(cats) for pk, cats in members.items()}
    choice = briefings.choice_clamp(
        acting_user,
        case,
        briefings.BriefingChoice(frozenset(wanted), chosen_members, external_named, pseudonymised),
        options,
    )
    if not choice.categories:
        raise ValidationError({"categories": "共有する情報の範囲を選んでください。"})
    if MeetingBriefing.objects.filter(meeting=meeting, case=case).exists():
        raise ValidationError("このケースはすでにこの会議の議題です。")
    rendering = briefings.render_both(case, choice)
    if previewed and previewed != rendering.digest:
        raise ValidationError(
            "プレビューの後に共有する内容が変わりました。もう一度プレビューで確認してから共有してください。"
        )
    briefing = MeetingBriefing(
        meeting=meeting,
        case=case,
        sections=rendering.staff,
        external_sections=rendering.external,
        choice=choice.as_json(),
        pseudonymised=choice.pseudonymised,
        shared_by=acting_user,
    )
    return _save(briefing, acting_user=acting_user, reason="支援会議への情報共有（本人同意なし・守秘義務）")


@transaction.atomic
def meeting_decision_record(
    *, briefing: MeetingBriefing, acting_user: User, kind: str, text: str
) -> MeetingDecision:
    if briefing.meeting.host_id != acting_user.pk:
        raise PermissionDenied("決定を記録できるのは会議の主催者です。")
    decision = MeetingDecision(briefing=briefing, kind=kind, text=text, recorded_by=acting_user)
    return _save(decision, acting_user=acting_user)


@transaction.atomic
def meeting_minutes_update(*, meeting: SupportMeeting, acting_user: User, minutes: str) -> SupportMeeting:
    if meeting.host_id != acting_user.pk:
        raise PermissionDenied("議事録を記録できるのは会議の主催者です。")
    meeting = SupportMeeting.objects.select_for_update().get(pk=meeting.pk)
    meeting.minutes = minutes
    return _save(meeting, acting_user=acting_user, reason="議事録", update_fields=["minutes"])


def _coverage_end(case: Case, agency: Agency):
    """Until when valid consents of the person cover `agency`: None for open-ended, False if not at all."""
    consents = list(Consent.objects.valid().filter(case=case, person_id=case.person_id, recipients=agency))
    if not consents:
        return False
    if any(c.expires_on is None for c in consents):
        return None
    last = max(c.expires_on for c in consents)
    return timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))


@transaction.atomic
def consent_access_sync(*, case: Case, acting_user: User, reason: str) -> None:
    """Make the 本人同意-based grants on the case match the facts: each agency in the approved plan's
    役割分担 holds a grant exactly while a valid consent names it, ending when the consent expires
    (so access stops at the expiry when the query runs); every other 本人同意 grant is revoked."""
    approved = SupportPlan.objects.filter(case=case, status=PlanStatus.APPROVED).first()
    wanted = {
        agency.pk: _coverage_end(case, agency) for agency in (plan_agencies(approved) if approved else [])
    }
    grants = AccessGrant.objects.valid().filter(
        content_type__app_label="cases",
        content_type__model="case",
        object_id=case.pk,
        basis=AccessBasis.CONSENT,
    )
    held = {}
    for grant in grants:
        end = wanted.get(grant.agency_id, False)
        if end is False or grant.ends_at != end or grant.agency_id in held:
            access.access_revoke(grant=grant, acting_user=acting_user, reason=reason)
        else:
            held[grant.agency_id] = grant
    for agency_id, end in wanted.items():
        if end is not False and agency_id not in held:
            access.access_grant(
                obj=case,
                agency=Agency.objects.get(pk=agency_id),
                basis=AccessBasis.CONSENT,
                acting_user=acting_user,
                ends_at=end,
                reason=f"{reason}（本人同意の範囲内）",
            )
