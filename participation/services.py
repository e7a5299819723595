"""Writes in 参加支援. Person-level records follow their case: who may change the case may change them."""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q

from cases.models import Case
from cases.selectors import case_can_change
from community import services as community_services
from community.models import CommunityResource, ParticipationKind
from community.occupancy import with_places_left
from community.selectors import AreaTree
from jusou import versions
from jusou.models import ResourceGap, ResourceGapStatus, User
from jusou.services import save_with_history as _save
from participation import selectors
from participation.models import (
    CANDIDATE_TRANSITIONS,
    PLACEMENT_TRANSITIONS,
    CandidateOutcome,
    FollowUp,
    HostCandidate,
    ParticipationPlan,
    Placement,
    PlacementStatus,
    Proposal,
)


def _require_case_writer(case: Case, user: User) -> None:
    if not case_can_change(user, case):
        raise PermissionDenied("このケースを更新する権限がありません。")


@transaction.atomic
def plan_create(*, case: Case, acting_user: User, kinds: list[str], **fields) -> ParticipationPlan:
    _require_case_writer(case, acting_user)
    if not case.is_open:
        raise ValidationError("終結・中断したケースには参加支援プランを作成できません。")
    if not kinds or not set(kinds) <= set(ParticipationKind.values):
        raise ValidationError({"kinds": "希望する参加の種類を選んでください。"})
    plan = ParticipationPlan(case=case, kinds=list(kinds), created_by=acting_user, **fields)
    return _save(plan, acting_user=acting_user, reason="参加支援プランの作成")


def match_hosts(plan: ParticipationPlan, *, area=None, day: int | None = None) -> list[CommunityResource]:
    """Active hosts that accept participants of a kind the person seeks, optionally in an area (and every
    圏域 below it) and on a weekday, and that still have places left (capacity − active placements; a
    capacity of 0 is 「受け入れ停止」 and never matches). Each carries `places_left`."""
    hosts = CommunityResource.objects.filter(is_active=True, accepts_participants=True).select_related("area")
    hosts = with_places_left(hosts).filter(Q(capacity__isnull=True) | Q(capacity__gt=F("active_placements")))
    if area is not None:
        hosts = hosts.filter(area_id__in=AreaTree.load().subtree_ids(area.pk))
    wanted = set(plan.kinds)
    # JSON list overlap, portable across SQLite and PostgreSQL: filter in Python on a bounded set.
    out = [h for h in hosts.order_by("area__code", "name")[:500] if wanted & set(h.participation_kinds)]
    if day is not None:
        out = [h for h in out if day in h.days]
    return out


@transaction.atomic
def proposal_record(*, plan: ParticipationPlan, host: CommunityResource, acting_user: User) -> Proposal:
    _require_case_writer(plan.case, acting_user)
    if host not in match_hosts(plan):
        raise ValidationError("この参加先は条件に合わないか、受け入れの余裕がありません。")
    return _save(
        Proposal(plan=plan, host=host, proposed_by=acting_user),
        acting_user=acting_user,
        reason="参加先の提案",
    )


@transaction.atomic
def proposal_answer(
    *, proposal: Proposal, acting_user: User, person_choice: str, host_agreement: str
) -> Proposal:
    _require_case_writer(proposal.plan.case, acting_user)
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    proposal.person_choice, proposal.host_agreement = person_choice, host_agreement
    return _save(proposal, acting_user=acting_user, reason="本人の選択・受け入れ先の了承")


@transaction.atomic
def placement_start(
    *, proposal: Proposal, acting_user: User, starts_on: date, frequency: str = "", host_contact: str = ""
) -> Placement:
    """Start a placement once the person wants it and the host has agreed."""
    _require_case_writer(proposal.plan.case, acting_user)
    proposal = Proposal.objects.select_for_update().select_related("plan", "host").get(pk=proposal.pk)
    if proposal.person_choice != "wants" or proposal.host_agreement != "agreed":
        raise ValidationError("本人が希望し、受け入れ先が了承した提案から参加先を決めてください。")
    placement = Placement(
        plan=proposal.plan,
        host=proposal.host,
        starts_on=starts_on,
        frequency=frequency,
        host_contact=host_contact,
    )
    return _save(placement, acting_user=acting_user, reason="参加先の決定（調整中）")


