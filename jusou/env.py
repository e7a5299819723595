"""Typed reading of environment variables for settings.py.

Every value is parsed strictly: a value that cannot be what the setting needs stops the start-up
with ImproperlyConfigured naming the variable, instead of silently falling back to a default. The
reader remembers which names it was asked for, so that docker-compose.yml and .env.example can be
checked against the settings (tests/test_deployment.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Env:
    def __init__(self, environ: Mapping[str, str]):
        self._environ = environ
        self.names_read: set[str] = set()

    def _raw(self, name: str) -> str | None:
        self.names_read.add(name)
        value = self._environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self._raw(name)
        return default if value is None else value

    def bool(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a boolean: use true/false, 1/0, yes/no or on/off."
        )

    def int(self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
        if maximum is not None and number > maximum:
            raise ImproperlyConfigured(f"{name}={number} is above the maximum of {maximum}.")
        return number

    def choice(self, name: str, choices: list[str], default: str) -> str:
        value = self._raw(name)
        if value is None:
            return default
        if value not in choices:
            raise ImproperlyConfigured(f"{name}={value!r} is not one of {', '.join(choices)}.")
        return value

    def rate(self, name: str, default: str) -> str:
        """A request rate such as "600/minute" (DRF throttling: second, minute, hour or day)."""
        value = self._raw(name) or default
        count, _, period = value.partition("/")
        if not count.isdigit() or int(count) < 1 or period not in ("second", "minute", "hour", "day"):
            raise ImproperlyConfigured(
                f"{name}={value!r} is not a rate like 600/minute (second, minute, hour, day)."
            )
        return value

    def list(self, name: str, default: list[str] | None = None) -> list[str]:
        value = self._raw(name)
        if value is None:
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]

    def secret(self, name: str) -> str | None:
        """`NAME`, or the contents of the file named by `NAME_FILE` (Docker/Kubernetes secrets)."""
        direct = self._raw(name)
        file_name = self._raw(f"{name}_FILE")
        if direct and file_name:
            raise ImproperlyConfigured(f"Set either {name} or {name}_FILE, not both.")
        if file_name:
            try:
                content = Path(file_name).read_text(encoding="utf-8").strip()
            except OSError as error:
                raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {error}.") from None
            if not content:
                raise ImproperlyConfigured(f"{name}_FILE={file_name!r} is empty.")
            return content
        return direct


def _flag(value: str, name: str, key: str) -> bool:
    lowered = str(value).lower()
    if lowered in {"1", "true", "on", "yes"}:
        return True
    if lowered in {"0", "false", "off", "no"}:
        return False
    raise ImproperlyConfigured(f"{name}: {key} must be true or false.")


def database_from_url(url: str, *, name: str = "DATABASE_URL") -> dict:
    """Django DATABASES entry for a postgres:// (psycopg 3) or sqlite:/// URL."""
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        database = unquote(parts.path.lstrip("/"))
        if not database:
            raise ImproperlyConfigured(f"{name} must name a database: postgres://user@host:5432/DBNAME.")
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(f"{name} has an invalid port.") from None
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        # JIT compilation costs tens of milliseconds on every query whose estimate passes jit_above_cost and
        # gains nothing on short OLTP queries like ours (measured by bench/run.py): off unless the URL asks.
        options.setdefault("options", "-c jit=off")
        # Server-side binding with psycopg's automatic prepared statements: a query run a fifth time on a
        # connection is prepared, and from then on PostgreSQL skips parsing and, once its generic plan is as
        # cheap as the custom ones, planning too. Planning was most of the SQL time of the pages that filter
        # on the visible set (bench/RESULTS.md, issue 14). Persistent connections (CONN_MAX_AGE) keep the
        # prepared statements. Behind a pooler in transaction mode, set ?prepare_threshold=none.
        options["server_side_binding"] = _flag(
            options.get("server_side_binding", "true"), name, "server_side_binding"
        )
        threshold = str(options.get("prepare_threshold", "5")).lower()
        if threshold in {"none", "off", ""}:
            options["prepare_threshold"] = None
        elif threshold.isdigit():
            options["prepare_threshold"] = int(threshold)
        else:
            raise ImproperlyConfigured(f"{name}: prepare_threshold must be a number or none.")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": database,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    if parts.scheme == "sqlite":
        path = unquote(url[len("sqlite://") :].lstrip("/"))
        if not path:
            raise ImproperlyConfigured(f"{name} must name a file: sqlite:////absolute/path.db.")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": "/" + path}
    raise ImproperlyConfigured(
        f"{name} has an unsupported scheme {parts.scheme!r}: use postgres://… or sqlite:////path."
    )


def redis_url(url: str, *, name: str = "REDIS_URL") -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise ImproperlyConfigured(f"{name}={url!r} is not a redis://host:port/db URL.")
    return url
