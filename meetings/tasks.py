from celery import shared_task

from meetings import services


@shared_task
def remind_plan_reviews() -> int:
    """Beat, daily: plans whose review is due or overdue (idempotent: one notice per plan and date)."""
    return services.plan_review_reminders()
