"""The 多機関協働 API: every persona gets exactly what the pages give it (404 outside its basis, 403 for
what it may read but not change, nothing of a 支援会議 before 守秘義務 or after the window), actions run
the same services as the pages, retried creates make one record, and list query counts stay flat."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseStatus, CodeKind
from cases.services import assessment_record, case_transition
from cases.tests.conftest import code, fresh, record_case
from jusou.models import ApiScope, ReadLog, Role
from jusou.tests.api import api_as, ids, machine_client
from jusou.tests.factories import AgencyFactory, UserFactory, staff_user
from meetings import services
from meetings.models import ConfidentialityPledge, Consent, PlanTask
from meetings.tests.conftest import draft_plan

pytestmark = pytest.mark.django_db

ALL_SCOPES = [s.value for s in ApiScope]


def build(w, *, categories=("basic", "plan")):
    """The world's case in 多機関協働 with everything the API shows: a 支援決定, the person's consent
    naming both agencies of the plan, an approved plan (goals and 役割分担), the 重層的支援会議 that
    approved it, and a 支援会議 with the case on its agenda and one member from a fourth agency."""
    w.coord = fresh(w.coordinator)
    w.plan_agency = fresh(w.other_worker).agencies[0]
    w.own_agency = fresh(w.assigned).agencies[0]
    w.member = staff_user(Role.WORKER, AgencyFactory(name="みどり市社会福祉協議会"), username="member")
    today = timezone.localdate()
    services.support_decision_record(case=w.case, acting_user=w.coord, decided_on=today)
    w.consent = services.consent_record(
        case=w.case,
        person=w.person,
        acting_user=w.coord,
        consenting_party="self",
        consented_on=today,
        method="written",
        recipients=[w.plan_agency, w.own_agency],
        categories=list(categories),
        purpose="支援プランの協議と実施",
    )
    w.plan = draft_plan(
        w,
        ["通院を再開する", "長男が相談窓口につながる"],
        [
            {"agency": w.plan_agency, "role": "障害福祉サービスの調整", "content": "長男の面談"},
            {"agency": w.own_agency, "role": "母の介護サービス調整", "content": "ケアプランの見直し"},
        ],
    )
    w.conference = services.conference_create(
        acting_user=w.coord, held_at=timezone.now(), agencies=[w.plan_agency, w.own_agency], minutes="協議"
    )
    services.plan_approve(conference=w.conference, plan=w.plan, acting_user=w.coord)
    w.their_task = PlanTask.objects.get(plan=w.plan, agency=w.plan_agency)
    w.our_task = PlanTask.objects.get(plan=w.plan, agency=w.own_agency)
    now = timezone.now()
    w.meeting = services.meeting_convene(
        acting_user=w.coord,
        held_at=now,
        access_from=now - timedelta(hours=1),
        access_until=now + timedelta(days=14),
        members=[w.member],
    )
    w.briefing = services.briefing_share(
        meeting=w.meeting, case=w.case, acting_user=w.coord, categories=["household", "issues"]
    )
    services.meeting_decision_record(
        briefing=w.briefing, acting_user=w.coord, kind="outreach", text="長男へのアウトリーチを開始"
    )
    return w


@pytest.fixture
def scene(coordinating):
    return build(coordinating)


# --- The leak matrix ------------------------------------------------------------------------------------


def urls(s) -> dict[str, str]:
    return {
        "referrals": "/api/v1/referrals/?status=coordinating",
        "consents": "/api/v1/consents/",
        "consent": f"/api/v1/consents/{s.consent.pk}/",
        "plans": "/api/v1/plans/",
        "plan": f"/api/v1/plans/{s.plan.pk}/",
        "meetings": "/api/v1/support-meetings/",
        "meeting": f"/api/v1/support-meetings/{s.meeting.pk}/",
        "conferences": "/api/v1/conferences/",
        "conference": f"/api/v1/conferences/{s.conference.pk}/",
    }


# A list endpoint expects the ids it lists ("case", "consent" … name the scene's record), or a status.
SEES_THE_CASE = {
    "referrals": 403,
    "consents": ["consent"],
    "consent": 200,
    "plans": ["plan"],
    "plan": 200,
    "meetings": [],
    "meeting": 404,
    "conferences": 403,
    "conference": 403,
}
NOTHING = {
    "referrals": 403,
    "consents": [],
    "consent": 404,
    "plans": [],
    "plan": 404,
    "meetings": [],
    "meeting": 404,
    "conferences": 403,
    "conference": 403,
}
MATRIX = {
    "coordinator": {
        "referrals": ["case"],
        "consents": ["consent"],
        "consent": 200,
        "plans": ["plan"],
        "plan": 200,
        "meetings": ["meeting"],
        "meeting": 200,
        "conferences": ["conference"],
        "conference": 200,
    },
    "assigned": SEES_THE_CASE,
    "colleague": SEES_THE_CASE,
    "plan_agency": SEES_THE_CASE,
    "plan_agency_after_withdrawal": NOTHING,
    "member_before_pledge": NOTHING,
    "member_after_pledge": {**NOTHING, "meetings": ["meeting"], "meeting": 200},
    "member_after_window": NOTHING,
    "outsider": NOTHING,
    "supervisor": SEES_THE_CASE,
    "client_for_the_plan_agency": SEES_THE_CASE,
    "client_for_another_agency": NOTHING,
    "client_without_the_scope": dict.fromkeys(NOTHING, 403),
}


def persona_client(s, name):
    """The API client of a persona, after whatever the persona's situation needs."""
    if name == "plan_agency_after_withdrawal":
        services.consent_withdraw(
            consent=s.consent, acting_user=fresh(s.assigned), method="oral", note="撤回"
        )
        return api_as(s.other_worker)
    if name == "plan_agency":
        return api_as(s.other_worker)
    if name.startswith("member_"):
        if name != "member_before_pledge":
            services.pledge_acknowledge(meeting=s.meeting, acting_user=s.member)
        return api_as(s.member)
    if name == "client_for_the_plan_agency":
        return machine_client(s.plan_agency, [ApiScope.MEETINGS_READ])[1]
    if name == "client_for_another_agency":
        return machine_client(fresh(s.outsider).agencies[0], ALL_SCOPES)[1]
    if name == "client_without_the_scope":
        scopes = [scope for scope in ALL_SCOPES if scope != ApiScope.MEETINGS_READ]
        return machine_client(s.own_agency, scopes)[1]
    return api_as(s.persona(name))


