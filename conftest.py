"""Fixtures for every app's tests: the test database, personas, Celery mode, a clean cache."""

import fcntl
import hashlib
import os
import sqlite3
from contextlib import closing, contextmanager
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.test import override_settings

from jusou.celery import app as celery_app

# The real OpenID Provider of the SSO tests (oidc_idp, sso), for tests/sso and the browser tests alike.
pytest_plugins = ["tests.sso.idp"]

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- The test database -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_blocker, django_db_createdb, django_db_modify_db_settings
):
    """The test database, migrated. On SQLite (`make test`) each worker's in-memory database is copied
    from a migrated template file in var/ rather than migrated again (migrating takes half a minute a
    worker): with --reuse-db (`make test` locally) the template is kept between runs for as long as no
    migration changes; with --create-db (CI) it is built afresh once in the run and shared by the
    workers. Without either, or on PostgreSQL, every run migrates its own — keeping a PostgreSQL test
    database between runs would lose the rows data migrations wrote, which transactional tests flush.
    Replaces pytest-django's fixture of the same name; the rest of its machinery is unchanged."""
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _get_databases_for_setup

    reuse = request.config.getoption("reuse_db") or django_db_createdb
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    setup = {
        "verbosity": request.config.option.verbose,
        "interactive": False,
        "aliases": aliases,
        "serialized_aliases": serialized_aliases,
    }
    with django_db_blocker.unblock():
        if connection.vendor == "sqlite" and reuse:
            with _sqlite_template(request, rebuild=django_db_createdb) as migrate:
                with mock.patch("django.core.management.call_command", migrate):
                    config = setup_databases(**setup)
        else:
            config = setup_databases(**setup)
    yield
    with django_db_blocker.unblock():
        teardown_databases(config, verbosity=request.config.option.verbose)


def _migrations_key() -> str:
    """What the migrated schema depends on: every installed app's migration files and Django's version."""
    from pathlib import Path

    import django
    from django.apps import apps

    digest = hashlib.sha256(django.get_version().encode())
    for config in sorted(apps.get_app_configs(), key=lambda c: c.label):
        for path in sorted((Path(config.path) / "migrations").glob("*.py")):
            digest.update(f"{config.label}/{path.name}".encode() + path.read_bytes())
    return digest.hexdigest()[:16]


