"""Writes in 地域づくり. Staff working in the programme (相談員, 推進員) keep the register; every change
names its actor in the history."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from community.models import Activity, CommunityResource, CoordinatorActivity, Platform
from jusou.models import ResourceGap, ResourceGapStatus, Role, User
from jusou.services import save_with_history as _save

GAP_TRANSITIONS = {
    ResourceGapStatus.NOTED: {ResourceGapStatus.CONSIDERING},
    ResourceGapStatus.CONSIDERING: {ResourceGapStatus.DEVELOPED, ResourceGapStatus.NOTED},
    ResourceGapStatus.DEVELOPED: set(),
}


def require_editor(user: User) -> None:
    if not user.roles & {Role.WORKER, Role.COORDINATOR}:
        raise PermissionDenied("地域資源の登録・更新は相談員または相談支援包括化推進員が行います。")


@transaction.atomic
def resource_save(
    *, acting_user: User, resource: CommunityResource | None = None, **fields
) -> CommunityResource:
    """Register a resource or update one (the previous values stay in history)."""
    require_editor(acting_user)
    resource = (
        CommunityResource()
        if resource is None
        else CommunityResource.objects.select_for_update().get(pk=resource.pk)
    )
    for name, value in fields.items():
        setattr(resource, name, value)
    if resource.accepts_participants and not resource.participation_kinds:
        raise ValidationError(
            {"participation_kinds": "受け入れる場合は、受け入れできる参加支援の種類を選んでください。"}
        )
    return _save(resource, acting_user=acting_user, reason="地域資源の登録・更新")


@transaction.atomic
def activity_record(*, acting_user: User, **fields) -> Activity:
    require_editor(acting_user)
    return _save(Activity(recorded_by=acting_user, **fields), acting_user=acting_user)


@transaction.atomic
def platform_record(*, acting_user: User, **fields) -> Platform:
    require_editor(acting_user)
    return _save(Platform(recorded_by=acting_user, **fields), acting_user=acting_user)


@transaction.atomic
def coordinator_activity_record(*, acting_user: User, **fields) -> CoordinatorActivity:
    require_editor(acting_user)
    return _save(CoordinatorActivity(recorded_by=acting_user, **fields), acting_user=acting_user)


@transaction.atomic
def gap_record(*, acting_user: User, category: str, description: str, area=None) -> ResourceGap:
    """A gap noticed in 地域づくり itself (gaps from the 重層的支援会議 arrive through meetings)."""
    require_editor(acting_user)
    gap = ResourceGap(category=category, description=description, area=area, recorded_by=acting_user,
                      source_label="地域づくり")  # fmt: skip
    return _save(gap, acting_user=acting_user, reason="地域づくりで把握")


@transaction.atomic
def gap_advance(
    *,
    gap: ResourceGap,
    to_status: str,
    acting_user: User,
    reason: str,
    resource: CommunityResource | None = None,
) -> ResourceGap:
    """把握 → 検討中 → 開発済. 開発済 names the new resource that fills the gap."""
    require_editor(acting_user)
    gap = ResourceGap.objects.select_for_update().get(pk=gap.pk)
    if to_status not in GAP_TRANSITIONS[gap.status]:
        raise ValidationError(
            f"「{gap.get_status_display()}」から「{ResourceGapStatus(to_status).label}」には変更できません。"
        )
    if to_status == ResourceGapStatus.DEVELOPED:
        if resource is None:
            raise ValidationError({"resource": "開発済にするには、新しく生まれた地域資源を選んでください。"})
        resource_save(acting_user=acting_user, resource=resource, developed_for_gap=gap)
    gap.status = to_status
    return _save(gap, acting_user=acting_user, reason=reason or ResourceGapStatus(to_status).label)
