"""A reminder task run by beat's schedule through Redis and a real Celery worker (the PostgreSQL
pass of CI): the reminder reaches the lead worker's bell once, however often the task runs."""

import pytest
from django.utils import timezone

from cases.models import Case
from cases.tasks import remind_follow_ups
from cases.tests.conftest import record_case
from jusou.models import Notification, Role
from jusou.tests.factories import staff_user
from tests.test_celery_worker import wait_for, worker  # noqa: F401  (fixture)

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_follow_up_reminder_through_a_real_worker_is_sent_once(worker):  # noqa: F811
    user = staff_user(Role.WORKER)
    case = record_case(user)
    Case.objects.filter(pk=case.pk).update(next_follow_up_on=timezone.localdate())
    assert remind_follow_ups.delay().get(timeout=30) == 1
    assert remind_follow_ups.delay().get(timeout=30) == 0
    reminders = Notification.objects.filter(recipient=user, kind="follow_up_due")
    assert wait_for(lambda: reminders.filter(delivered_at__isnull=False).count() == 1)
    assert reminders.count() == 1
    assert case.number in reminders.get().title
