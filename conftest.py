"""Fixtures for every app's tests: personas, Celery mode, a clean cache."""

import os

import pytest

from jusou.celery import app as celery_app


@pytest.fixture(autouse=True)
def _celery_mode(request, settings):
    """Tasks run eagerly in tests unless the test is marked to use a real worker over Redis.

    With REDIS_URL set (the PostgreSQL pass of CI) the settings switch Celery to Redis; only the
    `celery_worker` tests need that, the rest would otherwise queue tasks nobody runs.
    """
    real_worker = request.node.get_closest_marker("celery_worker") is not None
    if real_worker and not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: a real Celery worker over Redis (runs in the PostgreSQL pass of CI)")
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = not real_worker
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.3 s a user; tests create dozens. Hashing itself is Django's, not ours.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _two_factor_off(settings):
    """Tests log in with force_login or a password and are not about 二要素認証, so it is off for them
    (the demo's supervisor and admin have an app registered). The 2FA tests turn it on explicitly:
    jusou/tests/test_twofactor.py and the e2e tests that go through the code page."""
    settings.TWO_FACTOR_REQUIRED = False


@pytest.fixture(autouse=True)
def _office_hours(settings):
    """Tests run at any hour: the after-hours flag is off unless a test turns it on."""
    settings.AUDIT_AFTER_HOURS = None


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def personas(db):
    """The demo world's staff, as tests name them: intake_a, intake_b, member_c, outsider, coord, supervisor, admin."""
    from jusou.demo import load_demo
    from jusou.models import User

    load_demo()
    return {user.username: user for user in User.objects.all()}


def pytest_collection_modifyitems(config, items):
    """In CI a missing browser is an error, not a skip (JUSOU_REQUIRE_BROWSER=1 in .ci/run)."""
    if os.environ.get("JUSOU_REQUIRE_BROWSER") == "1":
        return
    from tests.e2e.browser import chromium_path

    if chromium_path() is None:
        skip = pytest.mark.skip(reason="chromium is not installed (apt-get install chromium)")
        for item in items:
            if "e2e" in item.keywords:
                item.add_marker(skip)