def check(api, s, expected):
    records = {
        "case": s.case,
        "consent": s.consent,
        "plan": s.plan,
        "meeting": s.meeting,
        "conference": s.conference,
    }
    for key, url in urls(s).items():
        response = api.get(url)
        want = expected[key]
        if isinstance(want, list):
            assert response.status_code == 200, (key, response.content)
            body = response.json()
            rows = body if isinstance(body, list) else body["results"]
            assert [row["id"] for row in rows] == [records[name].pk for name in want], key
        else:
            assert response.status_code == want, (key, response.content)
            if want != 200:
                assert response.json()["status"] == want  # the API's error body, never a page


@pytest.mark.parametrize("name", list(MATRIX))
def test_each_persona_gets_exactly_its_basis(scene, name):
    api = persona_client(scene, name)
    if name == "member_after_window":
        with time_machine.travel(scene.meeting.access_until + timedelta(minutes=1)):
            check(api, scene, MATRIX[name])
    else:
        check(api, scene, MATRIX[name])


# Every action, in an order where an allowed write does not change what the next one checks:
# (役割分担 of the plan agency, 守秘義務, accept a case already taken up, record a consent, withdraw it).
NO_WRITES = {"task": 404, "pledge": 404, "accept": 403, "consent": 404, "withdraw": 404}
WRITES = {
    "coordinator": {"task": 200, "pledge": 404, "accept": 409, "consent": 201, "withdraw": 200},
    "assigned": {"task": 403, "pledge": 404, "accept": 403, "consent": 201, "withdraw": 200},
    "colleague": {"task": 403, "pledge": 404, "accept": 403, "consent": 201, "withdraw": 200},
    "plan_agency": {"task": 200, "pledge": 404, "accept": 403, "consent": 403, "withdraw": 403},
    "plan_agency_after_withdrawal": NO_WRITES,
    "member_before_pledge": {**NO_WRITES, "pledge": 200},
    "member_after_pledge": {**NO_WRITES, "pledge": 200},
    "member_after_window": NO_WRITES,
    "outsider": NO_WRITES,
    "supervisor": {"task": 403, "pledge": 404, "accept": 403, "consent": 403, "withdraw": 403},
    "client_for_the_plan_agency": dict.fromkeys(NO_WRITES, 403),
    "client_for_another_agency": dict.fromkeys(NO_WRITES, 403),
    "client_without_the_scope": dict.fromkeys(NO_WRITES, 403),
}


