"""A worker logs an outreach contact on a phone-sized screen, during a visit."""

import pytest
from playwright.sync_api import expect

from devdata.demo.world import DEMO_PASSWORD
from outreach import services
from outreach.models import OutreachContact

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_worker_logs_a_contact_on_a_narrow_viewport(page, live_server, personas):
    engagement = services.engagement_start(
        acting_user=personas["intake_a"],
        provisional_name="川沿いの60代男性",
        how_known="neighbour",
        background="近隣から",
        purpose="relationship",
    )
    page.set_viewport_size({"width": 390, "height": 844})
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("ユーザー名").fill("intake_a")
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/outreach/{engagement.pk}/")
    # The contact form comes first on the page, fully usable at 390px wide.
    form_box = page.get_by_role("heading", name="接触を記録する").bounding_box()
    assert form_box["y"] < 400
    page.get_by_label("種別").select_option(label="訪問（面会できた）")
    page.get_by_label("会えた人・話した人").fill("本人")
    page.get_by_label("反応・様子").fill("玄関先で天気の話をした")
    page.get_by_label("安否").select_option(label="確認できた")
    button = page.get_by_role("button", name="記録する")
    assert button.bounding_box()["x"] + button.bounding_box()["width"] <= 390
    button.click()
    page.wait_for_url(f"{base}/outreach/{engagement.pk}/")
    expect(page.get_by_text("接触記録を追加しました。")).to_be_visible()
    contact = OutreachContact.objects.get(engagement=engagement)
    assert contact.safety_confirmed is True and contact.met_whom == "本人"
