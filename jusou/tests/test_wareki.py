from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template

from jusou.ja.wareki import (
    DateInputError,
    eras_json,
    fiscal_year,
    fiscal_year_choice_label,
    fiscal_year_label,
    month_label,
    parse_date,
    period_name,
    reading,
    to_seireki,
    to_wareki,
)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2025, 4, 1), "令和7年4月1日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1912, 7, 29), "明治45年7月29日"),
    ],
)
def test_era_is_decided_by_the_exact_date(day, expected):
    assert to_wareki(day) == expected


def test_aware_datetime_is_read_in_tokyo_time():
    # 2019-04-30 15:30 UTC is already 2019-05-01 00:30 in Tokyo: 令和元年.
    assert to_wareki(datetime(2019, 4, 30, 15, 30, tzinfo=UTC)) == "令和元年5月1日"


def test_dates_before_meiji_6_stay_western():
    assert to_wareki(date(1872, 12, 31)) == "1872年12月31日"
    assert to_wareki(None) == ""


def test_fiscal_year_runs_april_to_march():
    assert fiscal_year(date(2026, 3, 31)) == 2025
    assert fiscal_year(date(2026, 4, 1)) == 2026


def test_template_filter_shows_wareki_with_the_western_date_alongside():
    html = Template("{% load jusou_tags %}{{ d|wareki }}").render(Context({"d": date(2025, 4, 1)}))
    assert 'datetime="2025-04-01"' in html
    assert 'title="2025年4月1日"' in html
    assert "令和7年4月1日" in html
    assert "2025年" in html
    assert to_seireki(date(2025, 4, 1)) == "2025年4月1日"


# --- Labels of periods: one rule for every title, period row, file name, picker and axis ----------------


@pytest.mark.parametrize(
    ("year", "label"),
    [
        (2025, "令和7年度"),
        (2020, "令和2年度"),
        # 2019-04-01 was 平成, but the 年度 ends in 令和 and 2019 counts in 令和: 令和元年度 (e-Stat's naming).
        (2019, "令和元年度"),
        (2018, "平成30年度"),
        (1989, "平成元年度"),
        # 1988年度 ends in 平成 (1989-03-31), but 平成 counts from 1989: still 昭和63年度.
        (1988, "昭和63年度"),
        (1926, "昭和元年度"),
        (1925, "大正14年度"),
        (1912, "大正元年度"),
        (1911, "明治44年度"),
    ],
)
def test_fiscal_year_label_at_every_era_boundary(year, label):
    assert fiscal_year_label(year) == label


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2019, 4, 15), "平成31年4月"),
        (date(2019, 5, 1), "令和元年5月"),
        (date(1989, 1, 1), "平成元年1月"),  # 1月1日〜7日 were 昭和64年: the month ends in 平成
        (date(1988, 12, 31), "昭和63年12月"),
        (date(1926, 12, 1), "昭和元年12月"),
        (date(1912, 7, 1), "大正元年7月"),
        (date(1912, 6, 1), "明治45年6月"),
    ],
)
def test_month_label_at_every_era_boundary(day, label):
    assert month_label(day) == label


def test_period_name_is_the_same_words_whatever_asked_for_it():
    assert period_name(date(2019, 4, 1), date(2020, 3, 31)) == "令和元年度"
    assert period_name(date(2025, 4, 1), date(2025, 4, 30)) == "令和7年4月"
    assert period_name(date(2019, 4, 1), date(2019, 6, 30)) == "平成31年4月1日〜令和元年6月30日"
    assert fiscal_year_choice_label(2019) == "令和元年度（2019年度）"


def test_every_fiscal_year_label_names_the_year_as_the_statistics_title_does():
    from jusou.reports.statistics import StatisticsParams

    for year in range(2000, 2031):
        params = StatisticsParams.from_query({"period": "fiscal", "fiscal_year": str(year)})
        assert params.label == fiscal_year_label(year)


