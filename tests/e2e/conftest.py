import os
import re
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import sync_playwright

from tests.e2e.browser import CHROMIUM_ARGS, chromium_path

#: where a failed e2e test leaves a full-page screenshot and the HTML of every page it had open (CI keeps them)
ARTIFACTS = Path(os.environ.get("JUSOU_TEST_ARTIFACTS", "test-artifacts")) / "e2e"


@pytest.fixture
def browser(monkeypatch):
    """One browser per test: Playwright's sync API keeps an event loop running in this thread while
    it is open, and Django then refuses ORM calls unless DJANGO_ALLOW_ASYNC_UNSAFE is set. Both are
    confined to the e2e test that needs them, so no other test runs with async safety off."""
    path = chromium_path()
    if path is None:
        pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield browser
        # While Playwright's loop runs, asgiref keeps Django's connections in a context variable
        # rather than the thread-local; close them here, or they outlive the test and block the
        # teardown of the PostgreSQL test database.
        connections.close_all()
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(
        locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def save_open_pages(browser, test_name: str) -> list[Path]:
    """A full-page screenshot and the HTML of every page open in `browser` (each persona's context in a
    multi-user test), under ARTIFACTS/<test name>/: 1-1.png, 1-1.html for the first context's first page."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", test_name)
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for c, context in enumerate(browser.contexts, 1):
        for p, page in enumerate(context.pages, 1):
            stem = folder / f"{c}-{p}"
            try:
                page.screenshot(path=f"{stem}.png", full_page=True, timeout=10_000)
                stem.with_suffix(".html").write_text(
                    f"<!-- {page.url} -->\n{page.content()}", encoding="utf-8"
                )
                saved.append(stem)
            except Exception as error:  # a crashed or closed page: note it and go on with the others
                stem.with_suffix(".txt").write_text(f"{page.url}\n{error}\n", encoding="utf-8")
    return saved


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    # On failure, before the fixtures close the browser: what every open page showed.
    browser = getattr(item, "funcargs", {}).get("browser")
    if report.failed and report.when == "call" and browser is not None:
        saved = save_open_pages(browser, item.name)
        report.sections.append(("e2e artifacts", "\n".join(f"{s}.png / .html" for s in saved)))
    return report
