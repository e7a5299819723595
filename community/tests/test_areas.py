"""Figures by 圏域 roll up (issue 19): a three-level tree (区市町村域 → 中圏域 → 小圏域) with places,
sessions, platforms, coordinator entries and gaps at every level; on each 圏域's page (and the city's)
every figure equals the rows of the list it links to, and the page's queries do not grow with the data."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from community import services
from jusou.models import Role
from jusou.tests.factories import AreaFactory, staff_user

pytestmark = pytest.mark.django_db

PERIOD = "from=2026-04-01&to=2027-03-31"


@pytest.fixture
def tree():
    city = AreaFactory(code="midori", name="みどり市全域", level="municipal")
    chuo = AreaFactory(code="chuo", name="中央圏域", level="middle", parent=city)
    higashi = AreaFactory(code="higashi", name="東圏域", level="middle", parent=city)
    chuo_1 = AreaFactory(code="chuo-1", name="中央一丁目町会", level="small", parent=chuo)
    chuo_2 = AreaFactory(code="chuo-2", name="中央二丁目町会", level="small", parent=chuo)
    return {"city": city, "chuo": chuo, "higashi": higashi, "chuo-1": chuo_1, "chuo-2": chuo_2}


def populate(tree, user, scale=1):
    """At every level: places of two kinds (one host full, one stopped, one open), sessions in and out of
    the period, platforms, coordinator entries, gaps in each state."""
    for code, area in tree.items():
        for i in range(scale):
            shokudo = services.resource_save(
                acting_user=user,
                name=f"{code}食堂{i}",
                kind="kodomo_shokudo",
                area=area,
                accepts_participants=True,
                participation_kinds=["volunteer"],
                capacity=2,
            )
            services.resource_save(
                acting_user=user,
                name=f"{code}サロン{i}",
                kind="salon",
                area=area,
                accepts_participants=True,
                participation_kinds=["ibasho"],
                capacity=0,
            )
            services.resource_save(
                acting_user=user, name=f"{code}休止{i}", kind="salon", area=area, is_active=False
            )
            for held in (date(2026, 5, 1), date(2026, 6, 1), date(2025, 6, 1)):
                services.activity_record(
                    acting_user=user, resource=shokudo, held_on=held, participants=4, participant_visits=6
                )
            services.platform_record(
                acting_user=user, held_on=date(2026, 7, 1), name=f"{code}会議", area=area, participants=10
            )
            services.coordinator_activity_record(
                acting_user=user, done_on=date(2026, 8, 1), area=area, kind="connect", content="つないだ"
            )
            services.coordinator_activity_record(
                acting_user=user, done_on=date(2026, 8, 2), area=area, kind="gather", content="集めた"
            )
            noted = services.gap_record(acting_user=user, category="居場所", description="不足", area=area)
            considering = services.gap_record(
                acting_user=user, category="移動", description="不足", area=area
            )
            services.gap_advance(gap=considering, to_status="considering", acting_user=user)
            assert noted.status == "noted"


def figure_links(html):
    """(data-figure, href, shown number) of each linked figure on the page."""
    return [
        (name, href.replace("&amp;", "&"), int(n))
        for name, href, n in re.findall(r'data-figure="([^"]+)" href="([^"]+)">(\d+)</a>', html)
    ]


def rows_behind(client, href):
    response = client.get(href)
    assert response.status_code == 200, href
    return response.context["page"].paginator.count


@pytest.mark.parametrize("where", [None, "city", "chuo", "chuo-1", "higashi"])
def test_each_figure_equals_the_rows_it_links_to(client, tree, where):
    coordinator = staff_user(Role.COORDINATOR)
    populate(tree, coordinator)
    client.force_login(coordinator)
    url = (
        reverse("community:area_view")
        if where is None
        else reverse("community:area_detail", args=[tree[where].pk])
    )
    html = client.get(f"{url}?{PERIOD}").content.decode()
    links = figure_links(html)
    assert {name for name, _, _ in links} >= {
        "places",
        "hosts",
        "hosts-open",
        "hosts-stopped",
        "sessions",
        "platforms",
        "coordinator",
        "gaps",
        "gaps-noted",
        "gaps-considering",
    }
    for name, href, shown in links:
        assert rows_behind(client, href) == shown, (name, href)
    # the roll-up itself: the city holds all five 圏域, 中央圏域 itself and its two 町会, a 小圏域 only itself
    levels = {None: 5, "city": 5, "chuo": 3, "chuo-1": 1, "higashi": 1}[where]
    counts = {name: shown for name, _, shown in links}
    assert (
        counts["places"] == 2 * levels
        and counts["hosts-stopped"] == levels
        and counts["hosts-open"] == levels
    )
    assert counts["sessions"] == 2 * levels  # the session of 2025年度 is outside the period
    assert counts["coordinator"] == 2 * levels and counts["gaps"] == 2 * levels


def test_the_city_shows_every_area_with_its_subtree_totals(client, tree):
    coordinator = staff_user(Role.COORDINATOR)
    populate(tree, coordinator)
    client.force_login(coordinator)
    rows = {
        r["area"].code: r for r in client.get(f"{reverse('community:area_view')}?{PERIOD}").context["rows"]
    }
    assert [rows[c]["places"] for c in ("midori", "chuo", "chuo-1", "higashi")] == [10, 6, 2, 2]
    assert rows["midori"]["depth"] == 0 and rows["chuo-1"]["depth"] == 2


@pytest.mark.parametrize("where", [None, "chuo"])
def test_area_pages_do_not_grow_with_the_data(client, tree, where, django_assert_num_queries):
    coordinator = staff_user(Role.COORDINATOR)
    client.force_login(coordinator)
    url = (
        reverse("community:area_view")
        if where is None
        else reverse("community:area_detail", args=[tree[where].pk])
    )
    populate(tree, coordinator)
    with CaptureQueriesContext(connection) as first:
        assert client.get(f"{url}?{PERIOD}").status_code == 200
    populate(tree, coordinator, scale=3)
    with django_assert_num_queries(len(first)):
        assert client.get(f"{url}?{PERIOD}").status_code == 200
    assert len(first) <= 20


def test_the_statistics_export_gives_the_same_figures_per_area(tree):
    """The 統計 report's 地域づくり section (exports and API) counts what the 圏域 page shows."""
    from community.selectors import AreaTree, Period, area_figures
    from community.statistics import community_statistics
    from jusou.reports.statistics import StatisticsScope

    coordinator = staff_user(Role.COORDINATOR)
    populate(tree, coordinator)
    period = Period(date(2026, 4, 1), date(2027, 3, 31))
    ids = AreaTree.load().subtree_ids(tree["chuo"].pk)
    scope = StatisticsScope(
        date_from=period.date_from,
        date_to=period.date_to,
        agency_ids=None,
        area_ids=frozenset(ids),
        by="area",
        population=0,
    )
    _, tables = community_statistics(scope)
    cells = {(t.title, r.label): r.values[0] for t in tables for r in t.rows}
    figures = area_figures(tree["chuo"], period)
    assert cells[("参加支援の受け入れ（現在）", "受け入れる拠点")] == figures["hosts"] == 6
    assert cells[("参加支援の受け入れ（現在）", "うち受け入れ停止（上限0）")] == figures["hosts_stopped"] == 3
    assert cells[("参加支援の受け入れ（現在）", "残りの受け入れ枠（人）")] == figures["places_left"] == 6
    assert cells[("活動・プラットフォーム", "開催回数")] == figures["sessions"] == 6
    assert cells[("活動・プラットフォーム", "参加者数（実人数の合計）")] == figures["session_people"] == 24
    assert cells[("未開発の不足する社会資源 状況別", "合計")] == figures["gaps_open"] == 6
    by_area = next(t for t in tables if t.title.startswith("地域づくり 中圏域別"))
    assert by_area.columns == ["中央圏域"] and by_area.rows[0].values == [figures["places"]]
