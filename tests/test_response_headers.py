"""Issue 15: every response that can carry personal data is kept in no cache (`Cache-Control: no-store,
private`, jusou/middleware.py), static files stay cacheable, and gunicorn sends no `Server` banner.

The walk covers every GET route of the system (tests/leak_routes.py finds them from the URL confs and
the OpenAPI schema), so a new page or endpoint is checked without editing this file."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from http.client import HTTPConnection
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from jusou.audit.selectors import audited_models
from jusou.middleware import PERSONAL_DATA_CACHE_CONTROL
from jusou.tests.api import api_as
from jusou.tests.factories import TEST_PASSWORD, staff_user
from tests import leak_routes as routes
from tests.leak_world import build

NO_STORE = PERSONAL_DATA_CACHE_CONTROL


def assert_not_cached(response, what):
    assert response["Cache-Control"] == NO_STORE, (what, response.status_code, response.get("Cache-Control"))


@pytest.mark.django_db
def test_every_page_and_api_read_as_the_owner_and_anonymously_is_kept_in_no_cache():
    world = build()
    owner = world.users["owner"]
    page, api, anonymous = Client(), api_as(owner), Client()
    page.force_login(owner)
    labels = [label for label in world.records if label in audited_models()]
    walked = 0
    for route in routes.page_routes() + routes.api_routes():
        if routes.allow_listed(route) is not None:
            continue
        for filled in routes.fill(route, world.records, labels):
            client = page if route.kind == "page" else api
            assert_not_cached(client.get(filled.url), filled.url)
            # Not logged in: the login redirect (pages) or the 401 (API) is kept in no cache either.
            assert_not_cached(anonymous.get(filled.url), f"anonymous {filled.url}")
            walked += 1
    assert walked >= 110


@pytest.mark.django_db
def test_login_page_failed_and_successful_login_logout_and_errors_are_kept_in_no_cache(client):
    user = staff_user(username="cache-test")
    assert_not_cached(client.get(reverse("login")), "login page")
    assert_not_cached(
        client.post(reverse("login"), {"username": "cache-test", "password": "wrong"}), "failed"
    )
    response = client.post(reverse("login"), {"username": "cache-test", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert_not_cached(response, "login redirect")
    assert_not_cached(client.get("/"), "dashboard")
    assert_not_cached(client.get("/no-such-page/"), "404 page")
    assert_not_cached(client.get("/healthz"), "health check")
    assert_not_cached(client.post(reverse("logout")), "logout")
    api = api_as(user)
    assert_not_cached(api.get("/api/v1/people/987654/"), "API 404")
    assert_not_cached(api.post("/api/v1/consultations/", {}, format="json"), "API 400")
    assert_not_cached(Client().get("/api/v1/people/"), "API 401")


@pytest.mark.django_db
def test_downloads_are_kept_in_no_cache_however_the_view_set_its_header(client):
    supervisor = staff_user(role="supervisor", username="cache-supervisor")
    client.force_login(supervisor)
    response = client.get(reverse("audit_access_log_export", args=["csv"]))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert_not_cached(response, "access log CSV")
    assert_not_cached(client.get(reverse("audit_history_export", args=["xlsx"])), "history xlsx")


@pytest.mark.django_db
def test_static_files_served_by_whitenoise_stay_cacheable(settings, tmp_path):
    # WhiteNoise answers before NoStoreMiddleware: CSS and JavaScript carry nobody's data.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = Client().get("/static/css/jusou.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
    middleware = django_settings.MIDDLEWARE
    assert middleware.index("jusou.middleware.NoStoreMiddleware") == (
        middleware.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1
    )


# --- gunicorn, as deployed (jusou/gunicorn.py) -------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn_server(tmp_path):
    port = _free_port()
    environment = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "2",
        "DJANGO_SETTINGS_MODULE": "jusou.settings",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(  # noqa: S603 - our own gunicorn with our own config
        [str(gunicorn), "-c", "python:jusou.gunicorn", "jusou.wsgi:application"],
        cwd=Path(__file__).resolve().parent.parent,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "gunicorn.log").open("wb"),
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not answer: " + (tmp_path / "gunicorn.log").read_text()[-2000:])
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_gunicorn_sends_no_server_header_and_the_page_is_kept_in_no_cache(gunicorn_server):
    for path in ("/accounts/login/", "/healthz", "/no-such-page/", "/api/v1/people/"):
        connection = HTTPConnection("127.0.0.1", gunicorn_server, timeout=10)
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        names = [name.lower() for name, _ in response.getheaders()]
        assert "server" not in names, (path, response.getheaders())
        assert {"date", "content-type"} <= set(names), path  # gunicorn's other headers stay
        assert response.getheader("Cache-Control") == NO_STORE, path
        connection.close()
    # A request gunicorn refuses itself (before Django) carries no banner either.
    with socket.create_connection(("127.0.0.1", gunicorn_server), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        raw = sock.recv(4096).decode("latin-1")
    assert raw.startswith("HTTP/1.1 400") and "\r\nserver:" not in raw.lower(), raw
