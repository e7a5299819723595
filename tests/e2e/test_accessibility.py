"""axe-core (npm, package.json; injected by tests/e2e/browser.add_axe) finds no violation of WCAG 2.1 A/AA
or of its best practices on any page the demo personas reach: every kind of page of the URL conf that
links lead to from their dashboards — lists, details, forms, each form sent back with errors —, the
login page refused, and the focus outline is visible against white (WCAG 1.4.11: 3:1)."""

import os
import time

import pytest

from devdata.demo.world import DEMO_PASSWORD
from outreach import services as outreach_services
from tests.e2e.browser import AXE_PATH, add_axe, axe_violations, describe_violations
from tests.e2e.site_walk import walk

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PERSONAS = ["coord", "intake_a", "supervisor", "intake_b", "member_c", "chiiki", "outsider"]
# Kinds of page every persona's walk must have reached (a walk that finds nothing passes on nothing).
MUST_VISIT = {
    "dashboard",
    "notification_list",
    "statistics",
    "cases:intake",
    "cases:case_list",
    "cases:case_detail",
    "cases:consultation_list",
    "cases:person_detail",
    "cases:person_edit",
    "cases:household_detail",
    "cases:assessment_new",
    "meetings:meeting_list",
    "meetings:meeting_new",
    "meetings:meeting_detail",
    "meetings:inbox",
    "meetings:plan_detail",
    "meetings:consent_new",
    "meetings:conference_list",
    "audit_history",
    "audit_access_log",
    "retention_list",
    "outreach:engagement_list",
    "outreach:engagement_detail",
    "community:resource_list",
    "participation:development",
    "cases:intake (入力エラー)",
    "cases:person_edit (入力エラー)",
    "meetings:meeting_new (入力エラー)",
}


def contrast(a, b) -> float:
    def luminance(rgb):
        channels = [c / 255 for c in rgb]
        channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def rgb(css: str) -> tuple[int, int, int]:
    return tuple(int(part) for part in css[css.index("(") + 1 : css.index(")")].split(",")[:3])


def log_in(page, base, username):
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{base}/")


def assert_focus_outline_is_visible(page):
    """The focus outline: 3:1 at least against the white of a card (WCAG 2.1 1.4.11), 2px or wider."""
    page.locator("main a").first.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # focus by keyboard: :focus-visible
    style, width, colour = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }"
    )
    assert style == "solid" and float(width.removesuffix("px")) >= 2, (style, width)
    assert contrast(rgb(colour), (255, 255, 255)) >= 3, colour


class Checker:
    """Runs axe on the page a walk is at; keeps the first violation of each kind of page."""

    def __init__(self):
        self.failures, self.checked = {}, set()

    def on(self, page, username):
        def check(kind, url):
            violations = axe_violations(page)
            if violations:
                self.failures.setdefault(kind, f"{username} {url}\n{describe_violations(violations)}")
            self.checked.add(kind)

        return check


def test_no_page_has_an_axe_violation(browser, live_server, personas):
    # The demo has no アウトリーチ yet: one, so that its page is walked too.
    outreach_services.engagement_start(
        acting_user=personas["intake_a"],
        provisional_name="川沿いの60代男性",
        how_known="neighbour",
        background="近隣から",
        purpose="relationship",
    )
    if not AXE_PATH.exists():
        message = f"{AXE_PATH} is missing: run `npm ci` at the repository's root (.ci/run does)"
        if os.environ.get("JUSOU_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    base, checker, started = live_server.url, Checker(), time.monotonic()
    for username in PERSONAS:
        context = browser.new_context(
            locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 900}
        )
        add_axe(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        check = checker.on(page, username)
        page.goto(f"{base}/accounts/login/")
        if username == PERSONAS[0]:  # the login page, and refused: focus on the summary of errors
            check("login", page.url)
            page.get_by_label("ユーザー名").fill(username)
            page.get_by_label("パスワード").fill("wrong")
            page.get_by_role("button", name="ログイン").click()
            page.wait_for_load_state("load")
            assert page.evaluate("document.activeElement.id") == "error-summary"
            check("login (入力エラー)", page.url)
        log_in(page, base, username)
        if username == PERSONAS[0]:
            assert_focus_outline_is_visible(page)
        # Every persona's dashboard is checked; a kind of page another persona's walk checked is not
        # checked again (site_walk.walk).
        check("dashboard", page.url)
        walk(page, base, check, checked=checker.checked | {"dashboard"})
        context.close()
    elapsed = time.monotonic() - started
    print(f"axe: {len(checker.checked)} kinds of page in {elapsed:.0f} s")
    failures = checker.failures
    assert not failures, "axe violations:\n" + "\n".join(f"{kind}: {text}" for kind, text in failures.items())
    assert MUST_VISIT <= checker.checked, f"not reached: {sorted(MUST_VISIT - checker.checked)}"
