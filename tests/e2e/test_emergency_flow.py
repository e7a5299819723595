"""緊急閲覧 (break-glass) end to end: outsider cannot see a case outside their basis (404), opens it
in an emergency only with a proper justification, and the supervisor — logged in with 二要素認証 —
is notified at once and records the review."""

import re
import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from cases.models import Case, EmergencyAccess
from devdata.demo.twofactor import DEMO_TOTP_SECRET
from devdata.demo.world import DEMO_PASSWORD
from jusou.models import AccessBasis, Notification, ReadLog

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

JUSTIFICATION = (
    "本人の長男から、自宅で倒れて動けないと通報があり、救急搬送に必要な既往歴と緊急連絡先を確認するため。"
)


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()


def enter_demo_code(page):
    """The code an authenticator app holding the documented demo secret shows now."""
    totp = TOTP(b32decode(DEMO_TOTP_SECRET))
    totp.time = time.time()
    page.get_by_label("確認コード").fill(f"{totp.token():06d}")
    page.get_by_role("button", name="確認する").click()


def test_break_glass_from_refusal_to_the_supervisors_review(page, live_server, personas, settings):
    settings.TWO_FACTOR_REQUIRED = True
    base = live_server.url
    case = Case.objects.get(person__name="木村 勇")
    case_url = f"{base}/cases/{case.pk}/"

    # outsider has no basis: the case answers 404, like a missing one.
    login(page, base, "outsider")
    page.wait_for_url(f"{base}/")  # a worker without an app is not asked for a code
    assert page.goto(case_url).status == 404
    assert page.get_by_text("木村 勇").count() == 0

    # 緊急閲覧 from the case list: a short reason is refused in Japanese.
    page.goto(f"{base}/cases/")
    page.get_by_role("link", name="緊急閲覧").click()
    page.wait_for_url(f"{base}/cases/emergency/")
    page.get_by_label("ケース番号").fill(case.number)
    page.get_by_label("緊急に閲覧が必要な理由（生命・身体の保護）").fill("急ぎのため")
    page.get_by_role("button", name="理由を記録して閲覧する").click()
    expect(
        page.locator(".field__error", has_text="緊急に閲覧が必要な理由を20文字以上で入力してください。")
    ).to_be_visible()
    assert not EmergencyAccess.objects.exists()
    assert page.goto(case_url).status == 404

    # With a proper reason the case opens, time-limited and announced.
    page.goto(f"{base}/cases/emergency/")
    page.get_by_label("ケース番号").fill(case.number)
    page.get_by_label("緊急に閲覧が必要な理由（生命・身体の保護）").fill(JUSTIFICATION)
    page.get_by_role("button", name="理由を記録して閲覧する").click()
    page.wait_for_url(case_url)
    expect(page.get_by_text(re.compile("緊急閲覧を開始しました（.*まで）。管理者に通知され"))).to_be_visible()
    expect(page.get_by_text("木村 勇").first).to_be_visible()
    record = EmergencyAccess.objects.get()
    assert (record.case, record.user.username, record.justification) == (case, "outsider", JUSTIFICATION)
    assert ReadLog.objects.filter(user=record.user, object_id=case.pk, basis=AccessBasis.EMERGENCY).exists()
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url(f"{base}/accounts/login/")

    # The supervisor: password, then the code; the notification is waiting.
    login(page, base, "supervisor")
    page.wait_for_url(re.compile(r"/accounts/2fa/verify/"))
    enter_demo_code(page)
    page.wait_for_url(f"{base}/")
    page.get_by_role("link", name=re.compile(r"お知らせ（未読 [1-9]\d* 件）")).click()
    notice = f"緊急閲覧がありました（小川 翔、{case.number}）"
    expect(page.get_by_text(f"理由: {JUSTIFICATION}")).to_be_visible()
    page.get_by_role("button", name=re.compile(re.escape(notice))).click()

    # The notification leads to the review page, where the supervisor records the review.
    page.wait_for_url(f"{base}/audit/emergency/")
    entry = page.locator("section.card", has_text=case.number)
    expect(entry.get_by_text(f"理由: {JUSTIFICATION}")).to_be_visible()
    entry.get_by_label("確認の所見").fill("救急搬送に必要な範囲の閲覧。本人の長男からの通報記録と照合済み。")
    entry.get_by_role("button", name="確認済みにする").click()
    page.wait_for_url(f"{base}/audit/emergency/")
    expect(page.get_by_text("確認を記録しました。")).to_be_visible()
    expect(page.locator("section.card", has_text=case.number).get_by_text("確認済み:")).to_be_visible()

    record.refresh_from_db()
    assert record.reviewed_by.username == "supervisor"
    assert record.reviewed_at is not None
    assert record.review_note.startswith("救急搬送に必要な範囲の閲覧")
    notification = Notification.objects.get(recipient__username="supervisor", kind="emergency_access")
    assert notification.read_at is not None  # opened from the bell
