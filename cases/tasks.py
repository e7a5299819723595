"""Celery tasks of 包括的相談支援. Beat finds what is due in the database; every task is idempotent."""

from celery import shared_task

from cases import services
from jusou.tasks import REMINDER_TASK


@shared_task(**REMINDER_TASK)
def remind_follow_ups() -> int:
    """Beat: cases whose 次回対応予定日 is today or past (one reminder per case and due date)."""
    return services.follow_up_reminders()
