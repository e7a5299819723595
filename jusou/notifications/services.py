"""お知らせ: a notice to one member of staff, shown in the bell and announced by e-mail."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from jusou.later import after_commit
from jusou.models import Notification, User


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

    after_commit("jusou.tasks.deliver_notification", notification.pk)
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
