"""住所秘匿 and 要配慮個人情報: asserted on raw response bodies, for each persona."""

import re
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from cases import selectors, services
from cases.models import AddressConfidentiality, CaseStatus, CodeKind, Consultation, Person
from cases.tests.conftest import code, fresh
from jusou.access.fieldpolicy import MASK, declared
from jusou.models import ReadLog

ADDRESS, PHONE, EMAIL = "みどり市秘密町1-2-3", "090-1111-2222", "hidden@example.jp"
HOUSEHOLD_ADDRESS = "みどり市秘密町1-2-3 ハイツ101"


@pytest.fixture
def hidden(world):
    """The world's person under 住所秘匿, with whereabouts on the person and the household."""
    services.person_update(
        person=world.person, acting_user=world.assigned, address=ADDRESS, phone=PHONE, email=EMAIL
    )
    world.household.address = HOUSEHOLD_ADDRESS
    world.household.save()
    services.address_confidentiality_set(
        person=world.person, acting_user=world.assigned, reason="DV等支援措置"
    )
    return world


def pages(world):
    return [
        reverse("cases:person_detail", args=[world.person.pk]),
        reverse("cases:person_edit", args=[world.person.pk]),
        reverse("cases:household_detail", args=[world.household.pk]),
        reverse("cases:case_detail", args=[world.case.pk]),
        reverse("cases:case_list") + "?scope=all",
        reverse("cases:person_search") + "?q=やまだ",
        reverse("cases:person_search") + "?q=やまだ&fragment=1&pick=1",
        reverse("cases:consultation_list"),
        "/",
    ]


def bodies(client, user, urls):
    client.force_login(user)
    out = {}
    for url in urls:
        response = client.get(url)
        if response.status_code == 200:
            out[url] = response.content.decode()
    return out


def test_the_assigned_worker_sees_the_whereabouts(client, hidden):
    body = bodies(client, hidden.assigned, [reverse("cases:person_detail", args=[hidden.person.pk])])
    html = next(iter(body.values()))
    assert ADDRESS in html and PHONE in html and EMAIL in html
    household = bodies(
        client, hidden.assigned, [reverse("cases:household_detail", args=[hidden.household.pk])]
    )
    assert HOUSEHOLD_ADDRESS in next(iter(household.values()))


@pytest.mark.parametrize("persona", ["colleague", "supervisor"])
def test_everyone_else_sees_hidoku_and_never_the_value(client, hidden, persona):
    seen = bodies(client, hidden.persona(persona), pages(hidden))
    assert reverse("cases:person_detail", args=[hidden.person.pk]) in seen  # they do see the person
    for url, html in seen.items():
        for value in (ADDRESS, PHONE, EMAIL, HOUSEHOLD_ADDRESS, "秘密町"):
            assert value not in html, (persona, url, value)
    assert MASK in seen[reverse("cases:person_detail", args=[hidden.person.pk])]


def test_a_worker_who_knows_a_household_member_elsewhere_sees_hidoku(client, hidden):
    # The son is known to another agency through a consultation of its own; he lives at the same address.
    services.address_confidentiality_set(person=hidden.son, acting_user=hidden.assigned, reason="同居のため")
    services.person_update(person=hidden.son, acting_user=hidden.assigned, address=ADDRESS)
    services.consultation_record(
        acting_user=hidden.other_worker,
        received_at=hidden.case.opened_at,
        channel=code(CodeKind.CHANNEL, "phone"),
        route=code(CodeKind.ROUTE, "self"),
        issues=[code(CodeKind.ISSUE, "income")],
        main_issue=code(CodeKind.ISSUE, "income"),
        summary="本人から生活費の相談",
        outcome="advice",
        person=hidden.son,
    )
    url = reverse("cases:person_detail", args=[hidden.son.pk])
    html = bodies(client, hidden.other_worker, [url])[url]
    assert ADDRESS not in html and MASK in html
    assert (
        bodies(client, hidden.other_worker, [reverse("cases:household_detail", args=[hidden.household.pk])])
        == {}
    )


