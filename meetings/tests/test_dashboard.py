"""The dashboard per role, the meetings app's part: plan reviews and consent expiry on the worker's
cases, the coordinators' inbox, meetings and overdue 役割分担, the supervisors' time to plan — and
that every role's dashboard costs the same number of queries with 3 cases as with 30."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case, CaseStatus, CodeKind, Consultation
from cases.services import assessment_record, case_transition
from cases.tests.conftest import code, fresh, record_case
from cases.tests.test_dashboard import SVG, hidden_table, month_name, months_ago, svg_of
from jusou.models import Role
from jusou.tests.factories import staff_user
from meetings import selectors, services
from meetings.models import PlanStatus, PlanTask, SupportPlan, TaskStatus
from meetings.tests.test_plans import approve, decide, give_consent, planned  # noqa: F401  (fixture)


def dashboard(client, user) -> str:
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


# --- Workers --------------------------------------------------------------------------------------


def test_worker_sees_plan_review_and_consent_expiry_of_their_own_cases(client, planned):  # noqa: F811
    w = planned
    today = timezone.localdate()
    decide(w)
    give_consent(w, [w.other_agency, w.own_agency], expires_on=today + timedelta(days=20))
    approve(w)
    SupportPlan.objects.filter(pk=w.plan.pk).update(review_on=today + timedelta(days=10))

    data = selectors.worker_dashboard(fresh(w.assigned))
    assert (data["review_count"], data["consent_count"]) == (1, 1)
    assert data["review"][0].review_on == today + timedelta(days=10)
    assert data["consent"][0].consent_expires_on == today + timedelta(days=20)
    html = dashboard(client, w.assigned)
    assert '<span class="stat stat--alert">1</span> 件 プランの見直しが近い・過ぎた' in html
    assert '<span class="stat stat--alert">1</span> 件 本人同意の有効期限が近い' in html
    assert f"{w.case.number} 山田 花子" in html

    # Not theirs to lead: a colleague, and the plan agency that reads the case under the consent.
    for other in (w.colleague, w.other_worker):
        data = selectors.worker_dashboard(fresh(other))
        assert (data["review_count"], data["consent_count"]) == (0, 0)
        html = dashboard(client, other)
        panel = html[html.index('id="worker-plans-heading"') :]
        assert w.case.number not in panel[: panel.index("</section>")]


def test_review_far_ahead_and_renewed_consents_are_not_due(planned):  # noqa: F811
    w = planned
    today = timezone.localdate()
    decide(w)
    give_consent(w, [w.other_agency, w.own_agency], expires_on=today + timedelta(days=20))
    give_consent(w, [w.other_agency, w.own_agency], expires_on=today + timedelta(days=400))  # renewed
    approve(w)  # review in 90 days
    data = selectors.worker_dashboard(fresh(w.assigned))
    assert (data["review_count"], data["consent_count"]) == (0, 0)


# --- Coordinators ---------------------------------------------------------------------------------


def test_coordinator_sees_the_inbox_count_and_the_longest_waiting_referral(client, referred):
    html = dashboard(client, referred.coordinator)
    assert '<span class="stat stat--alert">1</span> 件 多機関協働へのつなぎ依頼' in html
    assert f"{referred.case.number} 山田 花子" in html
    assert "0日待ち" in html
    # Workers have no coordinator panel, and the referral is not in it for them.
    html = dashboard(client, referred.assigned)
    assert "多機関協働へのつなぎ依頼" not in html


def test_coordinator_sees_meetings_of_the_next_30_days(client, referred):
    coord = fresh(referred.coordinator)
    now = timezone.now()
    for days, title in ((5, "第2回 支援会議"), (40, "第3回 支援会議")):
        services.meeting_convene(
            acting_user=coord,
            held_at=now + timedelta(days=days),
            title=title,
            access_from=now,
            access_until=now + timedelta(days=days + 7),
            members=[],
        )
    services.conference_create(
        acting_user=coord, held_at=now + timedelta(days=3), title="第5回 重層的支援会議"
    )
    services.conference_create(
        acting_user=coord, held_at=now - timedelta(days=3), title="第4回 重層的支援会議"
    )
    html = dashboard(client, coord)
    assert "第2回 支援会議" in html and "第3回 支援会議" not in html
    assert "第5回 重層的支援会議" in html and "第4回 重層的支援会議" not in html


def test_coordinator_sees_overdue_tasks_grouped_by_agency(client, planned):  # noqa: F811
    w = planned
    decide(w)
    give_consent(w, [w.other_agency, w.own_agency])
    approve(w)
    yesterday = timezone.localdate() - timedelta(days=1)
    theirs, ours = list(PlanTask.objects.filter(plan=w.plan).order_by("pk"))
    PlanTask.objects.filter(pk=theirs.pk).update(ends_on=yesterday, status=TaskStatus.IN_PROGRESS)
    PlanTask.objects.filter(pk=ours.pk).update(ends_on=yesterday, status=TaskStatus.DONE)  # done: not overdue
    for status, ends_on in (
        (TaskStatus.NOT_STARTED, yesterday),
        (TaskStatus.STOPPED, yesterday),
        (TaskStatus.NOT_STARTED, timezone.localdate()),
    ):
        PlanTask.objects.create(
            plan=w.plan, agency=w.other_agency, role="見守り", content="訪問", status=status, ends_on=ends_on
        )
    data = selectors.coordinator_dashboard(fresh(w.coordinator))
    assert data["overdue_tasks"] == [
        {"agency_id": w.other_agency.pk, "agency__name": w.other_agency.name, "n": 2}
    ]
    html = dashboard(client, w.coordinator)
    assert f'<tr><th scope="row">{w.other_agency.name}</th><td>2</td></tr>' in html


# --- Supervisors ----------------------------------------------------------------------------------


def plan_approved(world, case, *, intake, days, version=1, status=PlanStatus.APPROVED):
    """A plan approved `days` after the case's first consultation (set to `intake`)."""
    Consultation.objects.filter(case=case).update(received_at=intake)
    return SupportPlan.objects.create(
        case=case,
        version=version,
        status=status,
        person_wishes="-",
        issues_summary="-",
        long_term_goal="-",
        review_on=timezone.localdate(),
        author=world.coordinator,
        approved_at=intake + timedelta(days=days),
    )


