"""Concurrent requests against a real server answer consistently and never 5xx (issue 15).

Each race is fired by real threads, released together by a barrier, at a server in a subprocess
that serves them in parallel, each request on its own database connection: gunicorn as deployed
(two processes with threads, so writers race across processes too), and for the 20 POSTs also
`manage.py runserver` as `make run` starts it (its listen backlog is 10: 50 connections at once
are reset before Django sees them, which is why the rest uses gunicorn; so is pytest-django's live
server, a threaded server with the same backlog).

- On PostgreSQL (the CI pass with DATABASE_URL) the server uses the test database itself: row
  locks and the unique index decide the races.
- On SQLite it serves a file copy of the test database, written before it starts: the in-memory
  test database is one connection, which cannot race at all; the file is what exercises the
  settings' busy timeout and immediate transactions.

So every test here runs on both databases; nothing is skipped.
"""

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.db import connection
from django.utils import timezone

from cases.models import CaseStatus, CodeKind
from cases.tests.conftest import code, record_case
from jusou.api.auth import token_issue
from jusou.models import IdempotencyKey, Role
from jusou.tests.factories import AgencyFactory, staff_user

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent


class Server:
    """Where the requests go, and how the test counts what they wrote (on SQLite, in the file)."""

    def __init__(self, url: str, sqlite_file: Path | None):
        self.url, self.sqlite_file = url, sqlite_file

    def count(self, model) -> int:
        if self.sqlite_file is None:
            return model.objects.count()
        with sqlite3.connect(self.sqlite_file) as db:
            return db.execute(f'SELECT COUNT(*) FROM "{model._meta.db_table}"').fetchone()[0]  # noqa: S608


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SERVE = {
    "gunicorn": ["-m", "gunicorn", "-c", "python:jusou.gunicorn", "jusou.wsgi:application"],
    "runserver": ["manage.py", "runserver", "--noreload", "--skip-checks"],
}


def _test_database_url(tmp_path: Path) -> tuple[str, Path | None]:
    """A URL the server can open for the (committed) test database: itself on PostgreSQL, a file
    copy on SQLite."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = f"{quote(db['USER'])}:{quote(db['PASSWORD'])}@" if db["USER"] else ""
        return f"postgres://{user}{db['HOST']}:{db['PORT'] or 5432}/{quote(db['NAME'])}", None
    target = tmp_path / "jusou.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(target) as copy:
        connection.connection.backup(copy)
    copy.close()
    return f"sqlite:///{target}", target


def _serve(tmp_path: Path, how: str):
    """`how` (gunicorn or runserver) serving the test database."""
    database_url, sqlite_file = _test_database_url(tmp_path)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DATABASE_URL=database_url,
        DEBUG="true",
        TWO_FACTOR_REQUIRED="false",
        DJANGO_SETTINGS_MODULE="jusou.settings",
        PYTHONUNBUFFERED="1",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="8",
    )
    log = (tmp_path / "server.log").open("w")
    arguments = SERVE[how] + ([f"127.0.0.1:{port}"] if how == "runserver" else [])
    process = subprocess.Popen(  # noqa: S603 - our own server with fixed arguments
        [sys.executable, *arguments], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"{url}/healthz", timeout=10)
            break
        except requests.RequestException:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "server.log").read_text()) from None
            time.sleep(0.2)
    return process, Server(url, sqlite_file)


@pytest.fixture
def world(db):
    """A worker at an agency, the case they lead, the codes the bodies use, and the worker's token."""
    agency = AgencyFactory(name="みどり中央地域包括支援センター")
    worker = staff_user(Role.WORKER, agency, username="assigned")
    case = record_case(worker)
    for kind, value in [
        (CodeKind.CHANNEL, "phone"),
        (CodeKind.ROUTE, "self"),
        (CodeKind.ISSUE, "care"),
        (CodeKind.CLOSE_REASON, "goal_achieved"),
    ]:
        code(kind, value)
    _, token = token_issue(user=worker)
    return {"case": case, "person": case.person, "token": token}


def _server(tmp_path, how):
    process, running = _serve(tmp_path, how)
    try:
        yield running
    finally:
        process.terminate()  # and with it its connections, before the test database is flushed
        process.wait(timeout=20)


@pytest.fixture
def server(world, tmp_path):
    """gunicorn answering requests in parallel, started after `world` is written (see the docstring)."""
    yield from _server(tmp_path, "gunicorn")


@pytest.fixture
def make_run_server(world, tmp_path):
    """`manage.py runserver`, as `make run` starts it."""
    yield from _server(tmp_path, "runserver")


