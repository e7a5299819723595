"""主担当機関の移行 (issue 17): a 終結 with 「主担当機関へ移行」 at the 重層的支援会議 (or its 「包括的相談支援へ
戻す」 naming another agency) hands the case to the next lead agency — ownership, 担当, notices, the case
in their list with its history — and the previous lead keeps reading it, read-only, until the set
period ends. The next agency accepts (naming its 主担当者) or declines with the reason (the case goes
back to those who held it). Both sides of every rule, the pages and the API."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from cases import selectors as case_selectors
from cases import services as case_services
from cases.models import Case, CaseHandover, CaseStatus, CodeKind, HandoverStatus
from cases.selectors import case_can_change, cases_visible_to
from cases.tests.conftest import code, fresh
from jusou.models import Notification, Role
from jusou.services import InvalidTransition
from jusou.tests.api import api_as
from jusou.tests.factories import staff_user
from meetings.models import GoalResult, NextStep, PlanStatus
from meetings.tests.conftest import evaluate

ISO_DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")


def sees(user, case) -> bool:
    return cases_visible_to(fresh(user)).filter(pk=case.pk).exists()


def can_change(user, case) -> bool:
    return case_can_change(fresh(user), case)


def notices(user, kind=None):
    rows = Notification.objects.filter(recipient=user)
    return list(rows.filter(kind=kind) if kind else rows)


def close_to_next_agency(w, **extra):
    """評価 at the 重層的支援会議: 終結, 主担当機関へ移行, the next lead agency named."""
    return evaluate(
        w,
        NextStep.CLOSE,
        result=GoalResult.PARTLY,
        person_change="長男が障害相談につながった",
        close_reason=code(CodeKind.CLOSE_REASON, "lead_agency"),
        **{"next_lead_agency": w.next_agency, **extra},
    )


@pytest.fixture
def handed(approved):
    Notification.objects.all().delete()
    close_to_next_agency(approved)
    approved.case.refresh_from_db()
    approved.handover = CaseHandover.objects.get(case=approved.case)
    return approved


# --- The move ---------------------------------------------------------------------------------------


def test_closure_to_the_next_lead_agency_moves_ownership_and_assignment(handed):
    w, case = handed, handed.case
    assert case.status == CaseStatus.CLOSED
    assert case.owning_agency == w.next_agency and case.lead_worker is None
    assert w.handover.status == HandoverStatus.PENDING and w.handover.from_agency == w.own_agency
    assert w.handover.from_lead_worker == w.assigned and w.handover.requested_by == w.coordinator
    # the next agency's staff hold 担当: read and change
    for user in (w.other_worker, w.next_colleague):
        assert sees(user, case) and can_change(user, case)
    # the previous lead — its agency, its 主担当者, the coordinator — reads only
    for user in (w.assigned, w.colleague, w.coordinator):
        assert sees(user, case) and not can_change(user, case)
    assert not sees(w.outsider, case)


def test_the_case_is_in_the_next_agencys_list_with_its_history(client, handed):
    w = handed
    client.force_login(fresh(w.other_worker))
    listed = client.get(reverse("cases:case_list"), {"scope": "agency"}).content.decode()
    assert w.case.number in listed
    page = client.get(reverse("cases:case_detail", args=[w.case.pk])).content.decode()
    assert "主担当機関の移行（受入れ待ち）" in page and "引継ぎを受け入れる" in page
    assert "主担当機関の移行: みどり中央地域包括支援センター → みどり障害者相談支援センター" in page
    assert "状態変更: 多機関協働へつなぎ依頼 → 多機関協働中" in page  # the history came along
    assert "母の介護について長男から相談" in page  # the first consultation too


def test_the_timeline_shows_the_conference_in_wareki_not_iso(client, handed):
    client.force_login(fresh(handed.other_worker))
    page = client.get(reverse("cases:case_detail", args=[handed.case.pk])).content.decode()
    timeline = page[page.index('id="timeline-heading"') :]
    assert "重層的支援会議（令和" in timeline and "で終結" in timeline
    assert not ISO_DATE.search(re.sub(r"<[^>]+>", "", timeline))  # what is read, not <time datetime>


def test_the_next_agency_and_its_workers_are_told_and_nobody_else(handed):
    w = handed
    for user in (w.other_worker, w.next_colleague):
        (note,) = notices(user, "handover")
        assert (
            note.title
            == f"支援ケースの引継ぎがあります（{w.case.number}、みどり中央地域包括支援センターから）"
        )
        assert note.link == w.case.get_absolute_url()
        assert "山田" not in note.title + note.body  # the case number and a link, nothing of the case
    for user in (w.assigned, w.colleague, w.outsider, w.coordinator, w.supervisor):
        assert not notices(user, "handover")


def test_previous_lead_reads_until_the_period_ends_then_is_refused(client, handed, settings):
    w = handed
    until = w.handover.read_until
    assert until - w.handover.requested_at == timedelta(days=settings.HANDOVER_READ_DAYS)
    url = reverse("cases:case_detail", args=[w.case.pk])
    client.force_login(fresh(w.assigned))
    page = client.get(url)
    assert page.status_code == 200 and "このケースは閲覧のみできます" in page.content.decode()
    refused = client.post(reverse("cases:note_add", args=[w.case.pk]), {"kind": "phone", "content": "x"})
    assert refused.status_code == 403
    with time_machine.travel(until + timedelta(minutes=1)):
        client.force_login(fresh(w.assigned))
        assert client.get(url).status_code == 404
        for user in (w.assigned, w.colleague, w.coordinator):
            assert not sees(user, w.case)
        assert sees(w.other_worker, w.case)  # the next agency's 担当 has no end


def test_the_read_period_is_a_setting(approved, settings):
    settings.HANDOVER_READ_DAYS = 0
    close_to_next_agency(approved)
    case = Case.objects.get(pk=approved.case.pk)
    assert not sees(approved.assigned, case) and not sees(approved.coordinator, case)
    assert sees(approved.other_worker, case)


# --- Accept ---------------------------------------------------------------------------------------


def test_accepting_names_the_lead_worker_and_tells_who_handed_it_over(handed):
    w = handed
    case_services.case_handover_accept(
        handover=w.handover, acting_user=fresh(w.other_worker), lead_worker=fresh(w.next_colleague)
    )
    case = Case.objects.get(pk=w.case.pk)
    assert case.lead_worker == w.next_colleague and case.owning_agency == w.next_agency
    w.handover.refresh_from_db()
    assert w.handover.status == HandoverStatus.ACCEPTED and w.handover.decided_by == w.other_worker
    for user in (w.coordinator, w.assigned):
        (note,) = notices(user, "handover_accepted")
        assert note.title == f"引継ぎが受け入れられました（{case.number}、みどり障害者相談支援センター）"
    for user in (w.other_worker, w.next_colleague, w.colleague, w.outsider):
        assert not notices(user, "handover_accepted")
    mine = case_selectors.case_list(fresh(w.next_colleague), case_selectors.CaseFilters(scope="mine"))
    assert list(mine) == [case]
    assert sees(w.assigned, case) and not can_change(w.assigned, case)  # still the read period


def test_accept_page_flow(client, handed):
    w = handed
    client.force_login(fresh(w.other_worker))
    response = client.post(reverse("cases:handover_accept", args=[w.handover.pk]), {"lead_worker": ""})
    assert response.status_code == 302
    case = Case.objects.get(pk=w.case.pk)
    assert case.lead_worker == w.other_worker  # empty: the one accepting
    page = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert "引継ぎの受入れ: みどり中央地域包括支援センター → みどり障害者相談支援センター" in page
    assert "引継ぎを受け入れる" not in page


@pytest.mark.parametrize("who", ["assigned", "coordinator", "supervisor"])
def test_only_the_next_agencys_staff_may_accept_or_decline(handed, who):
    w = handed
    user = fresh(w.persona(who))
    with pytest.raises(PermissionDenied):
        case_services.case_handover_accept(handover=w.handover, acting_user=user)
    with pytest.raises(PermissionDenied):
        case_services.case_handover_decline(handover=w.handover, acting_user=user, reason="理由")
    assert CaseHandover.objects.get(pk=w.handover.pk).status == HandoverStatus.PENDING


def test_outsider_cannot_find_the_handover(client, handed):
    client.force_login(fresh(handed.outsider))
    assert client.post(reverse("cases:handover_accept", args=[handed.handover.pk])).status_code == 404


def test_the_lead_worker_named_must_work_at_the_next_agency(handed):
    with pytest.raises(ValidationError, match="引継ぎ先の機関の職員"):
        case_services.case_handover_accept(
            handover=handed.handover,
            acting_user=fresh(handed.other_worker),
            lead_worker=fresh(handed.assigned),
        )


def test_a_handover_is_decided_once(handed):
    w = handed
    case_services.case_handover_accept(handover=w.handover, acting_user=fresh(w.other_worker))
    with pytest.raises(InvalidTransition, match="すでに「受入れ」"):
        case_services.case_handover_decline(
            handover=w.handover, acting_user=fresh(w.next_colleague), reason="x"
        )


# --- Decline --------------------------------------------------------------------------------------


def test_declining_returns_the_case_with_the_reason_and_tells_the_coordinator(client, handed):
    w = handed
    with pytest.raises(ValidationError, match="辞退の理由"):
        case_services.case_handover_decline(
            handover=w.handover, acting_user=fresh(w.other_worker), reason=" "
        )
    case_services.case_handover_decline(
        handover=w.handover, acting_user=fresh(w.other_worker), reason="計画相談の空きがないため"
    )
    case = Case.objects.get(pk=w.case.pk)
    assert case.owning_agency == w.own_agency and case.lead_worker == w.assigned
    for user in (w.coordinator, w.assigned, w.colleague):
        assert sees(user, case) and can_change(user, case)  # back to those who held it
    for user in (w.other_worker, w.next_colleague):
        assert not sees(user, case)
    (note,) = notices(w.coordinator, "handover_declined")
    assert note.title == f"引継ぎが辞退されました（{case.number}、みどり障害者相談支援センター）"
    assert "計画相談" not in note.title + note.body  # the reason is on the case page
    assert notices(w.assigned, "handover_declined")
    assert not notices(w.other_worker, "handover_declined") and not notices(w.outsider, "handover_declined")
    client.force_login(fresh(w.coordinator))
    page = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert "引継ぎが辞退されました" in page and "計画相談の空きがないため" in page
    assert f'action="/cases/{case.pk}/handover/"' in page  # the coordinator may choose another agency


def test_decline_page_flow_and_handing_over_again(client, handed):
    w = handed
    client.force_login(fresh(w.other_worker))
    response = client.post(reverse("cases:handover_decline", args=[w.handover.pk]), {"reason": "対象外"})
    assert response.status_code == 302 and response.url == reverse("dashboard")
    third = staff_user(Role.WORKER, username="third_worker")
    client.force_login(fresh(w.coordinator))
    response = client.post(
        reverse("cases:case_handover", args=[w.case.pk]),
        {"to_agency": fresh(third).agencies[0].pk, "reason": "生活困窮の支援へ"},
    )
    assert response.status_code == 302
    case = Case.objects.get(pk=w.case.pk)
    assert case.owning_agency == fresh(third).agencies[0]
    assert CaseHandover.objects.filter(case=case).count() == 2
    assert notices(third, "handover")


# --- 包括的相談支援へ戻す naming another agency, and a worker's own case ---------------------------------


def test_return_to_comprehensive_support_naming_another_agency_hands_it_over(approved):
    w = approved
    evaluate(w, NextStep.RETURN, next_lead_agency=w.next_agency)
    case = Case.objects.get(pk=w.case.pk)
    assert case.status == CaseStatus.SUPPORTING and case.owning_agency == w.next_agency
    assert CaseHandover.objects.get(case=case).is_pending
    assert notices(w.other_worker, "handover") and notices(w.assigned, "referral_returned")
    assert "令和" in case.transitions.last().reason


def test_return_to_the_same_agency_is_no_handover(approved):
    w = approved
    evaluate(w, NextStep.RETURN, next_lead_agency=w.own_agency)
    assert not CaseHandover.objects.exists()
    assert Case.objects.get(pk=w.case.pk).owning_agency == w.own_agency


def test_closure_for_the_next_agency_must_name_it(approved):
    with pytest.raises(ValidationError, match="引継ぎ先の主担当機関を選んでください"):
        close_to_next_agency(approved, next_lead_agency=None)
    approved.plan.refresh_from_db()
    assert approved.plan.status == PlanStatus.APPROVED  # nothing was saved
    assert Case.objects.get(pk=approved.case.pk).status == CaseStatus.COORDINATING


def test_a_worker_closes_their_own_case_to_the_next_agency_from_the_case_page(client, world):
    case_services.assessment_record(
        case=world.case,
        acting_user=world.assigned,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="介護",
        formulation="見立て",
    )
    case_services.case_transition(
        case=world.case, to_status=CaseStatus.SUPPORTING, acting_user=world.assigned
    )
    case = Case.objects.get(pk=world.case.pk)
    client.force_login(fresh(world.assigned))
    url = reverse("cases:case_transition", args=[case.pk])
    lead_agency = code(CodeKind.CLOSE_REASON, "lead_agency")
    form = {
        "to_status": "closed",
        "close_reason": lead_agency.pk,
        "version": case.version,
        "reason": "障害相談へ",
    }
    client.post(url, form)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUPPORTING  # no agency named: refused
    next_agency = fresh(world.other_worker).agencies[0]
    response = client.post(url, {**form, "next_lead_agency": next_agency.pk}, follow=True)
    assert "みどり障害者相談支援センターへ引き継ぎました（受入れ待ち）" in response.content.decode()
    case = Case.objects.get(pk=case.pk)
    assert case.status == CaseStatus.CLOSED and case.owning_agency == next_agency
    assert sees(world.assigned, case) and not can_change(world.assigned, case)
    assert not sees(world.coordinator, case)  # never had it: gets nothing now either


@pytest.mark.parametrize(
    "to_status",
    [CaseStatus.ASSESSING],
)
def test_a_next_agency_cannot_be_named_for_other_moves(world, to_status):
    with pytest.raises(ValidationError, match="引継ぎ先の主担当機関を選べるのは"):
        case_services.case_transition(
            case=world.case,
            to_status=to_status,
            acting_user=world.assigned,
            next_lead_agency=fresh(world.other_worker).agencies[0],
        )


def test_no_handover_of_a_case_in_multi_agency_work(coordinating):
    with pytest.raises(InvalidTransition, match="引き継げません"):
        case_services.case_handover_start(
            case=coordinating.case,
            acting_user=fresh(coordinating.coordinator),
            to_agency=fresh(coordinating.other_worker).agencies[0],
        )


# --- The API --------------------------------------------------------------------------------------


def test_api_close_to_the_next_agency_then_accept(approved):
    w = approved
    evaluate(w, NextStep.CONTINUE)
    api = api_as(w.coordinator)
    close = f"/api/v1/cases/{w.case.pk}/close/"
    # the plan is still in force after 継続: a 終結 goes through the conference (400 from the guard)
    assert (
        api.post(
            close, {"close_reason": "lead_agency", "next_lead_agency": w.next_agency.code}, format="json"
        ).status_code
        == 400
    )
    end_plan(w)
    missing = api.post(close, {"close_reason": "lead_agency"}, format="json")
    assert missing.status_code == 400 and "next_lead_agency" in str(missing.json())
    same = api.post(
        close, {"close_reason": "lead_agency", "next_lead_agency": w.own_agency.code}, format="json"
    )
    assert same.status_code == 400
    unknown = api.post(close, {"close_reason": "lead_agency", "next_lead_agency": "nowhere"}, format="json")
    assert unknown.status_code == 400
    done = api.post(
        close, {"close_reason": "lead_agency", "next_lead_agency": w.next_agency.code}, format="json"
    )
    assert done.status_code == 200, done.content
    assert done.json()["owning_agency"] == w.next_agency.code and done.json()["status"] == "closed"
    handover = CaseHandover.objects.get(case=w.case)
    waiting = api_as(w.other_worker).get("/api/v1/handovers/?waiting=true")
    assert [row["id"] for row in waiting.json()["results"]] == [handover.pk]
    assert api_as(w.outsider).get("/api/v1/handovers/").json()["results"] == []
    assert (
        api_as(w.outsider).post(f"/api/v1/handovers/{handover.pk}/accept/", {}, format="json").status_code
        == 404
    )
    refused = api_as(w.assigned).post(f"/api/v1/handovers/{handover.pk}/accept/", {}, format="json")
    assert refused.status_code == 403 and refused.json()["status"] == 403
    no_reason = api_as(w.other_worker).post(f"/api/v1/handovers/{handover.pk}/decline/", {}, format="json")
    assert no_reason.status_code == 400
    accepted = api_as(w.other_worker).post(f"/api/v1/handovers/{handover.pk}/accept/", {}, format="json")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    again = api_as(w.other_worker).post(f"/api/v1/handovers/{handover.pk}/accept/", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    assert (
        api.post(
            f"/api/v1/cases/{w.case.pk}/handover/", {"to_agency": w.own_agency.code}, format="json"
        ).status_code
        == 403
    )  # the coordinator only reads it now


def end_plan(w):
    """End the approved plan without closing the case (a revised plan was never approved, say)."""
    from meetings.models import SupportPlan

    SupportPlan.objects.filter(pk=w.plan.pk).update(status=PlanStatus.ENDED)


def test_api_handover_of_a_case_in_the_wrong_state_is_409(coordinating):
    api = api_as(coordinating.coordinator)
    response = api.post(
        f"/api/v1/cases/{coordinating.case.pk}/handover/",
        {"to_agency": fresh(coordinating.other_worker).agencies[0].code},
        format="json",
    )
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"
    bad = api.post(
        f"/api/v1/cases/{coordinating.case.pk}/handover/", {"to_agency": "x", "extra": 1}, format="json"
    )
    assert bad.status_code == 400


# --- A closed case continues at the next agency (終結 → 支援中 on acceptance) -------------------------


def _closed_this_month(user, case):
    from jusou.reports.statistics import StatisticsParams, statistics_report

    month = timezone.localdate().strftime("%Y-%m")
    report = statistics_report(fresh(user), StatisticsParams.from_query({"period": "month", "month": month}))
    tables = {t.title: t for t in report.tables()}

    def value(title, label):
        return next(r for r in tables[title].rows if r.label == label).values[0]

    reason = code(CodeKind.CLOSE_REASON, "lead_agency").label
    return value("支援ケースの開始・終結・中断", "終結"), value("終結理由別 件数", reason)


def test_accepting_a_closed_case_continues_it_as_supporting_at_the_next_agency(client, handed):
    w = handed
    taker = fresh(w.next_colleague)
    assert _closed_this_month(w.supervisor, w.case) == (1, 1)
    case_services.case_handover_accept(handover=w.handover, acting_user=taker)
    case = Case.objects.get(pk=w.case.pk)
    assert case.status == CaseStatus.SUPPORTING and case.closed_at is None and case.is_open
    move = case.transitions.last()
    assert (move.from_status, move.to_status) == (CaseStatus.CLOSED, CaseStatus.SUPPORTING)
    assert move.actor == taker and move.reason == "引継ぎの受入れ（主担当機関へ移行）"
    # in the accepting agency's active list (支援中), and the 終結 of the month still counted
    active = case_selectors.case_list(taker, case_selectors.CaseFilters(scope="agency", status="supporting"))
    assert case in list(active)
    assert _closed_this_month(w.supervisor, case) == (1, 1)
    client.force_login(taker)
    page = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert "状態変更: 終結 → 支援中" in page and "引継ぎの受入れ（主担当機関へ移行）" in page
    assert "<dt>終結理由</dt>" not in page  # a 支援中 case shows no 終結理由


def test_accepting_a_supporting_case_keeps_it_supporting_with_no_move(world):
    case_services.assessment_record(
        case=world.case,
        acting_user=world.assigned,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="介護",
        formulation="見立て",
    )
    case_services.case_transition(
        case=world.case, to_status=CaseStatus.SUPPORTING, acting_user=world.assigned
    )
    handover = case_services.case_handover_start(
        case=Case.objects.get(pk=world.case.pk),
        to_agency=fresh(world.other_worker).agencies[0],
        acting_user=fresh(world.assigned),
    )
    moves = Case.objects.get(pk=world.case.pk).transitions.count()
    case_services.case_handover_accept(handover=handover, acting_user=fresh(world.other_worker))
    case = Case.objects.get(pk=world.case.pk)
    assert case.status == CaseStatus.SUPPORTING and case.transitions.count() == moves


def test_declining_a_closed_case_leaves_it_closed(handed):
    case_services.case_handover_decline(
        handover=handed.handover, acting_user=fresh(handed.other_worker), reason="対象外"
    )
    case = Case.objects.get(pk=handed.case.pk)
    assert case.status == CaseStatus.CLOSED and case.closed_at is not None
