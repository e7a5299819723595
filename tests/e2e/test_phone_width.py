"""At a phone's width (375×667) the main pages fit: the header takes at most a fifth of the screen
(the menu folds behind 「メニュー」), list tables become one card per row with each cell labelled by its
column's header (static/js/tables.js, static/css/jusou.css), and nothing scrolls sideways."""

import pytest
from playwright.sync_api import expect

from devdata.demo.world import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAGES = ["/", "/cases/", "/consultations/", "/support-meetings/", "/notifications/"]

LAYOUT = """() => {
    const header = document.querySelector(".site-header").getBoundingClientRect().height;
    const tables = [...document.querySelectorAll("table.table:not(.figures)")].map(table => {
        const heads = [...table.tHead.rows[0].cells].map(th => th.textContent.trim());
        return [...table.tBodies[0].rows].map(row => ({
            display: getComputedStyle(row).display,
            right: row.getBoundingClientRect().right,
            cells: [...row.cells].map((cell, i) => ({
                label: cell.dataset.label, head: heads[i],
                shown: getComputedStyle(cell, "::before").content,
            })),
        }));
    });
    return {header, tables, scrollWidth: document.documentElement.scrollWidth,
            clientWidth: document.documentElement.clientWidth};
}"""


def test_main_pages_fit_a_phone(page, live_server, personas):
    base = live_server.url
    page.set_viewport_size({"width": 375, "height": 667})
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("ユーザー名").fill("intake_a")
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{base}/")
    rows_seen = 0
    for path in PAGES:
        page.goto(f"{base}{path}")
        page.wait_for_load_state("load")
        layout = page.evaluate(LAYOUT)
        assert layout["header"] <= 667 / 5, (path, layout["header"])
        assert layout["scrollWidth"] <= layout["clientWidth"], (path, layout["scrollWidth"])
        for rows in layout["tables"]:
            for row in rows:
                rows_seen += 1
                assert row["display"] == "block" and row["right"] <= 375, (path, row)
                for cell in row["cells"]:
                    assert cell["label"] == cell["head"], (path, cell)
                    if cell["head"]:
                        assert cell["shown"] == f'"{cell["head"]}"', (path, cell)
    assert rows_seen >= 3  # the case list's and the others' rows were there to check

    # The folded menu opens below the header and reaches every page.
    menu = page.get_by_role("button", name="メニュー")
    assert menu.get_attribute("aria-expanded") == "false"
    expect(page.get_by_role("link", name="ケース一覧")).not_to_be_visible()
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    page.get_by_role("link", name="ケース一覧").click()
    page.wait_for_url(f"{base}/cases/")
    expect(page.get_by_role("link", name="お知らせ（未読 ", exact=False)).to_be_visible()  # the bell stays


def test_a_desktop_keeps_the_menu_open_and_tables_as_tables(page, live_server, personas):
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("ユーザー名").fill("intake_a")
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/cases/")
    expect(page.get_by_role("button", name="メニュー")).not_to_be_visible()
    expect(page.get_by_role("link", name="ケース一覧")).to_be_visible()
    assert (
        page.evaluate("getComputedStyle(document.querySelector('table.table tbody tr')).display")
        == "table-row"
    )
    expect(page.get_by_role("columnheader", name="ケース番号")).to_be_visible()
