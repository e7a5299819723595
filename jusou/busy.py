"""A database too busy to answer now answers 503 with Retry-After, never 500.

On SQLite (development and the demo) a writer waits for the one before it up to the busy timeout
(settings.DATABASES); past it the request fails with "database is locked". On PostgreSQL a deadlock,
a serialisation failure or a lock timeout ends one transaction the same way. None of these is the
client's mistake or a defect: the same request a moment later succeeds. So the API answers its JSON
error body (code `busy`, jusou.api.errors) and pages answer a Japanese page, both with status 503 and
Retry-After.
"""

import logging
import sys

from django.core.signals import got_request_exception
from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 2
MESSAGE = "混み合っています。少し待ってからもう一度お試しください。"

# PostgreSQL SQLSTATEs of a transaction ended by another one: serialization_failure, deadlock_detected,
# lock_not_available (lock_timeout).
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03"}


def is_busy(error: BaseException) -> bool:
    """Whether `error` says the database is busy (try again shortly), not that something is wrong."""
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    text = str(error).lower()
    return "database is locked" in text or "database table is locked" in text or "database is busy" in text


def api_body() -> dict:
    return {"status": 503, "code": "busy", "message": MESSAGE, "errors": []}


def busy_response(request) -> HttpResponse:
    """The 503 for `request`: the API's JSON body under /api/, otherwise the page (rendered without
    the database: no base template, no context processors)."""
    log.warning("database busy: %s %s answered 503", request.method, request.path)
    if request.path.startswith("/api/"):
        response = JsonResponse(api_body(), status=503, json_dumps_params={"ensure_ascii": False})
    else:
        response = HttpResponse(render_to_string("503.html", {"message": MESSAGE}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseBusyMiddleware:
    """First in MIDDLEWARE. A view's busy error becomes the 503 here (process_exception); one raised
    further out — a middleware's own write, such as the session saved on every response — has already
    been made a 500 by Django when it reaches us, so the signal below marks the request and the 500
    is replaced on the way out."""

    def __init__(self, get_response):
        self.get_response = get_response
        got_request_exception.connect(mark_busy_request, dispatch_uid="jusou.busy")

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, "_database_busy", False):
            return busy_response(request)
        return response

    def process_exception(self, request, exception):
        if is_busy(exception):
            return busy_response(request)
        return None


def mark_busy_request(sender, request=None, **kwargs):
    """got_request_exception: runs inside Django's `except`, so the exception is sys.exc_info()."""
    error = sys.exc_info()[1]
    if request is not None and error is not None and is_busy(error):
        request._database_busy = True
