"""Celery tasks shared by all apps. Tasks take IDs and call a service; every one is idempotent."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from jusou.access import grants as access
from jusou.exports import jobs as export_jobs
from jusou.models import IdempotencyKey, Notification
from jusou.notifications import services
from jusou.retention import services as retention
from jusou.staff import services as staff_services

# A task sent but not yet run is given this long before beat's sweep delivers it instead.
PENDING_GRACE = timedelta(seconds=30)

# The options of every beat reminder task: each reminder is sent once per recipient and dedupe key, so a
# re-run after a killed worker sends only what was not sent yet (safe to acknowledge late and retry).
REMINDER_TASK = {
    "acks_late": True,
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 5,
}


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
    """Beat: tidy the guardian rows of grants whose period has ended, and the personal grants of
    memberships that have ended (access already stopped at the end time, because selectors check
    the period and the membership when they run)."""
    return access.access_expire_due() + staff_services.membership_grants_end_due()


@shared_task(
    bind=True,
    acks_late=True,  # safe: a re-run replaces its own file and the job is marked done (and logged) once
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=3,
)
def run_export(self, job_id: int) -> str:
    """Make an export's file (統計の出力); the page polls the job's progress."""
    # Run eagerly (no Redis) with errors propagating, Celery cannot retry: it would raise Retry into
    # the request that asked for the export. There this run is the last, and a failure shows on the page.
    eager_propagating = self.request.is_eager and self.app.conf.task_eager_propagates
    last_attempt = eager_propagating or self.request.retries >= self.max_retries
    # In a worker, a thread writes the job's heartbeat while it runs (beat re-queues a job whose
    # heartbeat stops: a killed worker). Run eagerly, the request itself is the worker.
    heartbeat_every = None if self.request.is_eager else settings.EXPORT_HEARTBEAT_SECONDS
    return export_jobs.export_run(job_id=job_id, last_attempt=last_attempt, heartbeat_every=heartbeat_every)


@shared_task
def requeue_stale_exports() -> int:
    """Beat (every EXPORT_SWEEP_SECONDS): send again the exports whose worker was killed (heartbeat
    stopped) or whose message was lost."""
    return export_jobs.exports_requeue_stale()


@shared_task(acks_late=True)  # safe: a file already deleted is not deleted again
def expire_export_files() -> int:
    """Beat, daily: delete the export files made more than EXPORT_FILE_KEEP_DAYS ago."""
    return export_jobs.exports_expire()


@shared_task(acks_late=True)  # safe: deleting what is already deleted deletes nothing
def expire_idempotency_keys() -> int:
    """Beat, daily: forget the API's Idempotency-Keys and the page forms' one-time tokens
    (jusou/once.py) older than IDEMPOTENCY_KEEP_DAYS; a retry or a resubmission after that is a new
    request."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    cutoff = timezone.now() - timedelta(days=settings.IDEMPOTENCY_KEEP_DAYS)
    return IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()[0]


@shared_task(acks_late=True)  # safe: the scan lists each record once, the sweep disposes each candidate once
def retention_daily() -> dict:
    """Beat, daily: list the records past their 保存年限 for a 管理者 to approve, and dispose of what was
    approved but not yet disposed (a lost or failed task)."""

    scan = retention.retention_scan()
    disposed = retention.dispose_approved()
    return {"listed": len(scan.listed), "withdrawn": len(scan.withdrawn), "disposed": len(disposed)}


@shared_task(
    acks_late=True,  # safe: a candidate already disposed is left alone, so a re-run changes nothing
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=10,
)
def retention_dispose(candidate_ids: list[int]) -> list[int]:
    """Dispose of the candidates a 管理者 has just approved (in the approver's name)."""

    return retention.dispose_approved(candidate_ids=candidate_ids)


@shared_task(**REMINDER_TASK)
def sso_sessions_check() -> dict:
    """Beat: end the SSO sessions of subjects the IdP no longer lets sign in (jusou.sso.services);
    an IdP out of reach ends nothing and is asked again at the next beat."""
    from jusou.sso.services import sessions_check

    return sessions_check()
