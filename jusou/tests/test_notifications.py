from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jusou import tasks
from jusou.models import Notification
from jusou.notifications import services
from jusou.tests.factories import NotificationFactory, staff_user

pytestmark = pytest.mark.django_db


def test_a_sent_notification_is_delivered_after_commit_and_shows_in_the_bell(
    client, django_capture_on_commit_callbacks
):
    user = staff_user()
    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notification_send(
            recipient=user, title="支援会議の開催通知", body="日程をご確認ください。"
        )
    notification.refresh_from_db()
    assert notification.delivered_at is not None
    client.force_login(user)
    html = client.get("/").content.decode()
    assert 'お知らせ（未読 </span><span class="bell__count">1</span>' in html
    assert "支援会議の開催通知" in html


def test_nothing_is_delivered_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    user = staff_user()
    with django_capture_on_commit_callbacks() as callbacks:
        services.notification_send(recipient=user, title="送られない")
    # The callback is only registered; the test transaction never commits, so delivery never ran.
    assert len(callbacks) == 1
    assert Notification.objects.get().delivered_at is None


def test_same_dedupe_key_for_the_same_recipient_notifies_once(django_capture_on_commit_callbacks):
    user, other = staff_user(), staff_user()
    with django_capture_on_commit_callbacks(execute=True):
        first = services.notification_send(
            recipient=user, title="見直し期限", dedupe_key="plan-review:1:2026-11-30"
        )
        again = services.notification_send(
            recipient=user, title="見直し期限", dedupe_key="plan-review:1:2026-11-30"
        )
        for_other = services.notification_send(
            recipient=other, title="見直し期限", dedupe_key="plan-review:1:2026-11-30"
        )
    assert first is not None and again is None and for_other is not None
    assert Notification.objects.filter(recipient=user).count() == 1


def test_delivery_is_idempotent():
    notification = NotificationFactory(delivered_at=None)
    assert services.notification_deliver(notification_id=notification.pk) is True
    delivered_at = Notification.objects.get().delivered_at
    assert services.notification_deliver(notification_id=notification.pk) is False
    assert Notification.objects.get().delivered_at == delivered_at


def test_email_announces_without_carrying_the_content(settings, mailoutbox):
    settings.NOTIFICATION_EMAIL = True
    user = staff_user(email="aoki@city.midori.example")
    notification = NotificationFactory(recipient=user, delivered_at=None, title="佐藤花子さんの虐待通報")
    services.notification_deliver(notification_id=notification.pk)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["aoki@city.midori.example"]
    assert "佐藤" not in mail.subject + mail.body
    assert "虐待" not in mail.subject + mail.body
    assert "/notifications/" in mail.body
    assert Notification.objects.get().emailed_at is not None


def test_no_email_unless_configured(settings, mailoutbox):
    settings.NOTIFICATION_EMAIL = False
    services.notification_deliver(notification_id=NotificationFactory(delivered_at=None).pk)
    assert mailoutbox == []


def test_a_failing_delivery_is_retried_not_dropped():
    notification = NotificationFactory(delivered_at=None)
    real = services.notification_deliver
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise ConnectionError("SMTP server unavailable")
        return real(**kwargs)

    with mock.patch.object(services, "notification_deliver", side_effect=flaky):
        result = tasks.deliver_notification.apply(args=[notification.pk], throw=False)
    assert result.successful() and result.get() is True
    assert len(calls) == 2
    assert Notification.objects.get().delivered_at is not None


def test_beat_sweep_delivers_what_the_fast_path_missed():
    stale = NotificationFactory(delivered_at=None, created_at=timezone.now() - timedelta(minutes=5))
    fresh = NotificationFactory(delivered_at=None)
    assert tasks.deliver_pending_notifications() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.delivered_at is not None
    assert fresh.delivered_at is None  # its own task is probably still on the way


def test_undelivered_notifications_are_not_shown_yet(client):
    user = staff_user()
    NotificationFactory(recipient=user, delivered_at=None, title="配信前")
    client.force_login(user)
    assert "配信前" not in client.get(reverse("notification_list")).content.decode()


def test_opening_a_notification_marks_it_read_and_follows_its_local_link(client):
    user = staff_user()
    notification = NotificationFactory(recipient=user, link="/notifications/?page=1")
    client.force_login(user)
    response = client.post(reverse("notification_open", args=[notification.pk]))
    assert response.url == "/notifications/?page=1"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_an_external_link_is_not_followed(client):
    user = staff_user()
    notification = NotificationFactory(recipient=user, link="https://evil.example/")
    client.force_login(user)
    response = client.post(reverse("notification_open", args=[notification.pk]))
    assert response.url == reverse("notification_list")


def test_someone_elses_notification_is_not_found(client):
    owner, other = staff_user(), staff_user()
    notification = NotificationFactory(recipient=owner, title="他人宛")
    client.force_login(other)
    assert client.post(reverse("notification_open", args=[notification.pk])).status_code == 404
    assert "他人宛" not in client.get(reverse("notification_list")).content.decode()
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_read_touches_only_the_users_own(client):
    user, other = staff_user(), staff_user()
    NotificationFactory.create_batch(3, recipient=user)
    NotificationFactory(recipient=other)
    client.force_login(user)
    response = client.post(reverse("notification_read_all"), follow=True)
    assert "3件のお知らせを既読にしました" in response.content.decode()
    assert Notification.objects.unread().filter(recipient=other).count() == 1


@pytest.mark.parametrize("url", [reverse("notification_list"), "/"])
def test_pages_use_the_same_number_of_queries_whatever_the_number_of_notifications(client, url):
    user = staff_user()
    client.force_login(user)

    def queries_for_page():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    NotificationFactory.create_batch(3, recipient=user)
    queries_for_page()  # content types (of the records the panels look for) are cached from the first visit
    few = queries_for_page()
    NotificationFactory.create_batch(60, recipient=user)
    many = queries_for_page()
    assert few == many
    # the dashboard's 「対応を待っているもの」 (issue 17) reads pledges, tasks (with their consent check) and handovers
    assert many <= (19 if url == "/" else 15)
