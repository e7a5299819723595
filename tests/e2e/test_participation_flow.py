"""A coordinator matches a person to a host and records the placement."""

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case
from devdata.demo.world import DEMO_PASSWORD
from participation.models import Placement, PlacementStatus

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_coordinator_matches_and_places(page, live_server, personas):
    base = live_server.url
    case = Case.objects.get(person__name="山本 トシ子")  # in 多機関協働: the coordinator holds 担当
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("ユーザー名").fill("coord")
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/cases/{case.pk}/")
    page.get_by_role("link", name="参加支援プランを作成する").click()
    page.get_by_label("本人の希望").fill("昼間に人と話せる場所がほしい")
    page.get_by_label("居場所・サロン").check()
    page.get_by_label("目標").fill("週1回、居場所に通う")
    page.get_by_label("見直し予定日").fill("2027-03-01")
    page.get_by_role("button", name="作成する").click()
    page.wait_for_url(re.compile(r"/participation/plans/\d+/$"))
    page.get_by_role("button", name="探す").click()
    page.locator(".result-list li", has_text="中高年の居場所「ひだまり」").get_by_role(
        "button", name="提案する"
    ).click()
    expect(page.get_by_text("を提案しました。")).to_be_visible()
    page.get_by_label("本人の選択").select_option(label="希望する")
    page.get_by_label("受け入れ先の了承").select_option(label="了承")
    page.get_by_role("button", name="記録", exact=True).click()
    page.get_by_label("開始日").fill("2026-12-01")
    page.get_by_label("頻度").fill("毎週水曜")
    page.get_by_role("button", name="参加先に決める").click()
    expect(page.get_by_text("を参加先に決めました（調整中）。")).to_be_visible()
    placement = Placement.objects.get(host__name="中高年の居場所「ひだまり」")
    assert placement.status == PlacementStatus.ARRANGING and placement.plan.case == case
