"""Every page form is sent once: a double click, a reload of the answer or a retry after a slow
network does not create a second record.

Each POST form carries a one-time token, written by the template tag ``{% submission_token %}``
(a random value, issued when the page is rendered; registered as a template builtin, so every
template may use it). The middleware below, last in MIDDLEWARE, runs the view of a POST that carries
one inside a transaction that first claims the token — the API's idempotency record
(jusou.models.IdempotencyKey, key ``form:<token>``) — and keeps the claim only when the view
succeeded: it answered by a redirect and said no error. A second POST with the same token creates
nothing: it is answered as the first was (the same redirect) with a message saying so. A refused
form (errors shown again) keeps no claim, so the corrected form may be sent with the same token.

Two POSTs racing with one token: on PostgreSQL the second's claim waits on the unique index until the
first commits (then it replays) or rolls back (then it runs); on SQLite the immediate transactions
queue them, and the later one finds the claim — as for the API (jusou.api.base.idempotent).

A POST without a token (a script, a test client, the login form) is simply not protected.
"""

import hashlib
import secrets

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.shortcuts import redirect
from django.utils.html import format_html

from jusou.models import IdempotencyKey

FIELD = "submission_token"
KEY_PREFIX = "form:"
REPLAYED = "この内容はすでに登録されています（二重送信を防ぎました）。"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_input(token: str | None = None):
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, token or new_token())


def _path_hash(request) -> str:
    return hashlib.sha256(f"{request.method} {request.path}".encode()).hexdigest()


def _errors_said(request) -> int:
    storage = getattr(request, "_messages", None)
    queued = getattr(storage, "_queued_messages", [])
    return sum(1 for m in queued if m.level >= messages.ERROR)


def _succeeded(request, response, errors_before: int) -> bool:
    return response.status_code in (301, 302, 303) and _errors_said(request) == errors_before


class SubmissionOnceMiddleware:
    """Last in MIDDLEWARE: its process_view runs the view (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or request.path.startswith("/api/"):
            return None
        token = (request.POST.get(FIELD) or "").strip()[:150]
        user = getattr(request, "user", None)
        if not token or user is None or not user.is_authenticated:
            return None
        key, digest = KEY_PREFIX + token, _path_hash(request)
        with transaction.atomic():
            stored = IdempotencyKey.objects.filter(user=user, key=key).first()
            if stored is None:
                try:
                    with transaction.atomic():  # a savepoint: losing the claim leaves the transaction usable
                        claim = IdempotencyKey.objects.create(
                            user=user,
                            key=key,
                            method="POST",
                            path=request.path[:300],
                            request_hash=digest,
                            status_code=0,
                            response={},
                        )
                except IntegrityError:
                    # Committed by a concurrent request (our insert waited for it): replay its answer.
                    stored = IdempotencyKey.objects.filter(user=user, key=key).first()
                else:
                    errors_before = _errors_said(request)
                    response = view_func(request, *view_args, **view_kwargs)
                    if not _succeeded(request, response, errors_before):
                        claim.delete()  # refused: nothing was done, the corrected form may be sent again
                        return response
                    claim.status_code = response.status_code
                    claim.response = {"location": response["Location"]}
                    claim.save(update_fields=["status_code", "response"])
                    return response
        if stored is None or stored.request_hash != digest or not stored.response.get("location"):
            # A token sent to another form than the one that issued it: not ours to protect.
            return None
        messages.info(request, REPLAYED)
        return redirect(stored.response["location"])
