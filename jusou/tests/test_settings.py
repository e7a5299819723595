"""settings.py under each environment: the combinations parse, nonsense stops start-up clearly."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

SETTINGS = Path(__file__).resolve().parents[1] / "settings.py"
ROOT = SETTINGS.parents[1]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x7Kq2Lm9Np4Rs6Tv8Wy1Za3Bc5De7Fg9Hj2Kl4Mn6Pq8Rs0Tu2Vw4Xy6Za8Bc0De",
    "ALLOWED_HOSTS": "jusou.city.midori.lg.jp",
}
VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "SESSION_IDLE_MINUTES",
    "LOG_LEVEL",
    "LOGIN_FAILURE_LIMIT",
    "OUTREACH_NO_CONTACT_ALERT",
    "CONSENT_SCAN_REQUIRED",
    "DEVDATA",
}


def load(monkeypatch, **environ):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_nothing_configured_means_debug_sqlite_eager_celery_and_local_cache(monkeypatch):
    s = load(monkeypatch)
    assert s["DEBUG"] is True
    assert s["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert str(s["DATABASES"]["default"]["NAME"]).endswith("var/jusou.sqlite3")
    assert s["CELERY_TASK_ALWAYS_EAGER"] is True
    assert s["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert s["LANGUAGE_CODE"] == "ja"
    assert s["TIME_ZONE"] == "Asia/Tokyo"
    assert s["USE_TZ"] is True


def test_the_development_data_is_installed_with_debug_or_when_asked_for_and_never_else(monkeypatch):
    assert "devdata" in load(monkeypatch)["INSTALLED_APPS"]
    assert "devdata" not in load(monkeypatch, **PRODUCTION)["INSTALLED_APPS"]
    assert "devdata" in load(monkeypatch, **PRODUCTION, DEVDATA="true")["INSTALLED_APPS"]
    assert "devdata" not in load(monkeypatch, DEVDATA="false")["INSTALLED_APPS"]


def test_database_url_selects_postgresql_through_psycopg(monkeypatch):
    s = load(monkeypatch, DATABASE_URL="postgres://jusou:p%40ss@db.internal:6543/jusou_prod?sslmode=require")
    db = s["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "jusou_prod",
        "jusou",
        "p@ss",
        "db.internal",
        "6543",
    )
    assert db["OPTIONS"] == {
        "sslmode": "require",
        "options": "-c jit=off",
        "server_side_binding": True,
        "prepare_threshold": 5,
    }
    assert db["CONN_MAX_AGE"] > 0  # prepared statements live as long as the connection


def test_prepared_statements_can_be_turned_off_for_a_pooler_in_transaction_mode(monkeypatch):
    s = load(
        monkeypatch,
        DATABASE_URL="postgres://db.internal/jusou?prepare_threshold=none&server_side_binding=off",
    )
    options = s["DATABASES"]["default"]["OPTIONS"]
    assert (options["prepare_threshold"], options["server_side_binding"]) == (None, False)


def test_redis_url_puts_celery_and_cache_on_redis(monkeypatch):
    s = load(monkeypatch, REDIS_URL="redis://127.0.0.1:6379/2")
    assert s["CELERY_TASK_ALWAYS_EAGER"] is False
    assert s["CELERY_BROKER_URL"] == s["CELERY_RESULT_BACKEND"] == "redis://127.0.0.1:6379/2"
    assert s["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"


def test_production_configuration_turns_on_transport_security(monkeypatch):
    s = load(monkeypatch, **PRODUCTION)
    assert s["DEBUG"] is False
    assert s["SECURE_SSL_REDIRECT"] and s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"]
    assert s["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert s["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert "CompressedManifest" in s["STORAGES"]["staticfiles"]["BACKEND"]


def test_municipality_rules_default_to_two_no_contacts_and_an_optional_scan(monkeypatch):
    s = load(monkeypatch)
    assert (s["OUTREACH_NO_CONTACT_ALERT"], s["CONSENT_SCAN_REQUIRED"]) == (2, False)
    s = load(monkeypatch, OUTREACH_NO_CONTACT_ALERT="3", CONSENT_SCAN_REQUIRED="true")
    assert (s["OUTREACH_NO_CONTACT_ALERT"], s["CONSENT_SCAN_REQUIRED"]) == (3, True)


def test_secret_key_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("file-secret-" + "k" * 50 + "\n")
    s = load(monkeypatch, DEBUG="false", ALLOWED_HOSTS="example.jp", SECRET_KEY_FILE=str(secret))
    assert s["SECRET_KEY"] == "file-secret-" + "k" * 50


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DEBUG": "false", "ALLOWED_HOSTS": "example.jp"}, "set SECRET_KEY or SECRET_KEY_FILE"),
        ({"DEBUG": "false", "SECRET_KEY": PRODUCTION["SECRET_KEY"]}, "set ALLOWED_HOSTS"),
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DATABASE_URL": "mysql://root@localhost/jusou"}, "unsupported scheme 'mysql'"),
        ({"DATABASE_URL": "postgres://localhost:5432/"}, "must name a database"),
        ({"DATABASE_URL": "postgres://localhost:99999/jusou"}, "invalid port"),
        (
            {"DATABASE_URL": "postgres://localhost/jusou?prepare_threshold=soon"},
            "prepare_threshold must be a number",
        ),
        (
            {"DATABASE_URL": "postgres://localhost/jusou?server_side_binding=maybe"},
            "server_side_binding must be",
        ),
        ({"REDIS_URL": "http://localhost:6379"}, "is not a redis://host:port/db URL"),
        (
            {"SESSION_IDLE_MINUTES": "half an hour"},
            "SESSION_IDLE_MINUTES='half an hour' is not a whole number",
        ),
        ({"SESSION_IDLE_MINUTES": "0"}, "SESSION_IDLE_MINUTES=0 is below the minimum of 1"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD' is not one of"),
        ({"API_RATE_LIMIT": "lots"}, "API_RATE_LIMIT='lots' is not a rate like 600/minute"),
        ({"API_TOKEN_DAYS": "0"}, "API_TOKEN_DAYS=0 is below the minimum of 1"),
        ({"OUTREACH_NO_CONTACT_ALERT": "0"}, "OUTREACH_NO_CONTACT_ALERT=0 is below the minimum of 1"),
        ({"CONSENT_SCAN_REQUIRED": "sometimes"}, "CONSENT_SCAN_REQUIRED='sometimes' is not a boolean"),
        ({"SECRET_KEY": "a", "SECRET_KEY_FILE": "/run/secrets/key"}, "either SECRET_KEY or SECRET_KEY_FILE"),
        ({"SECRET_KEY_FILE": "/nonexistent/secret"}, "SECRET_KEY_FILE='/nonexistent/secret' cannot be read"),
    ],
)
def test_nonsense_values_stop_start_up_with_a_clear_message(monkeypatch, environ, message):
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(").replace("?", r"\?")):
        load(monkeypatch, **environ)


def test_check_deploy_reports_no_warnings_in_production_configuration():
    environ = {k: v for k, v in os.environ.items() if k not in VARIABLES} | PRODUCTION
    environ["DJANGO_SETTINGS_MODULE"] = "jusou.settings"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
