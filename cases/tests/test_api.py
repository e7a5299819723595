"""The cases API: each persona gets exactly what its basis allows (404 for what it may not see, 403
for what it may read but not change), stale updates are refused, retried pushes create one record,
errors have a machine-readable body, and list query counts do not grow with the page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.models import Case, CaseStatus, CodeKind, Consultation, Person
from cases.tests.conftest import code, record_case
from jusou.models import ApiScope, ReadLog
from jusou.tests.api import api_as, ids, machine_client

pytestmark = pytest.mark.django_db

READERS = ["assigned", "colleague", "supervisor"]
STRANGERS = ["other_worker", "outsider", "coordinator"]


@pytest.fixture
def clients(world):
    return {name: api_as(world.persona(name)) for name in READERS + STRANGERS}


@pytest.fixture
def same_agency_client(world):
    _, client = machine_client(world.case.owning_agency, [s.value for s in ApiScope])
    return client


@pytest.fixture
def other_agency_client(world):
    _, client = machine_client(world.outsider.agencies[0], [s.value for s in ApiScope])
    return client


# --- The leak matrix ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", READERS)
def test_readers_list_and_open_the_case_and_its_person(clients, world, name):
    api = clients[name]
    assert ids(api.get("/api/v1/cases/")) == [world.case.pk]
    assert api.get(f"/api/v1/cases/{world.case.pk}/").json()["number"] == world.case.number
    assert world.person.pk in ids(api.get("/api/v1/people/"))
    assert api.get(f"/api/v1/people/{world.person.pk}/").status_code == 200
    assert api.get(f"/api/v1/households/{world.household.pk}/").status_code == 200
    assert api.get(f"/api/v1/cases/{world.case.pk}/notes/").status_code == 200
    assert len(ids(api.get("/api/v1/consultations/"))) == 1


@pytest.mark.parametrize("name", STRANGERS)
def test_strangers_get_404_and_empty_lists_for_everything(clients, world, name):
    api = clients[name]
    pk = world.case.pk
    assert ids(api.get("/api/v1/cases/")) == []
    assert ids(api.get(f"/api/v1/cases/?q=やまだ&status={CaseStatus.RECEIVED}")) == []
    for url in (
        f"/api/v1/cases/{pk}/",
        f"/api/v1/cases/{pk}/notes/",
        f"/api/v1/cases/{pk}/assessments/",
        f"/api/v1/people/{world.person.pk}/",
        f"/api/v1/households/{world.household.pk}/",
    ):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response.json()["message"] == "見つかりません。"  # same words as a missing record
    assert world.person.pk not in ids(api.get("/api/v1/people/?q=山田"))
    assert ids(api.get("/api/v1/consultations/")) == []
    assert (
        api.post(f"/api/v1/cases/{pk}/notes/", {"kind": "phone", "content": "x"}, format="json").status_code
        == 404
    )
    assert api.post(f"/api/v1/cases/{pk}/assess/", {}, format="json").status_code == 404


def test_a_missing_case_and_a_hidden_case_answer_alike(clients, world):
    hidden = clients["outsider"].get(f"/api/v1/cases/{world.case.pk}/")
    missing = clients["outsider"].get("/api/v1/cases/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_supervisor_reads_but_any_write_is_403(clients, world):
    api = clients["supervisor"]
    pk = world.case.pk
    etag = api.get(f"/api/v1/cases/{pk}/")["ETag"]
    assert (
        api.patch(f"/api/v1/cases/{pk}/", {"risk_life": True}, format="json", HTTP_IF_MATCH=etag).status_code
        == 403
    )
    assert (
        api.post(f"/api/v1/cases/{pk}/notes/", {"kind": "phone", "content": "x"}, format="json").status_code
        == 403
    )
    assert api.post(f"/api/v1/cases/{pk}/assess/", {}, format="json").status_code == 403
    assert api.get(f"/api/v1/cases/{pk}/").json()["allowed_transitions"] == []


def test_same_agency_machine_client_sees_the_agency_cases_other_agency_client_sees_nothing(
    world, same_agency_client, other_agency_client
):
    assert ids(same_agency_client.get("/api/v1/cases/")) == [world.case.pk]
    assert ids(other_agency_client.get("/api/v1/cases/")) == []
    assert other_agency_client.get(f"/api/v1/cases/{world.case.pk}/").status_code == 404
    assert other_agency_client.get(f"/api/v1/people/{world.person.pk}/").status_code == 404

    def intakes(client):
        tables = client.get("/api/v1/statistics/report/").json()["sections"][0]["tables"]
        return next(t for t in tables if t["title"] == "相談受付")["rows"][0]["values"][0]

    assert intakes(other_agency_client) == 0
    # One consultation is a small cell: it leaves the system as ＊ (STATISTICS_SUPPRESS_BELOW).
    assert intakes(same_agency_client) == "＊"


def test_machine_client_without_the_scope_is_refused_with_403(world):
    _, api = machine_client(world.case.owning_agency, [ApiScope.CONSULTATIONS_WRITE])
    response = api.get("/api/v1/cases/")
    assert response.status_code == 403
    assert response.json()["code"] == "scope_missing"
    assert api.get(f"/api/v1/cases/{world.case.pk}/").status_code == 403


def test_lists_mask_sensitive_fields_and_detail_shows_them(clients, world):
    Case.objects.filter(pk=world.case.pk).update(risk_abuse=True)
    row = clients["assigned"].get("/api/v1/cases/").json()["results"][0]
    assert row["issues"] is None and row["risk_abuse"] is None
    detail = clients["assigned"].get(f"/api/v1/cases/{world.case.pk}/").json()
    assert detail["issues"] == ["care"] and detail["risk_abuse"] is True


def test_address_confidentiality_masks_whereabouts_for_the_colleague_not_the_assigned(clients, world):
    services.person_update(person=world.person, acting_user=world.assigned, address="みどり市中央1-2-3")
    services.address_confidentiality_set(
        person=world.person, acting_user=world.assigned, reason="DV等支援措置"
    )
    url = f"/api/v1/people/{world.person.pk}/"
    assert clients["assigned"].get(url).json()["address"] == "みどり市中央1-2-3"
    assert clients["colleague"].get(url).json()["address"] == "秘匿"
    listed = [
        p for p in clients["colleague"].get("/api/v1/people/").json()["results"] if p["id"] == world.person.pk
    ]
    assert listed[0]["address"] == "秘匿" and listed[0]["notes"] == "秘匿"


def test_reads_are_written_to_the_read_log_with_basis_and_client(world, same_agency_client):
    before = ReadLog.objects.count()
    same_agency_client.get(f"/api/v1/cases/{world.case.pk}/")
    same_agency_client.get("/api/v1/cases/")
    detail, listing = ReadLog.objects.order_by("pk")[before:]
    assert detail.action == ReadLog.Action.API and detail.object_id == world.case.pk
    assert detail.basis == "assignment"
    assert "連携システム" in detail.detail
    assert listing.content_type.model == "case" and f"[{world.case.pk}]" in listing.detail


# --- Writes ------------------------------------------------------------------------------------------


def test_stale_update_is_refused_and_nothing_is_overwritten(clients, world):
    api = clients["assigned"]
    url = f"/api/v1/cases/{world.case.pk}/"
    etag = api.get(url)["ETag"]
    assert api.patch(url, {"risk_life": True}, format="json").status_code == 428
    first = api.patch(url, {"risk_life": True}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200 and first["ETag"] != etag
    stale = clients["colleague"].patch(url, {"risk_life": False}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale_version"
    assert Case.objects.get(pk=world.case.pk).risk_life is True


def test_person_update_links_atena_number_with_if_match(clients, world):
    api = clients["assigned"]
    url = f"/api/v1/people/{world.person.pk}/"
    etag = api.get(url)["ETag"]
    done = api.patch(url, {"atena_number": "1234567890"}, format="json", HTTP_IF_MATCH=etag)
    assert done.status_code == 200, done.content
    assert Person.objects.get(pk=world.person.pk).atena_number == "1234567890"
    again = api.patch(url, {"atena_number": "999"}, format="json", HTTP_IF_MATCH=etag)
    assert again.status_code == 412


def test_transitions_run_the_same_rules_as_the_page(clients, world):
    api = clients["assigned"]
    pk = world.case.pk
    refused = api.post(f"/api/v1/cases/{pk}/refer/", {"reason": "複合課題"}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "invalid_transition"
    assert refused.json()["message"] == "「受付」のケースを「多機関協働へつなぎ依頼」にすることはできません。"
    assert api.post(f"/api/v1/cases/{pk}/assess/", {}, format="json").json()["status"] == "assessing"
    no_assessment = api.post(f"/api/v1/cases/{pk}/support/", {}, format="json")
    assert no_assessment.status_code == 400
    created = api.post(
        f"/api/v1/cases/{pk}/assessments/",
        {
            "issues": ["care", "8050"],
            "issues_detail": "介護負担",
            "formulation": "世帯全体の支援が必要",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    etag = api.get(f"/api/v1/cases/{pk}/")["ETag"]
    supported = api.post(f"/api/v1/cases/{pk}/support/", {}, format="json", HTTP_IF_MATCH=etag)
    assert supported.json()["status"] == "supporting"
    stale = api.post(
        f"/api/v1/cases/{pk}/close/", {"close_reason": "goal_achieved"}, format="json", HTTP_IF_MATCH=etag
    )
    assert stale.status_code == 412
    bad_reason = api.post(f"/api/v1/cases/{pk}/close/", {"close_reason": "nonsense"}, format="json")
    assert bad_reason.status_code == 400 and bad_reason.json()["errors"][0]["field"] == "close_reason"
    code(CodeKind.CLOSE_REASON, "goal_achieved")
    closed = api.post(f"/api/v1/cases/{pk}/close/", {"close_reason": "goal_achieved"}, format="json")
    assert closed.json()["status"] == "closed"


def _consultation(person_id=None, **extra):
    code(CodeKind.CHANNEL, "phone")
    code(CodeKind.ROUTE, "self")
    return {
        "received_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "channel": "phone",
        "route": "self",
        "issues": ["care"],
        "main_issue": "care",
        "summary": "介護の相談",
        "outcome": "advice",
        **({"person": person_id} if person_id else {}),
        **extra,
    }


def test_idempotent_retry_creates_one_consultation(world, same_agency_client):
    _, pusher = machine_client(world.case.owning_agency, [ApiScope.CONSULTATIONS_WRITE], name="福祉総合")
    body = _consultation(world.person.pk)
    before = Consultation.objects.count()
    first = pusher.post("/api/v1/consultations/", body, format="json", HTTP_IDEMPOTENCY_KEY="push-0001")
    retry = pusher.post("/api/v1/consultations/", body, format="json", HTTP_IDEMPOTENCY_KEY="push-0001")
    assert first.status_code == retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert Consultation.objects.count() == before + 1
    other = pusher.post(
        "/api/v1/consultations/",
        {**body, "summary": "別の内容"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="push-0001",
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"


def test_an_overlong_idempotency_key_is_refused_as_bad_input_and_creates_nothing(world):
    _, pusher = machine_client(world.case.owning_agency, [ApiScope.CONSULTATIONS_WRITE])
    before = Consultation.objects.count()
    response = pusher.post(
        "/api/v1/consultations/",
        _consultation(world.person.pk),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k" * 201,
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "Idempotency-Key",
            "code": "idempotency_key_invalid",
            "message": "Idempotency-Key は200文字以内にしてください。",
        }
    ]
    assert Consultation.objects.count() == before


def test_a_failed_push_stores_no_key_and_may_be_retried(world):
    _, pusher = machine_client(world.case.owning_agency, [ApiScope.CONSULTATIONS_WRITE])
    bad = pusher.post(
        "/api/v1/consultations/",
        {**_consultation(), "main_issue": "8050"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert bad.status_code == 400
    code(CodeKind.ISSUE, "8050")
    good = pusher.post("/api/v1/consultations/", _consultation(), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert good.status_code == 201


def test_new_person_known_elsewhere_gets_409_without_details_then_confirmed(world):
    _, pusher = machine_client(world.outsider.agencies[0], [ApiScope.CONSULTATIONS_WRITE])
    body = _consultation(
        new_person={"name": "山田 花子", "kana": "やまだ はなこ", "birth_date": "1948-05-01"}
    )
    suspected = pusher.post("/api/v1/consultations/", body, format="json")
    assert suspected.status_code == 409
    answer = suspected.json()
    assert answer["code"] == "duplicate_suspected" and answer["known_elsewhere"] is True
    assert answer["candidates"] == []  # never who or where
    assert "山田" not in suspected.content.decode()
    confirmed = pusher.post("/api/v1/consultations/", {**body, "duplicate_confirmed": True}, format="json")
    assert confirmed.status_code == 201


def test_consultation_for_a_hidden_person_is_404(world):
    _, pusher = machine_client(world.outsider.agencies[0], [ApiScope.CONSULTATIONS_WRITE])
    response = pusher.post("/api/v1/consultations/", _consultation(world.person.pk), format="json")
    assert response.status_code == 404


# --- Bad input never gives a 500 ------------------------------------------------------------------------


def test_bad_json_wrong_types_unknown_fields_and_big_bodies_get_4xx_with_a_body(clients, world, settings):
    api = clients["assigned"]
    url = f"/api/v1/cases/{world.case.pk}/notes/"
    broken = api.post(url, "{not json", content_type="application/json")
    assert broken.status_code == 400 and broken.json()["code"] == "parse_error"
    wrong = api.post(url, {"kind": 5, "content": ["a"]}, format="json")
    assert wrong.status_code == 400
    assert {e["field"] for e in wrong.json()["errors"]} == {"kind", "content"}
    unknown = api.post(url, {"kind": "phone", "content": "x", "secret": 1}, format="json")
    assert unknown.json()["errors"] == [
        {"field": "secret", "code": "unknown_field", "message": "この項目は受け付けていません。"}
    ]
    assert api.post(url, [1, 2], format="json").status_code == 400
    settings.API_MAX_BODY_BYTES = 2000
    big = api.post(url, {"kind": "phone", "content": "あ" * 3000}, format="json")
    assert big.status_code == 413 and big.json()["code"] == "payload_too_large"
    assert api.get("/api/v1/cases/abc/").status_code == 404
    assert api.get("/api/v1/cases/?status=nonsense").status_code == 400
    assert api.get("/api/v1/statistics/report/?period=month&month=2025-13").status_code == 400
    assert api.get("/api/v1/no-such-thing/").json()["code"] == "not_found"
    assert api.put(f"/api/v1/cases/{world.case.pk}/", {}, format="json").status_code == 405


def test_unauthenticated_and_bad_tokens_get_401(world):
    from rest_framework.test import APIClient

    anonymous = APIClient()
    response = anonymous.get("/api/v1/cases/")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert anonymous.get("/api/v1/cases/").json()["code"] == "invalid_token"


# --- Query counts -------------------------------------------------------------------------------------


def _more_cases(user, n):
    for i in range(n):
        record_case(user, name=f"佐藤 {i}号", kana=f"さとう {i}")


@pytest.mark.parametrize(
    "url", ["/api/v1/cases/", "/api/v1/people/", "/api/v1/consultations/", "/api/v1/households/"]
)
def test_list_query_count_does_not_grow_with_the_page(world, django_assert_num_queries, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = api_as(world.assigned)
    with CaptureQueriesContext(connection) as small:
        api.get(url)
    _more_cases(world.assigned, 6)
    with CaptureQueriesContext(connection) as large:
        response = api.get(url)
    assert len(response.json()["results"]) >= 6
    assert len(large) == len(small)
    assert len(large) <= 16
