"""docker-compose.yml cannot be run on these machines; it is kept correct by checking it against
the settings: the services, images, healthchecks, and every variable the app containers get."""

import re
import runpy
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = ("web", "worker", "beat")
# Variables docker-compose itself uses, never passed to the application.
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def env_example():
    values = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(value: str, variables: dict[str, str]) -> str:
    """docker-compose's ${VAR}, ${VAR:-default} and ${VAR:?error}; $$ is a literal $."""

    def replace(match):
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        current = variables.get(name, "")
        if op == ":?" and not current:
            raise AssertionError(f"{name} must be set: {arg}")
        return current or (arg if op == ":-" else "")

    return re.sub(r"\$\{(\w+)(:-|:\?)?([^}]*)\}", replace, value).replace("$$", "$")


def test_the_five_services_exist_with_images_and_healthchecks(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    for name in APP_SERVICES:
        assert services[name]["build"] == "."
        assert services[name]["image"] == "jusou:latest"
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == depends["redis"]["condition"] == "service_healthy"


def test_data_lives_in_named_volumes(compose):
    services = compose["services"]
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "redis-data:/data" in services["redis"]["volumes"]
    assert set(compose["volumes"]) == {"postgres-data", "redis-data", "beat-data", "media-data"}
    for name in ("web", "worker"):  # uploaded documents are written by web and read by tasks
        assert "media-data:/var/lib/jusou/media" in services[name]["volumes"]
    assert services["web"]["environment"]["MEDIA_ROOT"] == "/var/lib/jusou/media"


def test_web_migrates_on_start_and_serves_with_gunicorn(compose):
    command = compose["services"]["web"]["command"]
    assert command.index("manage.py migrate") < command.index(
        "gunicorn -c python:jusou.gunicorn jusou.wsgi:application"
    )


def test_gunicorn_serves_with_threads_so_idle_connections_hold_no_worker():
    from jusou import gunicorn

    assert gunicorn.worker_class == "gthread" and gunicorn.threads > 1 and gunicorn.workers >= 2


def test_worker_and_exactly_one_beat_use_the_celery_app(compose):
    assert compose["services"]["worker"]["command"][:4] == ["celery", "-A", "jusou", "worker"]
    assert compose["services"]["beat"]["command"][:4] == ["celery", "-A", "jusou", "beat"]
    assert "deploy" not in compose["services"]["beat"]  # never scaled


def test_application_variables_are_ones_the_settings_read(compose, env_example):
    read = settings.ENVIRONMENT_VARIABLES
    for name in APP_SERVICES:
        unknown = set(compose["services"][name]["environment"]) - read
        assert not unknown, f"{name} sets variables settings.py never reads: {unknown}"
    unknown = set(env_example) - read - COMPOSE_ONLY
    assert not unknown, f".env.example documents variables settings.py never reads: {unknown}"


def test_every_variable_compose_interpolates_is_documented_in_env_example(env_example):
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    referenced = set(re.findall(r"\$\{(\w+)", text))
    assert referenced <= set(env_example), referenced - set(env_example)


def test_app_containers_get_a_production_configuration_that_settings_accept(
    compose, env_example, monkeypatch, tmp_path
):
    environment = compose["services"]["web"]["environment"]
    resolved = {name: interpolate(str(value), env_example) for name, value in environment.items()}
    assert resolved["DEBUG"] == "false"
    assert (
        resolved["DATABASE_URL"].startswith("postgres://jusou:")
        and "@postgres:5432/jusou" in resolved["DATABASE_URL"]
    )
    assert resolved["REDIS_URL"] == "redis://redis:6379/0"
    assert "django_secret_key" in compose["services"]["web"]["secrets"]
    assert compose["secrets"]["django_secret_key"]["file"] == "./secrets/django_secret_key"

    secret = tmp_path / "django_secret_key"
    secret.write_text("s" * 10 + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN")
    resolved["SECRET_KEY_FILE"] = str(secret)
    for name in settings.ENVIRONMENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in resolved.items():
        monkeypatch.setenv(name, value)
    loaded = runpy.run_path(str(ROOT / "jusou" / "settings.py"))
    assert loaded["DEBUG"] is False
    assert loaded["DATABASES"]["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert loaded["DATABASES"]["default"]["HOST"] == "postgres"
    assert loaded["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert loaded["CELERY_TASK_ALWAYS_EAGER"] is False
    assert loaded["ALLOWED_HOSTS"] == ["jusou.city.example.lg.jp"]


def test_all_app_services_share_one_environment(compose):
    environments = [compose["services"][name]["environment"] for name in APP_SERVICES]
    assert environments[0] == environments[1] == environments[2]


def test_dockerfile_collects_static_files_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "collectstatic --noinput" in dockerfile
    assert re.search(r"^USER jusou$", dockerfile, re.MULTILINE)
