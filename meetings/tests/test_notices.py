"""A notice for every step that waits on someone (issue 17): invited to a 支援会議 (with the way to the
守秘義務), a referral accepted or returned (to the worker who referred it), a plan approved with a
役割分担 for an agency (to that agency's workers). In-app, and by e-mail where configured; titles and
bodies carry a case number and a link at most; a retried step notifies nobody twice. Handover notices
are in test_handover.py."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseStatus
from cases.services import notify_once
from cases.tests.conftest import fresh
from jusou.models import Notification, Role
from jusou.tests.factories import AgencyFactory, UserFactory, staff_user
from meetings import services


def kinds(user, kind):
    return list(Notification.objects.filter(recipient=user, kind=kind))


# --- 支援会議 ----------------------------------------------------------------------------------------


@pytest.fixture
def convened(world):
    world.coord = fresh(world.coordinator)
    world.member = staff_user(Role.WORKER, AgencyFactory(name="みどり市社会福祉協議会"), username="member")
    world.external = UserFactory(username="minsei", last_name="民生", first_name="委員")
    from jusou.models import StaffMembership

    StaffMembership.objects.create(user=world.external, agency=None, role=Role.MEETING_MEMBER)
    now = timezone.now()
    world.meeting = services.meeting_convene(
        acting_user=world.coord,
        held_at=now + timedelta(days=2),
        title="山田さん世帯の件",
        access_from=now,
        access_until=now + timedelta(days=14),
        members=[world.member, fresh(world.external)],
    )
    return world


def test_members_are_invited_with_the_way_to_the_pledge_and_nothing_of_the_meeting(client, convened):
    w = convened
    for user in (w.member, w.external):
        (note,) = kinds(user, "meeting_invite")
        assert note.link == reverse("meetings:meeting_pledge", args=[w.meeting.pk])
        assert "守秘義務を確認してください" in note.title and "令和" in note.title
        assert "山田" not in note.title + note.body  # the title may name the household: left out
    assert not kinds(w.coordinator, "meeting_invite")  # the host invites, is not invited
    assert not kinds(w.outsider, "meeting_invite") and not kinds(w.assigned, "meeting_invite")
    client.force_login(fresh(w.member))
    assert client.get(kinds(w.member, "meeting_invite")[0].link).status_code == 200  # the pledge page


def test_adding_a_member_twice_invites_once(convened):
    services.meeting_member_add(meeting=convened.meeting, user=convened.member, acting_user=convened.coord)
    assert len(kinds(convened.member, "meeting_invite")) == 1


def test_a_retried_notice_is_not_sent_twice(convened):
    for _ in range(2):
        notify_once(
            [convened.member],
            kind="meeting_invite",
            title="x",
            link="/",
            dedupe_key=f"meeting-invite:{convened.meeting.pk}",
        )
    assert len(kinds(convened.member, "meeting_invite")) == 1


def test_the_invitation_goes_by_email_where_configured_without_details(
    convened, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_EMAIL = True
    member = staff_user(
        Role.WORKER, AgencyFactory(name="みどり市保健センター"), username="nurse", email="nurse@example.jp"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_member_add(meeting=convened.meeting, user=member, acting_user=convened.coord)
    (message,) = [m for m in mail.outbox if m.to == ["nurse@example.jp"]]
    assert "山田" not in message.subject + message.body and "/notifications/" in message.body
    assert kinds(member, "meeting_invite")[0].emailed_at is not None


# --- つなぎ依頼 -------------------------------------------------------------------------------------


def test_the_referring_worker_hears_the_referral_was_accepted(referred):
    w = referred
    services.case_accept(case=w.case, acting_user=fresh(w.coordinator))
    (note,) = kinds(w.assigned, "referral_accepted")
    assert note.title == f"多機関協働へのつなぎ依頼が受理されました（{w.case.number}）"
    assert note.link == w.case.get_absolute_url()
    for user in (w.colleague, w.coordinator, w.other_worker, w.outsider):
        assert not kinds(user, "referral_accepted")


def test_the_referring_worker_hears_the_referral_was_returned(referred):
    w = referred
    services.case_return(case=w.case, acting_user=fresh(w.coordinator), reason="地域包括で対応可能")
    w.case.refresh_from_db()
    assert w.case.status == CaseStatus.SUPPORTING
    (note,) = kinds(w.assigned, "referral_returned")
    assert note.title == f"多機関協働へのつなぎ依頼が戻されました（{w.case.number}）"
    assert "地域包括で対応可能" not in note.title + note.body  # the reason is on the case
    assert not kinds(w.colleague, "referral_returned") and not kinds(w.coordinator, "referral_returned")


# --- 支援プランの承認 --------------------------------------------------------------------------------


def test_each_plan_agencys_workers_hear_of_their_task(client, approved):
    w = approved
    for user in (w.other_worker, w.next_colleague, w.assigned, w.colleague):
        (note,) = kinds(user, "plan_task")
        assert note.link == reverse("meetings:plan_detail", args=[w.plan.pk])
        assert f"（{w.case.number} 第1版）" in note.title
    assert "みどり障害者相談支援センターに役割分担があります" in kinds(w.other_worker, "plan_task")[0].title
    for user in (w.coordinator, w.outsider, w.supervisor):  # the one approving, and no task there
        assert not kinds(user, "plan_task")
    client.force_login(fresh(w.other_worker))
    assert client.get(kinds(w.other_worker, "plan_task")[0].link).status_code == 200  # they may open it
