"""Single sign-on in the browser, through the real OpenID Provider (tests/sso/conftest.py): the login
page's IdP button, the IdP's own login page, the dashboard; a supervisor whose IdP asserted a second
factor is not asked for jusou's code, one whose IdP did not is; logout ends at the IdP and returns to
jusou's login page."""

import pytest
from playwright.sync_api import expect

from tests.e2e.test_twofactor_flow import screenshot
from tests.sso.idp import IDP_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in_at_idp(page, sub, *, mfa=False):
    page.get_by_label("ユーザーID", exact=True).fill(sub)
    page.get_by_label("パスワード", exact=True).fill(IDP_PASSWORD)
    if mfa:
        page.get_by_label("二要素認証（ワンタイムパスワード）を使う").check()
    page.get_by_role("button", name="サインイン").click()


def test_a_worker_logs_in_and_out_through_the_idp(page, live_server, personas, sso):
    base = live_server.url
    page.goto(f"{base}/cases/")
    page.wait_for_url(f"{base}/accounts/login/**")
    screenshot(page, "sso-login.png")
    page.get_by_role("link", name="みどり市職員（庁内認証）でログイン").click()
    page.wait_for_url(f"{sso.url}/interaction/**")
    sign_in_at_idp(page, "h.aoki")
    page.wait_for_url(f"{base}/cases/")
    expect(page.get_by_role("heading", name="ケース一覧")).to_be_visible()

    page.locator("header").get_by_role("button", name="ログアウト").click()
    page.wait_for_url(f"{sso.url}/session/end**")
    expect(
        page.get_by_role("heading", name="みどり市 統合認証（デモ）からもログアウトしますか？")
    ).to_be_visible()
    page.get_by_role("button", name="ログアウトする").click()
    page.wait_for_url(f"{base}/accounts/login/**")
    expect(page.get_by_role("heading", name="ログイン", exact=True)).to_be_visible()
    page.goto(f"{base}/cases/")
    assert page.url.startswith(f"{base}/accounts/login/")


def test_the_supervisor_is_asked_for_the_code_only_without_an_idp_second_factor(
    page,
    live_server,
    personas,
    sso,
    settings,
):
    settings.TWO_FACTOR_REQUIRED = True
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("link", name="みどり市職員（庁内認証）でログイン").click()
    sign_in_at_idp(page, "m.sasaki", mfa=True)
    page.wait_for_url(f"{base}/")
    expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()

    page.context.clear_cookies()  # a new browser: neither jusou's nor the IdP's session
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("link", name="みどり市職員（庁内認証）でログイン").click()
    sign_in_at_idp(page, "m.sasaki")
    page.wait_for_url(f"{base}/accounts/2fa/verify/**")
    expect(page.get_by_role("heading", name="確認コードの入力")).to_be_visible()


def test_an_unregistered_subject_reads_why_in_japanese(page, live_server, personas, sso):
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("link", name="みどり市職員（庁内認証）でログイン").click()
    sign_in_at_idp(page, "k.shin")
    expect(page.get_by_role("alert")).to_have_text(
        "このIdPのアカウントは jusou に登録されていません。システム管理者に登録を依頼してください。"
    )
    screenshot(page, "sso-refused.png")


def sign_in_at_saml_idp(page, account, *, mfa=False):
    page.get_by_label("利用者ID", exact=True).fill(account)
    page.get_by_label("パスワード", exact=True).fill(IDP_PASSWORD)
    if mfa:
        page.get_by_label("二要素認証（ワンタイムコード）を使った").check()
    page.get_by_role("button", name="ログイン", exact=True).click()


def test_a_worker_logs_in_and_out_through_the_saml_idp(page, live_server, personas, saml_sso):
    base = live_server.url
    page.goto(f"{base}/cases/")
    page.wait_for_url(f"{base}/accounts/login/**")
    page.get_by_role("link", name="社会福祉協議会・委託先（SAML）でログイン").click()
    page.wait_for_url(f"{saml_sso.url}/sso/redirect**")
    expect(page.get_by_role("heading", name="みどり市社会福祉協議会 統合認証（デモ・SAML）")).to_be_visible()
    sign_in_at_saml_idp(page, "k.inoue")
    page.wait_for_url(f"{base}/cases/")  # the IdP's page POSTed the signed assertion to jusou
    expect(page.get_by_role("heading", name="ケース一覧")).to_be_visible()
    expect(page.locator("header")).to_contain_text("井上 健太")
    screenshot(page, "sso-saml-cases.png")

    page.locator("header").get_by_role("button", name="ログアウト").click()
    page.wait_for_url(f"{base}/accounts/login/")  # through the IdP's single logout and back
    expect(page.get_by_text("IdPからもログアウトしました。")).to_be_visible()
    page.get_by_role("link", name="社会福祉協議会・委託先（SAML）でログイン").click()
    expect(page.get_by_label("利用者ID", exact=True)).to_be_visible()  # the IdP asks again


def test_a_tampered_saml_assertion_is_refused_in_japanese(page, live_server, personas, saml_sso):
    saml_sso.tamper("signature")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="社会福祉協議会・委託先（SAML）でログイン").click()
    sign_in_at_saml_idp(page, "k.inoue")
    expect(page.get_by_role("alert")).to_have_text(
        "IdPからの応答の署名を確認できませんでした。ログインできません。"
    )
    screenshot(page, "sso-saml-refused.png")