def check_writes(api, s, expected):
    posts = {
        "task": (f"/api/v1/plans/{s.plan.pk}/tasks/{s.their_task.pk}/status/", {"status": "in_progress"}),
        "pledge": (f"/api/v1/support-meetings/{s.meeting.pk}/pledge/", {}),
        "accept": (f"/api/v1/referrals/{s.case.pk}/accept/", {}),
        "consent": ("/api/v1/consents/", consent_body(s, person=s.son.pk)),
        "withdraw": (f"/api/v1/consents/{s.consent.pk}/withdraw/", {"method": "oral"}),
    }
    for key, (url, body) in posts.items():
        response = api.post(url, body, format="json")
        assert response.status_code == expected[key], (key, response.content)
        if response.status_code >= 400:
            assert response.json()["status"] == expected[key]


@pytest.mark.parametrize("name", list(WRITES))
def test_each_persona_may_do_exactly_what_its_basis_allows(scene, name):
    api = persona_client(scene, name)
    if name == "member_after_window":
        with time_machine.travel(scene.meeting.access_until + timedelta(minutes=1)):
            check_writes(api, scene, WRITES[name])
    else:
        check_writes(api, scene, WRITES[name])


def test_refusals_have_the_api_error_body_and_hidden_equals_missing(scene):
    outsider = api_as(scene.outsider)
    hidden = outsider.get(f"/api/v1/plans/{scene.plan.pk}/")
    missing = outsider.get("/api/v1/plans/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert (
        hidden.json()
        == missing.json()
        == {"status": 404, "code": "not_found", "message": "見つかりません。", "errors": []}
    )
    refused = api_as(scene.assigned).get("/api/v1/referrals/")
    assert refused.status_code == 403 and refused.json()["code"] == "role_missing"
    no_scope = persona_client(scene, "client_without_the_scope").get("/api/v1/plans/")
    assert no_scope.json()["code"] == "scope_missing"
    coordinator = api_as(scene.coordinator)
    assert coordinator.get("/api/v1/plans/abc/").status_code == 404
    assert coordinator.put(f"/api/v1/plans/{scene.plan.pk}/", {}, format="json").status_code == 405
    assert coordinator.get("/api/v1/plans/?status=nonsense").status_code == 400


def test_plan_detail_nests_goals_tasks_and_who_may_update_them(scene):
    detail = api_as(scene.other_worker).get(f"/api/v1/plans/{scene.plan.pk}/").json()
    assert [g["text"] for g in detail["goals"]] == ["通院を再開する", "長男が相談窓口につながる"]
    tasks = {t["agency"]: t for t in detail["tasks"]}
    assert tasks[scene.plan_agency.code]["can_update"] is True
    assert tasks[scene.own_agency.code]["can_update"] is False
    assert tasks[scene.plan_agency.code]["etag"].startswith('"h')
    assert detail["status"] == "approved" and detail["case_number"] == scene.case.number
    listed = api_as(scene.supervisor).get("/api/v1/plans/").json()["results"][0]
    assert len(listed["tasks"]) == 2 and {t["can_update"] for t in listed["tasks"]} == {False}


