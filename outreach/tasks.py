from celery import shared_task

from jusou.tasks import REMINDER_TASK
from outreach import services


@shared_task(**REMINDER_TASK)
def remind_overdue_outreach() -> int:
    """Beat: idempotent (one reminder per engagement and due date)."""
    return services.overdue_reminders()
