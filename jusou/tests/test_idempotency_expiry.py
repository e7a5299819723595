"""Idempotency-Keys and form tokens are remembered IDEMPOTENCY_KEEP_DAYS, then forgotten by beat."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from jusou.models import IdempotencyKey
from jusou.tasks import expire_idempotency_keys
from jusou.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def key(user, name, age_days):
    return IdempotencyKey.objects.create(
        user=user,
        key=name,
        method="POST",
        path="/x/",
        request_hash="h",
        status_code=302,
        response={"location": "/"},
        created_at=timezone.now() - timedelta(days=age_days),
    )


def test_old_keys_are_forgotten_recent_ones_kept(settings):
    settings.IDEMPOTENCY_KEEP_DAYS = 7
    user = UserFactory()
    old, recent = key(user, "form:old", 8), key(user, "form:recent", 6)
    assert expire_idempotency_keys() == 1
    assert not IdempotencyKey.objects.filter(pk=old.pk).exists()
    assert IdempotencyKey.objects.filter(pk=recent.pk).exists()


def test_the_expiry_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["expire-idempotency-keys"]
    assert entry["task"] == "jusou.tasks.expire_idempotency_keys"