def test_a_consent_without_the_plan_category_opens_neither_plans_nor_consents(coordinating):
    s = build(coordinating, categories=("basic",))
    api = api_as(s.other_worker)
    assert api.get(f"/api/v1/cases/{s.case.pk}/").status_code == 200  # the case itself: within consent
    assert ids(api.get("/api/v1/plans/")) == [] and ids(api.get("/api/v1/consents/")) == []
    refused = api.get(f"/api/v1/plans/{s.plan.pk}/")
    assert refused.status_code == 403 and refused.json()["code"] == "outside_consent"
    assert api.get(f"/api/v1/consents/{s.consent.pk}/").status_code == 403
    # The owning agency, on its 担当 basis, still sees all of it.
    assert ids(api_as(s.assigned).get("/api/v1/plans/")) == [s.plan.pk]


# --- The referral inbox ----------------------------------------------------------------------------------


def test_the_inbox_lists_referrals_without_sensitive_data_and_the_coordinator_accepts(referred):
    api = api_as(referred.coordinator)
    rows = api.get("/api/v1/referrals/").json()
    assert [r["id"] for r in rows] == [referred.case.pk]
    assert rows[0]["referred_at"] and rows[0]["person"]["name"] == "山田 花子"
    assert "issues" not in rows[0] and "複合課題" not in str(rows)
    url = f"/api/v1/referrals/{referred.case.pk}/accept/"
    assert api_as(referred.assigned).post(url, {}, format="json").status_code == 403
    assert api_as(referred.outsider).post(url, {}, format="json").status_code == 403
    assert api.post(url, {}, format="json", HTTP_IF_MATCH='"0"').status_code == 412
    accepted = api.post(url, {"reason": "受理"}, format="json", HTTP_IF_MATCH=f'"{rows[0]["version"]}"')
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == CaseStatus.COORDINATING
    assert api.get("/api/v1/referrals/").json() == []
    assert [r["id"] for r in api.get("/api/v1/referrals/?status=coordinating").json()] == [referred.case.pk]
    again = api.post(url, {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    assert again.json()["message"] == "「多機関協働中」のケースを「多機関協働中」にすることはできません。"


def test_a_case_outside_the_coordinators_inbox_is_404(world):
    api = api_as(world.coordinator)
    assert api.post(f"/api/v1/referrals/{world.case.pk}/accept/", {}, format="json").status_code == 404
    assert api.post("/api/v1/referrals/999999/accept/", {}, format="json").status_code == 404
    assert api.get("/api/v1/referrals/?status=closed").status_code == 400


def test_returning_needs_a_reason_and_ends_the_coordinators_access(coordinating):
    api = api_as(coordinating.coordinator)
    url = f"/api/v1/referrals/{coordinating.case.pk}/return/"
    no_reason = api.post(url, {}, format="json")
    assert no_reason.status_code == 400 and no_reason.json()["errors"][0]["field"] == "reason"
    returned = api.post(url, {"reason": "地域包括で対応可能"}, format="json")
    assert returned.status_code == 200 and returned.json()["status"] == CaseStatus.SUPPORTING
    assert api.post(url, {"reason": "再度"}, format="json").status_code == 404


def test_a_case_with_an_approved_plan_is_not_returned_without_an_evaluation(scene):
    refused = api_as(scene.coordinator).post(
        f"/api/v1/referrals/{scene.case.pk}/return/", {"reason": "戻す"}, format="json"
    )
    assert refused.status_code == 400
    assert "重層的支援会議で評価してから" in refused.json()["errors"][0]["message"]


# --- 本人同意 ----------------------------------------------------------------------------------------------


def consent_body(w, **overrides):
    return {
        "case": w.case.pk,
        "person": w.person.pk,
        "consenting_party": "self",
        "consented_on": timezone.localdate().isoformat(),
        "method": "written",
        "recipients": [fresh(w.other_worker).agencies[0].code],
        "categories": ["basic", "plan"],
        "purpose": "重層的支援会議での協議のため",
        **overrides,
    }


def test_recording_a_consent_retried_with_the_same_key_makes_one_record(coordinating):
    api = api_as(coordinating.coordinator)
    body = consent_body(coordinating)
    first = api.post("/api/v1/consents/", body, format="json", HTTP_IDEMPOTENCY_KEY="consent-1")
    retry = api.post("/api/v1/consents/", body, format="json", HTTP_IDEMPOTENCY_KEY="consent-1")
    assert first.status_code == retry.status_code == 201, first.content
    assert retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    assert Consent.objects.count() == 1
    created = first.json()
    assert created["state"] == "valid" and created["taken_by"] == "coordinator"
    assert created["recipients"] == [fresh(coordinating.other_worker).agencies[0].code]
    assert created["has_document"] is False
    other = api.post(
        "/api/v1/consents/", {**body, "purpose": "別"}, format="json", HTTP_IDEMPOTENCY_KEY="consent-1"
    )
    assert other.status_code == 409


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"consented_on": (timezone.localdate() + timedelta(days=1)).isoformat()},
            "consented_on",
            "同意日に未来の日付は入力できません。",
        ),
        (
            {"consenting_party": "proxy"},
            "proxy_name",
            "代理人が同意した場合は、代理人の氏名を入力してください。",
        ),
        ({"recipients": []}, "recipients", None),
        ({"categories": ["everything"]}, "categories.0", None),
        ({"person": 999999}, "person", "このケースの本人または世帯員を選んでください。"),
        ({"case": 10**30}, "case", None),
        ({"secret": 1}, "secret", "この項目は受け付けていません。"),
    ],
)
def test_bad_consents_are_refused_with_400_in_japanese(coordinating, overrides, field, message):
    response = api_as(coordinating.coordinator).post(
        "/api/v1/consents/", consent_body(coordinating, **overrides), format="json"
    )
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert error["field"] == field
    assert message is None or error["message"] == message
    assert not Consent.objects.exists()


