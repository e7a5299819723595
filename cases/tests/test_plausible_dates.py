"""Plausible dates (jusou.plausible): 生年月日 from 1900-01-01, 受付日時 and the other dates of this work
from RECORDS_START_DATE (default 2000-01-01), nothing that happened in the future — the same rule and
the same Japanese message on the pages and in the API, because both go through the model's validators."""

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Consultation, Person, ProgressNote
from cases.tests.test_intake import post_data
from jusou import plausible
from jusou.tests.api import api_as

pytestmark = pytest.mark.django_db

TOO_OLD_BIRTH = "生年月日は1900年1月1日以降の日付を入力してください。"
TOO_OLD_RECEIVED = "受付日時は2000年1月1日以降の日時を入力してください。"


def _consultation_body(**extra):
    from cases.tests.test_api import _consultation

    return _consultation(**extra)


def field_errors(response):
    assert response.status_code == 400, response.content
    return {e["field"]: e["message"] for e in response.json()["errors"]}


# --- The rule -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "validator, value, message",
    [
        (plausible.birth_date(), date(1899, 12, 31), TOO_OLD_BIRTH),
        (plausible.birth_date(), date(1800, 1, 1), TOO_OLD_BIRTH),
        (
            plausible.birth_date(),
            timezone.localdate() + timedelta(days=1),
            "生年月日に未来の日付は入力できません。",
        ),
        (
            plausible.happened("受付日時"),
            datetime(1999, 12, 31, 23, 59, tzinfo=timezone.get_current_timezone()),
            TOO_OLD_RECEIVED,
        ),
        (
            plausible.happened("受付日時"),
            lambda: timezone.now() + timedelta(minutes=6),
            "受付日時に未来の日時は入力できません。",
        ),
        (
            plausible.planned("次回対応予定日"),
            timezone.localdate() + timedelta(days=3660),
            "次回対応予定日は10年後までの日付を入力してください。",
        ),
    ],
)
def test_implausible_dates_are_refused_in_japanese(validator, value, message):
    with pytest.raises(ValidationError) as refused:
        validator(value() if callable(value) else value)  # times relative to now: taken when the test runs
    assert refused.value.messages == [message]


@pytest.mark.parametrize(
    "validator, value",
    [
        (plausible.birth_date(), date(1900, 1, 1)),
        (plausible.birth_date(), timezone.localdate()),
        (plausible.happened("受付日時"), datetime(2000, 1, 1, 0, 0, tzinfo=timezone.get_current_timezone())),
        (
            plausible.happened("受付日時"),
            lambda: timezone.now() + timedelta(minutes=4),
        ),  # a clock a little fast
        (plausible.planned("次回対応予定日"), timezone.localdate() + timedelta(days=365 * 9)),
        (plausible.planned("次回対応予定日"), None),
    ],
)
def test_plausible_dates_pass(validator, value):
    validator(value() if callable(value) else value)


def test_the_start_of_records_is_a_setting(settings):
    settings.RECORDS_START_DATE = date(1990, 4, 1)
    plausible.happened("受付日時")(datetime(1995, 6, 1, 10, tzinfo=timezone.get_current_timezone()))
    with pytest.raises(ValidationError, match="1990年4月1日以降"):
        plausible.happened("受付日時")(datetime(1990, 3, 31, 10, tzinfo=timezone.get_current_timezone()))


# --- The API --------------------------------------------------------------------------------------------


@pytest.fixture
def api(world):
    return api_as(world.assigned)


@pytest.mark.parametrize("birth", ["1800-01-01", "1899-12-31"])
def test_api_refuses_a_birth_date_before_1900(api, birth):
    before = Person.objects.count()
    errors = field_errors(
        api.post("/api/v1/people/", {"name": "古い 人", "birth_date": birth}, format="json")
    )
    assert errors == {"birth_date": TOO_OLD_BIRTH}
    assert Person.objects.count() == before


def test_api_accepts_1900_01_01(api):
    response = api.post("/api/v1/people/", {"name": "百歳 超", "birth_date": "1900-01-01"}, format="json")
    assert response.status_code == 201


def test_api_refuses_a_birth_date_before_1900_on_update(api, world):
    etag = api.get(f"/api/v1/people/{world.person.pk}/")["ETag"]
    response = api.patch(
        f"/api/v1/people/{world.person.pk}/", {"birth_date": "1850-01-01"}, format="json", HTTP_IF_MATCH=etag
    )
    assert field_errors(response) == {"birth_date": TOO_OLD_BIRTH}
    world.person.refresh_from_db()
    assert world.person.birth_date == date(1948, 5, 1)


@pytest.mark.parametrize("received", ["1800-01-01T10:00:00+09:00", "1999-12-31T23:59:00+09:00"])
def test_api_refuses_a_received_at_before_the_start_of_records(api, received):
    before = Consultation.objects.count()
    errors = field_errors(
        api.post("/api/v1/consultations/", _consultation_body(received_at=received), format="json")
    )
    assert errors == {"received_at": TOO_OLD_RECEIVED}
    assert Consultation.objects.count() == before


def test_api_refuses_a_future_received_at(api):
    body = _consultation_body(received_at=(timezone.now() + timedelta(days=1)).isoformat())
    assert field_errors(api.post("/api/v1/consultations/", body, format="json")) == {
        "received_at": "受付日時に未来の日時は入力できません。"
    }


