import pytest
from django.urls import reverse

from cases.models import HouseholdMember, Person
from jusou.models import ReadLog


def test_person_details_are_updated_with_history(client, world):
    client.force_login(world.colleague)
    url = reverse("cases:person_edit", args=[world.person.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "name": "山田 花子",
            "kana": "やまだ はなこ",
            "birth_date": "1948-05-01",
            "birth_date_precision": "exact",
            "sex": "female",
            "address": "みどり市東一丁目",
            "reason": "転居",
        },
    )
    assert response.status_code == 302
    person = Person.objects.get(pk=world.person.pk)
    assert person.address == "みどり市東一丁目"
    assert person.history.latest().history_change_reason == "転居"
    assert person.history.latest().history_user == world.colleague


@pytest.mark.parametrize(
    ("persona", "status"), [("supervisor", 403), ("other_worker", 404), ("outsider", 404)]
)
def test_others_cannot_edit_a_person(client, world, persona, status):
    client.force_login(world.persona(persona))
    assert client.get(reverse("cases:person_edit", args=[world.person.pk])).status_code == status


def test_a_future_birth_date_is_refused_on_edit(client, world):
    client.force_login(world.assigned)
    response = client.post(
        reverse("cases:person_edit", args=[world.person.pk]),
        {"name": "山田 花子", "birth_date": "2999-01-01", "birth_date_precision": "exact", "sex": "female"},
    )
    assert "生年月日に未来の日付は入力できません。" in response.content.decode()


def test_a_member_is_added_and_removed_from_the_household_page(client, world):
    client.force_login(world.assigned)
    url = reverse("cases:household_detail", args=[world.household.pk])
    son = HouseholdMember.objects.get(person=world.son)
    response = client.post(
        url,
        {
            "name": "山田 さくら",
            "kana": "やまだ さくら",
            "sex": "female",
            "relationship": "孫",
            "lives_together": "on",
            "is_main_carer": "on",
            "cares_for": [son.pk],
        },
    )
    assert response.status_code == 302
    granddaughter = HouseholdMember.objects.get(person__name="山田 さくら")
    assert granddaughter.is_main_carer and list(granddaughter.cares_for.all()) == [son]
    refused = client.post(reverse("cases:household_member_leave", args=[son.pk]), {"reason": ""}, follow=True)
    assert "理由: この項目は必須です。" in refused.content.decode()
    client.post(reverse("cases:household_member_leave", args=[son.pk]), {"reason": "転出"})
    son.refresh_from_db()
    assert son.left_on is not None
    panel = client.get(url).content.decode().split("<table")[1].split("</table>")[0]
    assert "山田 さくら" in panel
    assert f'href="/persons/{world.son.pk}/"' not in panel  # no longer a row of the household


def test_outsiders_cannot_add_members(client, world):
    client.force_login(world.outsider)
    url = reverse("cases:household_detail", args=[world.household.pk])
    assert client.post(url, {"name": "侵入", "relationship": "他人", "sex": "unknown"}).status_code == 404
    client.force_login(world.supervisor)
    assert client.post(url, {"name": "侵入", "relationship": "他人", "sex": "unknown"}).status_code == 403
    assert not Person.objects.filter(name="侵入").exists()


def test_consultation_list_shows_the_agencys_own_and_nothing_else(client, world):
    client.force_login(world.colleague)
    assert "山田 花子" in client.get(reverse("cases:consultation_list")).content.decode()
    client.force_login(world.outsider)
    html = client.get(reverse("cases:consultation_list")).content.decode()
    assert "山田" not in html and "0 件" in html


def test_consultation_list_counts_the_agencys_own_and_those_of_granted_cases_once(client, world):
    from cases.tests.conftest import record_case
    from jusou.access.grants import access_grant
    from jusou.models import AccessBasis

    record_case(world.other_worker, name="佐藤 次郎", kana="さとう じろう")
    access_grant(obj=world.case, user=world.other_worker, basis=AccessBasis.ASSIGNMENT, acting_user=None)
    client.force_login(world.other_worker)
    html = client.get(reverse("cases:consultation_list")).content.decode()
    assert "佐藤 次郎" in html and "山田 花子" in html and "2 件" in html
    client.force_login(world.outsider)
    assert "0 件" in client.get(reverse("cases:consultation_list")).content.decode()
    client.force_login(world.supervisor)
    assert "2 件" in client.get(reverse("cases:consultation_list")).content.decode()


def test_household_page_reads_are_logged(client, world):
    client.force_login(world.assigned)
    client.get(reverse("cases:household_detail", args=[world.household.pk]))
    assert ReadLog.objects.filter(user=world.assigned, object_id=world.household.pk, action="view").exists()