@transaction.atomic
def placement_move(*, placement: Placement, acting_user: User, to_status: str, reason: str = "") -> Placement:
    """調整中 → 体験中 → 定着 → 終了 (with reason); other moves are refused."""
    _require_case_writer(placement.plan.case, acting_user)
    placement = Placement.objects.select_for_update().get(pk=placement.pk)
    if to_status not in PLACEMENT_TRANSITIONS[placement.status]:
        raise ValidationError(
            f"「{placement.get_status_display()}」から「{PlacementStatus(to_status).label}」には変更できません。"
        )
    if to_status == PlacementStatus.ENDED:
        if not reason.strip():
            raise ValidationError({"reason": "終了の理由を入力してください。"})
        placement.end_reason = reason
    placement.status = to_status
    return _save(placement, acting_user=acting_user, reason=reason or PlacementStatus(to_status).label)


@transaction.atomic
def follow_up_record(
    *, placement: Placement, acting_user: User, done_on: date, with_whom: str, content: str
) -> FollowUp:
    _require_case_writer(placement.plan.case, acting_user)
    follow_up = FollowUp(
        placement=placement, done_on=done_on, with_whom=with_whom, content=content, recorded_by=acting_user
    )
    return _save(follow_up, acting_user=acting_user)


CANDIDATE_FIELDS = (
    "name",
    "kind",
    "area",
    "operator",
    "schedule",
    "days",
    "contact",
    "participation_kinds",
    "acceptance_conditions",
    "capacity",
    "approached_on",
    "note",
)


@transaction.atomic
def _require_candidate_change(user: User, candidate: HostCandidate) -> None:
    if not selectors.candidate_can_change(user, candidate):
        raise PermissionDenied(
            "開拓の記録を更新できるのは、開拓した職員、相談支援包括化推進員、地域福祉担当です。"
        )


@transaction.atomic
def candidate_record(*, acting_user: User, gap: ResourceGap | None = None, **fields) -> HostCandidate:
    """Record a place approached to become a host. Opened from a gap not yet considered, the gap moves
    to 検討中 (its 開拓 has begun)."""
    community_services.require_editor(acting_user)
    outcome = fields.pop("outcome", CandidateOutcome.NEGOTIATING)
    candidate = HostCandidate(approached_by=acting_user, gap=gap, **fields)
    candidate.outcome = outcome
    _save(candidate, acting_user=acting_user, reason="開拓の記録")
    if gap is not None:
        community_services.gap_development_begun(
            gap=gap, acting_user=acting_user, reason=f"参加支援先の開拓を開始（{candidate.name}）"
        )
    return candidate


@transaction.atomic
def candidate_update(
    *, candidate: HostCandidate, acting_user: User, expected_version: int | None = None, **fields
) -> HostCandidate:
    """Correct or complete a candidate's record (the previous values stay in history); a page filled
    before someone else's change is refused (jusou.versions)."""
    community_services.require_editor(acting_user)
    candidate = HostCandidate.objects.select_for_update().get(pk=candidate.pk)
    _require_candidate_change(acting_user, candidate)
    versions.check(candidate, expected_version)
    for name, value in fields.items():
        if name not in CANDIDATE_FIELDS:
            raise ValidationError(f"{name} はここでは変更できません。")
        setattr(candidate, name, value)
    return _save(candidate, acting_user=acting_user, reason="開拓の記録の更新")


