"""The supervisor's dashboard in Chromium: the server-rendered SVG charts show, in Japanese, with
nothing blocked by the Content Security Policy (no inline style, no script)."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases import services
from cases.models import Case, Code, CodeKind, Consultation
from devdata.demo.world import DEMO_PASSWORD
from jusou.models import User
from meetings.models import PlanStatus, SupportPlan
from tests.e2e.conftest import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Main 課題分類 of the consultations added per month, so the chart has a year of history to show.
MONTHLY = [
    "care",
    "care",
    "income",
    "8050",
    "hikikomori",
    "young_carer",
    "housing",
    "care",
    "debt",
    "isolation",
]

CSP_WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def a_year_of_consultations():
    """Consultations over the last twelve months and a few first plan approvals, on top of the demo."""
    intake_a = User.objects.get(username="intake_a")
    code = {c.code: c for c in Code.objects.filter(kind=CodeKind.ISSUE)}
    channel = Code.objects.get(kind=CodeKind.CHANNEL, code="phone")
    route = Code.objects.get(kind=CodeKind.ROUTE, code="family")
    now = timezone.now()
    for months in range(1, 12):
        for i, issue in enumerate(MONTHLY[: 3 + (months * 7) % 8]):
            services.consultation_record(
                acting_user=intake_a,
                received_at=now - timedelta(days=30 * months + i),
                channel=channel,
                route=route,
                issues=[code[issue]],
                main_issue=code[issue],
                summary="電話相談",
                outcome="advice",
            )
    coord = User.objects.get(username="coord")
    for months, days in ((2, 35), (2, 50), (4, 62), (6, 41), (6, 28), (6, 55), (9, 70)):
        person = services.person_register(acting_user=intake_a, name=f"試験 {months}-{days}", kana="しけん")
        consultation = services.consultation_record(
            acting_user=intake_a,
            received_at=now - timedelta(days=30 * months + days),
            channel=channel,
            route=route,
            issues=[code["care"]],
            main_issue=code["care"],
            summary="相談",
            outcome="case",
            person=person,
        )
        Consultation.objects.filter(pk=consultation.pk).update(
            received_at=now - timedelta(days=30 * months + days)
        )
        SupportPlan.objects.create(
            case=Case.objects.get(pk=consultation.case_id),
            version=1,
            status=PlanStatus.APPROVED,
            person_wishes="-",
            issues_summary="-",
            long_term_goal="-",
            review_on=timezone.localdate(),
            author=coord,
            approved_at=now - timedelta(days=30 * months),
        )


def test_supervisor_dashboard_shows_the_charts_without_csp_violations(page, live_server, personas):
    a_year_of_consultations()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.add_init_script(CSP_WATCH)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("ユーザー名").fill("supervisor")
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{live_server.url}/")

    for name in (
        "月別の相談受付件数（主な課題分類別）",
        "状態別の支援ケース数",
        "相談受付から支援プラン承認までの日数（中央値）",
    ):
        chart = page.get_by_role("img", name=name)
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box["width"] > 300 and box["height"] > 100
    assert page.locator("svg .chart__bar").count() > 20
    assert page.locator("svg .chart__point").count() >= 4
    expect(page.get_by_role("link", name="監査: 変更履歴")).to_be_visible()
    expect(page.get_by_role("link", name="統計（月次・年度の報告）")).to_be_visible()
    # The data tables are for screen readers only: present, but not drawn.
    assert page.locator("table.chart__table").count() == 3
    for wrapper in page.locator("div.visually-hidden:has(table.chart__table)").all():
        assert wrapper.bounding_box()["width"] <= 1

    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "dashboard-supervisor.png"), full_page=True)
    assert page.evaluate("window.__csp") == []
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
