"""Staff accounts and their memberships of agencies; API clients."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from jusou import registry
from jusou.access import grants as access
from jusou.ja.wareki import to_wareki
from jusou.models import AccessGrant, Agency, ApiClient, ApiScope, Role, StaffMembership, User
from jusou.notifications.services import notification_send
from jusou.services import save_with_history
from jusou.staff.roles import ensure_system_admin_group
from jusou.staff.selectors import active_supervisors


@transaction.atomic
def membership_grant(
    *,
    user: User,
    agency: Agency | None,
    role: str,
    acting_user: User | None,
    started_on: date | None = None,
    source: str = "",
    reason: str = "",
) -> StaffMembership:
    """Give `user` a role at `agency` from `started_on` (today by default).

    Invariants: a システム管理者 membership, and only that, opens the Django admin (`is_staff`); an
    external 支援会議 member has a name (it is how the other members and the minutes know them).
    """
    membership = StaffMembership(
        user=user, agency=agency, role=role, started_on=started_on or timezone.localdate(), source=source
    )
    membership.full_clean()
    membership._history_user = acting_user
    membership._change_reason = reason
    membership.save()
    admin_access_sync(user=user, acting_user=acting_user)
    return membership


@transaction.atomic
def external_member_register(
    *,
    username: str,
    last_name: str,
    first_name: str = "",
    email: str = "",
    password: str,
    acting_user: User | None,
) -> User:
    """An external 支援会議 member (民生委員, 住民, a doctor …) in one step: the account, with a name,
    and its 支援会議の構成員（外部） membership (no agency: it sees only the meetings it is a member of,
    once it has acknowledged 守秘義務)."""
    user = User(
        username=username.strip(),
        last_name=last_name.strip(),
        first_name=first_name.strip(),
        email=email.strip(),
        is_active=True,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user._history_user = acting_user
    user.save()
    membership_grant(user=user, agency=None, role=Role.MEETING_MEMBER, acting_user=acting_user)
    return user


MEMBERSHIP_ENDED = "所属終了"


@transaction.atomic
def membership_end(
    *, membership: StaffMembership, acting_user: User | None, ended_on: date | None = None, reason: str = ""
) -> None:
    """End a membership from `ended_on` (today by default): from that day it grants nothing.

    Invariants: the personal grants given on behalf of the agency (a worker's 担当 as 主担当者, a
    coordinator's つなぎ) end with it — at once when the day has come (ledger rows revoked 「所属終了」,
    guardian rows dropped), otherwise on that day, when visible_q stops them and beat tidies the
    ledger (membership_grants_end_due) — unless another membership at the same agency goes on. The
    agency's 管理者 (or, if it has none, the municipality's) are told what the worker leaves behind
    there (the open cases they lead …, jusou.registry.departure_handovers); nobody else is made
    主担当者 silently.
    """
    membership = StaffMembership.objects.select_for_update().get(pk=membership.pk)
    if membership.ended_on is not None and membership.ended_on <= timezone.localdate():
        raise ValidationError("この所属はすでに終了しています。")
    membership.ended_on = ended_on or timezone.localdate()
    membership.full_clean()
    membership._history_user = acting_user
    membership._change_reason = reason
    membership.save(update_fields=["ended_on"])
    admin_access_sync(user=membership.user, acting_user=acting_user)
    if membership.agency is None:
        return  # a システム管理者 or an external 支援会議 member: no grant is given on behalf of no agency
    if membership.ended_on <= timezone.localdate():
        _personal_grants_end(user=membership.user, agency=membership.agency, acting_user=acting_user)
    _departure_tell_managers(membership=membership)


def _live_grants():
    """Grants not revoked and not run out, including those whose period has not begun yet (a 支援会議
    window next week): ending a membership ends those too."""
    now = timezone.now()
    return AccessGrant.objects.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now), revoked_at__isnull=True)


def _personal_grants_end(*, user: User, agency: Agency, acting_user: User | None) -> int:
    """Revoke the user's personal grants given on behalf of `agency`, unless they still work there."""
    if StaffMembership.objects.active().filter(user=user, agency=agency).exists():
        return 0
    grants = list(_live_grants().filter(user=user, on_behalf_of=agency).order_by("pk"))
    for grant in grants:
        access.access_revoke(grant=grant, acting_user=acting_user, reason=MEMBERSHIP_ENDED)
    return len(grants)


