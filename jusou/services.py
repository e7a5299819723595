"""Writes to the shared records: staff memberships and notifications.

Every service is keyword-only, runs in a transaction and records who acted, so that the history
(django-simple-history) names a person even outside a request (Celery, management commands).
"""

import logging
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from jusou.models import Agency, Notification, Role, StaffMembership, User
from jusou.roles import ensure_system_admin_group

log = logging.getLogger(__name__)


class EditConflict(ValidationError):
    """Someone else changed the record first: the edit was refused so nothing is overwritten
    (the API answers 409; forms ask the user to reload)."""


def save_with_history(obj, *, acting_user: User | None, reason: str = "", exclude=None, **save_kwargs):
    """The one way services save a domain record: validate (model and database constraints), then
    save with the acting user and the reason in django-simple-history (also outside a request)."""
    obj.full_clean(exclude=exclude)
    obj._history_user = acting_user
    if reason:
        obj._change_reason = reason
    obj.save(**save_kwargs)
    return obj


@transaction.atomic
def membership_grant(
    *, user: User, agency: Agency | None, role: str, acting_user: User | None, started_on: date | None = None
) -> StaffMembership:
    """Give `user` a role at `agency` from `started_on` (today by default).

    Invariant: a システム管理者 membership, and only that, opens the Django admin (`is_staff`).
    """
    membership = StaffMembership(
        user=user, agency=agency, role=role, started_on=started_on or timezone.localdate()
    )
    membership.full_clean()
    membership._history_user = acting_user
    membership.save()
    admin_access_sync(user=user, acting_user=acting_user)
    return membership


@transaction.atomic
def membership_end(
    *, membership: StaffMembership, acting_user: User | None, ended_on: date | None = None
) -> None:
    """End a membership from `ended_on` (today by default): from that day it grants nothing."""
    membership = StaffMembership.objects.select_for_update().get(pk=membership.pk)
    if membership.ended_on is not None and membership.ended_on <= timezone.localdate():
        raise ValidationError("この所属はすでに終了しています。")
    membership.ended_on = ended_on or timezone.localdate()
    membership.full_clean()
    membership._history_user = acting_user
    membership.save(update_fields=["ended_on"])
    admin_access_sync(user=membership.user, acting_user=acting_user)


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
def notification_send(
    *,
    recipient: User,
    title: str,
    body: str = "",
    link: str = "",
    kind: str = "info",
    dedupe_key: str | None = None,
) -> Notification | None:
    """Queue a notification for `recipient`; delivery runs after the transaction commits.

    With a `dedupe_key`, a second call for the same recipient and key does nothing and returns None:
    reminders found twice (beat running twice, a retried task) are sent once.
    """
    notification = Notification(
        recipient=recipient, kind=kind, title=title, body=body, link=link, dedupe_key=dedupe_key
    )
    notification.full_clean(validate_constraints=False)
    if dedupe_key is not None:
        try:
            with transaction.atomic():
                notification.save()
        except IntegrityError:
            return None
    else:
        notification.save()

    from jusou.tasks import deliver_notification  # tasks import this module

    transaction.on_commit(lambda: deliver_notification.delay(notification.pk))
    return notification


@transaction.atomic
def notification_deliver(*, notification_id: int) -> bool:
    """Show the notification in the recipient's bell, and announce it by e-mail where configured.

    Idempotent: a notification already delivered is left alone (returns False), so a retried or
    duplicated task is harmless. The e-mail carries no case details, only a pointer to the system.
    """
    notification = (
        Notification.objects.select_for_update()
        .select_related("recipient")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None or notification.delivered_at is not None:
        return False
    now = timezone.now()
    notification.delivered_at = now
    recipient = notification.recipient
    if settings.NOTIFICATION_EMAIL and recipient.email and recipient.is_active:
        send_mail(
            subject="【jusou】新しいお知らせがあります",
            message=(
                f"{recipient.get_full_name() or recipient.username} 様\n\n"
                "jusou に新しいお知らせがあります。内容はログインしてご確認ください。\n"
                f"{settings.SITE_URL.rstrip('/')}/notifications/\n"
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[recipient.email],
        )
        notification.emailed_at = now
    notification.save(update_fields=["delivered_at", "emailed_at"])
    return True


def notification_mark_read(*, notification: Notification, acting_user: User) -> None:
    """Mark one of the acting user's own notifications read (someone else's is not found)."""
    Notification.objects.filter(pk=notification.pk, recipient=acting_user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notifications_mark_all_read(*, acting_user: User) -> int:
    return Notification.objects.unread().filter(recipient=acting_user).update(read_at=timezone.now())


@transaction.atomic
def api_client_register(
    *, name: str, department: str, agency: Agency, scopes: list[str], acting_user: User | None
):
    """Register a machine client (外部システム) acting for `agency` within `scopes`.

    Invariant: the client's service account has no password (it can never log in to the pages) and
    one 外部システム membership at that agency, so the agency's grants decide what it sees.
    """
    from jusou.models import ApiClient, ApiScope

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