def test_masked_fields_are_not_even_in_the_edit_form_and_cannot_be_changed(client, hidden):
    client.force_login(hidden.colleague)
    url = reverse("cases:person_edit", args=[hidden.person.pk])
    html = client.get(url).content.decode()
    assert 'name="address"' not in html and ADDRESS not in html
    client.post(
        url, {"name": "山田 花子", "birth_date_precision": "exact", "sex": "female", "address": "上書き"}
    )
    assert Person.objects.get(pk=hidden.person.pk).address == ADDRESS
    with pytest.raises(PermissionDenied):
        services.person_update(person=hidden.person, acting_user=hidden.colleague, address="上書き")


def test_a_masked_instance_cannot_be_saved():
    from jusou.access.fieldpolicy import mask

    person = Person(name="試験", registered_by_agency_id=1)
    mask(person, declared(Person, "location"))
    with pytest.raises(RuntimeError):
        person.save()


def test_unmasked_reads_are_logged(client, hidden):
    client.force_login(hidden.assigned)
    client.get(reverse("cases:person_detail", args=[hidden.person.pk]))
    assert ReadLog.objects.filter(
        user=hidden.assigned, object_id=hidden.person.pk, detail__startswith="住所秘匿"
    ).exists()


def test_the_duplicate_check_neither_confirms_nor_denies_an_address_match(client, hidden):
    from cases.tests.test_intake import URL, post_data

    client.force_login(hidden.outsider)
    same_address = client.post(URL, post_data(name="別人 太郎", kana="べつじん たろう", address=ADDRESS))
    assert same_address.status_code == 302  # treated like any address: no warning, no confirmation
    other_address = client.post(
        URL, post_data(name="別人 次郎", kana="べつじん じろう", address="みどり市どこか1-1")
    )
    assert other_address.status_code == 302
    same_person = client.post(URL, post_data(name="山田 花子", kana="やまだ はなこ", birth_date="1948-05-01"))
    html = same_person.content.decode()
    assert "他の機関で把握されている可能性があります" in html
    assert ADDRESS not in html and "秘密町" not in html and PHONE not in html


def test_setting_and_lifting_are_services_with_actor_and_reason_in_history(client, hidden):
    record = AddressConfidentiality.objects.get(person=hidden.person)
    assert record.history.latest().history_user == hidden.assigned
    with pytest.raises(PermissionDenied):
        services.address_confidentiality_lift(record=record, acting_user=hidden.colleague, reason="不要")
    services.address_confidentiality_lift(
        record=record, acting_user=fresh(hidden.assigned), reason="保護命令終了"
    )
    record.refresh_from_db()
    assert record.lifted_by == hidden.assigned and record.lift_reason == "保護命令終了"
    assert record.history.latest().history_change_reason == "解除: 保護命令終了"
    url = reverse("cases:person_detail", args=[hidden.person.pk])
    assert ADDRESS in bodies(client, hidden.colleague, [url])[url]


def test_setting_from_the_person_page(client, world):
    client.force_login(world.colleague)
    url = reverse("cases:confidentiality_set", args=[world.person.pk])
    refused = client.post(url, {"reason": ""}, follow=True)
    assert "住所秘匿の理由: この項目は必須です。" in refused.content.decode()
    client.post(url, {"reason": "DV等支援措置"})
    assert AddressConfidentiality.objects.in_force().filter(person=world.person).exists()


def test_referral_makes_the_coordinator_assigned_and_so_allowed(hidden):
    services.assessment_record(
        case=hidden.case,
        acting_user=hidden.assigned,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="介護",
        formulation="見立て",
    )
    services.case_transition(
        case=hidden.case, to_status=CaseStatus.REFERRED, acting_user=hidden.assigned, reason="複合"
    )
    person = selectors.person_get_for_user(fresh(hidden.coordinator), hidden.person.pk)
    assert person.address == ADDRESS