@transaction.atomic
def candidate_move(
    *, candidate: HostCandidate, acting_user: User, to_outcome: str, reason: str = ""
) -> HostCandidate:
    """交渉中 ⇄ 受け入れ可 ⇄ 受け入れ不可, every way (CANDIDATE_TRANSITIONS); a joined candidate stays."""
    community_services.require_editor(acting_user)
    candidate = HostCandidate.objects.select_for_update().get(pk=candidate.pk)
    _require_candidate_change(acting_user, candidate)
    if candidate.resource_id:
        raise ValidationError(
            "地域資源に登録した開拓先の結果は変えられません。地域資源の側で休止・終了にしてください。"
        )
    if to_outcome not in CANDIDATE_TRANSITIONS[candidate.outcome]:
        raise ValidationError(
            f"「{candidate.get_outcome_display()}」から「{CandidateOutcome(to_outcome).label}」には変更できません。"
        )
    candidate.outcome = to_outcome
    label = CandidateOutcome(to_outcome).label
    return _save(
        candidate, acting_user=acting_user, reason=f"{label}: {reason.strip()}" if reason.strip() else label
    )


@transaction.atomic
def candidate_join(
    *, candidate: HostCandidate, acting_user: User, close_gap: bool = False, **fields
) -> CommunityResource:
    """A candidate that accepts participants joins the community register with every field it holds
    (名称, 種別, 圏域, 運営主体, 曜日・時間帯, 連絡先, 受け入れ条件・種類, 上限); `fields` given at joining
    (the join form, prefilled from the candidate) complete or correct them on both. With `close_gap` the
    gap it was opened from is closed as 開発済 with the new resource (others answering it stay)."""
    community_services.require_editor(acting_user)
    if close_gap:  # closing the gap is a decision about the gap: the register's keepers make it
        community_services.require_gap_mover(acting_user)
    candidate = HostCandidate.objects.select_for_update().get(pk=candidate.pk)
    _require_candidate_change(acting_user, candidate)
    if candidate.resource_id:
        raise ValidationError("この開拓先はすでに地域資源に登録されています。")
    if candidate.outcome == CandidateOutcome.DECLINED:
        raise ValidationError(
            "受け入れ不可の開拓先は登録できません。先に結果を「交渉中」か「受け入れ可」に戻してください。"
        )
    for name, value in fields.items():
        if name not in CANDIDATE_FIELDS:
            raise ValidationError(f"{name} はここでは変更できません。")
        setattr(candidate, name, value)
    if not candidate.participation_kinds:
        raise ValidationError({"participation_kinds": "受け入れできる参加支援の種類を選んでください。"})
    resource = community_services.resource_save(
        # run by the host itself, not by the staff member's agency: the register's keepers maintain it
        acting_user=acting_user,
        reason="参加支援先の開拓から登録",
        operating_agency=None,
        name=candidate.name,
        kind=candidate.kind,
        area=candidate.area,
        operator=candidate.operator,
        schedule=candidate.schedule,
        days=list(candidate.days),
        contact=candidate.contact,
        accepts_participants=True,
        participation_kinds=list(candidate.participation_kinds),
        acceptance_conditions=candidate.acceptance_conditions,
        capacity=candidate.capacity,
        is_partner=True,
    )
    candidate.outcome, candidate.resource = CandidateOutcome.ACCEPTED, resource
    _save(candidate, acting_user=acting_user, reason="地域資源に登録")
    gap = candidate.gap
    if close_gap and gap is not None and gap.status != ResourceGapStatus.DEVELOPED:
        if gap.status == ResourceGapStatus.NOTED:
            community_services.gap_advance(
                gap=gap,
                to_status=ResourceGapStatus.CONSIDERING,
                acting_user=acting_user,
                reason="参加支援先の開拓",
            )
        community_services.gap_advance(
            gap=gap,
            to_status=ResourceGapStatus.DEVELOPED,
            acting_user=acting_user,
            reason=f"参加支援先の開拓で{resource.name}が受け入れ",
            resources=[resource],
        )
    return resource