def test_supervisor_sees_median_days_from_intake_to_first_plan_approval(client, world):
    one, three = months_ago(1), months_ago(3)
    names = iter(f"川口 {i}郎" for i in range(10))
    for days in (10, 20, 40):  # approved a month ago: median 20
        case = record_case(world.assigned, name=next(names))
        plan_approved(world, case, intake=one - timedelta(days=days), days=days)
    for days in (10, 31):  # three months ago: median 20.5
        case = record_case(world.assigned, name=next(names))
        plan_approved(world, case, intake=three - timedelta(days=days), days=days)
    # A revision approved later is not a first approval: it changes nothing.
    first = SupportPlan.objects.filter(case=case).get()
    SupportPlan.objects.filter(pk=first.pk).update(status=PlanStatus.SUPERSEDED)
    SupportPlan.objects.create(
        case=case,
        version=2,
        status=PlanStatus.APPROVED,
        person_wishes="-",
        issues_summary="-",
        long_term_goal="-",
        review_on=timezone.localdate(),
        author=world.coordinator,
        approved_at=one + timedelta(hours=1),
    )

    html = dashboard(client, world.supervisor)
    svg = svg_of(html, "chart-plan-lead-time")
    points = {c.get("data-label"): c.get("data-value") for c in svg.iter(f"{SVG}circle")}
    assert points == {month_name(one): "20", month_name(three): "20.5"}
    assert svg.find(f"{SVG}polyline") is None  # two lone months: no line drawn between gaps
    table = hidden_table(html, re.escape("相談受付から支援プラン承認までの日数（月別の中央値）"))
    assert table[month_name(one)] == ["20", "3"]
    assert table[month_name(three)] == ["20.5", "2"]
    assert table[month_name(months_ago(2))] == ["—", "0"]


# --- Query counts ---------------------------------------------------------------------------------


def populate(world, n):
    """n cases led by the assigned worker: follow-up due, risk flagged, referred to 多機関協働."""
    today = timezone.localdate()
    for i in range(n):
        case = record_case(world.assigned, name=f"森 {i}子", kana=f"もり {i}", issues=("abuse", "care"))
        Case.objects.filter(pk=case.pk).update(next_follow_up_on=today)
        assessment_record(
            case=case,
            acting_user=world.assigned,
            issues=[code(CodeKind.ISSUE, "care")],
            issues_detail="-",
            formulation="-",
        )
        case_transition(case=case, to_status=CaseStatus.REFERRED, acting_user=world.assigned, reason="複合")
        for days in (-5, 40):
            Consultation.objects.create(
                agency=case.owning_agency,
                received_at=timezone.now() + timedelta(days=days) - timedelta(days=60),
                recorded_by=world.assigned,
                channel=code(CodeKind.CHANNEL, "phone"),
                route=code(CodeKind.ROUTE, "self"),
                main_issue=code(CodeKind.ISSUE, ("care", "income")[i % 2]),
                summary="-",
                outcome="advice",
            )


def queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/").status_code == 200
    return len(captured)


# +4 since issue 17's panel of what waits on the user (pledges, the agency's 役割分担, handovers: one query
# each, and the consent check of the tasks' cases); +1 for a worker since the ids of the cases they lead
# are read once and the two panels' five counts and lists filter on them (cases.selectors.cases_led_by)
@pytest.mark.parametrize(("persona", "ceiling"), [("assigned", 23), ("coordinator", 20), ("supervisor", 12)])
def test_dashboard_queries_are_the_same_with_3_and_30_cases(
    client,
    planned,  # noqa: F811
    persona,
    ceiling,
    django_assert_max_num_queries,
    settings,
):
    settings.DASHBOARD_FIGURES_SECONDS = 0  # counted on every visit: the counting itself is measured
    w = planned
    decide(w)
    give_consent(w, [w.other_agency, w.own_agency], expires_on=timezone.localdate() + timedelta(days=10))
    approve(w)
    user = w.persona(persona)
    populate(w, 3)
    queries(
        client, user
    )  # content types (支援会議's, for the pending pledges) are cached from the first visit
    few = queries(client, user)
    populate(w, 27)
    many = queries(client, user)
    assert few == many
    with django_assert_max_num_queries(ceiling):
        client.get("/")


def test_the_city_wide_figures_are_counted_once_for_every_supervisor(client, planned, settings):  # noqa: F811
    """Supervisors see every case, so the charts are the same for each of them: counted on the first
    visit, then served from the cache until DASHBOARD_FIGURES_SECONDS pass."""
    w = planned
    populate(w, 3)
    first = queries(client, w.supervisor)
    second_supervisor = staff_user(Role.SUPERVISOR, w.supervisor.active_memberships[0].agency)
    assert queries(client, second_supervisor) < first
    html = client.get("/").content.decode()
    assert "最大5分" in html and "chart-consultations-title" in html
    settings.DASHBOARD_FIGURES_SECONDS = 0
    assert queries(client, second_supervisor) == first
