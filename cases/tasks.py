"""Celery tasks of 包括的相談支援. Beat finds what is due in the database; every task is idempotent."""

from celery import shared_task

from cases import services


@shared_task(
    acks_late=True,  # safe: the dedupe key sends each reminder once, so a re-run after a killed worker is harmless
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def remind_follow_ups() -> int:
    """Beat: cases whose 次回対応予定日 is today or past (one reminder per case and due date)."""
    return services.follow_up_reminders()