@contextmanager
def _sqlite_template(request, *, rebuild: bool):
    """A stand-in for `call_command` during database set-up: `migrate` copies the template into the new
    in-memory database — building the template first, under a lock the other workers wait on, where
    there is none yet (or, rebuilding, none from this run)."""
    from django.conf import settings
    from django.core import management
    from django.db import connections

    run = getattr(request.config, "workerinput", {}).get("testrunuid", "")
    template = settings.VAR_DIR / f"test-db-{_migrations_key()}.sqlite3"
    built_by = template.with_suffix(".run")
    real = management.call_command
    settings.VAR_DIR.mkdir(exist_ok=True)
    with open(settings.VAR_DIR / "test-db.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held until this worker's database is set up
        ours = run and built_by.exists() and built_by.read_text() == run
        fresh = template.exists() and (ours or not rebuild)

        def call_command(name, *args, **kwargs):
            if name != "migrate":
                return real(name, *args, **kwargs)
            target = connections[kwargs.get("database", "default")]
            target.ensure_connection()
            if fresh:
                with closing(sqlite3.connect(template)) as source:
                    source.backup(target.connection)
                return None
            result = real(name, *args, **kwargs)
            for old in settings.VAR_DIR.glob("test-db-*.sqlite3"):
                old.unlink()
            partial = template.with_suffix(".partial")
            with closing(sqlite3.connect(partial)) as copy:
                target.connection.backup(copy)
            partial.replace(template)
            built_by.write_text(run)
            return result

        yield call_command


# --- Per worker -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _own_redis_and_media(worker_id, tmp_path_factory):
    """`make test` runs the suite in parallel (pytest-xdist: workers gw0, gw1 …), each worker on its own
    test database. Each also takes its own Redis database — one worker's cache.clear() and Celery queue
    never touch another's — and its own MEDIA_ROOT, so two workers never write the same file."""
    changes = {"MEDIA_ROOT": tmp_path_factory.mktemp("media")}
    url = os.environ.get("REDIS_URL")
    if url:
        from django.conf import settings

        parts = urlsplit(settings.REDIS_URL)
        number = 0 if worker_id == "master" else int(worker_id.removeprefix("gw"))
        base = int(parts.path.strip("/") or 0)
        url = urlunsplit(parts._replace(path=f"/{(base + number) % 16}"))
        changes["REDIS_URL"] = url
        changes["CACHES"] = {"default": {**settings.CACHES["default"], "LOCATION": url}}
        celery_app.conf.broker_url = celery_app.conf.result_backend = url
        import redis

        redis.Redis.from_url(url).flushdb()  # no task or cache entry left over from an earlier run
    with override_settings(**changes):
        yield


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
    settings.PASSWORD_HASHERS = FAST_HASHER


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
def personas(request, db):
    """The demo world's staff, as tests name them: intake_a, intake_b, member_c, outsider, coord, supervisor, admin.

    A test in a transaction (`django_db(transaction=True)`, live_server) loads the demo world itself. Every
    other test that asks for `personas` runs inside `_demo_world`, loaded once for its module: the test's
    own transaction is a savepoint in it, rolled back after the test as before, so each test still starts
    from the demo world as `loaddemo` leaves it."""
    from devdata.demo.world import load_demo
    from jusou.models import User

    if "_demo_world" not in request.fixturenames:
        load_demo()
    return {user.username: user for user in User.objects.all()}


@pytest.fixture(scope="module")
def _demo_world(django_db_setup, django_db_blocker):
    """The demo world in a transaction that is open for the module's `personas` tests and rolled back
    after the last of them (pytest_collection_modifyitems runs them last in their module)."""
    from django.db import transaction

    from devdata.demo.world import load_demo

    with django_db_blocker.unblock():
        world = transaction.atomic()
        world.__enter__()
        eager = celery_app.conf.task_always_eager
        try:
            celery_app.conf.task_always_eager = True  # as `_celery_mode` has it for a test
            with override_settings(PASSWORD_HASHERS=FAST_HASHER):
                load_demo()
            celery_app.conf.task_always_eager = eager
            yield
        finally:
            transaction.set_rollback(True)
            world.__exit__(None, None, None)


def _in_a_transaction(item) -> bool:
    marker = item.get_closest_marker("django_db")
    transactional = marker is not None and (
        marker.kwargs.get("transaction") or (marker.args and marker.args[0])
    )
    return bool(transactional) or bool({"transactional_db", "live_server"} & set(item.fixturenames))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """In CI a missing browser is an error, not a skip (JUSOU_REQUIRE_BROWSER=1 in .ci/run).

    The demo world is loaded once a module (3–4 s each time): its `personas` tests that do not run in a
    transaction of their own get `_demo_world` and run after the module's other tests."""
    if os.environ.get("JUSOU_REQUIRE_BROWSER") != "1":
        from tests.e2e.browser import chromium_path

        if chromium_path() is None:
            skip = pytest.mark.skip(reason="chromium is not installed (apt-get install chromium)")
            for item in items:
                if "e2e" in item.keywords:
                    item.add_marker(skip)
    for item in items:
        if "personas" in item.fixturenames and not _in_a_transaction(item):
            item.fixturenames.insert(0, "_demo_world")  # before pytest-django opens the test's transaction
    blocks, previous = [], None
    for item in items:
        if item.module is not previous:
            blocks.append([])
            previous = item.module
        blocks[-1].append(item)
    items[:] = [
        item for block in blocks for item in sorted(block, key=lambda i: "_demo_world" in i.fixturenames)
    ]
