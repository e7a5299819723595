"""Input hygiene at the edge (jusou.hygiene, jusou.api.parsers): control characters, lone surrogates,
deep or huge JSON are refused with a 400 naming the field, before any database work — never a 500.

On PostgreSQL a NUL reaching a lookup is a psycopg DataError (the bug these reproduce), so this file
also runs in the PostgreSQL pass; on SQLite it proves the answer and the refusal's shape."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case, CaseStatus, Consultation, Person
from jusou.tests.api import api_as

pytestmark = pytest.mark.django_db

NUL = "a\x00b"


@pytest.fixture
def api(personas):
    return api_as(personas["intake_a"])


@pytest.fixture
def case(personas):
    return Case.objects.filter(lead_worker=personas["intake_a"], status=CaseStatus.SUPPORTING).first() or (
        Case.objects.filter(lead_worker=personas["intake_a"]).first()
    )


def assert_refused(response, field, code="invalid_character"):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"] == "入力内容に誤りがあります。"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, code)], body
    if code == "invalid_character":
        assert f"「{field}」に使えない文字" in body["errors"][0]["message"]


def send(api, method, url, body, **extra):
    return api.generic(method, url, json.dumps(body), content_type="application/json", **extra)


# --- Bodies: each reproducer of issue 15 ------------------------------------------------------------


@pytest.mark.parametrize(
    "body, field",
    [
        ({"channel": NUL}, "channel"),
        ({"route": NUL}, "route"),
        ({"main_issue": NUL}, "main_issue"),
        ({"referred_to": NUL}, "referred_to"),
        ({"first_noticed_by": NUL}, "first_noticed_by"),
        ({"issues": ["care", NUL]}, "issues[1]"),
        ({"new_person": {"name": "新しい人", "attributes": [NUL]}}, "new_person.attributes[0]"),
        ({"summary": "夜中に\x07電話"}, "summary"),  # BEL: C0 in free text
        ({"summary": "途中で\x1b[31m色"}, "summary"),  # ESC
        ({"summary": "DEL\x7f"}, "summary"),
        ({"summary": "C1\x85"}, "summary"),
        ({NUL: "x"}, NUL.replace("\x00", "\\x00")),  # a key is checked too
    ],
)
def test_consultation_bodies_with_control_characters_are_refused(api, body, field):
    before = Consultation.objects.count()
    assert_refused(send(api, "POST", "/api/v1/consultations/", body), field)
    assert Consultation.objects.count() == before


def test_a_lone_surrogate_in_json_is_refused_as_unreadable_not_as_a_control_character(api):
    raw = '{"summary": "\\ud800", "new_person": {"name": "\\udfff"}}'  # valid JSON, no encoding can store it
    response = api.generic("POST", "/api/v1/consultations/", raw, content_type="application/json")
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        ("new_person.name", "invalid_character"),
        ("summary", "invalid_character"),
    ]
    for error in errors:
        assert f"「{error['field']}」に文字として読めない値" in error["message"]
        assert "制御文字" not in error["message"]


def test_a_surrogate_beside_a_control_character_names_the_control_character(api):
    raw = '{"summary": "\\ud800\\u0000"}'
    response = api.generic("POST", "/api/v1/consultations/", raw, content_type="application/json")
    assert_refused(response, "summary")
    assert "制御文字" in response.json()["errors"][0]["message"]


def test_tab_line_feed_and_carriage_return_stay_allowed_in_free_text(api, personas):
    from cases.tests.test_api import _consultation

    body = _consultation(summary="一行目\r\n二行目\t（タブ）")
    response = send(api, "POST", "/api/v1/consultations/", body)
    assert response.status_code == 201, response.content
    assert Consultation.objects.get(pk=response.json()["id"]).summary == "一行目\r\n二行目\t（タブ）"


def test_case_update_with_control_characters_is_refused(api, case):
    etag = api.get(f"/api/v1/cases/{case.pk}/")["ETag"]
    for body, field in [({"lead_worker": NUL}, "lead_worker"), ({"issues": [NUL]}, "issues[0]")]:
        assert_refused(send(api, "PATCH", f"/api/v1/cases/{case.pk}/", body, HTTP_IF_MATCH=etag), field)
    case.refresh_from_db()
    assert f'"{case.version}"' == etag


@pytest.mark.parametrize(
    "action, body, field",
    [
        ("close", {"close_reason": NUL}, "close_reason"),
        ("suspend", {"suspend_reason": NUL}, "suspend_reason"),
        ("assessments", {"issues": [NUL], "issues_detail": "x", "formulation": "x"}, "issues[0]"),
        ("notes", {"kind": "phone", "content": "a\x00b"}, "content"),
    ],
)
def test_case_actions_with_control_characters_are_refused(api, case, action, body, field):
    status = case.status
    assert_refused(send(api, "POST", f"/api/v1/cases/{case.pk}/{action}/", body), field)
    case.refresh_from_db()
    assert case.status == status


def test_people_attributes_with_a_nul_are_refused(api, personas):
    before = Person.objects.count()
    assert_refused(
        send(api, "POST", "/api/v1/people/", {"name": "新しい人", "attributes": [NUL]}), "attributes[0]"
    )
    assert Person.objects.count() == before


def test_consent_recipients_with_a_nul_are_refused(personas):
    api = api_as(personas["coord"])
    body = {
        "case": 1,
        "person": 1,
        "consenting_party": "self",
        "consented_on": "2025-04-01",
        "method": "written",
        "recipients": [NUL],
        "categories": ["basic"],
        "purpose": "協議",
    }
    assert_refused(send(api, "POST", "/api/v1/consents/", body), "recipients[0]")


def test_token_request_with_a_nul_is_refused(client, personas):
    response = client.post(
        "/api/v1/auth/token/", json.dumps({"username": NUL, "password": "x"}), content_type="application/json"
    )
    assert_refused(response, "username")


# --- Nesting and size ----------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deeply_nested_json_is_refused_without_recursion(api, depth):
    raw = "[" * depth + "]" * depth
    response = api.generic("POST", "/api/v1/consultations/", raw, content_type="application/json")
    assert_refused(response, None, code="too_deep")
    assert "入れ子が深すぎます" in response.json()["errors"][0]["message"]


def test_nesting_within_the_limit_reaches_the_serializer(api):
    raw = '{"summary": ' + "[" * 31 + "]" * 31 + "}"  # 32 levels with the outer object
    response = api.generic("POST", "/api/v1/consultations/", raw, content_type="application/json")
    assert response.status_code == 400
    assert "too_deep" not in {e["code"] for e in response.json()["errors"]}


def test_too_many_elements_are_refused(api, settings):
    body = {"issues": ["care"] * settings.API_JSON_MAX_ELEMENTS}
    response = send(api, "POST", "/api/v1/consultations/", body)
    assert_refused(response, None, code="too_many_elements")


def test_limits_are_settings(api, settings):
    settings.API_JSON_MAX_DEPTH = 4
    response = send(api, "POST", "/api/v1/consultations/", {"a": {"b": {"c": {"d": {}}}}})
    assert_refused(response, None, code="too_deep")


# --- Query strings, paths, headers: refused by the middleware, before any query --------------------------


def _no_queries(call):
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert len(queries) == 0, [q["sql"] for q in queries]
    return response


@pytest.mark.parametrize(
    "url, field",
    [
        ("/api/v1/statistics/report/?agency=a%00b", "agency"),
        ("/api/v1/statistics/report/?area=a%00b", "area"),
        ("/api/v1/people/?q=a%00b", "q"),
        ("/api/v1/cases/?worker=a%01b", "worker"),
        ("/api/v1/cases/?q=%E5%B1%B1%0A", "q"),  # a line feed: no control character at all in a query
        ("/api/v1/cases/?a%00=1", "a\\x00"),
        ("/api/v1/community/resources/?q=%C2%85", "q"),  # C1 (NEL)
    ],
)
def test_query_values_with_control_characters_are_refused_before_any_query(api, url, field):
    assert_refused(_no_queries(lambda: api.get(url)), field)


def test_path_values_with_a_nul_are_refused(api):
    response = _no_queries(lambda: api.delete("/api/v1/auth/tokens/a%00b/"))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["errors"] == [
        {
            "field": "path",
            "code": "invalid_character",
            "message": "URL のパスに使えない文字（NUL などの制御文字）が含まれています。",
        }
    ]


def test_headers_with_control_characters_are_refused(api):
    from cases.tests.test_api import _consultation

    response = send(api, "POST", "/api/v1/consultations/", _consultation(), HTTP_IDEMPOTENCY_KEY="key\x00")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_a_cookie_decoding_to_a_nul_is_ignored(client, personas):
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"  # sent as "abcdefgh\000ijkl", decoded back by Django
    response = client.get("/cases/")
    assert response.status_code == 302  # anonymous: to the login page, not a 500


# --- Pages -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/persons/search/?q=a%00b", "/cases/?q=a%00b", "/consultations/?page=%00"])
def test_pages_answer_a_japanese_400_for_control_characters(client, personas, url):
    client.force_login(personas["intake_a"])
    response = client.get(url)
    assert response.status_code == 400
    text = response.content.decode()
    assert "入力を受け付けられません" in text and "使えない文字" in text


def test_the_refusal_page_carries_the_security_headers_and_the_users_menu(client, personas):
    client.force_login(personas["intake_a"])
    response = client.get("/cases/?q=a%00b")
    assert response.status_code == 400
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "ログアウト" in response.content.decode()


def test_forms_posting_control_characters_get_a_japanese_400_and_save_nothing(client, personas):
    client.force_login(personas["intake_a"])
    before = Consultation.objects.count()
    response = client.post("/consultations/new/", {"summary": "相談\x00内容", "channel": NUL})
    assert response.status_code == 400
    text = response.content.decode()
    assert "「summary」に使えない文字" in text and "「channel」に使えない文字" in text
    assert Consultation.objects.count() == before


def test_forms_keep_line_breaks_and_tabs(client, personas):
    client.force_login(personas["intake_a"])
    response = client.post("/consultations/new/", {"summary": "一行目\r\n二行目\tタブ"})
    assert response.status_code == 200  # the form with its own errors (required fields), not a refusal
