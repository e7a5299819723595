"""Issue 17 through the API: whom a plan concerns, approval refused member by member with a
machine-readable body, a consent amended as a new version."""

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.tests.conftest import fresh
from jusou.tests.api import api_as
from meetings import services
from meetings.models import Consent, PlanStatus
from meetings.tests.conftest import draft_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(coordinating):
    """A case in 多機関協働 with a 支援決定, the 本人's consent naming both plan agencies, a draft plan and a
    重層的支援会議 to approve it at."""
    w = coordinating
    w.coord = fresh(w.coordinator)
    w.plan_agency = fresh(w.other_worker).agencies[0]
    w.own_agency = fresh(w.assigned).agencies[0]
    today = timezone.localdate()
    services.support_decision_record(case=w.case, acting_user=w.coord, decided_on=today)
    w.consent = _consent(w, w.person, [w.plan_agency, w.own_agency])
    w.plan = draft_plan(
        w,
        ["通院を再開する"],
        [
            {"agency": w.plan_agency, "role": "長男への相談支援", "content": "面談"},
            {"agency": w.own_agency, "role": "母の介護サービス調整", "content": "ケアプランの見直し"},
        ],
    )
    w.conference = services.conference_create(acting_user=w.coord, held_at=timezone.now())
    return w


def _consent(w, person, agencies):
    return services.consent_record(
        case=w.case,
        person=person,
        acting_user=w.coord,
        consenting_party="self",
        consented_on=timezone.localdate(),
        method="oral",
        recipients=agencies,
        categories=["basic", "plan"],
        purpose="支援プランの協議と実施",
    )


def _members(w):
    return f"/api/v1/plans/{w.plan.pk}/members/"


def _approve(w):
    return f"/api/v1/conferences/{w.conference.pk}/approve/"


