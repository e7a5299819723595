"""次回対応予定日 reminders from beat: to the lead worker, once per case and due date, carrying the
case number only; a task interrupted half-way and retried sends one reminder to each."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.models import Case, CaseStatus, CodeKind
from cases.tasks import remind_follow_ups
from cases.tests.conftest import code, record_case
from jusou.models import Notification, StaffMembership
from jusou.notifications import services as core_services


def due(case, days=0):
    Case.objects.filter(pk=case.pk).update(next_follow_up_on=timezone.localdate() - timedelta(days=days))


def reminders(user=None):
    notes = Notification.objects.filter(kind="follow_up_due")
    return list(notes.filter(recipient=user) if user else notes)


def test_due_today_reminds_the_lead_worker_once(world, django_capture_on_commit_callbacks):
    due(world.case)
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_follow_ups() == 1
        assert remind_follow_ups() == 0
    [note] = reminders()
    assert note.recipient == world.assigned
    assert note.title == f"{world.case.number} の次回対応予定日（{_wareki(timezone.localdate())}）は今日です"
    assert note.link == f"/cases/{world.case.pk}/"
    assert note.delivered_at is not None
    assert "山田" not in note.title + note.body  # the case number only


def _wareki(day):
    from jusou.ja.wareki import to_wareki

    return to_wareki(day)


def test_overdue_is_reminded_and_a_new_date_is_a_new_reminder(world):
    due(world.case, days=3)
    assert services.follow_up_reminders() == 1
    assert "を過ぎています" in reminders()[0].title
    due(world.case, days=1)  # the worker set another date, which has passed too
    assert services.follow_up_reminders() == 1
    assert services.follow_up_reminders() == 0
    assert len(reminders(world.assigned)) == 2


def test_future_dates_closed_cases_and_other_workers_get_nothing(world):
    Case.objects.filter(pk=world.case.pk).update(next_follow_up_on=timezone.localdate() + timedelta(days=1))
    closed = record_case(world.assigned, name="川口 次郎", kana="かわぐち じろう")
    services.case_transition(
        case=closed,
        to_status=CaseStatus.CLOSED,
        acting_user=world.assigned,
        reason="達成",
        close_reason=code(CodeKind.CLOSE_REASON, "goal_achieved"),
    )
    due(closed)
    assert services.follow_up_reminders() == 0
    assert reminders() == []


def test_a_lead_worker_who_left_the_owning_agency_is_not_reminded(world):
    due(world.case)
    StaffMembership.objects.filter(user=world.assigned).update(ended_on=timezone.localdate())
    assert services.follow_up_reminders() == 0


def test_each_worker_hears_only_of_their_own_cases(world):
    due(world.case)
    theirs = record_case(world.other_worker, name="大川 三郎", kana="おおかわ さぶろう")
    due(theirs)
    assert services.follow_up_reminders() == 2
    assert [n.title.split()[0] for n in reminders(world.assigned)] == [world.case.number]
    assert [n.title.split()[0] for n in reminders(world.other_worker)] == [theirs.number]


def test_cases_already_reminded_are_left_out_in_the_query(world, django_assert_max_num_queries):
    for i in range(5):
        due(record_case(world.assigned, name=f"森 {i}子", kana=f"もり {i}"))
    assert services.follow_up_reminders() == 5
    with django_assert_max_num_queries(1):
        assert services.follow_up_reminders() == 0


@pytest.fixture
def interrupted_once(monkeypatch):
    """notification_send that fails once, right after the first reminder went out (a worker killed or
    the database gone away mid-loop), then works."""
    real = core_services.notification_send
    calls = {"n": 0, "failed": False}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2 and not calls["failed"]:
            calls["failed"] = True
            raise ConnectionError("interrupted")
        return real(**kwargs)

    monkeypatch.setattr(core_services, "notification_send", flaky)
    return calls


def test_a_task_interrupted_after_the_first_reminder_and_retried_sends_one_each(world, interrupted_once):
    due(world.case)
    theirs = record_case(world.other_worker, name="大川 三郎", kana="おおかわ さぶろう")
    due(theirs)
    # Eager, without propagating: autoretry answers Retry, and apply() runs the task again at once.
    result = remind_follow_ups.apply(throw=False)
    assert interrupted_once["failed"]
    assert result.successful()
    assert len(reminders(world.assigned)) == 1
    assert len(reminders(world.other_worker)) == 1
