"""Issue 17: the whole 8050 flow in the browser, as the demo personas, through the pages only.

intake_a (地域包括) logs the call about 鈴木 トメ (82) and her son 誠 (52) on the household intake page; the son
refuses contact; intake_a refers the case to 多機関協働 and coord accepts it; coord convenes a 支援会議 with an
external member (民生委員), who gives the 守秘義務 pledge and reads the pseudonymised briefing; intake_a's
outreach to the son alerts coord after two no-contacts; the son consents (naming 障害相談 only); the plan for
both is refused at the 重層的支援会議 for the agency his consent leaves out, then approved once it is amended;
参加支援 places him; the evaluation closes the case 「主担当機関へ移行」 to 障害相談, where intake_b accepts it and
it goes on as 支援中.

After every step each persona's お知らせ are read: who got which notice, that the personas not concerned
got nothing, and that the e-mails announcing them carry no case details."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Case, CaseStatus
from devdata.demo.world import DEMO_PASSWORD
from jusou.staff import services as core_services

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HOUKATSU = "みどり中央地域包括支援センター"
SHOGAI = "みどり障害者相談支援センター"
PERSONAS = ("intake_a", "intake_b", "coord", "member_c", "outsider", "chiiki", "minsei")


class Desk:
    """One logged-in browser context per persona, kept open for the whole flow."""

    def __init__(self, browser, base):
        self.browser, self.base, self.pages = browser, base, {}
        #: notices each persona received during the flow (after the demo's own)
        self.received = {username: 0 for username in PERSONAS}

    def __getitem__(self, username):
        if username not in self.pages:
            context = self.browser.new_context(
                locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 900}
            )
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.goto(f"{self.base}/accounts/login/")
            page.get_by_label("ユーザー名").fill(username)
            page.get_by_label("パスワード").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="ログイン").click()
            page.wait_for_url(f"{self.base}/")
            self.pages[username] = page
        return self.pages[username]

    def go(self, username, path):
        page = self[username]
        page.goto(path if path.startswith("http") else f"{self.base}{path}")
        return page

    def unread(self, username) -> list[str]:
        """The unread お知らせ on the persona's list (and the bell's count agrees); then all marked read."""
        page = self.go(username, "/notifications/")
        bell = page.get_by_role("link", name=re.compile("お知らせ")).first
        badge = bell.locator(".bell__count")  # the visible count; none when nothing is unread
        count = badge.inner_text().strip() if badge.count() else ""
        items = page.locator("main li").filter(has=page.get_by_text("未読", exact=True))
        titles = [re.sub(r"^未読", "", t.strip()).strip() for t in items.locator("button").all_inner_texts()]
        assert (int(count) if count else 0) == len(titles), (username, count, titles)
        if titles:
            page.get_by_role("button", name="すべて既読にする").click()
            page.get_by_text("件のお知らせを既読にしました").wait_for()
        return titles

    def notices(self, expected: dict[str, list[str]]):
        """Each persona's new notices match `expected` (patterns, in any order); the others got none."""
        got = {username: self.unread(username) for username in PERSONAS}
        for username, titles in got.items():
            self.received[username] += len(titles)
        for username in PERSONAS:
            patterns = expected.get(username, [])
            titles = got[username]
            assert len(titles) == len(patterns), (username, titles, patterns)
            for pattern in patterns:
                assert any(re.search(pattern, title) for title in titles), (username, pattern, titles)


def born(age: int, today) -> str:
    """A birth date that makes `age` today (half a year past the birthday)."""
    return (today - timedelta(days=round((age + 0.5) * 365.25))).isoformat()


def submit(page, name):
    page.get_by_role("button", name=name, exact=True).click()


def test_the_8050_household_from_the_first_call_to_the_handover(browser, live_server, personas, settings):
    settings.NOTIFICATION_EMAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    run_flow(browser, live_server.url, personas, check_mail=True)


