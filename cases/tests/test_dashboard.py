"""The dashboard per role, the cases app's part: the worker's cases needing action (counted through
the access selectors) and the supervisors' trend charts (server-rendered SVG)."""

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

from django.utils import timezone

from cases import selectors, services
from cases.models import Case, CaseStatus, CodeKind
from cases.tests.conftest import code, fresh, record_case
from jusou.models import Role
from jusou.tests.factories import staff_user

SVG = "{http://www.w3.org/2000/svg}"


def svg_of(html: str, chart_id: str) -> ET.Element:
    """The chart's <svg> parsed as XML (so it must be well-formed)."""
    match = re.search(rf'<svg[^>]*aria-labelledby="{chart_id}-title[^"]*"[^>]*>.*?</svg>', html, re.S)
    assert match, chart_id
    return ET.fromstring(match.group(0))  # noqa: S314 - our own page, rendered in the test


def hidden_table(html: str, caption: str) -> dict[str, list[str]]:
    match = re.search(
        rf'<div class="visually-hidden"><table class="chart__table"><caption>{caption}</caption>(.*?)</table>',
        html,
        re.S,
    )
    assert match, caption
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', match.group(1))
    return {label: re.findall(r"<td>(.*?)</td>", cells) for label, cells in rows}


def set_follow_up(case: Case, day: date) -> None:
    Case.objects.filter(pk=case.pk).update(next_follow_up_on=day)


# --- Workers --------------------------------------------------------------------------------------


def test_worker_sees_own_cases_due_today_or_past_with_number_and_name(client, world):
    today = timezone.localdate()
    set_follow_up(world.case, today - timedelta(days=2))
    later = record_case(world.assigned, name="川口 次郎", kana="かわぐち じろう")
    set_follow_up(later, today + timedelta(days=1))
    client.force_login(world.assigned)
    html = client.get("/").content.decode()
    assert '<span class="stat stat--alert">1</span> 件 対応予定日を過ぎた・今日' in html
    assert f"{world.case.number} 山田 花子" in html
    assert later.number not in html  # due tomorrow: not yet


def test_worker_at_agency_a_never_counts_agency_b_cases_with_the_same_follow_up_date(client, world):
    today = timezone.localdate()
    set_follow_up(world.case, today)
    theirs = record_case(world.other_worker, name="大川 三郎", kana="おおかわ さぶろう")
    set_follow_up(theirs, today)
    # A case of agency B still naming the agency-A worker as 主担当者 (say, left over from a transfer):
    # it is not visible to them, so it is neither counted nor listed.
    stale = record_case(world.other_worker, name="大川 四郎", kana="おおかわ しろう", issues=("abuse",))
    Case.objects.filter(pk=stale.pk).update(lead_worker=world.assigned, next_follow_up_on=today)

    counts = selectors.case_counts_for_dashboard(fresh(world.assigned))
    assert counts == {"open": 1, "follow_up_due": 1, "risk": 0}
    client.force_login(world.assigned)
    html = client.get("/").content.decode()
    assert world.case.number in html
    assert theirs.number not in html and stale.number not in html
    assert "大川" not in html

    assert selectors.case_counts_for_dashboard(fresh(world.other_worker))["follow_up_due"] == 1
    client.force_login(world.other_worker)
    html = client.get("/").content.decode()
    assert theirs.number in html and world.case.number not in html
    assert stale.number not in html  # not theirs to lead


def test_risk_list_rows_carry_no_sensitive_fields(client, world):
    case = record_case(
        world.assigned, name="森 花", kana="もり はな", issues=("abuse",)
    )  # 虐待 flag set at intake
    rows = selectors.worker_dashboard(fresh(world.assigned))["risk"]
    assert [row.pk for row in rows] == [case.pk]
    assert {"risk_abuse", "issues"} <= rows[0].masked_fields
    assert rows[0].risk_abuse is None
    client.force_login(world.assigned)
    html = client.get("/").content.decode()
    assert f"{case.number} 森 花" in html
    assert "母の介護について長男から相談" not in html  # no 主訴 on the dashboard


def test_closed_cases_need_no_action(client, world):
    set_follow_up(world.case, timezone.localdate())
    services.case_transition(
        case=world.case,
        to_status=CaseStatus.CLOSED,
        acting_user=world.assigned,
        reason="目標達成",
        close_reason=code(CodeKind.CLOSE_REASON, "goal_achieved"),
    )
    assert selectors.case_counts_for_dashboard(fresh(world.assigned)) == {
        "open": 0,
        "follow_up_due": 0,
        "risk": 0,
    }


# --- Supervisors ----------------------------------------------------------------------------------


