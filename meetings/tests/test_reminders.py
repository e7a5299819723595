"""Reminders of 多機関協働 from beat: a plan review overdue without 評価, 本人同意 about to end, a
支援会議's access window closing. Each is sent once per recipient and occasion; a task interrupted
half-way and retried sends one to each; no notice carries more than the case number."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cases.tests.conftest import fresh
from cases.tests.test_reminders import interrupted_once  # noqa: F401  (fixture)
from jusou.ja.wareki import to_wareki
from jusou.models import Notification
from meetings import services
from meetings.models import NextStep, SupportPlan
from meetings.tasks import remind_closing_meeting_windows, remind_expiring_consents, remind_plan_reviews
from meetings.tests.test_plans import approve, approved, decide, give_consent, planned, results  # noqa: F401


def notes(kind, user=None):
    found = Notification.objects.filter(kind=kind).order_by("pk")
    return list(found.filter(recipient=user) if user else found)


def no_names(*notifications):
    return all("山田" not in n.title + n.body and "花子" not in n.title for n in notifications)


# --- 支援プランの見直し ------------------------------------------------------------------------------


def test_overdue_review_without_evaluation_reminds_coordinators_and_the_lead_worker(planned):  # noqa: F811
    w = approved(planned)
    SupportPlan.objects.filter(pk=w.plan.pk).update(review_on=timezone.localdate() - timedelta(days=1))
    assert remind_plan_reviews() == 3  # due: the coordinator; overdue: the coordinator and the lead worker
    assert remind_plan_reviews() == 0
    assert [n.recipient for n in notes("plan_review")] == [w.coordinator]
    overdue = notes("plan_review_overdue")
    assert {n.recipient for n in overdue} == {w.coordinator, w.assigned}
    assert overdue[0].title.startswith(f"支援プランの見直し期限を過ぎています（{w.case.number} 第1版、")
    assert overdue[0].link == f"/cases/{w.case.pk}/"
    assert no_names(*overdue)
    # Not the plan agency's worker, nor the lead worker's colleague.
    assert notes("plan_review_overdue", w.other_worker) == notes("plan_review_overdue", w.colleague) == []


def test_review_due_today_is_not_yet_overdue(planned):  # noqa: F811
    w = approved(planned)
    SupportPlan.objects.filter(pk=w.plan.pk).update(review_on=timezone.localdate())
    assert services.plan_review_reminders() == 1
    assert notes("plan_review_overdue") == []


def test_an_evaluated_plan_is_not_overdue(planned):  # noqa: F811
    w = approved(planned)
    services.plan_evaluate(
        conference=w.conference,
        plan=w.plan,
        acting_user=fresh(w.coordinator),
        goal_results=results(w.plan),
        person_change="通院を再開",
        next_step=NextStep.CONTINUE,
    )
    SupportPlan.objects.filter(pk=w.plan.pk).update(review_on=timezone.localdate() - timedelta(days=1))
    services.plan_review_reminders()
    assert notes("plan_review_overdue") == []


# --- 本人同意の有効期限 --------------------------------------------------------------------------------


@pytest.fixture
def expiring(planned):  # noqa: F811
    """An approved plan whose consent ends in 20 days."""
    w = planned
    w.ends = timezone.localdate() + timedelta(days=20)
    decide(w)
    w.consent = give_consent(w, [w.other_agency, w.own_agency], expires_on=w.ends)
    approve(w)
    return w


def test_consent_ending_within_30_days_and_on_its_last_day_is_reminded_once_each(expiring):
    w = expiring
    assert remind_expiring_consents() == 2  # the coordinator and the lead worker
    assert remind_expiring_consents() == 0
    first = notes("consent_expiring")
    assert {n.recipient for n in first} == {w.coordinator, w.assigned}
    assert first[0].title == f"本人同意の有効期限が近づいています（{w.case.number}、{to_wareki(w.ends)}まで）"
    assert no_names(*first)
    with time_machine.travel(timezone.now() + timedelta(days=10), tick=False):
        assert services.consent_expiry_reminders() == 0  # the 30-day notice went out already
    with time_machine.travel(timezone.now() + timedelta(days=20), tick=False):
        assert services.consent_expiry_reminders() == 2
        assert services.consent_expiry_reminders() == 0
    last = notes("consent_expiring")[2:]
    assert [n.title for n in last] == [
        f"本人同意の有効期限は今日（{to_wareki(w.ends)}）までです（{w.case.number}）"
    ] * 2
    with time_machine.travel(timezone.now() + timedelta(days=21), tick=False):
        assert services.consent_expiry_reminders() == 0  # expired: no longer valid, nothing to remind


def test_a_renewed_consent_and_a_far_expiry_are_not_reminded(expiring):
    w = expiring
    give_consent(w, [w.other_agency, w.own_agency], expires_on=w.ends + timedelta(days=365))
    assert services.consent_expiry_reminders() == 0


def test_an_interrupted_consent_reminder_retried_sends_one_to_each(expiring, interrupted_once):  # noqa: F811
    result = remind_expiring_consents.apply(throw=False)  # eager: the autoretry runs it again at once
    assert interrupted_once["failed"] and result.successful()
    assert len(notes("consent_expiring", expiring.coordinator)) == 1
    assert len(notes("consent_expiring", expiring.assigned)) == 1


# --- 支援会議の閲覧期間 --------------------------------------------------------------------------------


def convene(w, *, closes_in, members):
    now = timezone.now()
    return services.meeting_convene(
        acting_user=fresh(w.coordinator),
        held_at=now,
        access_from=now - timedelta(hours=1),
        access_until=now + closes_in,
        members=members,
        title="第9回 中央圏域支援会議",
    )


def test_members_who_pledged_hear_before_the_window_closes_once(referred):
    w = referred
    meeting = convene(w, closes_in=timedelta(days=2), members=[w.other_worker, w.colleague])
    services.pledge_acknowledge(meeting=meeting, acting_user=fresh(w.other_worker))
    assert remind_closing_meeting_windows() == 1  # the colleague never acknowledged 守秘義務: sees nothing
    assert remind_closing_meeting_windows() == 0
    [note] = notes("meeting_window")
    assert note.recipient == w.other_worker
    assert note.link == f"/support-meetings/{meeting.pk}/"
    assert note.title.startswith(f"支援会議（{to_wareki(meeting.held_at)}開催）の資料を閲覧できるのは")
    assert meeting.title not in note.title


def test_windows_closing_later_or_already_closed_are_not_reminded(referred):
    w = referred
    later = convene(w, closes_in=timedelta(days=10), members=[w.other_worker])
    services.pledge_acknowledge(meeting=later, acting_user=fresh(w.other_worker))
    assert services.meeting_window_reminders() == 0
    with time_machine.travel(timezone.now() + timedelta(days=11), tick=False):
        assert services.meeting_window_reminders() == 0
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        assert services.meeting_window_reminders() == 1
