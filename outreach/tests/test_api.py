"""The アウトリーチ API: each persona gets exactly what the pages give it (404 for what it may not see,
403 for what it may read but not change), a contact logged from a phone is logged once however often
it is retried, errors have a machine-readable body, reads are logged, and list queries do not grow."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services as case_services
from jusou.models import ApiScope, Notification, ReadLog
from jusou.tests.api import api_as, ids, machine_client
from outreach import services
from outreach.models import OutreachContact, Stage

pytestmark = pytest.mark.django_db

LIST = "/api/v1/outreach/engagements/"


def _detail(engagement):
    return f"{LIST}{engagement.pk}/"


def _contacts(engagement):
    return f"{LIST}{engagement.pk}/contacts/"


# --- The leak matrix ------------------------------------------------------------------------------------

# The lead worker (assigned), a colleague at the owning agency, coordinators and supervisors by role.
READERS = ["assigned", "colleague", "coordinator", "supervisor"]
# A worker at another agency and an outsider at an NPO.
STRANGERS = ["other_worker", "outsider"]


@pytest.mark.parametrize("name", READERS)
def test_readers_list_and_open_the_engagement_and_its_contacts(world, engagement, name):
    services.contact_record(engagement=engagement, acting_user=world.assigned, kind="visit_absent")
    api = api_as(world.persona(name))
    assert ids(api.get(LIST)) == [engagement.pk]
    detail = api.get(_detail(engagement))
    assert detail.status_code == 200
    assert detail.json()["number"] == engagement.number
    assert detail.json()["background"].startswith("民生委員より")
    assert len(ids(api.get(_contacts(engagement)))) == 1


@pytest.mark.parametrize("name", STRANGERS)
def test_strangers_get_404_and_an_empty_list(world, engagement, name):
    api = api_as(world.persona(name))
    assert ids(api.get(LIST)) == []
    for url in (_detail(engagement), _contacts(engagement)):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response.json() == api.get(f"{LIST}999999/").json()  # the same answer as a missing one
    response = api.post(_contacts(engagement), {"kind": "phone"}, format="json")
    assert response.status_code == 404
    assert not OutreachContact.objects.exists()


def test_machine_client_of_the_owning_agency_reads_but_cannot_log_contacts(world, engagement):
    _, api = machine_client(world.assigned.agencies[0], [ApiScope.OUTREACH_READ])
    assert ids(api.get(LIST)) == [engagement.pk]
    assert api.get(_detail(engagement)).json()["can_record_contact"] is False
    assert api.get(_contacts(engagement)).status_code == 200
    refused = api.post(_contacts(engagement), {"kind": "phone"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "scope_missing"


def test_machine_client_of_another_agency_sees_nothing(world, engagement):
    _, api = machine_client(world.outsider.agencies[0], [s.value for s in ApiScope])
    assert ids(api.get(LIST)) == []
    assert api.get(_detail(engagement)).status_code == 404
    assert api.get(_contacts(engagement)).status_code == 404


def test_machine_client_without_the_scope_is_refused_with_403(world, engagement):
    _, api = machine_client(world.assigned.agencies[0], [ApiScope.CASES_READ])
    for url in (LIST, _detail(engagement), _contacts(engagement)):
        response = api.get(url)
        assert response.status_code == 403, url
        assert response.json()["code"] == "scope_missing"


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("assigned", 201),
        ("colleague", 201),
        ("coordinator", 201),
        ("supervisor", 403),
        ("other_worker", 404),
        ("outsider", 404),
    ],
)
def test_who_may_log_a_contact(world, engagement, name, status):
    api = api_as(world.persona(name))
    response = api.post(_contacts(engagement), {"kind": "phone", "met_whom": "本人"}, format="json")
    assert response.status_code == status, response.content
    assert OutreachContact.objects.count() == (1 if status == 201 else 0)
    if status != 201:
        assert response.json()["status"] == status and response.json()["message"]


def test_can_record_contact_tells_the_phone_whether_to_show_the_form(world, engagement):
    assert api_as(world.assigned).get(_detail(engagement)).json()["can_record_contact"] is True
    assert api_as(world.supervisor).get(_detail(engagement)).json()["can_record_contact"] is False
    assert api_as(world.assigned).get(LIST).json()["results"][0]["can_record_contact"] is None


# --- Logging a contact ----------------------------------------------------------------------------------


def test_a_contact_logged_from_a_phone_moves_the_engagement_on(world, engagement):
    api = api_as(world.assigned)
    next_visit = (timezone.localdate() + timedelta(days=7)).isoformat()
    response = api.post(
        _contacts(engagement),
        {
            "kind": "visit_met",
            "met_whom": "本人",
            "response": "玄関先で少し話せた",
            "safety_confirmed": True,
            "next_planned_on": next_visit,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["recorded_by"] == "assigned" and body["safety_confirmed"] is True
    engagement.refresh_from_db()
    assert engagement.stage == Stage.CONTACTED and engagement.next_contact_on.isoformat() == next_visit
    contact = OutreachContact.objects.get()
    assert contact.history.get().history_user == world.assigned


def test_a_safety_concern_alerts_the_coordinator(world, engagement, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(world.assigned).post(
            _contacts(engagement), {"kind": "visit_absent", "safety_confirmed": False}, format="json"
        )
    assert response.status_code == 201
    assert Notification.objects.filter(recipient=world.coordinator, kind="outreach_alert").exists()


def test_a_retried_post_with_the_same_idempotency_key_logs_one_contact(world, engagement):
    api = api_as(world.assigned)
    body = {"kind": "phone", "response": "電話に出てくれた"}
    first = api.post(_contacts(engagement), body, format="json", HTTP_IDEMPOTENCY_KEY="visit-2026-0001")
    retry = api.post(_contacts(engagement), body, format="json", HTTP_IDEMPOTENCY_KEY="visit-2026-0001")
    assert first.status_code == retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    assert OutreachContact.objects.count() == 1
    other = api.post(
        _contacts(engagement),
        {**body, "kind": "letter"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="visit-2026-0001",
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    another = api.post(_contacts(engagement), body, format="json", HTTP_IDEMPOTENCY_KEY="visit-2026-0002")
    assert another.status_code == 201
    assert OutreachContact.objects.count() == 2


def test_bad_input_gets_400_with_field_errors(world, engagement):
    api = api_as(world.assigned)
    url = _contacts(engagement)
    wrong = api.post(
        url, {"kind": "teleport", "safety_confirmed": "maybe", "next_planned_on": "2026-13-01"}, format="json"
    )
    assert wrong.status_code == 400
    assert {e["field"] for e in wrong.json()["errors"]} == {"kind", "safety_confirmed", "next_planned_on"}
    assert api.post(url, {}, format="json").json()["errors"][0]["field"] == "kind"
    unknown = api.post(url, {"kind": "phone", "stage": "trust"}, format="json")
    assert unknown.json()["errors"] == [
        {"field": "stage", "code": "unknown_field", "message": "この項目は受け付けていません。"}
    ]
    future = api.post(
        url,
        {"kind": "phone", "contacted_at": (timezone.now() + timedelta(days=1)).isoformat()},
        format="json",
    )
    assert future.status_code == 400
    assert future.json()["errors"][0] == {
        "field": "contacted_at",
        "code": "invalid",
        "message": "未来の日時は入力できません。",
    }
    assert api.post(url, "{not json", content_type="application/json").json()["code"] == "parse_error"
    assert not OutreachContact.objects.exists()
    assert api.get(f"{LIST}abc/").status_code == 404
    assert api.get(f"{LIST}?stage=nonsense").status_code == 400
    assert api.put(_detail(engagement), {}, format="json").status_code == 405


def test_an_ended_engagement_takes_no_more_contacts(world, engagement):
    services.engagement_end(engagement=engagement, acting_user=world.assigned, note="転居")
    response = api_as(world.assigned).post(_contacts(engagement), {"kind": "phone"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "終了したアウトリーチには記録できません。"


# --- What lists show -------------------------------------------------------------------------------------


def test_lists_mask_the_background_and_filters_work(world, engagement):
    api = api_as(world.colleague)
    row = api.get(LIST).json()["results"][0]
    assert row["background"] == "秘匿" and row["provisional_name"] == engagement.provisional_name
    assert ids(api.get(f"{LIST}?open=true&stage=not_contacted")) == [engagement.pk]
    assert ids(api.get(f"{LIST}?open=false")) == []
    assert ids(api.get(f"{LIST}?stage=trust")) == []


def test_whereabouts_under_jushohitoku_show_only_to_the_assigned(world, engagement):
    case_services.address_confidentiality_set(person=world.person, acting_user=world.assigned, reason="DV")
    services.engagement_link(engagement=engagement, acting_user=world.assigned, person=world.person)
    colleague = api_as(world.colleague)
    assert colleague.get(_detail(engagement)).json()["approximate_location"] == "秘匿"
    assert colleague.get(LIST).json()["results"][0]["approximate_location"] == "秘匿"
    assert (
        api_as(world.assigned).get(_detail(engagement)).json()["approximate_location"] == "中央二丁目の川沿い"
    )


# --- Read log and query counts ---------------------------------------------------------------------------


def test_reads_are_written_to_the_read_log(world, engagement):
    _, client = machine_client(world.assigned.agencies[0], [ApiScope.OUTREACH_READ], name="見守りシステム")
    before = ReadLog.objects.count()
    client.get(_detail(engagement))
    client.get(LIST)
    client.get(_contacts(engagement))
    detail, listing, contacts = ReadLog.objects.order_by("pk")[before:]
    assert {detail.action, listing.action, contacts.action} == {ReadLog.Action.API}
    assert detail.object_id == engagement.pk and "見守りシステム" in detail.detail
    assert listing.content_type.model == "outreachengagement" and f"[{engagement.pk}]" in listing.detail
    assert contacts.object_id == engagement.pk and "接触記録 0件" in contacts.detail
    api_as(world.supervisor).get(_detail(engagement))
    assert ReadLog.objects.latest("pk").basis == "supervisor"


@pytest.mark.parametrize("contacts", [False, True])
def test_list_query_count_does_not_grow_with_the_page(world, engagement, contacts):
    api = api_as(world.assigned)
    url = _contacts(engagement) if contacts else LIST

    def more(n):
        for i in range(n):
            if contacts:
                services.contact_record(engagement=engagement, acting_user=world.assigned, kind="phone")
            else:
                services.engagement_start(
                    acting_user=world.assigned,
                    provisional_name=f"対象{i}",
                    how_known="neighbour",
                    background="近隣から",
                    purpose="situation",
                )

    more(1)
    with CaptureQueriesContext(connection) as small:
        api.get(url)
    more(8)
    with CaptureQueriesContext(connection) as large:
        response = api.get(url)
    assert len(response.json()["results"]) >= 9
    assert len(large) == len(small)
    assert len(large) <= 14
