"""Input hygiene at the edge: characters no person types are refused before any database work.

PostgreSQL refuses a NUL in text (psycopg raises DataError: a 500 wherever the value reaches a
lookup), a lone surrogate cannot be encoded at all, and the other control characters only ever
arrive from a broken or hostile client. So, in one place for the whole site:

- the path, every query-string name and value: no control character at all (Unicode category Cc —
  C0, DEL, C1 — nor a lone surrogate, which gets its own message: it is no character at all);
- form fields posted to a page: no control character but tab, line feed and carriage return
  (text pasted into a textarea keeps its line breaks);
- request headers: no C0 control but tab, nor DEL (a WSGI header is decoded as latin-1, so bytes
  0x80–0x9F are legitimate UTF-8 there); a cookie whose value decodes to one is dropped, as if the
  browser had not sent it;
- JSON bodies of the API are checked by its parser (jusou.api.parsers), with the same rule as form
  fields, plus bounded nesting depth and element count.

A refusal is a 400: the API's error body (jusou.api.errors) with code `invalid` for /api/, a
Japanese page elsewhere; each names the parameter or field.
"""

import re

from django.http import JsonResponse
from django.shortcuts import render

#: forbidden anywhere in a path or query string: C0, DEL, C1 and surrogates
STRICT_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: forbidden in free text (form fields, JSON strings): the same but tab, line feed, carriage return
TEXT_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
#: forbidden in a header value as WSGI gives it (latin-1): C0 but tab, and DEL
HEADER_FORBIDDEN = re.compile("[\x00-\x08\x0a-\x1f\x7f]")

ERROR_CODE = "invalid_character"
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def printable_name(name: str) -> str:
    """A parameter name fit for a message: its own forbidden characters shown as escapes."""
    shown = STRICT_FORBIDDEN.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(name))
    return shown[:100]


#: a lone surrogate (a JSON escape such as "\\ud800" with no partner): not a control character, not
#: a character at all — said so, so the client looks for a broken encoder rather than a stray NUL
SURROGATE = re.compile("[\ud800-\udfff]")


def character_message(name: str, found: str = "") -> str:
    """The message for `name`; `found` is the first forbidden character (from FORBIDDEN.search)."""
    if found and SURROGATE.fullmatch(found):
        return f"「{printable_name(name)}」に文字として読めない値（対になっていないサロゲート）が含まれています。"
    return f"「{printable_name(name)}」に使えない文字（NUL などの制御文字）が含まれています。"


def first_forbidden(pattern, texts) -> str:
    """The first character of `texts` that `pattern` forbids, a control character before a surrogate
    (either makes the value unusable, but a control character is the likelier mistake to look for)."""
    found = [match.group() for text in texts for match in pattern.finditer(str(text))]
    controls = [c for c in found if not SURROGATE.fullmatch(c)]
    return (controls or found or [""])[0]


def request_problems(request) -> list[tuple[str, str]]:
    """(name, message) for each part of the request that carries a forbidden character."""
    problems = []
    if STRICT_FORBIDDEN.search(request.path_info) or STRICT_FORBIDDEN.search(request.path):
        problems.append(("path", "URL のパスに使えない文字（NUL などの制御文字）が含まれています。"))
    for key, values in request.GET.lists():
        if found := first_forbidden(STRICT_FORBIDDEN, [key, *values]):
            problems.append((printable_name(key), character_message(key, found)))
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and HEADER_FORBIDDEN.search(value):
            header = key.removeprefix("HTTP_").replace("_", "-").title()
            problems.append((header, f"ヘッダー「{header}」に使えない制御文字が含まれています。"))
    if request.method in ("POST", "PUT", "PATCH") and not is_api(request):
        if request.content_type in FORM_CONTENT_TYPES:
            for key, values in request.POST.lists():
                if found := first_forbidden(TEXT_FORBIDDEN, [key, *values]):
                    problems.append((printable_name(key), character_message(key, found)))
    return problems


def is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def drop_unreadable_cookies(request) -> None:
    """A cookie value that decodes to a control character (`"\\000"` is an octal escape in a quoted
    cookie) cannot be a session id or CSRF token we issued: forget it rather than look it up."""
    cookies = request.COOKIES
    if any(STRICT_FORBIDDEN.search(k) or STRICT_FORBIDDEN.search(v) for k, v in cookies.items()):
        request.COOKIES = {
            k: v for k, v in cookies.items() if not (STRICT_FORBIDDEN.search(k) or STRICT_FORBIDDEN.search(v))
        }


def refusal(request, problems):
    if is_api(request):
        # Imported here: the API's errors load DRF's views and settings, whose parser
        # (jusou.api.parsers, named in REST_FRAMEWORK) imports this module.
        from jusou.api.errors import MESSAGES

        return JsonResponse(
            {
                "status": 400,
                "code": "invalid",
                "message": MESSAGES[400],
                "errors": [
                    {"field": name, "code": ERROR_CODE, "message": message} for name, message in problems
                ],
            },
            status=400,
            json_dumps_params={"ensure_ascii": False},
        )
    return render(request, "400.html", {"problems": [message for _, message in problems]}, status=400)


class CookieHygieneMiddleware:
    """First, before the session middleware reads its cookie (a NUL in a session key is a DataError
    on PostgreSQL when the session is looked up)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        drop_unreadable_cookies(request)
        return self.get_response(request)


class InputHygieneMiddleware:
    """Refuses in the request phase, which runs before any view, URL-level check (LoginRequired,
    CSRF: process_view) or lookup with the request's values; the middleware before it only read
    the (cleaned) session cookie, lazily. Placed after the security-header middleware, so the
    refusal carries the same headers as every other response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problems = request_problems(request)
        if problems:
            return refusal(request, problems)
        return self.get_response(request)
