"""The 参加支援 API: a plan is read exactly as its case (404 outside the basis, and under 本人同意 alone
only when the plan category was consented to), lists carry no 要配慮個人情報, proposals, placements
and follow-ups come nested, reads are logged, and list queries do not grow with the page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jusou.access.grants import access_grant
from jusou.models import AccessBasis, ApiScope, ReadLog
from jusou.tests.api import api_as, ids, machine_client
from participation import services
from participation.tests.conftest import follow_up, new_plan, place

pytestmark = pytest.mark.django_db

LIST = "/api/v1/participation/plans/"
READERS = ["assigned", "colleague", "supervisor"]
STRANGERS = ["other_worker", "outsider", "coordinator"]


def _placed(world, plan, host):
    placement = place(world, plan, host, frequency="週1回")
    follow_up(world, placement, "person", "楽しく通えている")
    follow_up(world, placement, "host", "受け入れ先も助かっている")
    return placement


@pytest.fixture
def plan(world, hosts):
    plan = new_plan(world)
    _placed(world, plan, hosts["east"])
    services.proposal_record(plan=plan, host=hosts["shokudo"], acting_user=world.assigned)
    return plan


def _url(plan):
    return f"{LIST}{plan.pk}/"


# --- The leak matrix ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", READERS)
def test_readers_list_and_open_the_plan_with_its_parts(world, plan, name):
    api = api_as(world.persona(name))
    assert ids(api.get(LIST)) == [plan.pk]
    body = api.get(_url(plan)).json()
    assert body["case"] == {"id": world.case.pk, "number": world.case.number}
    assert body["person"]["name"] == "山田 花子" and body["health"] == "腰痛あり"
    assert body["kinds"] == ["volunteer"]
    assert [(p["host"]["name"], p["person_choice"]) for p in body["proposals"]] == [
        ("東ボランティアセンター", "wants"),
        ("みどり子ども食堂", "pending"),
    ]
    placement = body["placements"][0]
    assert placement["status"] == "arranging" and placement["frequency"] == "週1回"
    assert {f["with_whom"]: f["content"] for f in placement["follow_ups"]} == {
        "person": "楽しく通えている",
        "host": "受け入れ先も助かっている",
    }


@pytest.mark.parametrize("name", STRANGERS)
def test_strangers_get_404_and_an_empty_list(world, plan, name):
    api = api_as(world.persona(name))
    assert ids(api.get(LIST)) == []
    assert ids(api.get(f"{LIST}?case={world.case.pk}")) == []
    hidden = api.get(_url(plan))
    assert hidden.status_code == 404
    assert hidden.json() == api.get(f"{LIST}999999/").json()  # the same answer as a missing one


def test_machine_client_of_the_owning_agency_reads_the_plan(world, plan):
    _, api = machine_client(world.case.owning_agency, [ApiScope.PARTICIPATION_READ])
    assert ids(api.get(LIST)) == [plan.pk]
    assert api.get(_url(plan)).status_code == 200


def test_machine_client_of_another_agency_sees_nothing(world, plan):
    _, api = machine_client(world.outsider.agencies[0], [s.value for s in ApiScope])
    assert ids(api.get(LIST)) == []
    assert api.get(_url(plan)).status_code == 404


def test_machine_client_without_the_scope_is_refused_with_403(world, plan):
    _, api = machine_client(world.case.owning_agency, [ApiScope.CASES_READ, ApiScope.COMMUNITY_READ])
    for url in (LIST, _url(plan)):
        response = api.get(url)
        assert response.status_code == 403 and response.json()["code"] == "scope_missing"


def test_consent_alone_without_the_plan_category_opens_no_plan(world, plan):
    """本人同意 as the only basis opens the categories the person consented to; no consent to share
    the plan category here, so the case is visible but its plan is not (and it is not listed)."""
    access_grant(
        obj=world.case,
        basis=AccessBasis.CONSENT,
        agency=world.other_worker.agencies[0],
        acting_user=world.assigned,
        reason="本人同意",
    )
    api = api_as(world.other_worker)
    assert ids(api.get("/api/v1/cases/")) == [world.case.pk]
    assert ids(api.get(LIST)) == []
    refused = api.get(_url(plan))
    assert refused.status_code == 403 and refused.json()["code"] == "outside_consent"


def test_the_api_is_read_only(world, plan):
    api = api_as(world.assigned)
    assert api.post(LIST, {"case": world.case.pk}, format="json").status_code == 405
    assert api.patch(_url(plan), {"goals": "x"}, format="json").status_code == 405
    assert api.delete(_url(plan)).status_code == 405


def test_bad_input_gets_4xx_with_a_body(world, plan):
    api = api_as(world.assigned)
    bad = api.get(f"{LIST}?case=abc")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "case"
    assert api.get(f"{LIST}abc/").json()["code"] == "not_found"
    assert api.get(f"{LIST}?cursor=garbage").status_code == 404


# --- What lists show -------------------------------------------------------------------------------------


def test_lists_mask_sensitive_fields_and_follow_up_contents(world, plan):
    row = api_as(world.colleague).get(LIST).json()["results"][0]
    assert {row[f] for f in ("wishes", "strengths", "weaknesses", "health")} == {"秘匿"}
    assert row["goals"] == "週1回、家の外で役割を持つ"
    assert {f["content"] for f in row["placements"][0]["follow_ups"]} == {"秘匿"}
    assert ids(api_as(world.colleague).get(f"{LIST}?case={world.case.pk}")) == [plan.pk]


# --- Read log and query counts ---------------------------------------------------------------------------


def test_reads_are_written_to_the_read_log(world, plan):
    _, client = machine_client(
        world.case.owning_agency, [ApiScope.PARTICIPATION_READ], name="就労支援システム"
    )
    before = ReadLog.objects.count()
    client.get(_url(plan))
    client.get(LIST)
    detail, listing = ReadLog.objects.order_by("pk")[before:]
    assert detail.action == listing.action == ReadLog.Action.API
    assert (
        detail.object_id == plan.pk and detail.basis == "assignment" and "就労支援システム" in detail.detail
    )
    assert listing.content_type.model == "participationplan" and f"[{plan.pk}]" in listing.detail


def test_list_query_count_does_not_grow_with_the_page(world, hosts):
    api = api_as(world.assigned)
    _placed(world, new_plan(world), hosts["east"])
    with CaptureQueriesContext(connection) as small:
        api.get(LIST)
    for _ in range(5):
        _placed(world, new_plan(world), hosts["east"])
    with CaptureQueriesContext(connection) as large:
        response = api.get(LIST)
    assert len(response.json()["results"]) == 6
    assert len(large) == len(small)
    assert len(large) <= 14
