"""Writes in 地域づくり. Every change names its actor (and a reason) in the history.

Who may do what (the rules are read from community.selectors, so pages, API and services agree):
- register a place: 相談員, 相談支援包括化推進員, 地域福祉担当; a 相談員's place is run by their own agency
  unless a keeper of the register says otherwise;
- change or deactivate a place (deactivating needs a reason): its agency's 相談員 (a 担当 "change" grant
  to the 運営する機関), the 相談支援包括化推進員 and 地域福祉担当; supervisors read only;
- record sessions of a place: those who may change it; platforms, the coordinator log and gaps: the
  recorders (相談員, 推進員, 地域福祉担当);
- note a gap: the recorders; move a gap's status: the 推進員 and 地域福祉担当 only (a 開拓 recorded
  from a noted gap moves it to 検討中 for any recorder: gap_development_begun); name a place as
  answering a gap: the 推進員 and 地域福祉担当 for any place, a 相談員 for a place they may change;
- correct or remove a session, platform or log entry: its author or a 相談支援包括化推進員, within
  CORRECTION_WINDOW of recording it.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from community import selectors
from community.models import Activity, CommunityResource, CoordinatorActivity, Platform
from jusou import versions
from jusou.access import grants as access
from jusou.models import AccessBasis, Agency, ResourceGap, ResourceGapStatus, Role, User
from jusou.services import save_with_history as _save

GAP_TRANSITIONS = {
    ResourceGapStatus.NOTED: {ResourceGapStatus.CONSIDERING},
    ResourceGapStatus.CONSIDERING: {ResourceGapStatus.DEVELOPED, ResourceGapStatus.NOTED},
    ResourceGapStatus.DEVELOPED: set(),
}
#: how long after recording a session, platform or log entry its author (or a 推進員) may correct or
#: remove it; after that it stands as part of the year's figures
CORRECTION_WINDOW = timedelta(days=30)
OPERATOR_GRANT_REASON = "運営する機関（地域資源の更新）"


def require_editor(user: User) -> None:
    """May record 地域づくり work at all (platforms, the coordinator log, gaps, 開拓 candidates)."""
    if not selectors.can_record(user):
        raise PermissionDenied("地域づくりの記録は相談員・相談支援包括化推進員・地域福祉担当が行います。")


def require_gap_mover(user: User) -> None:
    if not selectors.gap_can_move(user):
        raise PermissionDenied(
            "不足する社会資源の状況を変えられるのは、相談支援包括化推進員と地域福祉担当です。"
        )


def require_gap_link(user: User, resource: CommunityResource) -> None:
    if not selectors.gap_can_link(user, resource):
        raise PermissionDenied(
            "この地域資源を更新できるのは、運営する機関の職員、相談支援包括化推進員、地域福祉担当です。"
        )


def require_resource_change(user: User, resource: CommunityResource) -> None:
    if not selectors.resource_can_change(user, resource):
        raise PermissionDenied(
            "この地域資源を更新できるのは、運営する機関の職員、相談支援包括化推進員、地域福祉担当です。"
        )


@transaction.atomic
def resource_save(
    *, acting_user: User, resource: CommunityResource | None = None, reason: str = "", **fields
) -> CommunityResource:
    """Register a resource (`resource` None) or update one; the previous values stay in history.

    Invariants: only those who may change the place change it; its 運営する機関 is changed only by a
    keeper of the register (a 相談員 registers for their own agency); that agency holds the 担当
    "change" grant and no former one does; a place becomes inactive only with a reason
    (`inactive_reason`, also the history's reason), and a reactivated one loses it."""
    require_editor(acting_user)
    keeper = selectors.keeps_whole_register(acting_user)
    if resource is None:
        if "operating_agency" not in fields and not keeper and acting_user.agencies:
            fields["operating_agency"] = acting_user.agencies[0]
        # a place registered as already closed needs no reason: nothing was deactivated
        resource, previous_agency_id, was_active = CommunityResource(), None, False
    else:
        resource = CommunityResource.objects.select_for_update().get(pk=resource.pk)
        require_resource_change(acting_user, resource)
        previous_agency_id, was_active = resource.operating_agency_id, resource.is_active
    agency = fields.get("operating_agency", resource.operating_agency)
    agency_id = agency.pk if isinstance(agency, Agency) else agency
    if agency_id != previous_agency_id and not keeper:
        if resource.pk is not None or agency_id not in {a.pk for a in acting_user.agencies}:
            raise ValidationError(
                {"operating_agency": "運営する機関を変えられるのは相談支援包括化推進員と地域福祉担当です。"}
            )
    gaps = fields.pop("gaps_answered", None)
    for name, value in fields.items():
        setattr(resource, name, value)
    if resource.accepts_participants and not resource.participation_kinds:
        raise ValidationError(
            {"participation_kinds": "受け入れる場合は、受け入れできる参加支援の種類を選んでください。"}
        )
    deactivating = was_active and not resource.is_active
    if deactivating:
        resource.inactive_reason = (fields.get("inactive_reason") or reason or "").strip()
        if not resource.inactive_reason:
            raise ValidationError({"inactive_reason": "休止・終了にする理由を入力してください。"})
    elif resource.is_active:
        resource.inactive_reason = ""
    if deactivating:
        why = f"休止・終了: {resource.inactive_reason}"
    else:
        why = reason or ("地域資源の登録" if resource.pk is None else "地域資源の更新")
    _save(resource, acting_user=acting_user, reason=why)
    if gaps:
        _link(resource, gaps, acting_user=acting_user)
    if agency_id != previous_agency_id:
        _operator_grant_sync(resource, previous_agency_id, acting_user=acting_user)
    return resource


def _operator_grant_sync(
    resource: CommunityResource, previous_agency_id: int | None, *, acting_user: User
) -> None:
    """The 運営する機関 holds the "change" grant on its place (jusou.access.grants, as every record's writers do)."""
    if previous_agency_id is not None:
        access.access_revoke_for(
            obj=resource,
            acting_user=acting_user,
            reason="運営する機関の変更",
            agency_id=previous_agency_id,
            basis=AccessBasis.ASSIGNMENT,
        )
    if resource.operating_agency_id is not None:
        access.access_grant(
            obj=resource,
            agency=resource.operating_agency,
            basis=AccessBasis.ASSIGNMENT,
            permissions=("change",),
            acting_user=acting_user,
            reason=OPERATOR_GRANT_REASON,
        )


# --- sessions, platforms, the coordinator log ----------------------------------------------------------


@transaction.atomic
def activity_record(*, acting_user: User, resource: CommunityResource, **fields) -> Activity:
    require_resource_change(acting_user, resource)
    return _save(Activity(recorded_by=acting_user, resource=resource, **fields), acting_user=acting_user)


@transaction.atomic
def platform_record(*, acting_user: User, **fields) -> Platform:
    require_editor(acting_user)
    return _save(Platform(recorded_by=acting_user, **fields), acting_user=acting_user)


@transaction.atomic
def coordinator_activity_record(*, acting_user: User, **fields) -> CoordinatorActivity:
    require_editor(acting_user)
    return _save(CoordinatorActivity(recorded_by=acting_user, **fields), acting_user=acting_user)


def record_can_correct(user: User, record) -> bool:
    """Its author or a 相談支援包括化推進員, within CORRECTION_WINDOW of recording."""
    mine = record.recorded_by_id == user.pk and selectors.can_record(user)
    return (
        mine or user.has_role(Role.COORDINATOR)
    ) and timezone.now() - record.recorded_at <= CORRECTION_WINDOW


def _require_correctable(user: User, record) -> None:
    if record.recorded_by_id != user.pk and not user.has_role(Role.COORDINATOR):
        raise PermissionDenied("訂正・削除できるのは、記録した職員と相談支援包括化推進員です。")
    if not record_can_correct(user, record):
        raise ValidationError(f"記録から{CORRECTION_WINDOW.days}日を過ぎた記録は訂正・削除できません。")


CORRECTABLE = {"activity": Activity, "platform": Platform, "coordinator": CoordinatorActivity}
FIXED_FIELDS = {"id", "resource", "recorded_by", "recorded_at"}


@transaction.atomic
def record_correct(
    *, record, acting_user: User, reason: str = "", expected_version: int | None = None, **fields
):
    """Correct a session, platform or log entry; the previous values stay in history with the reason.
    A page filled before someone else's correction is refused (jusou.versions)."""
    record = type(record).objects.select_for_update().get(pk=record.pk)
    _require_correctable(acting_user, record)
    versions.check(record, expected_version)
    for name, value in fields.items():
        if name in FIXED_FIELDS:
            raise ValidationError(f"{name} は訂正できません。")
        setattr(record, name, value)
    return _save(
        record, acting_user=acting_user, reason=f"訂正: {reason.strip()}" if reason.strip() else "訂正"
    )


@transaction.atomic
def record_remove(*, record, acting_user: User, reason: str) -> None:
    """Remove a session, platform or log entry recorded in error; the history keeps it, with who
    removed it and why."""
    record = type(record).objects.select_for_update().get(pk=record.pk)
    _require_correctable(acting_user, record)
    if not reason.strip():
        raise ValidationError({"reason": "削除の理由を入力してください。"})
    record._history_user = acting_user
    record._change_reason = f"削除: {reason.strip()}"
    record.delete()


# --- gaps ---------------------------------------------------------------------------------------------


@transaction.atomic
def gap_record(*, acting_user: User, category: str, description: str, area=None) -> ResourceGap:
    """A gap noticed in 地域づくり itself (gaps from the 重層的支援会議 arrive through meetings)."""
    require_editor(acting_user)
    gap = ResourceGap(
        category=category,
        description=description,
        area=area,
        recorded_by=acting_user,
        source_label="地域づくり",
    )
    return _save(gap, acting_user=acting_user, reason="地域づくりで把握")


def _link(resource: CommunityResource, gaps, *, acting_user: User) -> None:
    """Add gaps a resource answers: never removes a link (a resource may answer several gaps)."""
    new = [gap for gap in gaps if not resource.gaps_answered.filter(pk=gap.pk).exists()]
    if not new:
        return
    resource._history_user = acting_user
    resource._change_reason = "不足する社会資源に応える: " + "、".join(gap.category for gap in new)
    resource.gaps_answered.add(*new)


@transaction.atomic
def gap_advance(
    *,
    gap: ResourceGap,
    to_status: str,
    acting_user: User,
    reason: str = "",
    resources=(),
    resource: CommunityResource | None = None,
) -> ResourceGap:
    """把握 → 検討中 → 開発済 (and 検討中 → 把握), by the keepers of the register. 開発済 names the
    resource(s) that answer the gap; they are added to what each already answers, and no other gap
    loses its resource."""
    require_gap_mover(acting_user)
    return _gap_move(
        gap=gap,
        to_status=to_status,
        acting_user=acting_user,
        reason=reason,
        answering=[*resources, *([resource] if resource is not None else [])],
    )


@transaction.atomic
def gap_development_begun(*, gap: ResourceGap, acting_user: User, reason: str) -> None:
    """A 開拓 recorded from a gap still 把握 moves it to 検討中: any recorder may start a 開拓, and
    that it has begun is a fact, not a decision about the gap."""
    require_editor(acting_user)
    if ResourceGap.objects.filter(pk=gap.pk, status=ResourceGapStatus.NOTED).exists():
        _gap_move(
            gap=gap,
            to_status=ResourceGapStatus.CONSIDERING,
            acting_user=acting_user,
            reason=reason,
            answering=[],
        )


def _gap_move(*, gap: ResourceGap, to_status: str, acting_user: User, reason: str, answering) -> ResourceGap:
    gap = ResourceGap.objects.select_for_update().get(pk=gap.pk)
    if to_status not in GAP_TRANSITIONS[gap.status]:
        raise ValidationError(
            f"「{gap.get_status_display()}」から「{ResourceGapStatus(to_status).label}」には変更できません。"
        )
    if to_status == ResourceGapStatus.DEVELOPED:
        if not answering:
            raise ValidationError(
                {"resources": "開発済にするには、この不足に応える地域資源を選んでください。"}
            )
        for each in answering:
            _link(each, [gap], acting_user=acting_user)
    gap.status = to_status
    return _save(gap, acting_user=acting_user, reason=reason or ResourceGapStatus(to_status).label)


@transaction.atomic
def gap_link(*, gap: ResourceGap, resources, acting_user: User) -> ResourceGap:
    """Name one more resource that answers a gap already 開発済 (or being considered): each one a place
    the user may name (selectors.gap_can_link), or nothing is linked."""
    require_editor(acting_user)
    if not resources:
        raise ValidationError({"resources": "この不足に応える地域資源を選んでください。"})
    for each in resources:
        require_gap_link(acting_user, each)
    for each in resources:
        _link(each, [gap], acting_user=acting_user)
    return gap
