"""Walk every page a persona reaches: from the dashboard, follow each link of the site (GET) to a page
of a kind not seen yet (a URL name of the URL conf: one case page stands for all), and on a page with a
form that has fields, send that form once with errors (required boxes emptied, dates outside their era)
to see the page as it is shown back. Links that change something or leave the pages are not followed."""

import re
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

from django.urls import Resolver404, resolve
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

SKIPPED_PATHS = re.compile(
    r"^/(admin|api|static|media)/|^/accounts/logout/|^/healthz|\.(pdf|csv|xlsx|json|zip)$|/download/$"
    r"|^/notifications/\d+/open/$|/export\.\w+$"
)

# Fill a form so that it is refused however its view reads it: every required text box and text area
# emptied, every date a day outside its era. A form with none of these is left alone (it is a button).
_SPOIL_FORM = """(form) => {
    let spoilt = 0;
    for (const el of form.querySelectorAll("input, textarea")) {
        if (el.type === "hidden" || el.disabled || el.readOnly || !el.offsetParent) continue;
        if (el.dataset.wareki !== undefined) { el.value = "平成31年5月1日"; spoilt++; }
        else if (el.required && ["text", "search", "textarea", "email", "tel", "number", "password", "datetime-local"].includes(el.type)) {
            el.value = ""; spoilt++;
        }
    }
    form.noValidate = true;
    return spoilt;
}"""


HUBS = ("dashboard", "cases:case_detail", "meetings:inbox", "meetings:meeting_detail", "cases:person_detail")


def is_hub(kind: str) -> bool:
    return kind in HUBS or kind.endswith("_list")


def page_kind(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def walk(
    page, base: str, check: Callable[[str, str], None], *, checked=frozenset(), limit: int = 150
) -> list[str]:
    """Visit the pages reachable from the dashboard, calling check(kind, url) on each (also on a
    refused form's page, kind + " (入力エラー)"). A kind in `checked` (another persona's walk checked it)
    is not checked again, and is visited only if it is a hub (HUBS: lists and the pages that link to
    most others) for the links this persona has there. Returns the kinds visited."""
    queue, seen_kinds, visited = [urljoin(base, "/")], set(), []
    while queue and len(visited) < limit:
        url = queue.pop(0)
        path = urlsplit(url).path
        kind = page_kind(path)
        if kind is None or kind in seen_kinds or (kind in checked and not is_hub(kind)):
            continue
        seen_kinds.add(kind)
        response = page.goto(url)
        if response is None or response.status >= 400 or urlsplit(page.url).path != path:
            continue  # refused or redirected elsewhere: that page is checked under its own kind
        page.wait_for_load_state("load")
        visited.append(kind)
        if kind not in checked:
            check(kind, url)
        for href in page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)"):
            target = urlsplit(href)
            if target.netloc != urlsplit(base).netloc or SKIPPED_PATHS.search(target.path):
                continue
            candidate = urljoin(base, target.path + (f"?{target.query}" if target.query else ""))
            if page_kind(target.path) not in seen_kinds and candidate not in queue:
                queue.append(candidate)
        if f"{kind} (入力エラー)" not in checked:
            _send_with_errors(page, kind, url, check)
    return visited


def _send_with_errors(page, kind, url, check) -> None:
    for form in page.locator("main form[method=post], main form[method=POST]").all():
        if not form.is_visible() or not form.evaluate(_SPOIL_FORM):
            continue
        # The form's own submit button: not one that sends it for something else (世帯員の欄を増やす).
        buttons = form.locator("button[type=submit], button:not([type]), input[type=submit]")
        button = buttons.and_(page.locator(":not([formnovalidate]):not([name])")).first
        if button.count() == 0:
            button = buttons.last
        if button.count() == 0 or not button.is_visible():
            continue
        try:  # a new page (the form shown back); a form its script keeps on the page is left at that
            with page.expect_event("load", timeout=5_000):
                button.click()
        except PlaywrightTimeoutError:
            continue
        check(f"{kind} (入力エラー)", page.url)
        return