def test_only_those_who_may_change_the_case_record_consents(coordinating):
    body = consent_body(coordinating)
    assert api_as(coordinating.supervisor).post("/api/v1/consents/", body, format="json").status_code == 403
    assert api_as(coordinating.outsider).post("/api/v1/consents/", body, format="json").status_code == 404
    _, client = machine_client(fresh(coordinating.assigned).agencies[0], ALL_SCOPES)
    refused = client.post("/api/v1/consents/", body, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "scope_missing"
    assert api_as(coordinating.assigned).post("/api/v1/consents/", body, format="json").status_code == 201


def test_withdrawal_stops_the_plan_agencys_access_at_once(scene):
    url = f"/api/v1/consents/{scene.consent.pk}/withdraw/"
    body = {"method": "oral", "note": "電話で撤回の申し出"}
    assert api_as(scene.supervisor).post(url, body, format="json").status_code == 403
    assert api_as(scene.outsider).post(url, body, format="json").status_code == 404
    plan_agency = api_as(scene.other_worker)
    assert plan_agency.post(url, body, format="json").status_code == 403  # reads on consent, changes nothing
    assert plan_agency.get(f"/api/v1/plans/{scene.plan.pk}/").status_code == 200
    done = api_as(scene.assigned).post(url, body, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "withdrawn" and done.json()["withdrawal_received_by"] == "assigned"
    assert plan_agency.get(f"/api/v1/plans/{scene.plan.pk}/").status_code == 404
    again = api_as(scene.assigned).post(url, body, format="json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    assert again.json()["message"] == "この同意はすでに撤回されています。"
    assert ids(api_as(scene.assigned).get(f"/api/v1/consents/?case={scene.case.pk}&valid=false")) == [
        scene.consent.pk
    ]


# --- 役割分担 --------------------------------------------------------------------------------------------


def test_an_agency_updates_its_own_task_and_a_stale_update_is_refused(scene):
    api = api_as(scene.other_worker)
    url = f"/api/v1/plans/{scene.plan.pk}/tasks/{scene.their_task.pk}/status/"
    etag = next(
        t["etag"]
        for t in api.get(f"/api/v1/plans/{scene.plan.pk}/").json()["tasks"]
        if t["id"] == scene.their_task.pk
    )
    done = api.post(url, {"status": "in_progress"}, format="json", HTTP_IF_MATCH=etag)
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "in_progress" and done["ETag"] != etag
    stale = api_as(scene.coordinator).post(url, {"status": "done"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and stale.json()["code"] == "stale_version"
    scene.their_task.refresh_from_db()
    assert scene.their_task.status == "in_progress"
    assert api.post(url, {"status": "finished"}, format="json").status_code == 400


def test_task_updates_outside_ones_own_agency_or_basis_are_refused(scene):
    ours = f"/api/v1/plans/{scene.plan.pk}/tasks/{scene.our_task.pk}/status/"
    refused = api_as(scene.other_worker).post(ours, {"status": "done"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["message"] == "自機関の役割分担だけを更新できます。"
    assert api_as(scene.supervisor).post(ours, {"status": "done"}, format="json").status_code == 403
    assert api_as(scene.outsider).post(ours, {"status": "done"}, format="json").status_code == 404
    _, client = machine_client(scene.plan_agency, ALL_SCOPES)
    assert client.post(ours, {"status": "done"}, format="json").json()["code"] == "scope_missing"
    elsewhere = f"/api/v1/plans/{scene.plan.pk}/tasks/999999/status/"
    assert api_as(scene.assigned).post(elsewhere, {"status": "done"}, format="json").status_code == 404
    assert api_as(scene.coordinator).post(ours, {"status": "done"}, format="json").status_code == 200


def test_tasks_of_a_plan_not_yet_approved_are_not_updated(coordinating):
    w = coordinating
    agency = fresh(w.assigned).agencies[0]
    plan = services.plan_create(
        case=w.case,
        acting_user=fresh(w.coordinator),
        goals=["通院"],
        tasks=[{"agency": agency, "role": "調整", "content": "調整"}],
        person_wishes="在宅",
        issues_summary="介護",
        long_term_goal="安定",
        review_on=timezone.localdate(),
    )
    task = plan.tasks.get()
    refused = api_as(w.assigned).post(
        f"/api/v1/plans/{plan.pk}/tasks/{task.pk}/status/", {"status": "done"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["message"] == "承認済みのプランの役割分担だけを更新できます。"


# --- 支援会議 ----------------------------------------------------------------------------------------------


def test_a_member_acknowledges_the_pledge_and_then_reads_the_frozen_briefing(scene):
    api = api_as(scene.member)
    detail_url = f"/api/v1/support-meetings/{scene.meeting.pk}/"
    pledge_url = f"/api/v1/support-meetings/{scene.meeting.pk}/pledge/"
    waiting = api.get("/api/v1/support-meetings/awaiting-pledge/").json()
    assert waiting == [
        {"id": scene.meeting.pk, "held_at": waiting[0]["held_at"], "host": scene.coord.get_full_name()}
    ]  # date and host only, no title
    statement = api.get(pledge_url).json()
    assert "第106条の6" in statement["statement"] and statement["acknowledged_at"] is None
    assert "山田" not in str(statement)
    assert api.get(detail_url).status_code == 404
    acknowledged = api.post(pledge_url, format="json")
    assert acknowledged.status_code == 200 and acknowledged.json()["acknowledged_at"]
    assert ConfidentialityPledge.objects.filter(meeting=scene.meeting, user=scene.member).count() == 1
    assert api.get("/api/v1/support-meetings/awaiting-pledge/").json() == []
    detail = api.get(detail_url).json()
    briefing = detail["briefings"][0]
    assert briefing["sections"]["person"] == "山田 花子" and briefing["audience"] == "staff"
    assessment = next(
        g
        for section in briefing["sections"]["sections"]
        for g in section["groups"]
        if g["title"] == "アセスメント 第1版"
    )
    assert {"label": "見立て", "value": "複合課題"} in assessment["rows"]
    assert briefing["external_sections"] is None  # the host's preview of the external version only
    assert briefing["decisions"][0]["text"] == "長男へのアウトリーチを開始"
    assert detail["is_host"] is False and detail["members"] == [
        {"username": "member", "name": scene.member.get_full_name(), "pledged": True}
    ]
    assert "case" not in briefing  # never the live case
    assert api.get(f"/api/v1/cases/{scene.case.pk}/").status_code == 404


def test_the_pledge_is_only_for_members_inside_the_window(scene):
    colleague = staff_user(Role.WORKER, fresh(scene.member).agencies[0], username="member_colleague")
    pledge_url = f"/api/v1/support-meetings/{scene.meeting.pk}/pledge/"
    for user in (colleague, scene.outsider, scene.supervisor):
        api = api_as(user)
        assert api.get(pledge_url).status_code == 404
        assert api.post(pledge_url, format="json").status_code == 404
        assert api.get("/api/v1/support-meetings/awaiting-pledge/").json() == []
    assert not ConfidentialityPledge.objects.exists()
    member = api_as(scene.member)
    with time_machine.travel(scene.meeting.access_until + timedelta(minutes=1)):
        assert member.post(pledge_url, format="json").status_code == 404
    assert not ConfidentialityPledge.objects.exists()


def test_a_pseudonymised_briefing_carries_no_names(scene):
    other = record_case(scene.assigned, name="川口 次郎", kana="かわぐち じろう")
    assessment_record(
        case=other,
        acting_user=scene.assigned,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="x",
        formulation="y",
    )
    case_transition(case=other, to_status="referred", acting_user=scene.assigned, reason="複合")
    services.briefing_share(
        meeting=scene.meeting,
        case=other,
        acting_user=fresh(scene.coordinator),
        categories=["household"],
        pseudonymised=True,
    )
    services.pledge_acknowledge(meeting=scene.meeting, acting_user=scene.member)
    response = api_as(scene.member).get(f"/api/v1/support-meetings/{scene.meeting.pk}/")
    assert "川口" not in response.content.decode()
    assert response.json()["briefings"][1]["pseudonymised"] is True


def test_an_external_member_uses_the_meeting_endpoints_only(scene):
    from jusou.staff import services as core_services

    minsei = UserFactory(username="minsei_d", last_name="民生", first_name="委員")
    core_services.membership_grant(
        user=minsei, agency=None, role=Role.MEETING_MEMBER, acting_user=scene.coordinator
    )
    services.meeting_member_add(meeting=scene.meeting, user=minsei, acting_user=fresh(scene.coordinator))
    api = api_as(minsei)
    assert api.get(f"/api/v1/support-meetings/{scene.meeting.pk}/").status_code == 404
    assert api.post(f"/api/v1/support-meetings/{scene.meeting.pk}/pledge/", format="json").status_code == 200
    assert ids(api.get("/api/v1/support-meetings/")) == [scene.meeting.pk]
    for url in ("/api/v1/cases/", "/api/v1/plans/", "/api/v1/consents/", "/api/v1/conferences/"):
        assert api.get(url).status_code == 403, url


def test_the_host_sees_members_and_who_has_pledged(scene):
    detail = api_as(scene.coordinator).get(f"/api/v1/support-meetings/{scene.meeting.pk}/").json()
    assert detail["is_host"] is True
    assert detail["members"] == [
        {"username": "member", "name": scene.member.get_full_name(), "pledged": False}
    ]


# --- 重層的支援会議 -----------------------------------------------------------------------------------------


def test_a_conference_shows_its_agenda_without_names(scene):
    detail = api_as(scene.coordinator).get(f"/api/v1/conferences/{scene.conference.pk}/").json()
    assert sorted(detail["agencies"]) == sorted([scene.plan_agency.code, scene.own_agency.code])
    item = detail["items"][0]
    assert (item["kind"], item["outcome"], item["plan"], item["case_number"]) == (
        "plan",
        "approved",
        scene.plan.pk,
        scene.case.number,
    )
    assert "山田" not in str(detail)


# --- Read log -----------------------------------------------------------------------------------------


def test_reads_are_logged_with_their_basis_and_client(scene):
    before = ReadLog.objects.count()
    _, client = machine_client(scene.plan_agency, [ApiScope.MEETINGS_READ], name="障害福祉システム")
    client.get(f"/api/v1/plans/{scene.plan.pk}/")
    client.get("/api/v1/consents/")
    services.pledge_acknowledge(meeting=scene.meeting, acting_user=scene.member)
    api_as(scene.member).get(f"/api/v1/support-meetings/{scene.meeting.pk}/")
    api_as(scene.coordinator).get("/api/v1/referrals/?status=coordinating")
    plan, consents, meeting, referrals = ReadLog.objects.order_by("pk")[before:]
    assert {row.action for row in (plan, consents, meeting, referrals)} == {ReadLog.Action.API}
    assert plan.object_id == scene.plan.pk and plan.basis == "consent" and "障害福祉システム" in plan.detail
    assert consents.content_type.model == "consent" and f"[{scene.consent.pk}]" in consents.detail
    assert meeting.object_id == scene.meeting.pk and meeting.basis == "support_meeting"
    assert meeting.user == scene.member
    assert referrals.content_type.model == "case" and f"[{scene.case.pk}]" in referrals.detail


# --- Query counts -------------------------------------------------------------------------------------


def _more(w, n):
    """n more cases through the whole flow, each with a consent, a plan, a conference and a meeting."""
    coord = fresh(w.coordinator)
    for i in range(n):
        case = record_case(w.assigned, name=f"川口 {i}号", kana=f"かわぐち {i}")
        assessment_record(
            case=case,
            acting_user=w.assigned,
            issues=[code(CodeKind.ISSUE, "care")],
            issues_detail="介護",
            formulation="見立て",
        )
        case_transition(case=case, to_status=CaseStatus.REFERRED, acting_user=w.assigned, reason="複合")
        case = services.case_accept(case=case, acting_user=coord)
        services.consent_record(
            case=case,
            person=case.person,
            acting_user=coord,
            consenting_party="self",
            consented_on=timezone.localdate(),
            method="oral",
            recipients=[w.plan_agency],
            categories=["basic", "plan"],
            purpose="協議",
        )
        services.plan_create(
            case=case,
            acting_user=coord,
            goals=["目標A", "目標B"],
            tasks=[
                {"agency": w.plan_agency, "role": "調整", "content": "面談"},
                {"agency": w.own_agency, "role": "介護", "content": "調整"},
            ],
            person_wishes="在宅",
            issues_summary="介護",
            long_term_goal="安定",
            review_on=timezone.localdate(),
        )
        services.conference_create(acting_user=coord, held_at=timezone.now(), agencies=[w.plan_agency])
        now = timezone.now()
        meeting = services.meeting_convene(
            acting_user=coord,
            held_at=now,
            access_from=now,
            access_until=now + timedelta(days=1),
            members=[w.member],
        )
        services.briefing_share(meeting=meeting, case=case, acting_user=coord, categories=["issues"])


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/referrals/?status=coordinating",
        "/api/v1/consents/",
        "/api/v1/plans/",
        "/api/v1/support-meetings/",
        "/api/v1/conferences/",
    ],
)
def test_list_query_count_does_not_grow_with_the_page(scene, url):
    api = api_as(scene.coordinator)
    api.get(url)  # warm the per-process caches (content types) so that both counts are steady state
    with CaptureQueriesContext(connection) as small:
        assert api.get(url).status_code == 200
    _more(scene, 5)
    with CaptureQueriesContext(connection) as large:
        response = api.get(url)
    body = response.json()
    assert len(body if isinstance(body, list) else body["results"]) >= 6
    assert len(large) == len(small)
    assert len(large) <= 20


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/plans/{plan}/",
        "/api/v1/support-meetings/{meeting}/",
        "/api/v1/conferences/{conference}/",
        "/api/v1/consents/{consent}/",
    ],
)
def test_detail_query_counts_are_bounded(scene, url, django_assert_max_num_queries):
    api = api_as(scene.coordinator)
    url = url.format(
        plan=scene.plan.pk, meeting=scene.meeting.pk, conference=scene.conference.pk, consent=scene.consent.pk
    )
    with django_assert_max_num_queries(30):
        assert api.get(url).status_code == 200


def test_the_plan_page_too_refuses_a_consent_without_the_plan_category(coordinating, client):
    s = build(coordinating, categories=("basic",))
    client.force_login(s.other_worker)
    assert client.get(reverse("meetings:plan_detail", args=[s.plan.pk])).status_code == 403
    client.force_login(s.assigned)
    assert client.get(reverse("meetings:plan_detail", args=[s.plan.pk])).status_code == 200