def consult(user, when, issues):
    services.consultation_record(
        acting_user=user,
        received_at=when,
        channel=code(CodeKind.CHANNEL, "phone"),
        route=code(CodeKind.ROUTE, "self"),
        issues=[code(CodeKind.ISSUE, i) for i in issues],
        main_issue=code(CodeKind.ISSUE, issues[0]),
        summary="電話相談",
        outcome="advice",
    )


def months_ago(n: int):
    """Noon on the 10th, n months before this one (Asia/Tokyo)."""
    today = timezone.localdate()
    index = today.year * 12 + today.month - 1 - n
    return timezone.make_aware(timezone.datetime(index // 12, index % 12 + 1, 10, 12, 0))


def month_name(moment) -> str:
    """令和7年4月: the charts name months in 和暦 (jusou.ja.wareki.month_label)."""
    from jusou.ja.wareki import month_label

    return month_label(timezone.localtime(moment).date())


def test_supervisor_sees_monthly_consultations_by_main_issue_top_five_and_other(client, world):
    other_agency_worker = world.other_worker
    two, five = months_ago(2), months_ago(5)
    for issues in [("care",), ("care",), ("care", "income"), ("income",), ("8050",)]:
        consult(world.assigned, two, issues)
    for issues in [("hikikomori",), ("abuse",), ("suicide_risk",), ("income",)]:
        consult(other_agency_worker, five, issues)  # another agency: the supervisor counts every agency
    consult(world.assigned, months_ago(13), ("care",))  # outside the 12 months

    client.force_login(world.supervisor)
    html = client.get("/").content.decode()
    svg = svg_of(html, "chart-consultations")
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "月別の相談受付件数（主な課題分類別）"
    assert svg.find(f"{SVG}desc").text
    bars = {
        (r.get("data-label"), r.get("data-series")): int(r.get("data-value"))
        for r in svg.iter(f"{SVG}rect")
        if r.get("data-series")
    }
    # care 4 (3 here + the world's), income 2, then 8050, hikikomori, abuse, suicide_risk with 1 each:
    # top five by count then by the code list's order; the sixth folds into その他.
    assert bars[(month_name(two), "介護")] == 3
    assert bars[(month_name(two), "収入・生活費")] == 1
    assert bars[(month_name(two), "8050")] == 1
    assert bars[(month_name(five), "収入・生活費")] == 1
    assert bars[(month_name(five), "ひきこもり・不登校")] == 1
    assert bars[(month_name(five), "DV・虐待")] == 1
    assert bars[(month_name(five), "その他")] == 1  # 自殺リスク, sixth
    assert sum(bars.values()) == 10  # 9 above + the world's intake this month; the 13-month-old one is out
    legend = [t.text for t in svg.iter(f"{SVG}text") if t.text in {"介護", "収入・生活費", "その他"}]
    assert legend == ["介護", "収入・生活費", "その他"]

    table = hidden_table(html, "月別の相談受付件数（主な課題分類別）")
    assert len(table) == 12
    assert table[month_name(two)][-1] == "5"  # 合計
    assert table[month_name(five)][-1] == "4"


def test_supervisor_sees_cases_by_status(client, world):
    record_case(world.other_worker, name="大川 三郎", kana="おおかわ さぶろう")
    services.case_transition(case=world.case, to_status=CaseStatus.ASSESSING, acting_user=world.assigned)
    client.force_login(world.supervisor)
    html = client.get("/").content.decode()
    bars = {
        r.get("data-label"): int(r.get("data-value"))
        for r in svg_of(html, "chart-case-status").iter(f"{SVG}rect")
    }
    assert bars == {
        "受付": 1,
        "アセスメント中": 1,
        "支援中": 0,
        "多機関協働へつなぎ依頼": 0,
        "多機関協働中": 0,
        "終結": 0,
        "中断": 0,
    }
    assert hidden_table(html, "状態別の支援ケース数")["受付"] == ["1"]


def test_charts_are_for_supervisors_only_and_workers_see_their_lists(client, world):
    client.force_login(world.assigned)
    html = client.get("/").content.decode()
    assert "chart-consultations" not in html and "<svg" not in html.split("</header>", 1)[1]
    client.force_login(world.supervisor)
    html = client.get("/").content.decode()
    assert 'href="/audit/history/"' in html
    assert 'href="/statistics/"' in html
    assert "準備中" not in html


def test_supervisor_charts_are_empty_but_labelled_without_data(client, db):
    supervisor = staff_user(Role.SUPERVISOR)
    client.force_login(supervisor)
    html = client.get("/").content.decode()
    svg = svg_of(html, "chart-consultations")
    assert "表示するデータがありません" in ET.tostring(svg, encoding="unicode")
