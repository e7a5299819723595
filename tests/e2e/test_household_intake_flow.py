"""Issue 17: the 8050 call on the household intake page, in the browser — the mother new, her son
found by search or typed new in the member row, a second member row added by the page's script, the
main issue following the first issue ticked, a risk flag — and one case page with the whole
household; the same page refuses a bad member row keeping everything typed; outsider finds nobody."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from cases.models import Case, HouseholdMember, Person
from devdata.demo.world import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{base}/")


def open_intake(page, base):
    page.goto(f"{base}/consultations/new/")
    page.wait_for_load_state("load")  # the page's script is attached once it has loaded


def test_household_intake_records_mother_son_issues_and_risk_on_one_page(page, live_server, personas):
    base = live_server.url
    login(page, base, "intake_a")
    open_intake(page, base)

    page.get_by_role("button", name="新しく登録する").click()
    page.get_by_label("氏名", exact=True).fill("鈴木 トメ")
    page.get_by_label("ふりがな", exact=True).fill("すずき とめ")
    page.get_by_label("生年月日", exact=True).fill(date(date.today().year - 82, 3, 14).isoformat())
    page.get_by_label("本人の課題").fill("足腰が弱り通院できていない")
    page.locator("summary", has_text="生活の状況").click()
    page.get_by_label("要介護度").select_option(label="要介護2")

    # 世帯員1: an existing person of the agency, found by kana in half-width katakana …
    page.get_by_label("世帯員1 登録済みの方を検索（氏名・ふりがな）").fill("ﾔﾏﾓﾄ")
    page.get_by_role("button", name=re.compile("山本 誠")).click()
    expect(page.get_by_text("選んだ方: 山本 誠")).to_be_visible()
    # … no: he is the neighbour's son; choose again and type the son as new.
    page.get_by_role("button", name="選び直す").click()
    page.get_by_label("世帯員1 氏名").fill("鈴木 誠")
    page.get_by_label("世帯員1 ふりがな").fill("すずき まこと")
    page.get_by_label("世帯員1 続柄").fill("長男")
    page.get_by_label("世帯員1 この方の課題").fill("約20年ひきこもり")
    page.get_by_label("世帯員1 主介護者").check()

    # 世帯員2 by the page's script (no round trip): a daughter living elsewhere.
    page.get_by_role("button", name="世帯員の欄を増やす").click()
    page.get_by_label("世帯員2 氏名").fill("田村 恵子")
    page.get_by_label("世帯員2 続柄").fill("長女")
    page.get_by_label("世帯員2 同居").uncheck()

    page.get_by_label("相談手段").select_option(label="電話")
    page.get_by_label("相談者（経路）").select_option(label="民生委員・児童委員")
    for issue in ("8050", "介護", "ひきこもり・不登校", "収入・生活費"):
        page.get_by_label(issue, exact=True).check()
    assert page.get_by_label("主な課題").input_value() != ""  # the first issue ticked
    page.get_by_label("主訴").fill("民生委員から。母が外に出てこない。長男は訪問に応じない。")
    page.get_by_label("ケース化", exact=True).check()
    page.get_by_label("生命の危険", exact=True).check()
    page.get_by_role("button", name="記録する").click()

    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get(person__name="鈴木 トメ")
    assert case.risk_life and case.consultations.get().main_issue.code == "8050"
    assert case.person.care_level == "care2"
    members = {m.person.name: m for m in HouseholdMember.objects.filter(household=case.household)}
    assert set(members) == {"鈴木 トメ", "鈴木 誠", "田村 恵子"}
    assert members["鈴木 誠"].is_main_carer and not members["田村 恵子"].lives_together
    expect(page.get_by_text("生命の危険").first).to_be_visible()
    expect(page.get_by_role("link", name="鈴木 誠")).to_be_visible()


def test_a_bad_member_row_is_refused_with_everything_kept_and_nothing_created(page, live_server, personas):
    base = live_server.url
    login(page, base, "intake_a")
    open_intake(page, base)
    before = Person.objects.count()
    page.get_by_role("button", name="新しく登録する").click()
    page.get_by_label("氏名", exact=True).fill("森 ハル")
    page.get_by_label("世帯員1 氏名").fill("森 次郎")  # no 続柄
    page.get_by_label("相談手段").select_option(label="電話")
    page.get_by_label("相談者（経路）").select_option(label="本人")
    page.get_by_label("介護", exact=True).check()
    page.get_by_label("主訴").fill("長男の将来が心配")
    page.get_by_label("ケース化", exact=True).check()
    page.get_by_label("虐待", exact=True).check()
    page.get_by_role("button", name="記録する").click()
    page.locator(".field__error", has_text="本人から見た続柄を入力してください").wait_for()
    assert Person.objects.count() == before
    assert page.get_by_label("氏名", exact=True).input_value() == "森 ハル"
    assert page.get_by_label("世帯員1 氏名").input_value() == "森 次郎"
    assert page.get_by_label("主訴").input_value() == "長男の将来が心配"
    expect(page.get_by_label("虐待", exact=True)).to_be_checked()
    page.get_by_label("世帯員1 続柄").fill("長男")
    page.get_by_role("button", name="記録する").click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    assert Case.objects.get(person__name="森 ハル").risk_abuse


def test_the_outsider_finds_nobody_in_the_member_search(page, live_server, personas):
    base = live_server.url
    login(page, base, "outsider")
    open_intake(page, base)
    page.get_by_label("世帯員1 登録済みの方を検索（氏名・ふりがな）").fill("ﾔﾏﾓﾄ")
    page.get_by_text("に一致する方は見つかりませんでした").wait_for()
    assert page.get_by_role("button", name=re.compile("山本")).count() == 0


def test_a_member_who_may_be_known_is_picked_from_the_candidates_in_one_click(page, live_server, personas):
    base = live_server.url
    login(page, base, "intake_a")
    open_intake(page, base)
    page.get_by_role("button", name="新しく登録する").click()
    page.get_by_label("氏名", exact=True).fill("山本 ハナ")
    page.get_by_label("世帯員1 氏名").fill("山本 誠")
    page.get_by_label("世帯員1 ふりがな").fill("ヤマモト マコト")
    page.get_by_label("世帯員1 生年月日").fill("1974-08-20")
    page.get_by_label("世帯員1 続柄").fill("孫")
    page.get_by_label("相談手段").select_option(label="電話")
    page.get_by_label("相談者（経路）").select_option(label="本人")
    page.get_by_label("介護", exact=True).check()
    page.get_by_label("主訴").fill("同居の孫のことで相談")
    page.get_by_label("情報提供・助言で終了", exact=True).check()
    page.get_by_role("button", name="記録する").click()
    page.get_by_text("同じ方がすでに登録されている可能性があります").first.wait_for()  # also in the summary
    assert Person.objects.filter(name="山本 誠").count() == 1
    page.get_by_role("button", name=re.compile("山本 誠.*を世帯員1として選ぶ")).click()
    page.get_by_text("相談を記録しました。").wait_for()
    assert Person.objects.filter(name="山本 誠").count() == 1
    hana = Person.objects.get(name="山本 ハナ")
    son = Person.objects.get(name="山本 誠")
    household = HouseholdMember.objects.get(person=son, left_on__isnull=True).household
    assert HouseholdMember.objects.filter(household=household, person=hana, left_on__isnull=True).exists()