SECRET = "機密テキスト"


def sensitive_text_values(*objects):
    """The text values of every declared sensitive field (relations and flags are checked by label)."""
    values = []
    for obj in objects:
        for name in declared(obj, "sensitive"):
            field = obj._meta.get_field(name)
            if not field.is_relation and isinstance(getattr(obj, name), str) and getattr(obj, name):
                values.append(getattr(obj, name))
    return values


def test_lists_search_and_autocomplete_carry_no_sensitive_fields(client, world):
    case = world.case
    consultation = Consultation.objects.get(case=case)
    Consultation.objects.filter(pk=consultation.pk).update(
        summary=f"{SECRET}主訴", action_taken=f"{SECRET}対応", consulter_name=f"{SECRET}相談者"
    )
    services.progress_note_add(case=case, acting_user=world.assigned, kind="phone", content=f"{SECRET}経過")
    services.assessment_record(
        case=case,
        acting_user=world.assigned,
        issues=[code(CodeKind.ISSUE, "abuse")],
        issues_detail=f"{SECRET}課題",
        formulation=f"{SECRET}見立て",
    )
    services.person_update(
        person=world.person,
        acting_user=world.assigned,
        notes=f"{SECRET}備考",
        attributes=[code(CodeKind.ATTRIBUTE, "elderly")],
    )
    services.case_update(
        case=case,
        acting_user=world.assigned,
        expected_version=case.__class__.objects.get(pk=case.pk).version,
        risk_abuse=True,
        risk_suicide=True,
        risk_life=False,
        next_follow_up_on=None,
        issues=[code(CodeKind.ISSUE, "abuse")],
    )
    member = world.household.members.get(person=world.son)
    member.own_issues = f"{SECRET}世帯員の課題"
    member.save()
    consultation.refresh_from_db()
    values = sensitive_text_values(
        consultation, world.person.__class__.objects.get(pk=world.person.pk), member
    )
    assert len(values) >= 5
    list_pages = [
        u
        for u in pages(world)
        if "detail" not in u
        and "edit" not in u
        and "/cases/" + str(case.pk) not in u
        and "/persons/" + str(world.person.pk) not in u
        and "/households/" not in u
    ]
    for persona in ("assigned", "colleague", "supervisor"):
        for url, html in bodies(client, world.persona(persona), list_pages).items():
            assert SECRET not in html, (persona, url)
            rows = re.sub(r"<select.*?</select>", "", html, flags=re.S)  # filter choices list every label
            assert "自殺リスク" not in rows and "高齢" not in rows, (persona, url)
    # The detail page, under the 担当 basis, does show them.
    detail = bodies(client, world.assigned, [case.get_absolute_url()])[case.get_absolute_url()]
    assert f"{SECRET}見立て" in detail and "自殺リスク" in detail


def test_demo_dv_case_is_protected_and_the_child_is_known_to_member_c(personas, client):
    misaki = Person.objects.get(name="佐藤 美咲")
    ren = Person.objects.get(name="佐藤 蓮")
    assert AddressConfidentiality.objects.in_force().filter(person__in=[misaki, ren]).count() == 2
    assert misaki.cases.get().owning_agency.name == "みどり中央地域包括支援センター"
    client.force_login(personas["member_c"])
    html = client.get(reverse("cases:person_detail", args=[ren.pk])).content.decode()
    assert "佐藤 蓮" in html and MASK in html
    household_url = reverse("cases:household_detail", args=[ren.memberships.get().household_id])
    assert client.get(household_url).status_code == 404
    client.force_login(personas["intake_a"])
    assert "みどりハイツ201" in client.get(reverse("cases:person_detail", args=[misaki.pk])).content.decode()
    assert date.today().year  # the demo runs any day
