"""二要素認証 in the browser: the demo supervisor logs in with the password, is asked for the code of
the demo 認証アプリ, and reaches the dashboard only with the right one."""

import os
import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from devdata.demo.twofactor import DEMO_TOTP_SECRET
from devdata.demo.world import DEMO_PASSWORD
from tests.e2e.conftest import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def screenshot(page, name):
    """Kept with the test artifacts, to look at how the Japanese pages read."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, name), full_page=True)


def demo_code(steps_ahead=0) -> str:
    """What an authenticator app holding the documented demo secret shows."""
    totp = TOTP(b32decode(DEMO_TOTP_SECRET))
    totp.time = time.time() + steps_ahead * 30
    return f"{totp.token():06d}"


def test_demo_supervisor_enters_the_code_after_the_password(page, live_server, personas, settings):
    settings.TWO_FACTOR_REQUIRED = True
    base = live_server.url
    page.goto(f"{base}/cases/")
    page.get_by_label("ユーザー名").fill("supervisor")
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()

    page.wait_for_url(f"{base}/accounts/2fa/verify/?next=%2Fcases%2F")
    expect(page.get_by_role("heading", name="確認コードの入力")).to_be_visible()
    screenshot(page, "2fa-verify.png")

    wrong = "000000" if demo_code() != "000000" else "111111"
    page.get_by_label("確認コード").fill(wrong)
    page.get_by_role("button", name="確認する").click()
    expect(page.locator(".field__error", has_text="確認コードが正しくありません。")).to_be_visible()
    assert page.goto(f"{base}/").url.startswith(f"{base}/accounts/2fa/verify/")

    page.wait_for_timeout(2_100)  # django-otp's back-off after one failure is one second
    page.get_by_label("確認コード").fill(demo_code())
    page.get_by_role("button", name="確認する").click()
    page.wait_for_url(f"{base}/")
    expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()
    page.goto(f"{base}/cases/")
    assert page.url == f"{base}/cases/"


def test_a_worker_enrols_in_the_browser_and_keeps_the_recovery_codes(page, live_server, personas, settings):
    settings.TWO_FACTOR_REQUIRED = True
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("ユーザー名").fill("intake_a")
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{base}/")  # a worker without an app is not asked

    page.get_by_role("link", name="二要素認証").click()
    page.get_by_role("link", name="認証アプリを登録する").click()
    expect(page.locator("figure.qr svg")).to_be_visible()
    secret = page.locator(".secret").inner_text().replace(" ", "")
    screenshot(page, "2fa-enrol.png")
    totp = TOTP(b32decode(secret))
    totp.time = time.time()
    page.get_by_label("確認コード（6桁）").fill(f"{totp.token():06d}")
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_role("heading", name="回復コード")).to_be_visible()
    assert page.locator(".recovery-codes li").count() == 10
    screenshot(page, "2fa-recovery-codes.png")
    page.get_by_role("link", name="控えたので次へ進む").click()
    page.wait_for_url(f"{base}/accounts/2fa/")
    expect(page.get_by_text("有効: ログインのたびに確認コードを入力します。")).to_be_visible()
    expect(page.get_by_text("残り 10 件")).to_be_visible()
