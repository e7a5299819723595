"""A database too busy to answer in time answers 503 with Retry-After — the API's JSON body under
/api/, a Japanese page elsewhere — never 500 (issue 15; jusou.busy). The real lock is exercised by
tests/test_concurrency.py; here the error is raised where it can arise, so each path is pinned."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from cases import services as case_services
from cases.models import CodeKind
from cases.tests.conftest import code
from jusou import busy
from jusou.models import Role
from jusou.tests.api import api_as
from jusou.tests.factories import staff_user

LOCKED = OperationalError("database is locked")


def _locked(*args, **kwargs):
    raise LOCKED


@pytest.fixture
def worker(db):
    return staff_user(Role.WORKER)


def test_a_locked_database_answers_the_api_503_busy_with_retry_after(worker, monkeypatch):
    for kind, value in [(CodeKind.CHANNEL, "phone"), (CodeKind.ROUTE, "self"), (CodeKind.ISSUE, "care")]:
        code(kind, value)
    monkeypatch.setattr(case_services, "intake_record", _locked)
    response = api_as(worker).post(
        "/api/v1/consultations/",
        {
            "received_at": (timezone.now() - timedelta(hours=1)).isoformat(),
            "channel": "phone",
            "route": "self",
            "issues": ["care"],
            "main_issue": "care",
            "summary": "相談",
            "outcome": "advice",
        },
        format="json",
    )
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "2"
    assert response.json() == {
        "status": 503,
        "code": "busy",
        "message": "混み合っています。少し待ってからもう一度お試しください。",
        "errors": [],
    }


def test_a_locked_database_answers_a_page_503_in_japanese(worker, client, monkeypatch):
    monkeypatch.setattr("jusou.notifications.views.notifications_for_user", _locked)
    client.force_login(worker)
    response = client.get("/notifications/")
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    html = response.content.decode()
    assert "混み合っています。少し待ってからもう一度お試しください。" in html
    assert '<html lang="ja">' in html


def test_a_lock_outside_the_view_still_answers_503_not_500(worker, monkeypatch):
    """The session is saved on every response by its middleware, after the view: Django has made
    that error a 500 before our middleware sees the response."""
    client = Client(raise_request_exception=False)
    client.force_login(worker)
    monkeypatch.setattr(SessionStore, "save", _locked)
    page = client.get("/notifications/")
    assert page.status_code == 503 and "混み合っています" in page.content.decode()


def test_the_api_outside_drf_gets_the_json_body_too(worker, monkeypatch):
    client = Client(raise_request_exception=False)
    client.force_login(worker)
    monkeypatch.setattr(SessionStore, "save", _locked)
    response = client.get("/api/v1/me/")
    assert response.status_code == 503 and response.json()["code"] == "busy"


def test_other_database_errors_are_not_called_busy():
    assert busy.is_busy(LOCKED)
    assert not busy.is_busy(OperationalError("no such table: cases_case"))
    assert not busy.is_busy(ValueError("database is locked"))


@pytest.mark.parametrize("sqlstate", ["40001", "40P01", "55P03"])
def test_postgresql_deadlocks_serialisation_failures_and_lock_timeouts_are_busy(sqlstate):
    class DriverError(Exception):  # psycopg's errors carry the SQLSTATE; Django keeps it as the cause
        pass

    cause = DriverError("deadlock detected")
    cause.sqlstate = sqlstate
    error = OperationalError("deadlock detected")
    error.__cause__ = cause
    assert busy.is_busy(error)


def test_sqlite_waits_for_the_lock_and_takes_it_when_a_transaction_begins(settings):
    options = settings.DATABASES["default"].get("OPTIONS", {})
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("the SQLite options; PostgreSQL takes row locks")
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 10
    assert "journal_mode=WAL" in options["init_command"]