def run_flow(browser, base, personas, *, check_mail):
    """The flow, against `base` (the live server; or a demo server while writing it, check_mail off)."""
    # Arranging the demo accounts: an external 支援会議 member (民生委員), addresses for the e-mails.
    if "minsei" not in personas:
        core_services.external_member_register(
            username="minsei",
            last_name="佐藤",
            first_name="和子",
            email="minsei@example.jp",
            password=DEMO_PASSWORD,
            acting_user=None,
        )
    for username, user in personas.items():
        if not user.email:
            user.email = f"{username}@example.jp"
            user.save(update_fields=["email"])
    desk = Desk(browser, base)
    for username in PERSONAS:  # whatever the demo world left unread
        desk.unread(username)
    if check_mail:
        mail.outbox.clear()
    today = timezone.localdate()

    # 1. intake_a: the call about the mother and her son, on one page.
    page = desk.go("intake_a", "/consultations/new/")
    page.wait_for_load_state("load")
    page.get_by_role("button", name="新しく登録する").click()
    page.get_by_label("氏名", exact=True).fill("鈴木 トメ")
    page.get_by_label("ふりがな", exact=True).fill("すずき とめ")
    page.get_by_label("生年月日", exact=True).fill(born(82, today))
    page.get_by_label("本人の課題").fill("足腰が弱り通院できていない")
    page.get_by_label("世帯員1 氏名").fill("鈴木 誠")
    page.get_by_label("世帯員1 ふりがな").fill("すずき まこと")
    page.get_by_label("世帯員1 生年月日").fill(born(52, today))
    page.get_by_label("世帯員1 続柄").fill("長男")
    page.get_by_label("世帯員1 この方の課題").fill("約20年ひきこもり")
    page.get_by_label("世帯員1 主介護者").check()
    page.get_by_label("相談手段").select_option(label="電話")
    page.get_by_label("相談者（経路）").select_option(label="民生委員・児童委員")
    for issue in ("8050", "介護", "ひきこもり・不登校", "収入・生活費"):
        page.get_by_label(issue, exact=True).check()
    page.get_by_label("主訴").fill("民生委員から。母が外に出てこない。長男は訪問に応じない。")
    page.get_by_label("ケース化", exact=True).check()
    page.get_by_label("生命の危険", exact=True).check()
    submit(page, "記録する")
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    case_url = page.url
    case = Case.objects.get(person__name="鈴木 トメ")
    number = case.number
    expect(page.get_by_role("link", name="鈴木 誠")).to_be_visible()
    for name, age in (("鈴木 トメ", "82"), ("鈴木 誠", "52")):  # the household panel, one row each
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))
        assert age in row.first.inner_text()
    expect(page.get_by_text("生命の危険").first).to_be_visible()
    desk.notices({})

    # 2. The son refuses contact (a visit in the timeline); assessment; つなぎ to 多機関協働.
    page = desk.go("intake_a", case_url)
    page.get_by_label("種別").select_option(label="訪問")
    page.get_by_label("内容").fill("自宅訪問。長男は玄関越しに「話すことはない」と面会を拒否。")
    submit(page, "経過記録を追加")
    page.get_by_text("面会を拒否").first.wait_for()
    page.get_by_role("link", name="アセスメントを記録する").click()
    for issue in ("8050", "介護", "ひきこもり・不登校"):
        page.get_by_label(issue, exact=True).check()
    page.get_by_label("課題の整理（本人）").fill("母の通院が途絶え、介護保険サービス未利用")
    page.get_by_label("世帯全体の課題").fill("長男のひきこもりと世帯の収入減")
    page.get_by_label("見立て").fill("世帯全体への多機関での支援が必要")
    submit(page, "記録する")
    page.wait_for_url(case_url)
    page.get_by_label("変更後の状態").select_option(label="多機関協働へつなぎ依頼")
    page.get_by_label("理由", exact=True).fill(
        "母の介護と長男のひきこもりが重なり、単独の機関では対応が難しい"
    )
    submit(page, "変更する")
    page.wait_for_url(case_url)
    desk.notices({"coord": [rf"多機関協働へのつなぎ依頼（{number}"]})

    page = desk.go("coord", "/multi-agency/")
    page.get_by_role("row").filter(has_text=number).get_by_role("button", name="受理する").click()
    page.wait_for_url(case_url)
    desk.notices({"intake_a": [rf"つなぎ依頼が受理されました（{number}）"]})

    # 3. coord convenes a 支援会議 with the 民生委員 (external) and intake_b, and shares the case.
    page = desk.go("coord", "/support-meetings/")
    page.get_by_role("link", name="支援会議を招集する").click()
    now = timezone.localtime()
    page.get_by_label("開催日時").fill(now.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("名称").fill("第1回 支援会議")
    page.get_by_label("閲覧期間（開始）").fill((now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("閲覧期間（終了）").fill((now + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("佐藤 和子 ／ 外部の構成員", exact=True).check()
    page.get_by_label(re.compile("井上 健太")).check()
    submit(page, "招集する")
    page.wait_for_url(re.compile(r"/support-meetings/\d+/$"))
    meeting_url = page.url
    page.get_by_role("textbox", name="ケース", exact=True).fill("すずき とめ")
    page.get_by_role("button", name=re.compile(number)).click()
    submit(page, "共有する項目を選ぶ")
    page.get_by_label("課題・アセスメント", exact=True).check()
    submit(page, "プレビューを更新")
    preview = page.locator(".briefing-preview")
    expect(preview.get_by_text("外部の構成員")).to_be_visible()
    expect(preview.get_by_text("本人（仮名）")).to_be_visible()
    submit(page, "この内容で共有する")
    page.wait_for_url(meeting_url)
    invited = [r"支援会議（令和.*開催）の構成員に選ばれました"]
    desk.notices({"minsei": invited, "intake_b": invited})

    # The 民生委員: the pledge from the dashboard, then the pseudonymised briefing.
    page = desk.go("minsei", "/")
    page.get_by_role("list", name="守秘義務の確認が済んでいない支援会議").get_by_role("link").first.click()
    submit(page, "確認しました")
    page.wait_for_url(meeting_url)
    expect(page.get_by_text("本人（仮名）").first).to_be_visible()
    assert page.get_by_text("鈴木").count() == 0 and page.get_by_text(number).count() == 0
    assert desk["minsei"].goto(case_url).status in (403, 404)  # never the live case (no case pages at all)
    desk.notices({})

    # 4. Outreach to the son by intake_a: two visits without meeting him alert the coordinator.
    page = desk.go("intake_a", "/outreach/")
    page.get_by_label("呼び名（分かる範囲）").fill("鈴木さんの長男（50代男性）")
    page.get_by_label("把握経路").select_option(label="民生委員・児童委員")
    page.get_by_label("把握の経緯・状況").fill("母の相談から。長男は約20年ひきこもり。")
    page.get_by_label("目的").select_option(label="関係構築")
    submit(page, "始める")
    page.wait_for_url(re.compile(r"/outreach/\d+/$"))
    outreach_url = page.url
    for kind in ("訪問（不在）", "訪問（拒否）"):
        page.get_by_label("種別").select_option(label=kind)
        submit(page, "記録する")
        page.wait_for_url(outreach_url)
    desk.notices({"coord": [r"アウトリーチ .*: 2回続けて会えていません"]})
    page = desk.go("intake_a", outreach_url)
    page.get_by_label("種別").select_option(label="訪問（面会できた）")
    page.get_by_label("会えた人・話した人").fill("長男")
    page.get_by_label("反応・様子").fill("玄関先で10分話せた。障害相談の話を聞いてもよいと。")
    submit(page, "記録する")
    page.wait_for_url(outreach_url)
    page.get_by_role("textbox", name="本人", exact=True).fill("すずき まこと")
    page.get_by_role("button", name=re.compile("鈴木 誠")).click()
    submit(page, "紐づける")
    page.wait_for_url(outreach_url)
    desk.notices({})

    # 5. The son's own consent, on the household's case: 障害相談 only (not yet 地域包括).
    page = desk.go("coord", case_url)
    page.get_by_role("link", name="本人同意を記録する").click()
    page.get_by_label("同意した本人（世帯員ごとに記録）").select_option(label="鈴木 誠")
    page.get_by_label(SHOGAI).check()
    page.get_by_label("基本情報（氏名・生年月日・連絡先）").check()
    page.get_by_label("支援プラン", exact=True).check()
    page.get_by_label("書面").check()
    submit(page, "記録する")
    page.wait_for_url(case_url)
    # … and the mother's, naming both agencies.
    page.get_by_role("link", name="本人同意を記録する").click()
    page.get_by_label("同意した本人（世帯員ごとに記録）").select_option(label="鈴木 トメ")
    page.get_by_label(SHOGAI).check()
    page.get_by_label(HOUKATSU).check()
    page.get_by_label("基本情報（氏名・生年月日・連絡先）").check()
    page.get_by_label("支援プラン", exact=True).check()
    page.get_by_label("書面").check()
    submit(page, "記録する")
    page.wait_for_url(case_url)
    desk.notices({})

    # 6. coord: 支援決定 and a plan for both, with 役割分担 for 障害相談 and 地域包括.
    page = desk.go("coord", case_url)
    page.get_by_label("決定番号").fill("R8-050")
    submit(page, "支援決定を記録する")
    page.wait_for_url(case_url)
    page.get_by_role("link", name="支援プランを作成する", exact=True).click()
    page.get_by_label("本人の意向").fill("家で暮らし続けたい")
    page.get_by_label("課題の整理").fill("母の介護と長男のひきこもり、世帯の収入減")
    page.get_by_label("長期目標").fill("母子が地域で安心して暮らせる")
    page.get_by_label("短期目標（1行に1つ）").fill("母が介護保険サービスを利用する\n長男が週1回居場所に通う")
    page.get_by_label("参加支援が必要").check()
    page.get_by_label("見直し予定日").fill((today + timedelta(days=60)).isoformat())
    page.get_by_label("長男 鈴木 誠").check()
    page.locator("#id_tasks-0-agency").select_option(label=SHOGAI)
    page.locator("#id_tasks-0-role").fill("長男の障害福祉サービスの調整")
    page.locator("#id_tasks-0-content").fill("長男との面談と手帳の相談")
    page.locator("#id_tasks-1-agency").select_option(label=HOUKATSU)
    page.locator("#id_tasks-1-role").fill("母の介護サービスの調整")
    page.locator("#id_tasks-1-content").fill("要介護認定とケアプランの作成")
    submit(page, "作成する")
    page.wait_for_url(re.compile(r"/multi-agency/plans/\d+/$"))
    desk.notices({})

    # 7. The 重層的支援会議: refused for the agency the son's consent leaves out, with the way to amend it …
    page = desk.go("coord", "/multi-agency/conferences/")
    page.get_by_label("開催日時").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label(SHOGAI).check()
    page.get_by_label(HOUKATSU).check()
    submit(page, "登録する")
    page.wait_for_url(re.compile(r"/multi-agency/conferences/\d+/$"))
    conference_url = page.url
    page.locator(".agenda-form", has_text=number).get_by_role("button", name="決定する").click()
    refusal = page.get_by_text(
        f"長男 鈴木 誠さんの本人同意の共有先に含まれていない機関があります（{HOUKATSU}）"
    )
    refusal.first.wait_for()  # in the error summary and beside the form
    assert not page.get_by_text("プランを承認しました。").count()
    # … the amendment, a new version linked to the first, from the refusal's link …
    page.get_by_role("link", name="鈴木 誠さんの同意を変更する").first.click()
    page.get_by_label(HOUKATSU).check()
    page.get_by_label("書面").check()
    submit(page, "変更を記録する")
    page.get_by_text("鈴木 誠さんの本人同意を変更しました（第2版）").wait_for()
    amended = [rf"本人同意が変更されました（{number}、第2版）"]  # to the staff of the plan's agencies
    desk.notices({"intake_a": amended, "intake_b": amended})
    # … then approved: each agency with a 役割分担 is told.
    page = desk.go("coord", conference_url)
    page.locator(".agenda-form", has_text=number).get_by_role("button", name="決定する").click()
    page.get_by_text("プランを承認しました。").wait_for()
    desk.notices(
        {
            "intake_a": [rf"支援プランが承認され、{HOUKATSU}に役割分担があります（{number} 第1版）"],
            "intake_b": [rf"支援プランが承認され、{SHOGAI}に役割分担があります（{number} 第1版）"],
        }
    )
    page = desk.go("intake_b", "/")
    tasks = page.get_by_role("list", name="所属機関の役割分担")
    expect(tasks.get_by_text("長男の障害福祉サービスの調整")).to_be_visible()

    # 8. 参加支援 (intake_a): a plan, a host proposed and agreed, the placement.
    page = desk.go("intake_a", case_url)
    page.get_by_role("link", name="参加支援プランを作成する").click()
    page.get_by_label("本人の希望").fill("長男: 人の少ない時間に外に出たい")
    page.get_by_label("居場所・サロン").check()
    page.get_by_label("目標").fill("長男が週1回居場所に通う")
    page.get_by_label("見直し予定日").fill((today + timedelta(days=90)).isoformat())
    submit(page, "作成する")
    page.wait_for_url(re.compile(r"/participation/plans/\d+/$"))
    plan_url = page.url
    submit(page, "探す")
    page.get_by_role("button", name="提案する").first.click()
    page.wait_for_url(re.compile(re.escape(plan_url)))
    page.get_by_label("本人の選択").select_option(label="希望する")
    page.get_by_label("受け入れ先の了承").select_option(label="了承")
    submit(page, "記録")
    page.get_by_label("開始日").fill(today.isoformat())
    submit(page, "参加先に決める")
    page.get_by_text("を参加先に決めました（調整中）。").wait_for()
    desk.notices({})

    # 9. The evaluation: 終結, 主担当機関へ移行 to 障害相談. Its staff are told.
    page = desk.go("coord", conference_url)
    block = page.locator(".agenda-form", has_text=number)
    block.get_by_text("評価する").click()
    for goal in block.get_by_label(re.compile("^目標: ")).all():
        goal.select_option(label="一部達成")
    block.get_by_label("本人・世帯の変化").fill("母は介護サービスを利用し、長男は居場所に通い始めた")
    block.get_by_label("今後の方針").select_option(label="終結")
    block.get_by_label("終結理由").select_option(label="主担当機関へ移行")
    block.get_by_label("今後の主担当機関（引継ぎ先）").select_option(label=SHOGAI)
    submit(page, "評価を記録する")
    page.get_by_text("評価を記録しました。").wait_for()
    desk.notices({"intake_b": [rf"支援ケースの引継ぎがあります（{number}、{HOUKATSU}から）"]})

    # 10. intake_b takes it from the dashboard: it goes on as 支援中, in 障害相談's list.
    page = desk.go("intake_b", "/")
    page.get_by_role("list", name="所属機関への引継ぎ（受入れ待ち）").get_by_role(
        "link", name=re.compile(number)
    ).click()
    page.wait_for_url(case_url)
    submit(page, "引継ぎを受け入れる")
    page.wait_for_url(re.compile(r"/cases/"))
    accepted = rf"引継ぎが受け入れられました（{number}、{SHOGAI}）"
    desk.notices({"coord": [accepted], "intake_a": [accepted]})
    page = desk.go("intake_b", "/cases/?scope=mine&status=supporting")
    expect(page.get_by_role("link", name=number)).to_be_visible()
    case.refresh_from_db()
    assert case.status == CaseStatus.SUPPORTING and case.lead_worker.username == "intake_b"
    assert case.transitions.last().reason == "引継ぎの受入れ（主担当機関へ移行）"

    assert desk.received == {
        "intake_a": 4,
        "intake_b": 4,
        "coord": 3,
        "minsei": 1,
        "member_c": 0,
        "outsider": 0,
        "chiiki": 0,
    }, desk.received
    if check_mail:  # one e-mail per notice, to the persona concerned, and nothing of the case in any
        sent = {username: 0 for username in PERSONAS}
        for message in mail.outbox:
            (address,) = message.to
            sent[address.split("@")[0]] = sent.get(address.split("@")[0], 0) + 1
        assert {u: sent[u] for u in PERSONAS} == desk.received, sent
        for message in mail.outbox:
            text = message.subject + message.body
            assert number not in text and "鈴木" not in text and "/cases/" not in text, text