def membership_grants_end_due() -> int:
    """Beat (jusou.tasks.expire_access_grants): revoke the personal grants of memberships whose end
    has come since membership_end dated it ahead. Access already stopped that day (visible_q asks for
    the membership when it runs); this keeps the ledger and the guardian tables true. Only people
    with an ended membership are looked at, at most 1000 grants a run; a re-run finds nothing left."""
    today = timezone.localdate()
    still_there = StaffMembership.objects.active(today).filter(
        user=OuterRef("user"), agency=OuterRef("on_behalf_of")
    )
    departed = StaffMembership.objects.filter(ended_on__lte=today).values("user_id")
    lapsed = (
        _live_grants()
        .filter(on_behalf_of__isnull=False, user__in=departed)
        .exclude(Exists(still_there))
        .order_by("pk")
    )
    count = 0
    for grant in lapsed[:1000]:
        access.access_revoke(grant=grant, acting_user=None, reason=MEMBERSHIP_ENDED)
        count += 1
    return count


def _departure_tell_managers(*, membership: StaffMembership) -> None:
    """Tell the agency's 管理者 — or, when it has none, the municipality's — what the worker leaves
    behind there, with a link to those records (a list filtered to the worker)."""
    user, agency = membership.user, membership.agency
    handovers = registry.departure_handovers(user, agency)
    if not handovers:
        return
    managers = active_supervisors(agency=agency).exclude(pk=user.pk)
    if not managers.exists():
        managers = active_supervisors().exclude(pk=user.pk)
    becomes = "なりました" if membership.ended_on <= timezone.localdate() else "なります"
    name = user.get_full_name() or user.username
    for index, (what, link) in enumerate(handovers):
        for manager in managers:
            notification_send(
                recipient=manager,
                kind="departure_handover",
                link=link,
                title=f"所属終了に伴う引継ぎ: {name}さん（{agency}）の{what}"[:200],
                body=f"{name}さんは{to_wareki(membership.ended_on)}から{agency}の所属ではなく{becomes}。"
                "主担当者の変更など、引継ぎをお願いします。",
                dedupe_key=f"departure:{membership.pk}:{index}",
            )


def admin_access_sync(*, user: User, acting_user: User | None) -> None:
    """Make Django admin access (is_staff and the システム管理者 group) follow the active memberships."""
    is_admin = StaffMembership.objects.active().filter(user=user, role=Role.SYSTEM_ADMIN).exists()
    if user.is_staff != is_admin:
        user.is_staff = is_admin
        user._history_user = acting_user
        user.save(update_fields=["is_staff"])
    group = ensure_system_admin_group()
    if is_admin:
        user.groups.add(group)
    else:
        user.groups.remove(group)
    # The roles cached on this instance are stale now.
    user.__dict__.pop("active_memberships", None)
    user.__dict__.pop("roles", None)


@transaction.atomic
def api_client_register(
    *, name: str, department: str, agency: Agency, scopes: list[str], acting_user: User | None
):
    """Register a machine client (外部システム) acting for `agency` within `scopes`.

    Invariant: the client's service account has no password (it can never log in to the pages) and
    one 外部システム membership at that agency, so the agency's grants decide what it sees.
    """

    unknown = set(scopes) - set(ApiScope.values)
    if unknown:
        raise ValidationError({"scopes": f"不明な権限です: {', '.join(sorted(unknown))}"})
    import secrets

    user = User(username=f"api-{secrets.token_hex(8)}", last_name=name[:150], is_active=True)
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user._history_user = acting_user
    user.save()
    membership_grant(user=user, agency=agency, role=Role.API_CLIENT, acting_user=acting_user)
    client = ApiClient(name=name, department=department, agency=agency, scopes=sorted(set(scopes)), user=user)
    return save_with_history(client, acting_user=acting_user, reason="API連携システムの登録")


@transaction.atomic
def api_client_set_active(*, client, active: bool, acting_user: User | None):
    """Suspend or resume a machine client. Suspending ends every token at once (the account goes
    inactive, and token authentication refuses inactive accounts)."""
    client.is_active = active
    save_with_history(client, acting_user=acting_user, reason="有効化" if active else "停止")
    client.user.is_active = active
    client.user._history_user = acting_user
    client.user.save(update_fields=["is_active"])
    if not active:
        from knox.models import AuthToken

        AuthToken.objects.filter(user=client.user).delete()
    return client
