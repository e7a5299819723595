"""jusou.reports.charts: SVG that is well-formed, accessible, escaped and free of style attributes and scripts."""

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from jusou.reports import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 - markup made by the function under test


CHARTS = [
    lambda: charts.bar_chart(
        chart_id="c1", title="状態別", description="説明", labels=["受付", "終結"], values=[3, 0]
    ),
    lambda: charts.stacked_bar_chart(
        chart_id="c1",
        title="月別",
        description="説明",
        labels=["2025年4月", "2025年5月"],
        series=[("介護", [1, 2]), ("その他", [0, 4])],
        axis_labels=["4月\n2025年", "5月"],
    ),
    lambda: charts.line_chart(
        chart_id="c1", title="日数", description="説明", labels=["4月", "5月", "6月"], values=[10.5, None, 20]
    ),
]


@pytest.mark.parametrize("make", CHARTS)
def test_every_chart_is_an_accessible_image_without_style_or_script(make):
    markup = str(make())
    svg = parse(markup)
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c1-title c1-desc"
    assert svg.find(f"{SVG}title").get("id") == "c1-title"
    assert svg.find(f"{SVG}desc").get("id") == "c1-desc"
    assert "style=" not in markup and "<script" not in markup and "<style" not in markup
    assert all("style" not in element.attrib for element in svg.iter())


def test_bar_values_and_labels_are_carried_on_the_bars():
    svg = parse(CHARTS[0]())
    bars = [(r.get("data-label"), r.get("data-value")) for r in svg.iter(f"{SVG}rect")]
    assert bars == [("受付", "3"), ("終結", "0")]
    assert [t.text for t in svg.iter(f"{SVG}title")][1:] == ["受付: 3件", "終結: 0件"]


def test_stacked_columns_skip_zero_segments_and_show_totals():
    svg = parse(CHARTS[1]())
    segments = [
        (r.get("data-label"), r.get("data-series"), r.get("data-value"))
        for r in svg.iter(f"{SVG}rect")
        if r.get("data-series")
    ]
    assert segments == [("2025年4月", "介護", "1"), ("2025年5月", "介護", "2"), ("2025年5月", "その他", "4")]
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "6" in texts and "介護" in texts  # the May total, the legend
    assert ["4月", "2025年"] == [s.text for s in svg.iter(f"{SVG}tspan")][:2]


def test_a_gap_in_the_line_leaves_two_points_unjoined():
    svg = parse(CHARTS[2]())
    assert [c.get("data-value") for c in svg.iter(f"{SVG}circle")] == ["10.5", "20"]
    assert svg.find(f"{SVG}polyline") is None


def test_text_is_escaped():
    markup = str(
        charts.bar_chart(chart_id="x", title="<b>題</b>", description='"&', labels=["<script>"], values=[1])
    )
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    assert parse(markup).find(f"{SVG}title").text == "<b>題</b>"


def test_no_data_says_so():
    svg = parse(
        charts.line_chart(chart_id="e", title="日数", description="説明", labels=["4月"], values=[None])
    )
    assert "表示するデータがありません" in [t.text for t in svg.iter(f"{SVG}text")]


def test_data_table_is_hidden_by_a_wrapper_and_lists_the_figures():
    markup = str(
        charts.data_table(
            caption="件数",
            header="月",
            columns=["介護", "合計"],
            rows=[("2025年4月", [1, 1]), ("2025年5月", [None, 0])],
        )
    )
    assert markup.startswith(
        '<div class="visually-hidden"><table class="chart__table"><caption>件数</caption>'
    )
    assert '<tr><th scope="row">2025年5月</th><td>—</td><td>0</td></tr>' in markup


def test_month_axis_labels_give_the_year_where_it_changes():
    months = [date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1)]
    assert charts.month_axis_labels(months) == ["12月", "1月\n令和7年", "2月"]
    assert charts.month_axis_labels([date(2025, 4, 1), date(2025, 5, 1)]) == ["4月\n令和7年", "5月"]


def test_month_axis_labels_are_in_wareki_and_mark_the_change_of_era():
    months = [date(2019, 3, 1), date(2019, 4, 1), date(2019, 5, 1), date(2019, 6, 1)]
    assert charts.month_axis_labels(months) == ["3月\n平成31年", "4月", "5月\n令和元年", "6月"]
    assert charts.month_name(date(2019, 4, 1)) == "平成31年4月"
    assert charts.month_name(date(2019, 5, 1)) == "令和元年5月"


@pytest.mark.parametrize(
    ("maximum", "ticks"), [(0, [0, 1]), (3, [0, 1, 2, 3]), (12, [0, 5, 10, 15]), (70, [0, 20, 40, 60, 80])]
)
def test_axis_ticks_are_round(maximum, ticks):
    assert charts._nice_ticks(maximum) == ticks
