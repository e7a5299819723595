"""A notification travels through Redis and a real Celery worker (the PostgreSQL pass of CI)."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections, transaction

from jusou.celery import app as celery_app
from jusou.models import Notification
from jusou.notifications import services
from jusou.tests.factories import staff_user

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _close_worker_connections(**kwargs):
    # Runs in the worker's thread: its persistent connection (CONN_MAX_AGE) would otherwise keep
    # the test database open and block its teardown.
    connections.close_all()


@pytest.fixture
def worker():
    celery_app.loader.import_module("celery.contrib.testing.tasks")  # the worker's ping task
    task_postrun.connect(_close_worker_connections)
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=True, shutdown_timeout=10) as running:
            yield running
    finally:
        task_postrun.disconnect(_close_worker_connections)


def wait_for(predicate, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_notification_is_delivered_by_a_real_worker_and_shows_in_the_bell(worker, client):
    assert not celery_app.conf.task_always_eager
    user = staff_user()
    with transaction.atomic():
        notification = services.notification_send(recipient=user, title="ワーカー経由のお知らせ")
    assert wait_for(lambda: Notification.objects.get(pk=notification.pk).delivered_at is not None)
    client.force_login(user)
    html = client.get("/").content.decode()
    assert "ワーカー経由のお知らせ" in html
    assert 'お知らせ（未読 </span><span class="bell__count">1</span>' in html