# --- Typed dates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("昭和19年5月10日", date(1944, 5, 10)),
        ("S19.5.10", date(1944, 5, 10)),
        ("s19/5/10", date(1944, 5, 10)),
        ("S19-05-10", date(1944, 5, 10)),
        ("昭19・5・10", date(1944, 5, 10)),
        ("S190510", date(1944, 5, 10)),
        ("㍼19年5月10日", date(1944, 5, 10)),
        ("R7.4.1", date(2025, 4, 1)),
        ("Ｒ７．４．１", date(2025, 4, 1)),  # full-width
        ("令和７年４月１日", date(2025, 4, 1)),
        ("R7ー4ー1", date(2025, 4, 1)),  # the long vowel mark typed for a hyphen
        ("平成31年4月30日", date(2019, 4, 30)),
        ("H31.4.30", date(2019, 4, 30)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("R元.5.1", date(2019, 5, 1)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("大正15年12月24日", date(1926, 12, 24)),
        ("昭和元年12月25日", date(1926, 12, 25)),
        ("明治45年7月29日", date(1912, 7, 29)),
        ("大正元年7月30日", date(1912, 7, 30)),
        ("M33.1.1", date(1900, 1, 1)),
        ("1944-05-10", date(1944, 5, 10)),
        ("1944/5/10", date(1944, 5, 10)),
        ("1944年5月10日", date(1944, 5, 10)),
        ("西暦1944年5月10日", date(1944, 5, 10)),
        ("１９４４－０５－１０", date(1944, 5, 10)),
        ("19440510", date(1944, 5, 10)),
        (" 2024-02-29 ", date(2024, 2, 29)),
    ],
)
def test_parse_date_reads_western_and_wareki_as_people_type_them(text, day):
    assert parse_date(text) == day


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("平成31年5月1日", "after_era", "平成は平成31年4月30日までです（平成31年5月1日は令和元年5月1日）。"),
        ("H32.1.1", "after_era", "平成は平成31年4月30日までです（平成32年1月1日は令和2年1月1日）。"),
        (
            "令和元年4月30日",
            "before_era",
            "令和は令和元年5月1日からです（令和元年4月30日は平成31年4月30日）。",
        ),
        ("昭和64年1月8日", "after_era", "昭和は昭和64年1月7日までです（昭和64年1月8日は平成元年1月8日）。"),
        (
            "大正15年12月25日",
            "after_era",
            "大正は大正15年12月24日までです（大正15年12月25日は昭和元年12月25日）。",
        ),
        ("明治5年1月1日", "before_era", "明治6年（1873年）より前の日付は旧暦のため入力できません。"),
        ("R0.4.1", "era_year", "「R0.4.1」の年は元年（1年）からです。"),
        ("2025-02-29", "no_such_date", "「2025-02-29」は存在しない日付です。"),
        ("R7.13.1", "no_such_date", "「R7.13.1」は存在しない日付です。"),
        ("昭和十九年", "invalid", "日付は 1944-05-10、昭和19年5月10日、S19.5.10 のように入力してください。"),
        ("X19.5.10", "invalid", "日付は 1944-05-10、昭和19年5月10日、S19.5.10 のように入力してください。"),
    ],
)
def test_parse_date_refuses_with_a_japanese_message_naming_the_right_reading(text, code, message):
    with pytest.raises(DateInputError) as error:
        parse_date(text)
    assert (error.value.code, error.value.message) == (code, message)


def test_reading_shows_wareki_and_western():
    assert reading(date(1944, 5, 10)) == "昭和19年5月10日（1944年5月10日）"
    assert reading(None) == ""


def test_the_era_table_for_the_script_is_the_module_s():
    import json

    assert json.loads(eras_json())[:2] == [
        ["令和", "R", "2019-05-01", 2019],
        ["平成", "H", "1989-01-08", 1989],
    ]
