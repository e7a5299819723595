"""和暦 typed into the pages' date fields (jusou.forms.DateField): a round trip through the person and
intake pages — typed in 和暦, stored ISO, shown again with its reading — and the plausible-date rule
(jusou.plausible) refusing a 和暦 date before 1900 or in the future with the model's own message."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Person
from cases.tests.test_intake import post_data
from jusou.ja.wareki import to_wareki

pytestmark = pytest.mark.django_db


def person_data(person, **overrides):
    data = {
        "name": person.name,
        "kana": person.kana,
        "birth_date": "",
        "birth_date_precision": "exact",
        "sex": "female",
        "reason": "生年月日の訂正",
    }
    return {**data, **overrides}


def test_person_form_round_trip_in_wareki(client, world):
    client.force_login(world.assigned)
    url = reverse("cases:person_edit", args=[world.person.pk])
    response = client.post(url, person_data(world.person, birth_date="S19.5.10"))
    assert response.status_code == 302, response.content.decode()[:2000]
    world.person.refresh_from_db()
    assert world.person.birth_date == date(1944, 5, 10)

    page = client.get(url).content.decode()
    assert 'value="1944-05-10"' in page
    assert 'id="id_birth_date_reading" aria-live="polite">昭和19年5月10日（1944年5月10日）</p>' in page


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("平成31年5月1日", "平成は平成31年4月30日までです（平成31年5月1日は令和元年5月1日）。"),
        ("明治32年12月31日", "生年月日は1900年1月1日以降の日付を入力してください。"),  # 1899: jusou.plausible
    ],
)
def test_person_form_refuses_in_japanese_and_keeps_the_typed_text(client, world, typed, message):
    client.force_login(world.assigned)
    url = reverse("cases:person_edit", args=[world.person.pk])
    response = client.post(url, person_data(world.person, birth_date=typed))
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and f'value="{typed}"' in page
    world.person.refresh_from_db()
    assert world.person.birth_date == date(1948, 5, 1)


def test_a_birth_date_in_the_future_typed_in_wareki_is_refused(client, world):
    client.force_login(world.assigned)
    tomorrow = timezone.localdate() + timedelta(days=1)
    typed = to_wareki(tomorrow)
    response = client.post(
        reverse("cases:person_edit", args=[world.person.pk]), person_data(world.person, birth_date=typed)
    )
    assert "生年月日に未来の日付は入力できません。" in response.content.decode()


def test_intake_registers_a_new_person_born_on_a_wareki_date(client, world):
    client.force_login(world.assigned)
    response = client.post(reverse("cases:intake"), post_data(birth_date="令和元年5月1日"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Person.objects.get(name="田中 正男").birth_date == date(2019, 5, 1)


def test_a_model_form_date_reads_wareki_too():
    from community.forms import ActivityForm

    form = ActivityForm({"held_on": "R7.4.1"})
    form.is_valid()
    assert "held_on" not in form.errors
    assert form.cleaned_data["held_on"] == date(2025, 4, 1)
    refused = ActivityForm({"held_on": "H31.5.1"})
    assert not refused.is_valid()
    assert refused.errors["held_on"] == ["平成は平成31年4月30日までです（平成31年5月1日は令和元年5月1日）。"]


def test_the_api_keeps_iso_dates(world):
    from jusou.tests.api import api_as

    api = api_as(world.assigned)
    response = api.post("/api/v1/people/", {"name": "和暦 太郎", "birth_date": "S19.5.10"}, format="json")
    assert response.status_code == 400
    response = api.post("/api/v1/people/", {"name": "和暦 太郎", "birth_date": "1944-05-10"}, format="json")
    assert response.status_code == 201 and response.json()["birth_date"] == "1944-05-10"
