"""The dashboard's 「対応を待っているもの」 (issue 17): 支援会議 whose 守秘義務 the user has not given yet,
役割分担 given to their agency, cases handed over to their agency — each only where the user has a
basis (counts included), in a number of queries that does not grow with the rows."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from cases.models import CodeKind
from cases.tests.conftest import code, fresh, record_case
from jusou.models import Role
from jusou.tests.factories import AgencyFactory, staff_user
from meetings import selectors, services
from meetings.models import NextStep, PlanTask
from meetings.tests.conftest import evaluate


def panel(client, user) -> str:
    client.force_login(fresh(user))
    html = client.get("/").content.decode()
    start = html.index('id="waiting-heading"')
    return html[start : html.index("</section>", start)]


def waiting(user) -> tuple[int, int, int]:
    data = selectors.waiting_dashboard(fresh(user))
    return data["pledge_count"], data["task_count"], data["handover_count"]


@pytest.fixture
def meeting(approved):
    w = approved
    w.member = staff_user(Role.WORKER, AgencyFactory(name="みどり市社会福祉協議会"), username="member")
    now = timezone.now()
    w.meeting = services.meeting_convene(
        acting_user=w.coord,
        held_at=now + timedelta(days=1),
        title="山田さん世帯",
        access_from=now - timedelta(minutes=1),
        access_until=now + timedelta(days=7),
        members=[w.member],
    )
    return w


def test_a_pending_pledge_shows_until_it_is_given(client, meeting):
    w = meeting
    assert waiting(w.member) == (1, 0, 0)
    html = panel(client, w.member)
    assert '<span class="stat stat--alert">1</span> 件 守秘義務の確認が済んでいない支援会議' in html
    assert f'href="{reverse("meetings:meeting_pledge", args=[w.meeting.pk])}"' in html
    assert "山田さん世帯" not in html  # the title waits for the pledge
    services.pledge_acknowledge(meeting=w.meeting, acting_user=w.member)
    assert waiting(w.member)[0] == 0
    for user in (w.coordinator, w.assigned, w.outsider):  # the host, and those not invited
        assert waiting(user)[0] == 0


def test_a_pledge_is_no_longer_asked_once_the_window_has_ended(meeting):
    w = meeting
    with time_machine.travel(w.meeting.access_until - timedelta(minutes=1)):
        assert waiting(w.member)[0] == 1
    with time_machine.travel(w.meeting.access_until + timedelta(minutes=1)):
        assert waiting(w.member)[0] == 0
        assert list(selectors.meetings_awaiting_pledge(fresh(w.member))) == []


def test_tasks_of_the_users_agency_on_cases_they_have_a_basis_for(client, approved):
    w = approved
    assert waiting(w.other_worker)[1] == 1 and waiting(w.next_colleague)[1] == 1
    html = panel(client, w.other_worker)
    assert f"{w.case.number} 山田 花子: 障害福祉サービスの調整" in html
    assert "母の介護サービス調整" not in html  # another agency's task
    assert waiting(w.assigned)[1] == 1  # their own agency's task
    assert waiting(w.outsider)[1] == 0 and waiting(w.supervisor) == (0, 0, 0)
    # the consent withdrawn: the agency has no basis any more, and nothing is counted
    consent = w.case.consents.get()
    services.consent_withdraw(consent=consent, acting_user=fresh(w.assigned), method="oral")
    assert waiting(w.other_worker)[1] == 0
    assert w.case.number not in panel(client, w.other_worker)


def test_a_done_task_is_no_longer_waiting(approved):
    w = approved
    task = PlanTask.objects.get(plan=w.plan, agency=w.next_agency)
    services.task_update_status(task=task, acting_user=fresh(w.other_worker), status="done")
    assert waiting(w.other_worker)[1] == 0


def close_to_next_agency(w):
    evaluate(
        w,
        NextStep.CLOSE,
        close_reason=code(CodeKind.CLOSE_REASON, "lead_agency"),
        next_lead_agency=w.next_agency,
    )


def test_handovers_waiting_for_the_users_agency(client, approved):
    w = approved
    close_to_next_agency(w)
    assert waiting(w.other_worker)[2] == 1 and waiting(w.next_colleague)[2] == 1
    html = panel(client, w.other_worker)
    assert '<span class="stat stat--alert">1</span> 件 所属機関への引継ぎ（受入れ待ち）' in html
    assert f"{w.case.number} 山田 花子" in html and "みどり中央地域包括支援センターから" in html
    for user in (w.assigned, w.coordinator, w.outsider, w.supervisor):
        assert waiting(user)[2] == 0
    handover = w.case.handovers.get()
    case_services.case_handover_accept(handover=handover, acting_user=fresh(w.other_worker))
    assert waiting(w.other_worker)[2] == 0


def queries(client, user) -> int:
    client.force_login(fresh(user))
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/").status_code == 200
    return len(captured)


def test_the_panel_costs_the_same_with_one_or_many_rows(client, meeting):
    w = meeting
    close_to_next_agency(w)

    def invite():
        now = timezone.now()
        services.meeting_convene(
            acting_user=w.coord,
            held_at=now,
            access_from=now - timedelta(minutes=1),
            access_until=now + timedelta(days=3),
            members=[fresh(w.other_worker)],
        )

    invite()  # one of each waits: with none, the panel only probes that nothing does
    queries(client, w.other_worker)  # content types cached from the first visit
    few = queries(client, w.other_worker)
    for i in range(6):  # more handovers to the same agency, and more meetings waiting for a pledge
        case = record_case(w.assigned, name=f"森 {i}子", kana=f"もり {i}")
        case_services.assessment_record(
            case=case,
            acting_user=w.assigned,
            issues=[code(CodeKind.ISSUE, "care")],
            issues_detail="介護",
            formulation="見立て",
        )
        case_services.case_transition(case=case, to_status="supporting", acting_user=w.assigned)
        case_services.case_handover_start(case=case, acting_user=fresh(w.assigned), to_agency=w.next_agency)
        invite()
    assert waiting(w.other_worker) == (7, 0, 7)  # the plan ended with the closure: no task waits
    many = queries(client, w.other_worker)
    assert few == many
    html = panel(client, w.other_worker)
    assert html.count("全 7 件中 5 件を表示") == 2
