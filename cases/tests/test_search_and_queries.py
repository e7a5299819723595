from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import selectors, services
from cases.models import CodeKind, NoteKind
from cases.tests.conftest import code, fresh, record_case


@pytest.mark.parametrize(
    "query", ["やまだ たろう", "ヤマダタロウ", "ﾔﾏﾀﾞﾀﾛｳ", "山田太郎", "山田　太郎", "やまだ"]
)
def test_kana_search_finds_the_same_person_in_every_script_and_width(world, query):
    taro = services.person_register(
        acting_user=world.assigned, name="山田 太郎", kana="ヤマダ タロウ", birth_date=date(1960, 4, 1)
    )
    assert taro in selectors.person_search(fresh(world.assigned), query)


def test_search_as_you_type_fragment_lists_pickable_people(client, world):
    client.force_login(world.assigned)
    html = client.get(
        reverse("cases:person_search"), {"q": "ﾔﾏﾀﾞ", "fragment": "1", "pick": "1"}
    ).content.decode()
    assert f'data-person-id="{world.person.pk}"' in html
    assert "<html" not in html


def count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


def test_case_list_queries_do_not_grow_with_the_rows(client, world):
    client.force_login(world.assigned)
    url = reverse("cases:case_list")
    few = count_queries(client, url, {"scope": "all"})
    for i in range(12):
        record_case(world.assigned, name=f"川口 {i}郎", kana=f"かわぐち {i}", issues=("care", "8050"))
    many = count_queries(client, url, {"scope": "all"})
    assert few == many
    assert many <= 18  # the page's 住所秘匿 read with its people (issue 14)
    assert count_queries(client, url, {"scope": "all", "q": "かわぐち", "risk": "1", "overdue": "1"}) <= 14


def test_consultation_list_queries_do_not_grow_with_the_rows(client, world):
    client.force_login(world.assigned)
    url = reverse("cases:consultation_list")
    count_queries(client, url)  # the read log's first row of a consultation list loads its content type once
    few = count_queries(client, url)
    for i in range(12):
        record_case(world.assigned, name=f"川口 {i}郎", kana=f"かわぐち {i}")
    # 12 for the page, and 5 for its read-log row (savepoint, previous hash, insert, release, and the
    # advisory lock on PostgreSQL)
    assert count_queries(client, url) == few <= 12 + 5
    client.force_login(world.supervisor)
    assert count_queries(client, url) <= 12 + 5


def test_case_detail_queries_do_not_grow_with_notes_members_or_versions(client, world):
    client.force_login(world.assigned)
    url = reverse("cases:case_detail", args=[world.case.pk])
    services.assessment_record(
        case=world.case,
        acting_user=world.assigned,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="介護",
        formulation="見立て",
    )
    few = count_queries(client, url)
    for i in range(15):
        services.progress_note_add(
            case=world.case, acting_user=world.assigned, kind=NoteKind.PHONE, content=f"電話 {i}"
        )
    for i in range(4):
        member = services.person_register(acting_user=world.assigned, name=f"山田 {i}子", kana=f"やまだ {i}")
        services.household_member_add(
            acting_user=world.assigned, household=world.household, person=member, relationship="孫"
        )
        services.case_open(acting_user=world.assigned, person=member)
    services.assessment_record(
        case=world.case,
        acting_user=world.assigned,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="介護",
        formulation="見立て 第2版",
    )
    many = count_queries(client, url)
    assert few == many
    assert many <= 40  # the case page, its access decision (grants, each member's own basis) and the panels


def test_search_page_queries_are_bounded(client, world):
    client.force_login(world.assigned)
    for i in range(10):
        services.person_register(acting_user=world.assigned, name=f"山田 {i}", kana=f"やまだ {i}")
    # Each row projected through the user's own decision on that person: the bases other than a case
    # read in the search query itself, then the consents' categories and the grants on the people's cases
    assert count_queries(client, reverse("cases:person_search"), {"q": "やまだ"}) <= 16


@pytest.mark.parametrize(
    "params, names",
    [
        ({"status": "bogus"}, ["status"]),
        (
            {"scope": "everyone", "issue": "care", "worker": "x", "risk": "yes"},
            ["scope", "issue", "worker", "risk"],
        ),
    ],
)
def test_case_list_says_which_filter_it_could_not_read_and_leaves_it_unapplied(client, world, params, names):
    client.force_login(world.assigned)
    response = client.get(reverse("cases:case_list"), {"scope": "all", **params})
    assert response.status_code == 200
    html = response.content.decode()
    for name in names:
        assert f"絞り込み条件「{name}」の値を読めませんでした。" in html
    assert response.context["filters"].status == ""  # unapplied: the select shows すべて


def test_case_list_empty_filter_values_from_its_own_form_raise_no_notice(client, world):
    client.force_login(world.assigned)
    query = {"scope": "agency", "q": "", "status": "", "issue": "", "worker": ""}
    assert "を読めませんでした" not in client.get(reverse("cases:case_list"), query).content.decode()
