from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template

from jusou.wareki import fiscal_year, to_seireki, to_wareki


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
