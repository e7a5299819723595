import os

import pytest
from django.db import connections
from playwright.sync_api import sync_playwright

from tests.e2e.browser import CHROMIUM_ARGS, chromium_path

ARTIFACTS = os.environ.get("JUSOU_TEST_ARTIFACTS", "test-artifacts")


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
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        os.makedirs(ARTIFACTS, exist_ok=True)
        page.screenshot(path=os.path.join(ARTIFACTS, f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
