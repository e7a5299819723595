"""coord accepts a referred case, convenes a 支援会議 with member_c, who acknowledges 守秘義務 and reads
the briefing; consent, 支援決定, a plan approved at the 重層的支援会議, evaluated and closed. outsider
sees nothing at any point."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
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


def logout(page):
    page.get_by_role("button", name="ログアウト").click()


def outsider_sees_nothing(page, base, case_url):
    login(page, base, "outsider")
    assert page.goto(case_url).status == 404
    page.goto(f"{base}/persons/search/?q=なかむら")
    assert page.get_by_text("中村 由紀").count() == 0
    page.goto(f"{base}/support-meetings/")
    assert page.get_by_text("支援会議", exact=False).count() >= 1  # the page itself
    assert page.get_by_role("link", name=re.compile("第2回")).count() == 0
    logout(page)


def test_multi_agency_flow_end_to_end(page, live_server, personas):
    base = live_server.url
    case = Case.objects.get(person__name="中村 由紀")
    case_url = f"{base}/cases/{case.pk}/"
    outsider_sees_nothing(page, base, case_url)

    # coord takes the referral up.
    login(page, base, "coord")
    page.get_by_role("link", name="多機関協働", exact=True).click()
    page.get_by_role("button", name="受理する").click()
    page.wait_for_url(case_url)
    expect(page.get_by_text("多機関協働として受理しました")).to_be_visible()

    # 支援会議 with member_c.
    page.goto(f"{base}/support-meetings/")
    page.get_by_role("link", name="支援会議を招集する").click()
    now = timezone.localtime()
    page.get_by_label("開催日時").fill(now.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("名称").fill("第2回 支援会議")
    page.get_by_label("閲覧期間（開始）").fill((now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("閲覧期間（終了）").fill((now + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label(re.compile("上田 真理")).check()
    page.get_by_role("button", name="招集する").click()
    page.wait_for_url(re.compile(r"/support-meetings/\d+/$"))
    meeting_url = page.url
    # The picker: typed by the person's ふりがな, picked by its ケース番号 (issue 17).
    page.get_by_role("textbox", name="ケース", exact=True).fill(case.person.kana)
    page.get_by_role("button", name=re.compile(case.number)).click()
    assert page.get_by_role("textbox", name="ケース", exact=True).input_value() == case.number
    page.get_by_role("button", name="共有する項目を選ぶ").click()
    page.get_by_label("課題・アセスメント", exact=True).check()
    page.get_by_role("button", name="プレビューを更新").click()
    preview = page.locator(".briefing-preview")
    expect(preview.get_by_text("外部の構成員")).to_be_visible()
    expect(preview.get_by_text("本人（仮名）")).to_be_visible()
    page.get_by_role("button", name="この内容で共有する").click()
    page.wait_for_url(meeting_url)
    expect(page.get_by_role("heading", name=re.compile("議題1: C-"))).to_be_visible()
    logout(page)

    # member_c: 守秘義務 first, then the briefing.
    login(page, base, "member_c")
    assert page.goto(meeting_url).status == 404
    page.goto(f"{base}/support-meetings/")
    assert page.get_by_text("第2回").count() == 0  # before 守秘義務: the date and host, not the title
    page.locator(f'a[href="{meeting_url.removeprefix(base)}pledge/"]').click()
    page.get_by_role("button", name="確認しました").click()
    page.wait_for_url(meeting_url)
    expect(page.get_by_text("長女").first).to_be_visible()
    assert page.goto(case_url).status == 404  # never the live case
    logout(page)

    # coord: consent, 支援決定, plan, 重層的支援会議.
    login(page, base, "coord")
    page.goto(case_url)
    page.get_by_role("link", name="本人同意を記録する").click()
    page.get_by_label("みどり障害者相談支援センター").check()
    page.get_by_label("みどり子ども家庭支援センター").check()
    page.get_by_label("基本情報（氏名・生年月日・連絡先）").check()
    page.get_by_label("支援プラン", exact=True).check()
    page.get_by_label("書面").check()
    page.get_by_role("button", name="記録する").click()
    page.wait_for_url(case_url)
    page.get_by_label("決定番号").fill("R8-002")
    page.get_by_role("button", name="支援決定を記録する").click()
    page.wait_for_url(case_url)
    page.get_by_role("link", name="支援プランを作成する", exact=True).click()
    page.get_by_label("本人の意向").fill("娘に負担をかけずに暮らしたい")
    page.get_by_label("課題の整理").fill("母の精神疾患と長女のケア負担")
    page.get_by_label("長期目標").fill("長女が学業を続けられる")
    page.get_by_label("短期目標（1行に1つ）").fill("母が訪問看護を利用する\n長女が週4日以上登校する")
    page.get_by_label("見直し予定日").fill((timezone.localdate() + timedelta(days=60)).isoformat())
    page.locator("#id_tasks-0-agency").select_option(label="みどり子ども家庭支援センター")
    page.locator("#id_tasks-0-role").fill("長女の見守りと学校との連携")
    page.locator("#id_tasks-0-content").fill("学校訪問と長女との面談")
    page.get_by_role("button", name="作成する").click()
    page.wait_for_url(re.compile(r"/multi-agency/plans/\d+/$"))

    page.goto(f"{base}/multi-agency/conferences/")
    page.get_by_label("開催日時").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("みどり子ども家庭支援センター").check()
    page.get_by_role("button", name="登録する").click()
    page.wait_for_url(re.compile(r"/multi-agency/conferences/\d+/$"))
    page.locator(".agenda-form", has_text=case.number).get_by_role("button", name="決定する").click()
    expect(page.get_by_text("プランを承認しました。")).to_be_visible()
    block = page.locator(".agenda-form", has_text=case.number)
    block.get_by_text("評価する").click()
    block.get_by_label("本人・世帯の変化").fill("訪問看護が始まり、長女の登校が安定した")
    block.get_by_label("今後の方針").select_option(label="終結")
    block.get_by_label("終結理由").select_option(label="目標達成")
    block.get_by_role("button", name="評価を記録する").click()
    expect(page.get_by_text("評価を記録しました。")).to_be_visible()
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    logout(page)

    outsider_sees_nothing(page, base, case_url)
