# ruff: noqa: F811  (the fixtures imported from the apps' conftests are parameters here)
"""The 相談受付・申込票 B票's structured fields on the person (issue 17): 要介護度・障害支援区分・手帳 are
病歴・障害の状況 (health), 生活保護・健康保険・年金・仕事・住居 the 生活の状況 of 課題 (issues). A reader on
a consent sees them only where the consent's categories cover them, on the page and in the API; lists
and search never carry them."""

import pytest
from django.urls import reverse

from cases.models import LIVING_SITUATION_FIELDS, Person
from cases.tests.conftest import world  # noqa: F401  (fixture)
from jusou.access.fieldpolicy import NOT_SHARED
from jusou.tests.api import api_as
from meetings.tests.conftest import coordinating, referred  # noqa: F401  (fixtures)
from meetings.tests.test_plans import planned  # noqa: F401  (fixture)
from tests.test_access_decisions import approved, consent_of  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

HEALTH = (
    "care_level",
    "disability_support_level",
    "handbook_physical",
    "handbook_intellectual",
    "handbook_mental",
)
LIVING = ("public_assistance", "health_insurance", "pension", "employment", "housing")


@pytest.fixture
def described(approved):
    w = approved
    Person.objects.filter(pk=w.person.pk).update(
        care_level="care3",
        handbook_physical=True,
        public_assistance="receiving",
        pension="old_age",
        housing="rented",
    )
    return w


def test_the_fields_are_the_b_sheets_and_each_in_one_category():
    categories = Person.FIELD_POLICY["categories"]
    assert set(HEALTH) <= set(categories["health"]) and set(LIVING) <= set(categories["issues"])
    assert set(LIVING_SITUATION_FIELDS) == set(HEALTH) | set(LIVING)
    assert set(LIVING_SITUATION_FIELDS) <= set(Person.FIELD_POLICY["sensitive"])


def test_a_consent_for_basic_and_plan_withholds_them_on_the_page_and_in_the_api(client, described):
    w = described
    data = api_as(w.reader).get(f"/api/v1/people/{w.person.pk}/").json()
    assert data["name"] == "山田 花子"
    assert not set(LIVING_SITUATION_FIELDS) & set(data)
    client.force_login(w.reader)
    html = client.get(reverse("cases:person_detail", args=[w.person.pk])).content.decode()
    assert "要介護3" not in html and "受給中" not in html and "賃貸" not in html and "身体<" not in html
    assert f"<dt>要介護度</dt><dd>{NOT_SHARED}</dd>" in html


def test_a_consent_covering_health_and_issues_opens_them(client, described):
    w = described
    consent_of(w, w.person, ["basic", "health"], "支援プランの実施")
    data = api_as(w.reader).get(f"/api/v1/people/{w.person.pk}/").json()
    assert data["care_level"] == "care3" and data["handbook_physical"] is True
    assert not set(LIVING) & set(data)  # 生活の状況 is 課題: not consented
    client.force_login(w.reader)
    html = client.get(reverse("cases:person_detail", args=[w.person.pk])).content.decode()
    assert "要介護3" in html and "<dd>身体</dd>" in html and "受給中" not in html


def test_the_owning_worker_reads_and_changes_them_in_the_api_and_on_the_form(client, described):
    w = described
    api = api_as(w.assigned)
    response = api.get(f"/api/v1/people/{w.person.pk}/")
    data = response.json()
    assert (data["care_level"], data["public_assistance"], data["pension"]) == (
        "care3",
        "receiving",
        "old_age",
    )
    changed = api.patch(
        f"/api/v1/people/{w.person.pk}/",
        {"care_level": "care4", "employment": "retired"},
        format="json",
        HTTP_IF_MATCH=response["ETag"],
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["care_level"] == "care4" and changed.json()["employment"] == "retired"
    refused = api.patch(
        f"/api/v1/people/{w.person.pk}/",
        {"care_level": "care9"},
        format="json",
        HTTP_IF_MATCH=changed["ETag"],
    )
    assert refused.status_code == 400 and "care_level" in refused.content.decode()
    client.force_login(w.assigned)
    url = reverse("cases:person_edit", args=[w.person.pk])
    form = client.get(url).content.decode()
    assert 'name="care_level"' in form and 'name="handbook_mental"' in form
    person = Person.objects.get(pk=w.person.pk)
    post = {
        "name": person.name,
        "kana": person.kana,
        "birth_date": person.birth_date.isoformat(),
        "birth_date_precision": person.birth_date_precision,
        "sex": person.sex,
        "care_level": "care5",
        "handbook_mental": "on",
        "housing": "facility",
        "reason": "施設入所",
    }
    assert client.post(url, post).status_code == 302
    person.refresh_from_db()
    assert (person.care_level, person.handbook_mental, person.handbook_physical, person.housing) == (
        "care5",
        True,
        False,
        "facility",
    )


def test_lists_and_search_do_not_carry_them(client, described):
    w = described
    rows = api_as(w.assigned).get("/api/v1/people/", {"q": "やまだ はなこ"}).json()["results"]
    row = next(r for r in rows if r["id"] == w.person.pk)
    assert (
        row["care_level"] != "care3"
        and row["public_assistance"] != "receiving"
        and row["handbook_physical"] is None
    )
    client.force_login(w.assigned)
    html = client.get(reverse("cases:person_search"), {"q": "やまだ"}).content.decode()
    assert "要介護3" not in html
