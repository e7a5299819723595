"""Celery tasks shared by all apps. Tasks take IDs and call a service; every one is idempotent."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from jusou import access, services
from jusou.models import Notification

# A task sent but not yet run is given this long before beat's sweep delivers it instead.
PENDING_GRACE = timedelta(seconds=30)


@shared_task(
    acks_late=True,  # safe: delivery is idempotent, so a worker killed mid-task loses nothing
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=10,
)
def deliver_notification(notification_id: int) -> bool:
    return services.notification_deliver(notification_id=notification_id)


@shared_task
def deliver_pending_notifications() -> int:
    """Beat: deliver what the fast path missed (broker down at send time, retries exhausted)."""
    cutoff = timezone.now() - PENDING_GRACE
    pending = Notification.objects.filter(delivered_at__isnull=True, created_at__lte=cutoff).values_list(
        "pk", flat=True
    )
    return sum(services.notification_deliver(notification_id=pk) for pk in pending[:1000])


@shared_task
def expire_access_grants() -> int:
    """Beat: tidy the guardian rows of grants whose period has ended (access already stopped at the
    end time, because selectors check the period when they run)."""
    return access.access_expire_due()
