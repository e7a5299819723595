"""Celery tasks of 多機関協働. Beat finds what is due in the database; every reminder is sent once per
recipient and dedupe key, so these tasks are idempotent and safe to acknowledge late and retry."""

from celery import shared_task

from jusou.tasks import REMINDER_TASK
from meetings import services


@shared_task(**REMINDER_TASK)
def remind_plan_reviews() -> int:
    """Beat: plans whose review is due (coordinators) or overdue without 評価 (coordinators and the
    lead worker): one notice per plan, review date and recipient."""
    return services.plan_review_reminders()


@shared_task(**REMINDER_TASK)
def remind_expiring_consents() -> int:
    """Beat: 本人同意 ending within 30 days and on its last day (one notice per consent and threshold)."""
    return services.consent_expiry_reminders()


@shared_task(**REMINDER_TASK)
def remind_closing_meeting_windows() -> int:
    """Beat: 支援会議 access windows ending soon, to the members who acknowledged 守秘義務."""
    return services.meeting_window_reminders()
