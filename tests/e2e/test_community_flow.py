"""A coordinator runs a district (issue 19): records a session at a place, corrects it, develops a host
from a resource gap (the 開拓 candidate opened from the gap joins the register and closes it), and
matches a person to that host on a weekday."""

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case
from community.models import Activity, CommunityResource
from devdata.demo.world import DEMO_PASSWORD
from jusou.models import ResourceGap

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_coordinator_records_corrects_develops_and_matches(page, live_server, personas):
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("ユーザー名").fill("coord")
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{base}/")

    # 1. a session at the 子ども食堂, then corrected (the demo's own sessions fall on dates counted back
    # from today, one of them possibly on the date typed here: the test's session is the new one)
    demo_sessions = list(Activity.objects.values_list("pk", flat=True))
    page.goto(f"{base}/community/resources/")
    page.get_by_role("link", name="みどり中央子ども食堂").click()
    session = page.locator("form", has=page.locator("input[name=form][value=activity]"))
    session.get_by_label("開催日").fill("2026-11-20")
    session.get_by_label("参加者数（実人数）").fill("30")
    session.get_by_label("参加者数（延べ）").fill("33")
    session.get_by_role("button", name="開催記録を追加").click()
    expect(page.get_by_text("開催記録を追加しました。")).to_be_visible()
    page.locator("li", has_text="参加 30人（延べ 33人）").get_by_role("link", name="訂正・削除").click()
    page.get_by_label("参加者数（実人数）").fill("31")
    page.get_by_label("参加者数（延べ）").fill("36")
    page.get_by_label("訂正の理由").fill("集計の誤り")
    page.get_by_role("button", name="訂正を保存する").click()
    expect(page.get_by_text("記録を訂正しました")).to_be_visible()
    expect(page.get_by_text("参加 31人（延べ 36人）")).to_be_visible()
    activity = Activity.objects.exclude(pk__in=demo_sessions).get(held_on="2026-11-20")
    assert activity.history.latest().history_change_reason == "訂正: 集計の誤り"

    # 2. develop a host from the 就労体験先 gap
    gap = ResourceGap.objects.get(category="就労体験先")
    page.goto(f"{base}/community/gaps/")
    page.locator(f"#gap-{gap.pk}").get_by_role("link", name="この不足から参加支援先の開拓を始める").click()
    page.wait_for_url(re.compile(r"/participation/development/\?gap=\d+"))
    form = page.locator("#candidate-form")
    expect(form.get_by_text("平日の午前に短時間から働ける体験先")).to_be_visible()
    form.get_by_label("名称").fill("中央青果店")
    form.get_by_label("種別").select_option(label="就労体験先")
    form.get_by_label("運営主体").fill("八百屋みどり")
    form.get_by_label("開催日時・時間帯").fill("平日 9時〜12時")
    form.get_by_label("月", exact=True).check()
    form.get_by_label("水", exact=True).check()
    form.get_by_label("連絡先").fill("みどり商店街事務所")
    form.get_by_label("企業・商店の就労体験").check()
    form.get_by_label("受け入れ人数の上限").fill("1")
    form.get_by_label("訪問・打診した日").fill("2026-11-25")
    form.get_by_role("button", name="記録する").click()
    expect(page.get_by_text("開拓の記録を追加しました。")).to_be_visible()
    candidate = page.locator(".candidate", has_text="中央青果店")
    candidate.get_by_text("受け入れ先として地域資源に登録する").click()
    expect(candidate.get_by_label("きっかけの不足する社会資源を「開発済」にする")).to_be_checked()
    candidate.get_by_role("button", name="地域資源に登録する").click()
    expect(page.get_by_text("きっかけの不足する社会資源を「開発済」にしました。")).to_be_visible()
    host = CommunityResource.objects.get(name="中央青果店")
    gap.refresh_from_db()
    assert gap.status == "developed" and list(gap.developed_resources.all()) == [host]
    assert (host.operator, host.days, host.contact, host.capacity) == (
        "八百屋みどり",
        [0, 2],
        "みどり商店街事務所",
        1,
    )

    # 3. match a person to it on a Monday
    case = Case.objects.get(person__name="山本 トシ子")  # in 多機関協働: the coordinator holds 担当
    page.goto(f"{base}/cases/{case.pk}/")
    page.get_by_role("link", name="参加支援プランを作成する").click()
    page.get_by_label("本人の希望").fill("平日の午前に少し働いてみたい")
    page.get_by_label("企業・商店の就労体験").check()
    page.get_by_label("目標").fill("週1回、就労体験に通う")
    page.get_by_label("見直し予定日").fill("2027-03-01")
    page.get_by_role("button", name="作成する").click()
    page.wait_for_url(re.compile(r"/participation/plans/\d+/$"))
    page.get_by_label("曜日").select_option(label="月")
    page.get_by_role("button", name="探す").click()
    match = page.locator(".result-list li", has_text="中央青果店")
    expect(match.get_by_text("残り1人（上限1人）")).to_be_visible()
    match.get_by_role("button", name="提案する").click()
    expect(page.get_by_text("中央青果店 を提案しました。")).to_be_visible()
