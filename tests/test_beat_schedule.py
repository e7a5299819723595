"""Beat names only tasks that exist, and the reminders are among them with the options that make a
killed worker lose nothing (acks_late on idempotent tasks, automatic retries)."""

import pytest
from django.conf import settings
from django.utils.module_loading import import_string

from jusou.celery import app as celery_app

REMINDERS = {
    "remind-follow-ups": "cases.tasks.remind_follow_ups",
    "remind-plan-reviews": "meetings.tasks.remind_plan_reviews",
    "remind-expiring-consents": "meetings.tasks.remind_expiring_consents",
    "remind-closing-meeting-windows": "meetings.tasks.remind_closing_meeting_windows",
    "remind-overdue-outreach": "outreach.tasks.remind_overdue_outreach",
}


def test_every_beat_entry_names_a_registered_task_importable_by_name():
    celery_app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in celery_app.tasks, name
        assert import_string(entry["task"]).name == entry["task"], name


@pytest.mark.parametrize(("entry", "task"), sorted(REMINDERS.items()))
def test_the_reminders_are_scheduled(entry, task):
    assert settings.CELERY_BEAT_SCHEDULE[entry]["task"] == task


@pytest.mark.parametrize("task", sorted(set(REMINDERS.values()) - {"outreach.tasks.remind_overdue_outreach"}))
def test_reminder_tasks_are_acknowledged_late_and_retried(task):
    task = import_string(task)
    assert task.acks_late is True
    assert task.autoretry_for == (Exception,)
    assert task.retry_backoff and task.max_retries
