"""The 8050 call logged on the 相談受付 page (issue 17): a 民生委員 calls about a mother (82) and her son
(52) who has not left the house for years — two people, four issues, one risk flag — on one page.

    bench/intake_8050.py --base http://127.0.0.1:8108 [--user intake_a] [--char-ms 120] [--pause-ms 800]

Against a running server with the demo data (`manage.py loaddemo`), as a trained user: logs in, opens
the page, and records the call. It counts every interaction that is not typing (clicks, checks,
selects: the goal is ≤ 12) and times the page from opening to the case page (the goal is ≤ 90 s).
Typing is done key by key with `--char-ms` per character (Japanese input with kana-kanji conversion is
slower than Western typing) and `--pause-ms` before each interaction (finding the next control), so
the time is a person's, not the browser's; `--char-ms 0 --pause-ms 0` gives the machine's alone.
Exits 1 when a goal is missed.
"""

import argparse
import random
import re
import sys
import time
from datetime import date

from playwright.sync_api import sync_playwright

DEMO_PASSWORD = "midori-demo-2025"  # noqa: S105 - the demo data's published password (README)
GOAL_INTERACTIONS = 12
GOAL_SECONDS = 90


class User:
    """The page as a person uses it: `type_into` is typing; everything else is one interaction."""

    def __init__(self, page, *, char_ms: int, pause_ms: int):
        self.page, self.char_ms, self.pause_ms = page, char_ms, pause_ms
        self.interactions: list[str] = []
        self.typed = 0

    def _pause(self):
        if self.pause_ms:
            self.page.wait_for_timeout(self.pause_ms)

    def type_into(self, locator, text: str):
        # Focusing a field by Tab or a click is part of typing it, as on paper.
        locator.click()
        locator.fill("")
        if self.char_ms:
            locator.press_sequentially(text, delay=self.char_ms)
        else:
            locator.fill(text)
        self.typed += len(text)

    def type_date(self, locator, value: date):
        locator.fill(value.isoformat())  # a date field takes the digits as typed
        self.typed += 8
        if self.char_ms:
            self.page.wait_for_timeout(8 * self.char_ms)

    def click(self, what: str, locator):
        self._pause()
        locator.click()
        self.interactions.append(f"click: {what}")

    def check(self, what: str, locator):
        self._pause()
        locator.check()
        self.interactions.append(f"check: {what}")

    def select(self, what: str, locator, label: str):
        self._pause()
        locator.select_option(label=label)
        self.interactions.append(f"select: {what} = {label}")


def years_ago(years: int, month: int, day: int) -> date:
    """A birth date `years` ago; the day varies per run, so that a second run on the same data is not
    stopped by the duplicate check (same name and birth date)."""
    day = random.randint(1, 28)
    today = date.today()
    return date(today.year - years - (1 if (today.month, today.day) < (month, day) else 0), month, day)


def record_8050(page, base: str, user: User) -> str:
    page.goto(f"{base}/consultations/new/")
    page.wait_for_load_state("load")
    started = time.monotonic()

    # 本人: the mother, new
    user.click("本人を新しく登録する", page.get_by_role("button", name="新しく登録する"))
    user.type_into(page.get_by_label("氏名", exact=True), "鈴木 トメ")
    user.type_into(page.get_by_label("ふりがな", exact=True), "すずき とめ")
    user.type_date(page.get_by_label("生年月日", exact=True), years_ago(82, 3, 14))
    user.select("本人の性別", page.locator("#id_sex"), "女")
    user.type_into(page.get_by_label("本人の課題"), "足腰が弱り通院できていない。食事は息子任せ")

    # 世帯員1: the son, new (the page always has one empty member row)
    user.type_into(page.get_by_label("世帯員1 氏名"), "鈴木 誠")
    user.type_into(page.get_by_label("世帯員1 ふりがな"), "すずき まこと")
    user.type_date(page.get_by_label("世帯員1 生年月日"), years_ago(52, 8, 2))
    user.select("世帯員1の性別", page.locator("#id_members-0-sex"), "男")
    user.type_into(page.get_by_label("世帯員1 続柄"), "長男")
    user.type_into(page.get_by_label("世帯員1 この方の課題"), "約20年ひきこもり。無収入で母の年金で生活")

    # 相談内容
    user.select("相談手段", page.get_by_label("相談手段"), "電話")
    user.select("相談者（経路）", page.get_by_label("相談者（経路）"), "民生委員・児童委員")
    # The first issue ticked becomes the main one (the page's script) unless one is chosen by hand.
    for issue in ("8050", "介護", "ひきこもり・不登校", "収入・生活費"):
        user.check(f"課題 {issue}", page.get_by_label(issue, exact=True))
    user.type_into(
        page.get_by_label("主訴"),
        "民生委員から。母が最近外に出てこない。長男は長年ひきこもりで訪問に応じない。",
    )

    # 対応 and the risk
    user.check("対応区分 ケース化", page.get_by_label("ケース化", exact=True))
    user.check("リスク 生命の危険", page.get_by_label("生命の危険", exact=True))
    user.click("記録する", page.get_by_role("button", name="記録する"))
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    elapsed = time.monotonic() - started
    return elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8108")
    parser.add_argument("--user", default="intake_a")
    parser.add_argument("--char-ms", type=int, default=120, help="typing: milliseconds per character")
    parser.add_argument("--pause-ms", type=int, default=800, help="pause before each interaction")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--screenshot", help="save the case page to this PNG")
    args = parser.parse_args(argv)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=args.chromium, args=["--no-sandbox"], headless=True
        )
        context = browser.new_context(
            locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 900}
        )
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{args.base}/accounts/login/")
        page.get_by_label("ユーザー名").fill(args.user)
        page.get_by_label("パスワード").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url(f"{args.base}/")

        user = User(page, char_ms=args.char_ms, pause_ms=args.pause_ms)
        elapsed = record_8050(page, args.base, user)
        heading = page.locator("h1").first.inner_text()
        risk = page.get_by_text("生命の危険").first.is_visible()
        members = page.get_by_text("鈴木 誠").count()
        if args.screenshot:
            page.screenshot(path=args.screenshot, full_page=True)
        browser.close()

    for step in user.interactions:
        print(f"  {step}")
    print(f"case page: {heading}（生命の危険 shown: {risk}; son listed: {members > 0}）")
    print(f"interactions besides typing: {len(user.interactions)} (goal ≤ {GOAL_INTERACTIONS})")
    print(
        f"characters typed: {user.typed} at {args.char_ms} ms each, {args.pause_ms} ms before each interaction"
    )
    print(f"time on the page: {elapsed:.1f} s (goal ≤ {GOAL_SECONDS} s)")
    return 0 if len(user.interactions) <= GOAL_INTERACTIONS and elapsed <= GOAL_SECONDS and risk else 1


if __name__ == "__main__":
    sys.exit(main())