def in_parallel(count: int, send) -> list[requests.Response]:
    """`send(i)` from `count` threads released at once."""
    barrier = threading.Barrier(count)

    def one(i):
        barrier.wait()
        return send(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def statuses(responses) -> dict[int, int]:
    counted: dict[int, int] = {}
    for response in responses:
        counted[response.status_code] = counted.get(response.status_code, 0) + 1
    return counted


def _auth(world, **headers):
    return {"Authorization": f"Bearer {world['token']}", **headers}


def _consultation(world, summary="介護の相談"):
    return {
        "received_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "channel": "phone",
        "route": "self",
        "issues": ["care"],
        "main_issue": "care",
        "summary": summary,
        "outcome": "advice",
        "person": world["person"].pk,
    }


def test_twenty_parallel_retries_with_one_key_all_get_the_first_answer_and_one_record(world, server):
    from cases.models import Consultation

    before = server.count(Consultation)
    body = _consultation(world)
    responses = in_parallel(
        20,
        lambda i: requests.post(
            f"{server.url}/api/v1/consultations/",
            json=body,
            timeout=60,
            headers=_auth(world, **{"Idempotency-Key": "push-retry-0001"}),
        ),
    )
    assert statuses(responses) == {201: 20}, [r.text[:300] for r in responses if r.status_code != 201]
    assert server.count(Consultation) == before + 1
    assert server.count(IdempotencyKey) == 1
    first = [r for r in responses if "Idempotent-Replayed" not in r.headers]
    assert len(first) == 1
    assert all(r.json() == first[0].json() for r in responses)
    assert all(r.headers["Idempotent-Replayed"] == "true" for r in responses if r is not first[0])


def test_fifty_parallel_patches_with_one_etag_one_wins_and_the_rest_are_stale(world, server):
    url = f"{server.url}/api/v1/cases/{world['case'].pk}/"
    etag = requests.get(url, headers=_auth(world), timeout=30).headers["ETag"]
    responses = in_parallel(
        50,
        lambda i: requests.patch(
            url,
            json={"risk_life": True},
            headers=_auth(world, **{"If-Match": etag}),
            timeout=60,
        ),
    )
    assert statuses(responses) == {200: 1, 412: 49}, [r.text[:300] for r in responses if r.status_code >= 500]
    assert {r.json()["code"] for r in responses if r.status_code == 412} == {"stale_version"}
    assert requests.get(url, headers=_auth(world), timeout=30).json()["version"] == world["case"].version + 1


def test_concurrent_transitions_without_if_match_one_moves_the_rest_are_invalid_transitions(world, server):
    url = f"{server.url}/api/v1/cases/{world['case'].pk}/assess/"
    responses = in_parallel(10, lambda i: requests.post(url, json={}, headers=_auth(world), timeout=60))
    assert statuses(responses) == {200: 1, 409: 9}, [r.text[:300] for r in responses]
    refused = [r.json() for r in responses if r.status_code == 409]
    assert {body["code"] for body in refused} == {"invalid_transition"}
    assert "「アセスメント中」のケースを「アセスメント中」にすることはできません。" in refused[0]["message"]
    detail = requests.get(f"{server.url}/api/v1/cases/{world['case'].pk}/", headers=_auth(world), timeout=30)
    assert detail.json()["status"] == CaseStatus.ASSESSING


def test_concurrent_transitions_with_one_etag_one_moves_and_the_rest_are_stale(world, server):
    case_url = f"{server.url}/api/v1/cases/{world['case'].pk}/"
    etag = requests.get(case_url, headers=_auth(world), timeout=30).headers["ETag"]
    responses = in_parallel(
        10,
        lambda i: requests.post(
            f"{case_url}assess/",
            json={},
            headers=_auth(world, **{"If-Match": etag}),
            timeout=60,
        ),
    )
    assert statuses(responses) == {200: 1, 412: 9}, [r.text[:300] for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 412} == {"stale_version"}


@pytest.mark.parametrize("serving", ["server", "make_run_server"])
def test_twenty_parallel_posts_are_all_recorded_none_answers_500(world, serving, request):
    from cases.models import Consultation

    server = request.getfixturevalue(serving)
    before = server.count(Consultation)
    responses = in_parallel(
        20,
        lambda i: requests.post(
            f"{server.url}/api/v1/consultations/",
            json=_consultation(world, summary=f"相談 {i}"),
            headers=_auth(world),
            timeout=60,
        ),
    )
    assert statuses(responses) == {201: 20}, [r.text[:300] for r in responses if r.status_code != 201]
    assert server.count(Consultation) == before + 20


def test_the_schema_documents_how_lost_races_are_answered():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    error = {"$ref": "#/components/schemas/Error"}
    for path in ("/api/v1/cases/{id}/", "/api/v1/people/{id}/"):
        responses = paths[path]["patch"]["responses"]
        assert responses["412"]["content"]["application/json"]["schema"] == error
        assert "stale_version" in responses["412"]["description"] and "428" in responses
    moves = [
        p
        for p in paths
        if p.startswith("/api/v1/cases/{id}/")
        and p.split("/")[-2] in ("assess", "support", "refer", "close", "suspend", "resume")
    ]
    moves += ["/api/v1/referrals/{id}/accept/", "/api/v1/referrals/{id}/return/"]
    assert len(moves) == 8
    for path in moves:
        responses = paths[path]["post"]["responses"]
        assert "invalid_transition" in responses["409"]["description"], path
        assert "stale_version" in responses["412"]["description"], path
    assert (
        "invalid_transition"
        in paths["/api/v1/consents/{id}/withdraw/"]["post"]["responses"]["409"]["description"]
    )
