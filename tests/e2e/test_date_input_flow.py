"""intake_a corrects 山本 トシ子's 生年月日 by typing it in 和暦 as on her paper form: the reading appears
beside the field as she types, a day outside its era is explained before she saves, and the date is
stored ISO."""

import re
from datetime import date

import pytest

from cases.models import Person
from devdata.demo.world import DEMO_PASSWORD
from jusou.ja.wareki import DateInputError, parse_date, reading

# What the script must read as the server does (jusou/tests/test_wareki.py has the full lists).
SAMPLES = [
    "昭和19年5月10日",
    "s19/5/10",
    "昭19・5・10",
    "S190510",
    "㍼19年5月10日",
    "R7ー4ー1",
    "令和７年４月１日",
    "H31.4.30",
    "R元.5.1",
    "昭和64年1月7日",
    "平成元年1月8日",
    "大正15年12月24日",
    "明治45年7月29日",
    "西暦1944年5月10日",
    "１９４４－０５－１０",
    "19440510",
    "平成31年5月1日",
    "H32.1.1",
    "令和元年4月30日",
    "昭和64年1月8日",
    "大正15年12月25日",
    "明治5年1月1日",
    "R0.4.1",
    "2025-02-29",
    "R7.13.1",
]


def server_reading(text: str) -> str:
    try:
        return reading(parse_date(text))
    except DateInputError as error:
        return error.message


pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{base}/")


def test_wareki_typed_into_the_person_form_is_read_beside_the_field_and_saved(page, live_server, personas):
    base = live_server.url
    person = Person.objects.get(name="山本 トシ子")
    login(page, base, "intake_a")
    page.goto(f"{base}/persons/{person.pk}/edit/")
    page.wait_for_load_state("load")  # the reading script is attached once the page has loaded

    field = page.get_by_label("生年月日", exact=True)
    reading = page.locator("#id_birth_date_reading")
    # The stored date is shown with its reading before anything is typed.
    assert field.input_value() == "1944-03-12"
    assert reading.text_content() == "昭和19年3月12日（1944年3月12日）"

    field.fill("")
    field.press_sequentially("S19.5.10")
    assert reading.text_content() == "昭和19年5月10日（1944年5月10日）"
    # The reading is what a screen reader hears for the field.
    assert "id_birth_date_reading" in field.get_attribute("aria-describedby")

    field.fill("平成31年5月1日")
    assert reading.text_content() == "平成は平成31年4月30日までです（平成31年5月1日は令和元年5月1日）。"
    assert "field__reading--error" in reading.get_attribute("class")

    for text in SAMPLES:
        field.fill(text)
        assert reading.text_content() == server_reading(text), text
    field.fill("昭和十九年")  # not a date (yet): nothing is said while typing; the server explains on saving
    assert reading.text_content() == ""

    field.fill("Ｓ１９．５．１０")  # full-width, as an IME types it
    assert reading.text_content() == "昭和19年5月10日（1944年5月10日）"
    page.get_by_label("変更の理由").fill("生年月日の訂正（申込票の記載による）")
    page.get_by_role("button", name="保存する").click()
    page.wait_for_url(re.compile(rf"/persons/{person.pk}/$"))
    person.refresh_from_db()
    assert person.birth_date == date(1944, 5, 10)

    # A 和暦 day outside its era is refused by the server too, with the typed text kept.
    page.goto(f"{base}/persons/{person.pk}/edit/")
    page.wait_for_load_state("load")
    page.get_by_label("生年月日", exact=True).fill("H32.1.1")
    page.get_by_role("button", name="保存する").click()
    # On the field (the summary at the top names it too, as a link)
    page.locator(
        ".field__error", has_text="平成は平成31年4月30日までです（平成32年1月1日は令和2年1月1日）。"
    ).wait_for()
    assert page.get_by_label("生年月日", exact=True).input_value() == "H32.1.1"
    person.refresh_from_db()
    assert person.birth_date == date(1944, 5, 10)
