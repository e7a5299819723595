"""Household intake (issue 17): one page records the consultation and every household member it
concerns — new or found by search — with 続柄・同居・主介護者・own issues and the case's risk flags,
in one transaction; and the 申込票's structured fields of the person."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CodeKind, Consultation, Household, HouseholdMember, Person
from cases.tests.conftest import code
from cases.tests.test_intake import post_data

URL = reverse("cases:intake")


def household_8050(**overrides):
    """The 8050 call: the mother (82) is the 本人, her son (52) a member; four issues, one risk."""
    data = post_data(
        name="佐藤 キヨ",
        kana="さとう きよ",
        birth_date=(timezone.localdate() - timedelta(days=82 * 366)).isoformat(),
        sex="female",
        household_name="",
        care_level="care2",
        public_assistance="none",
        housing="owned",
        subject_own_issues="歩行が不安定、通院が途絶えている",
        subject_lives_together="on",
        issues=[code(CodeKind.ISSUE, c).pk for c in ("care", "8050", "hikikomori", "income")],
        main_issue=code(CodeKind.ISSUE, "8050").pk,
        risk_life="on",
        **{
            "members-TOTAL_FORMS": "1",
            "members-INITIAL_FORMS": "0",
            "members-0-name": "佐藤 健一",
            "members-0-kana": "さとう けんいち",
            "members-0-birth_date": (timezone.localdate() - timedelta(days=52 * 366)).isoformat(),
            "members-0-sex": "male",
            "members-0-relationship": "長男",
            "members-0-lives_together": "on",
            "members-0-is_main_carer": "on",
            "members-0-own_issues": "20年ほど自宅にひきこもり、収入なし",
        },
    )
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def counts():
    return tuple(m.objects.count() for m in (Person, Household, HouseholdMember, Consultation, Case))


def test_one_post_records_the_consultation_both_members_their_places_issues_and_the_risk(client, world):
    client.force_login(world.assigned)
    response = client.post(URL, household_8050())
    case = Case.objects.get(person__name="佐藤 キヨ")
    assert response.status_code == 302 and response.url == case.get_absolute_url()
    assert case.risk_life and not case.risk_abuse
    assert {i.code for i in case.issues.all()} == {"care", "8050", "hikikomori", "income"}
    assert case.household.name == "佐藤 キヨさん世帯"
    members = {m.person.name: m for m in case.household.members.select_related("person")}
    assert set(members) == {"佐藤 キヨ", "佐藤 健一"}
    son = members["佐藤 健一"]
    assert (son.relationship, son.lives_together, son.is_main_carer) == ("長男", True, True)
    assert son.own_issues == "20年ほど自宅にひきこもり、収入なし"
    assert members["佐藤 キヨ"].relationship == "本人"
    assert members["佐藤 キヨ"].own_issues == "歩行が不安定、通院が途絶えている"
    mother = case.person
    assert (mother.care_level, mother.public_assistance, mother.housing) == ("care2", "none", "owned")
    consultation = Consultation.objects.get(case=case)
    assert consultation.household == case.household and consultation.main_issue.code == "8050"


def test_an_error_in_a_member_row_creates_nothing_and_keeps_everything_typed(client, world):
    before = counts()
    client.force_login(world.assigned)
    future = (timezone.localdate() + timedelta(days=40)).isoformat()
    response = client.post(URL, household_8050(**{"members-0-birth_date": future}))
    html = response.content.decode()
    assert response.status_code == 200
    assert counts() == before
    assert "生年月日に未来の日付は入力できません。" in html
    for typed in (
        "佐藤 キヨ",
        "佐藤 健一",
        "20年ほど自宅にひきこもり、収入なし",
        "歩行が不安定、通院が途絶えている",
        'name="risk_life" id="id_risk_life" checked',
    ):
        assert typed in html, typed


def test_a_member_row_without_relationship_is_refused_on_its_field(client, world):
    before = counts()
    client.force_login(world.assigned)
    response = client.post(URL, household_8050(**{"members-0-relationship": ""}))
    assert "本人から見た続柄を入力してください" in response.content.decode()
    assert counts() == before


def test_an_empty_extra_row_is_ignored(client, world):
    client.force_login(world.assigned)
    data = household_8050(
        **{"members-TOTAL_FORMS": "2", "members-1-sex": "unknown", "members-1-lives_together": "on"}
    )
    assert client.post(URL, data).status_code == 302
    assert HouseholdMember.objects.filter(household__name="佐藤 キヨさん世帯").count() == 2


def test_more_member_rows_without_javascript_keep_what_was_typed(client, world):
    client.force_login(world.assigned)
    before = counts()
    response = client.post(URL, household_8050(add_member="1"))
    html = response.content.decode()
    assert counts() == before
    assert 'name="members-TOTAL_FORMS" value="2"' in html and 'name="members-1-name"' in html
    assert "佐藤 健一" in html and "この項目は必須です" not in html


def test_an_existing_member_found_by_search_joins_the_new_household(client, world):
    """The colleague sees the son (registered by their agency); he has a household already, so the
    new 本人 joins it."""
    client.force_login(world.colleague)
    data = household_8050(
        **{"members-0-person": str(world.son.pk), "members-0-name": "", "members-0-relationship": "長男"}
    )
    response = client.post(URL, data)
    assert response.status_code == 302
    case = Case.objects.get(person__name="佐藤 キヨ")
    assert case.household == world.household
    assert (
        HouseholdMember.objects.filter(
            household=world.household, person=world.son, left_on__isnull=True
        ).count()
        == 1
    )


def test_a_person_outside_the_users_basis_cannot_be_added_by_id(client, world):
    before = counts()
    client.force_login(world.outsider)
    data = household_8050(**{"members-0-person": str(world.son.pk), "members-0-name": ""})
    response = client.post(URL, data)
    html = response.content.decode()
    assert response.status_code == 200 and counts() == before
    assert "選んだ世帯員が見つかりません" in html
    assert "山田" not in html


@pytest.mark.parametrize("persona", ["outsider", "other_worker"])
def test_member_search_does_not_reveal_people_without_basis(client, world, persona):
    client.force_login(world.persona(persona))
    for query in ("やまだ", "ヤマダ", "山田", "ｲﾁﾛｳ"):
        html = client.get(
            reverse("cases:person_search"), {"q": query, "fragment": "1", "pick": "1"}
        ).content.decode()
        assert "data-person-id" not in html and "一郎" not in html and "花子" not in html
        assert "見つかりませんでした" in html


def test_member_search_finds_people_with_basis_by_kana(client, world):
    client.force_login(world.colleague)
    html = client.get(
        reverse("cases:person_search"), {"q": "ｲﾁﾛｳ", "fragment": "1", "pick": "1"}
    ).content.decode()
    assert f'data-person-id="{world.son.pk}"' in html


def test_a_new_member_who_may_be_known_is_offered_as_a_candidate_on_their_row(client, world):
    client.force_login(world.colleague)
    data = household_8050(
        **{
            "members-0-name": "山田 一郎",
            "members-0-kana": "ヤマダ イチロウ",
            "members-0-birth_date": "1975-01-02",
        }
    )
    before = counts()
    html = client.post(URL, data).content.decode()
    assert counts() == before
    assert "同じ方がすでに登録されている可能性があります" in html
    assert f'name="members-0-person" value="{world.son.pk}"' in html


def test_risk_flags_need_a_case(client, world):
    client.force_login(world.assigned)
    before = counts()
    response = client.post(URL, household_8050(outcome="advice"))
    assert "リスクはケースに記録します" in response.content.decode()
    assert counts() == before


def test_the_intake_page_shows_one_member_row_and_the_risk_flags(client, world):
    client.force_login(world.assigned)
    html = client.get(URL).content.decode()
    assert 'name="members-0-name"' in html and 'name="members-TOTAL_FORMS" value="1"' in html
    assert 'name="risk_life"' in html and 'name="care_level"' in html
    assert '<template id="member-template">' in html and "members-__prefix__-name" in html


# --- The same intake through the API -----------------------------------------------------------------


def api_body(**extra):
    return {
        "received_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "channel": "phone",
        "route": "family",
        "issues": ["care", "8050"],
        "main_issue": "8050",
        "summary": "8050の相談",
        "outcome": "case",
        "new_person": {"name": "佐藤 キヨ", "kana": "さとう きよ", "care_level": "care2"},
        "risk_life": True,
        "members": [
            {"new_person": {"name": "佐藤 健一"}, "relationship": "長男", "own_issues": "ひきこもり"}
        ],
        **extra,
    }


def test_the_api_records_the_household_intake_in_one_request(world):
    from jusou.tests.api import api_as

    code(CodeKind.CHANNEL, "phone")
    code(CodeKind.ROUTE, "family")
    response = api_as(world.assigned).post("/api/v1/consultations/", api_body(), format="json")
    assert response.status_code == 201, response.json()
    case = Case.objects.get(person__name="佐藤 キヨ")
    assert case.risk_life and case.person.care_level == "care2"
    son = HouseholdMember.objects.get(household=case.household, person__name="佐藤 健一")
    assert (son.relationship, son.own_issues) == ("長男", "ひきこもり")


def test_the_api_refuses_a_bad_member_with_its_field_and_creates_nothing(world):
    from jusou.tests.api import api_as

    code(CodeKind.CHANNEL, "phone")
    code(CodeKind.ROUTE, "family")
    before = counts()
    future = (timezone.localdate() + timedelta(days=30)).isoformat()
    body = api_body(
        members=[{"new_person": {"name": "佐藤 健一", "birth_date": future}, "relationship": "長男"}]
    )
    response = api_as(world.assigned).post("/api/v1/consultations/", body, format="json")
    assert response.status_code == 400
    assert any(e["field"] == "members.0.birth_date" for e in response.json()["errors"]), response.json()
    assert counts() == before


def test_the_api_does_not_add_a_member_outside_the_basis(world):
    from jusou.tests.api import api_as

    code(CodeKind.CHANNEL, "phone")
    code(CodeKind.ROUTE, "family")
    before = counts()
    body = api_body(members=[{"person": world.son.pk, "relationship": "長男"}])
    response = api_as(world.outsider).post("/api/v1/consultations/", body, format="json")
    assert response.status_code == 404 and "山田" not in response.content.decode()
    assert counts() == before


def test_the_page_costs_the_same_queries_however_many_member_rows(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(world.colleague)
    client.get(URL)
    one = household_8050(add_member="1", **{"members-0-person": str(world.son.pk), "members-0-name": ""})
    many = dict(
        one,
        **{
            "members-TOTAL_FORMS": "6",
            "members-1-person": str(world.person.pk),
            "members-2-name": "佐藤 次郎",
            "members-2-relationship": "次男",
        },
    )
    with CaptureQueriesContext(connection) as few:
        client.post(URL, one)
    with CaptureQueriesContext(connection) as more:
        html = client.post(URL, many).content.decode()
    assert len(more) == len(few)
    assert (
        'name="members-TOTAL_FORMS" value="7"' in html
        and "選んだ方: <strong data-member-label>山田 花子" in html
    )
