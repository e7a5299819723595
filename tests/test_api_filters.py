"""Every API list refuses a filter it cannot read with 400 naming the parameter (jusou.api.filters):
an unknown name, a boolean that is neither true nor false, an ordering the list does not offer, a
page size that is not a number. Before, each returned the whole unfiltered list."""

import pytest

from jusou.tests.api import api_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def apis(personas):
    return {name: api_as(personas[name]) for name in ("intake_a", "coord")}


@pytest.mark.parametrize(
    "persona, url, field, code",
    [
        ("intake_a", "/api/v1/agencies/?is_active=yes", "is_active", "invalid"),
        ("intake_a", "/api/v1/people/?birth_date=1990-13-01", "birth_date", "invalid"),
        ("intake_a", "/api/v1/people/?ordering=name", "ordering", "invalid_choice"),
        ("intake_a", "/api/v1/households/?name=山本", "name", "unknown_field"),
        ("intake_a", "/api/v1/consultations/?outcome=nonsense", "outcome", "invalid_choice"),
        ("intake_a", "/api/v1/consultations/?ordering=-summary", "ordering", "invalid_choice"),
        ("intake_a", "/api/v1/cases/?risk=yes", "risk", "invalid"),
        ("intake_a", "/api/v1/cases/?overdue=maybe", "overdue", "invalid"),
        ("intake_a", "/api/v1/cases/?risk=", "risk", "invalid"),  # empty: neither true nor false
        ("intake_a", "/api/v1/cases/?stauts=closed", "stauts", "unknown_field"),
        ("intake_a", "/api/v1/cases/?page_size=abc", "page_size", "invalid"),
        ("intake_a", "/api/v1/cases/?page_size=0", "page_size", "invalid"),
        ("coord", "/api/v1/referrals/?status=nonsense", "status", "invalid_choice"),
        ("intake_a", "/api/v1/consents/?valid=maybe", "valid", "invalid"),
        ("intake_a", "/api/v1/plans/?status=nonsense", "status", "invalid_choice"),
        ("intake_a", "/api/v1/support-meetings/?held_at=2025-04-01", "held_at", "unknown_field"),
        ("coord", "/api/v1/conferences/?case=1", "case", "unknown_field"),
        ("intake_a", "/api/v1/outreach/engagements/?open=yes", "open", "invalid"),
        ("intake_a", "/api/v1/participation/plans/?case=abc", "case", "invalid"),
        ("intake_a", "/api/v1/community/resources/?accepting=ja", "accepting", "invalid"),
        ("intake_a", "/api/v1/community/gaps/?status=nonsense", "status", "invalid_choice"),
        ("intake_a", "/api/v1/statistics/report/?agancy=chuo-houkatsu", "agancy", "unknown_field"),
    ],
)
def test_each_list_refuses_a_filter_it_cannot_read(apis, persona, url, field, code):
    response = apis[persona].get(url)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, code)]
    assert body["errors"][0]["message"]


def test_every_refusal_is_reported_at_once(apis):
    body = apis["intake_a"].get("/api/v1/cases/?risk=yes&stauts=closed&page_size=x").json()
    assert [e["field"] for e in body["errors"]] == ["page_size", "risk", "stauts"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cases/?risk=true&overdue=false&scope=all",
        "/api/v1/cases/?risk=1&risk=0",
        "/api/v1/people/?ordering=-created_at,id&page_size=5",
        "/api/v1/consultations/?ordering=received_at",
        "/api/v1/outreach/engagements/?open=False",
        "/api/v1/agencies/?is_active=true&kind=community_general_support",
        "/api/v1/community/resources/?include_inactive=true",
        "/api/v1/statistics/report/?period=month&month=2025-04",
    ],
)
def test_readable_filters_still_filter(apis, url):
    assert apis["intake_a"].get(url).status_code == 200


def test_following_the_next_cursor_is_not_an_unknown_parameter(apis):
    api = apis["intake_a"]
    first = api.get("/api/v1/agencies/?page_size=1&is_active=true").json()
    assert first["next"]
    assert api.get(first["next"]).status_code == 200


def test_a_boolean_filter_still_filters(apis):
    api = apis["intake_a"]
    flagged = api.get("/api/v1/cases/?risk=true").json()["results"]
    everything = api.get("/api/v1/cases/").json()["results"]
    assert len(flagged) < len(everything)