def test_api_refuses_a_new_persons_birth_date_before_1900_at_intake(api):
    body = _consultation_body(new_person={"name": "明治 生", "birth_date": "1868-10-23"}, outcome="advice")
    assert field_errors(api.post("/api/v1/consultations/", body, format="json")) == {
        "new_person.birth_date": TOO_OLD_BIRTH  # named as sent, as the input hygiene names new_person.name
    }


def test_api_intake_reports_the_new_persons_and_the_consultations_dates_at_once_with_one_code(api):
    body = _consultation_body(
        new_person={"name": "明治 生", "birth_date": "1800-01-01"}, received_at="1800-01-01T10:00:00+09:00"
    )
    before = (Person.objects.count(), Consultation.objects.count())
    response = api.post("/api/v1/consultations/", body, format="json")
    assert response.status_code == 400, response.content
    assert sorted((e["field"], e["code"], e["message"]) for e in response.json()["errors"]) == [
        ("new_person.birth_date", "date_too_early", TOO_OLD_BIRTH),
        ("received_at", "date_too_early", TOO_OLD_RECEIVED),
    ]
    assert (Person.objects.count(), Consultation.objects.count()) == before


def test_api_received_at_in_the_future_has_its_code(api):
    body = _consultation_body(received_at=(timezone.now() + timedelta(days=1)).isoformat())
    response = api.post("/api/v1/consultations/", body, format="json")
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("received_at", "date_in_future")]


def test_api_accepts_an_earlier_start_when_configured(api, settings):
    settings.RECORDS_START_DATE = date(1995, 1, 1)
    response = api.post(
        "/api/v1/consultations/", _consultation_body(received_at="1999-12-31T10:00:00+09:00"), format="json"
    )
    assert response.status_code == 201, response.content


def test_api_refuses_a_note_dated_before_the_start_of_records(api, world):
    body = {"kind": "phone", "content": "電話", "occurred_at": "1800-01-01T10:00:00+09:00"}
    errors = field_errors(api.post(f"/api/v1/cases/{world.case.pk}/notes/", body, format="json"))
    assert errors == {"occurred_at": "経過記録の日時は2000年1月1日以降の日時を入力してください。"}
    assert not ProgressNote.objects.filter(case=world.case).exists()


def test_api_refuses_a_follow_up_date_far_ahead(api, world):
    etag = api.get(f"/api/v1/cases/{world.case.pk}/")["ETag"]
    response = api.patch(
        f"/api/v1/cases/{world.case.pk}/",
        {"next_follow_up_on": "2999-01-01"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert field_errors(response) == {
        "next_follow_up_on": "次回対応予定日は10年後までの日付を入力してください。"
    }
    assert Case.objects.get(pk=world.case.pk).next_follow_up_on is None


# --- The pages say the same -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"birth_date": "1899-12-31"}, TOO_OLD_BIRTH),
        ({"received_at": "1800-01-01T10:00"}, TOO_OLD_RECEIVED),
        ({"received_at": "1999-12-31T23:59"}, TOO_OLD_RECEIVED),
    ],
)
def test_intake_page_refuses_the_same_dates_with_the_same_message(client, world, overrides, message):
    client.force_login(world.assigned)
    before = (Person.objects.count(), Consultation.objects.count())
    response = client.post(reverse("cases:intake"), post_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert (Person.objects.count(), Consultation.objects.count()) == before


def test_intake_page_shows_the_birth_date_and_the_received_at_errors_at_once(client, world):
    client.force_login(world.assigned)
    before = (Person.objects.count(), Consultation.objects.count())
    response = client.post(
        reverse("cases:intake"), post_data(birth_date="1800-01-01", received_at="1800-01-01T10:00")
    )
    assert response.status_code == 200
    assert TOO_OLD_BIRTH in response.content.decode()
    assert TOO_OLD_RECEIVED in response.content.decode()
    assert (Person.objects.count(), Consultation.objects.count()) == before


def test_person_edit_page_refuses_a_birth_date_before_1900(client, world):
    client.force_login(world.assigned)
    url = reverse("cases:person_edit", args=[world.person.pk])
    data = {
        "name": world.person.name,
        "kana": world.person.kana,
        "birth_date": "1800-01-01",
        "birth_date_precision": "exact",
        "sex": "female",
        "reason": "訂正",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert TOO_OLD_BIRTH in response.content.decode()
    world.person.refresh_from_db()
    assert world.person.birth_date == date(1948, 5, 1)


def test_note_page_refuses_a_note_dated_before_the_start_of_records(client, world):
    client.force_login(world.assigned)
    url = reverse("cases:note_add", args=[world.case.pk])
    response = client.post(
        url, {"kind": "phone", "content": "電話", "occurred_at": "1800-01-01T10:00"}, follow=True
    )
    assert "経過記録の日時は2000年1月1日以降の日時を入力してください。" in response.content.decode()
    assert not ProgressNote.objects.filter(case=world.case).exists()


# --- Other apps: the same rule on their typed dates ----------------------------------------------------------


def test_a_consent_dated_before_the_start_of_records_is_refused(world):
    from meetings.models import Consent

    field = Consent._meta.get_field("consented_on")
    with pytest.raises(ValidationError, match="同意日は2000年1月1日以降の日付"):
        field.run_validators(date(1800, 1, 1))
    with pytest.raises(ValidationError, match="同意日に未来の日付は入力できません"):
        field.run_validators(timezone.localdate() + timedelta(days=1))
