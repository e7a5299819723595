import re

import pytest
from playwright.sync_api import expect

from devdata.demo.world import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_intake_worker_logs_in_sees_the_dashboard_and_logs_out(page, live_server, personas):
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")

    page.get_by_label("ユーザー名").fill("intake_a")
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()

    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()
    expect(page.get_by_text("みどり中央地域包括支援センター", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="担当ケース")).to_be_visible()
    # the demo's notices for this worker (a つなぎ reminder, the plan approved with a task for the agency)
    expect(page.get_by_role("link", name=re.compile(r"^お知らせ（未読 [1-9]\d* 件）$"))).to_be_visible()

    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")


def test_wrong_password_shows_the_error_in_the_browser(page, live_server, personas):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("ユーザー名").fill("intake_a")
    page.get_by_label("パスワード").fill("not the password")
    page.get_by_role("button", name="ログイン").click()
    # The summary of errors at the top of the page, focused (no role=alert: one announcement).
    summary = page.locator("#error-summary")
    expect(summary.get_by_text("ユーザー名またはパスワードが正しくありません")).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "error-summary"
