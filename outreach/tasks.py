from celery import shared_task

from outreach import services


@shared_task
def remind_overdue_outreach() -> int:
    """Beat: idempotent (one reminder per engagement and due date)."""
    return services.overdue_reminders()