def test_the_coordinator_sets_whom_the_plan_concerns(draft):
    api = api_as(draft.coordinator)
    response = api.post(_members(draft), {"members": [draft.son.pk]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["members"] == [draft.person.pk, draft.son.pk]
    assert api.get(f"/api/v1/plans/{draft.plan.pk}/").json()["members"] == [draft.person.pk, draft.son.pk]


def test_someone_outside_the_household_is_refused_with_a_code(draft):
    from cases import services as case_services

    stranger = case_services.person_register(
        acting_user=draft.assigned, name="鈴木 次郎", kana="すずき じろう"
    )
    for members in ([stranger.pk], [987654]):
        response = api_as(draft.coordinator).post(_members(draft), {"members": members}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0] | {"message": ""} == {
            "field": "members",
            "code": "not_in_household",
            "message": "",
        }


@pytest.mark.parametrize(("persona", "status"), [("assigned", 403), ("other_worker", 404), ("outsider", 404)])
def test_only_coordinators_set_members(draft, persona, status):
    response = api_as(draft.persona(persona)).post(
        _members(draft), {"members": [draft.son.pk]}, format="json"
    )
    assert response.status_code == status
    assert list(draft.plan.members.values_list("pk", flat=True)) == [draft.person.pk]


def test_approval_refused_for_the_missing_agency_of_a_member_then_approved_after_an_amendment(draft):
    api = api_as(draft.coordinator)
    api.post(_members(draft), {"members": [draft.son.pk]}, format="json")
    son_consent = _consent(draft, draft.son, [draft.own_agency])
    response = api.post(_approve(draft), {"plan": draft.plan.pk}, format="json")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "consent_missing" and body["status"] == 409
    (gap,) = body["missing"]
    assert gap == {
        "person": draft.son.pk,
        "relationship": "長男",
        "has_consent": True,
        "missing_agencies": [draft.plan_agency.code],
        "consent_form": reverse("meetings:consent_amend", args=[son_consent.pk]),
    }
    assert "長男 山田 一郎さん" in body["errors"][0]["message"]
    assert "みどり障害者相談支援センター" in body["errors"][0]["message"]

    amended = api.post(
        f"/api/v1/consents/{son_consent.pk}/amend/",
        {
            "consented_on": timezone.localdate().isoformat(),
            "method": "oral",
            "recipients": [draft.own_agency.code, draft.plan_agency.code],
            "categories": ["basic", "plan"],
        },
        format="json",
    )
    assert amended.status_code == 201, amended.content
    new = amended.json()
    assert (new["version"], new["original"], new["state"]) == (2, son_consent.pk, "valid")
    old = api.get(f"/api/v1/consents/{son_consent.pk}/").json()
    assert old["state"] == "superseded" and old["superseded_at"]

    response = api.post(_approve(draft), {"plan": draft.plan.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "approved"
    draft.plan.refresh_from_db()
    assert draft.plan.status == PlanStatus.APPROVED


def test_a_member_without_any_consent_is_pointed_to_the_consent_form(draft):
    services.plan_members_set(plan=draft.plan, acting_user=draft.coord, members=[draft.son])
    response = api_as(draft.coordinator).post(_approve(draft), {"plan": draft.plan.pk}, format="json")
    assert response.status_code == 409
    (gap,) = response.json()["missing"]
    assert gap["has_consent"] is False
    assert (
        gap["consent_form"]
        == reverse("meetings:consent_new", args=[draft.case.pk]) + f"?person={draft.son.pk}"
    )
    assert sorted(gap["missing_agencies"]) == sorted([draft.plan_agency.code, draft.own_agency.code])


def test_approval_by_others_is_refused(draft):
    assert (
        api_as(draft.assigned).post(_approve(draft), {"plan": draft.plan.pk}, format="json").status_code
        == 403
    )
    assert (
        api_as(draft.outsider).post(_approve(draft), {"plan": draft.plan.pk}, format="json").status_code
        == 403
    )
    response = api_as(draft.coordinator).post(_approve(draft), {"plan": 987654}, format="json")
    assert response.status_code == 404


def test_approving_twice_is_refused_without_a_500(draft):
    api = api_as(draft.coordinator)
    assert api.post(_approve(draft), {"plan": draft.plan.pk}, format="json").status_code == 200
    response = api.post(_approve(draft), {"plan": draft.plan.pk}, format="json")
    assert response.status_code == 400 and response.json()["errors"]


def _amend_url(consent):
    return f"/api/v1/consents/{consent.pk}/amend/"


def _amendment(w, **changes):
    return {
        "consented_on": timezone.localdate().isoformat(),
        "method": "oral",
        "recipients": [w.plan_agency.code, w.own_agency.code],
        "categories": ["basic", "plan", "health"],
    } | changes


def test_an_amendment_that_takes_something_away_is_refused_field_by_field(draft):
    response = api_as(draft.coordinator).post(
        _amend_url(draft.consent),
        _amendment(draft, recipients=[draft.own_agency.code], categories=["basic"]),
        format="json",
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"recipients", "categories"}
    assert Consent.objects.get(pk=draft.consent.pk).superseded_at is None


def test_a_superseded_version_answers_409(draft):
    api = api_as(draft.coordinator)
    assert api.post(_amend_url(draft.consent), _amendment(draft), format="json").status_code == 201
    response = api.post(
        _amend_url(draft.consent),
        _amendment(draft, categories=["basic", "plan", "health", "progress"]),
        format="json",
    )
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"


def test_a_retried_amendment_with_the_same_key_makes_one_version(draft):
    api = api_as(draft.coordinator)
    first = api.post(
        _amend_url(draft.consent), _amendment(draft), format="json", HTTP_IDEMPOTENCY_KEY="amend-1"
    )
    again = api.post(
        _amend_url(draft.consent), _amendment(draft), format="json", HTTP_IDEMPOTENCY_KEY="amend-1"
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    assert Consent.objects.filter(original=draft.consent).count() == 1


def test_the_scan_rule_refuses_a_written_amendment_by_api_only_when_the_municipality_asks(draft, settings):
    api = api_as(draft.coordinator)
    settings.CONSENT_SCAN_REQUIRED = True
    response = api.post(_amend_url(draft.consent), _amendment(draft, method="written"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "document_required"
    settings.CONSENT_SCAN_REQUIRED = False
    assert (
        api.post(_amend_url(draft.consent), _amendment(draft, method="written"), format="json").status_code
        == 201
    )


@pytest.mark.parametrize(
    ("persona", "status"), [("assigned", 201), ("other_worker", 404), ("outsider", 404), ("supervisor", 403)]
)
def test_only_those_who_may_change_the_case_amend(draft, persona, status):
    response = api_as(draft.persona(persona)).post(
        _amend_url(draft.consent), _amendment(draft), format="json"
    )
    assert response.status_code == status, response.content


def test_a_plan_agency_reading_on_consent_may_not_amend(draft):
    services.plan_approve(conference=draft.conference, plan=draft.plan, acting_user=draft.coord)
    api = api_as(draft.other_worker)
    assert api.get(f"/api/v1/consents/{draft.consent.pk}/").status_code == 200
    assert api.post(_amend_url(draft.consent), _amendment(draft), format="json").status_code == 403
