"""Celery tasks of 多機関協働. Beat finds what is due in the database; every reminder is sent once per
recipient and dedupe key, so these tasks are idempotent and safe to acknowledge late and retry."""

from celery import shared_task

from meetings import services

REMINDER_TASK = {
    "acks_late": True,  # a worker killed mid-task: the re-run sends only what was not sent yet
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 5,
}


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
