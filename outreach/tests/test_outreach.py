from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from cases.tests.conftest import fresh, record_case
from jusou.models import Notification
from outreach import services
from outreach.models import OutreachEngagement, Stage
from outreach.tasks import remind_overdue_outreach


def test_outreach_starts_without_a_person_and_is_linked_to_a_new_case_later_with_history_intact(
    world, engagement
):
    services.contact_record(engagement=engagement, acting_user=world.assigned, kind="visit_absent")
    services.contact_record(
        engagement=engagement,
        acting_user=world.assigned,
        kind="visit_met",
        met_whom="本人",
        response="玄関先で少し話せた",
        safety_confirmed=True,
    )
    case = record_case(world.assigned, name="川村 正", kana="かわむら ただし")
    services.engagement_link(engagement=engagement, acting_user=world.assigned, case=case)
    engagement.refresh_from_db()
    assert (engagement.person, engagement.case, engagement.stage) == (case.person, case, Stage.CONTACTED)
    assert engagement.contacts.count() == 2
    history = list(engagement.history.order_by("history_date"))
    assert history[0].person is None and history[-1].person == case.person
    assert history[-1].history_change_reason == "本人・ケースとの紐づけ"


def test_safety_concern_and_repeated_absence_are_flagged_to_the_coordinator_once(
    world, engagement, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            services.contact_record(engagement=engagement, acting_user=world.assigned, kind="visit_absent")
        services.contact_record(
            engagement=engagement, acting_user=world.assigned, kind="visit_absent", safety_confirmed=False
        )
    titles = set(
        Notification.objects.filter(recipient=world.coordinator, kind="outreach_alert").values_list(
            "title", flat=True
        )
    )
    assert titles == {
        f"アウトリーチ {engagement.number}: 2回続けて会えていません",
        f"アウトリーチ {engagement.number}: 安否を確認できませんでした",
    }


def _alerts(world, engagement):
    return list(
        Notification.objects.filter(recipient=world.coordinator, kind="outreach_alert").values_list(
            "title", flat=True
        )
    )


def test_no_contact_alert_comes_after_two_in_a_row_by_default(
    world, engagement, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.contact_record(engagement=engagement, acting_user=world.assigned, kind="visit_absent")
        assert _alerts(world, engagement) == []
        services.contact_record(engagement=engagement, acting_user=world.assigned, kind="letter")
    assert _alerts(world, engagement) == [f"アウトリーチ {engagement.number}: 2回続けて会えていません"]


def test_a_meeting_in_between_restarts_the_count(world, engagement, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for kind in ("visit_absent", "visit_met", "visit_refused"):
            services.contact_record(engagement=engagement, acting_user=world.assigned, kind=kind)
    assert _alerts(world, engagement) == []


def test_no_contact_alert_follows_the_municipalitys_setting(
    world, engagement, settings, django_capture_on_commit_callbacks
):
    settings.OUTREACH_NO_CONTACT_ALERT = 4
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            services.contact_record(engagement=engagement, acting_user=world.assigned, kind="visit_absent")
        assert _alerts(world, engagement) == []
        services.contact_record(engagement=engagement, acting_user=world.assigned, kind="visit_refused")
    assert _alerts(world, engagement) == [f"アウトリーチ {engagement.number}: 4回続けて会えていません"]


def test_overdue_reminder_is_idempotent(world, engagement, django_capture_on_commit_callbacks):
    OutreachEngagement.objects.filter(pk=engagement.pk).update(
        next_contact_on=timezone.localdate() - timedelta(days=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_overdue_outreach() == 1
        assert remind_overdue_outreach() == 0
    assert Notification.objects.filter(recipient=world.assigned, kind="outreach_due").count() == 1
    services.contact_record(engagement=engagement, acting_user=world.assigned, kind="phone")
    assert remind_overdue_outreach() == 0


def test_ending_needs_a_connection_or_a_reason(world, engagement):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="つなぎ先か、終了の理由"):
        services.engagement_end(engagement=engagement, acting_user=world.assigned)
    agency = fresh(world.other_worker).agencies[0]
    services.engagement_end(engagement=engagement, acting_user=world.assigned, connected_agency=agency)
    engagement.refresh_from_db()
    assert engagement.stage == Stage.CONNECTED and not engagement.is_open


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("assigned", 200),
        ("colleague", 200),
        ("coordinator", 200),
        ("supervisor", 200),
        ("other_worker", 404),
        ("outsider", 404),
    ],
)
def test_who_sees_an_engagement(client, world, engagement, persona, status):
    client.force_login(world.persona(persona))
    assert client.get(engagement.get_absolute_url()).status_code == status
    listed = engagement.number in client.get(reverse("outreach:engagement_list")).content.decode()
    assert listed is (status == 200)


def test_list_carries_no_background_and_masks_whereabouts_under_jushohitoku(client, world, engagement):
    case_services.address_confidentiality_set(person=world.person, acting_user=world.assigned, reason="DV")
    services.engagement_link(engagement=engagement, acting_user=world.assigned, person=world.person)
    client.force_login(world.colleague)
    listing = client.get(reverse("outreach:engagement_list")).content.decode()
    assert "新聞がたまり" not in listing
    detail = client.get(engagement.get_absolute_url()).content.decode()
    assert "中央二丁目の川沿い" not in detail and "秘匿" in detail
    client.force_login(world.assigned)
    assert "中央二丁目の川沿い" in client.get(engagement.get_absolute_url()).content.decode()


def test_contact_logged_in_the_browser(client, world, engagement):
    client.force_login(world.assigned)
    response = client.post(
        reverse("outreach:contact_add", args=[engagement.pk]),
        {
            "contacted_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "kind": "visit_met",
            "met_whom": "本人",
            "response": "お茶を出してくれた",
            "safety": "yes",
        },
    )
    assert response.status_code == 302
    contact = engagement.contacts.get()
    assert contact.safety_confirmed is True and contact.recorded_by == world.assigned
    client.force_login(world.supervisor)
    assert (
        client.post(reverse("outreach:contact_add", args=[engagement.pk]), {"kind": "phone"}).status_code
        == 403
    )


def test_list_queries_are_bounded(client, world, django_assert_max_num_queries):
    for i in range(12):
        services.engagement_start(
            acting_user=world.assigned,
            provisional_name=f"対象{i}",
            how_known="neighbour",
            background="近隣から",
            purpose="situation",
        )
    client.force_login(world.assigned)
    with django_assert_max_num_queries(15):
        assert client.get(reverse("outreach:engagement_list")).status_code == 200


def test_demo_engagement_reaches_tsunagi(personas):
    engagement = OutreachEngagement.objects.get(provisional_name__startswith="木村さん")
    assert engagement.stage == Stage.CONNECTED and engagement.contacts.count() == 5
    assert engagement.case.person.name == "木村 勇"
