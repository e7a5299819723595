"""intake_a logs a consultation for a new person, opens a case, assesses it and refers it to
多機関協働; outsider can find it neither by search nor by URL."""

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case, CaseStatus
from devdata.demo.world import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{base}/")


def test_intake_case_assessment_referral_and_the_outsider_sees_nothing(page, live_server, personas):
    base = live_server.url
    login(page, base, "intake_a")
    page.get_by_role("link", name="相談受付", exact=True).click()
    page.wait_for_url(f"{base}/consultations/new/")
    page.wait_for_load_state("load")  # the search-as-you-type script is attached once the page has loaded

    # Search as you type: an existing person of the agency shows up, typed in half-width katakana.
    page.get_by_label("氏名・ふりがなで検索").fill("ﾔﾏﾓﾄ")
    page.get_by_role("button", name=re.compile("山本 トシ子")).wait_for()
    # This time it is someone new.
    page.get_by_label("氏名・ふりがなで検索").fill("森 花子")
    # Let the search answer before going on: the live server shares one SQLite connection between
    # its threads, so a search still running while the form is posted can break the transaction.
    page.get_by_text("「森 花子」に一致する方は見つかりませんでした").wait_for()
    page.get_by_role("button", name="新しく登録する").click()
    page.get_by_label("氏名", exact=True).fill("森 花子")
    page.get_by_label("ふりがな", exact=True).fill("もり はなこ")
    page.get_by_label("生年月日", exact=True).fill("1946-07-07")
    page.get_by_label("新しい世帯の名前").fill("森さん世帯")
    page.get_by_label("相談手段").select_option(label="電話")
    page.get_by_label("相談者（経路）").select_option(label="民生委員・児童委員")
    page.get_by_label("介護", exact=True).check()
    page.get_by_label("社会的孤立").check()
    page.get_by_label("主な課題").select_option(label="介護")
    page.get_by_label("主訴").fill("一人暮らしで認知症の疑い。食事がとれていない様子。")
    page.get_by_label("ケース化").check()
    page.get_by_role("button", name="記録する").click()

    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    expect(page.get_by_text("支援ケース").first).to_be_visible()
    case = Case.objects.get(person__name="森 花子")
    case_url = f"{base}/cases/{case.pk}/"

    page.get_by_role("link", name="アセスメントを記録する").click()
    page.get_by_label("介護", exact=True).check()
    page.get_by_label("課題の整理（本人）").fill("認知機能の低下と食事の確保")
    page.get_by_label("見立て").fill(
        "認知症の進行と社会的孤立が重なる。医療・介護・地域の見守りの連携が必要。"
    )
    page.get_by_role("button", name="記録する").click()
    page.wait_for_url(case_url)
    expect(page.get_by_role("heading", name="アセスメント 第1版")).to_be_visible()

    page.get_by_label("変更後の状態").select_option(label="多機関協働へつなぎ依頼")
    page.get_by_label("理由", exact=True).fill("医療・介護・地域の複数機関の連携が必要なため")
    page.get_by_role("button", name="変更する").click()
    page.wait_for_url(case_url)
    expect(page.get_by_text("ケースを「多機関協働へつなぎ依頼」にしました。")).to_be_visible()
    case.refresh_from_db()
    assert case.status == CaseStatus.REFERRED
    page.get_by_role("button", name="ログアウト").click()

    login(page, base, "outsider")
    page.goto(f"{base}/persons/search/?q=もり")
    expect(page.get_by_text("に一致する方は見つかりませんでした")).to_be_visible()
    assert page.get_by_text("森 花子").count() == 0
    response = page.goto(case_url)
    assert response.status == 404
    assert page.get_by_text("森 花子").count() == 0
