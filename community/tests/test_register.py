"""Who may change the register (issue 19): persona × action — edit, deactivate, read the 内部メモ — on
the page, in the service and in the API, both sides. The place is run by みどり子ども食堂の会's agency
(`own_staff` works there); `npo_worker` is a 相談員 of another organisation."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from community import selectors, services
from community.models import CommunityResource
from jusou.models import AccessGrant, Role
from jusou.tests.api import api_as
from jusou.tests.factories import AgencyFactory, AreaFactory, staff_user

pytestmark = pytest.mark.django_db

NOTE = "代表者の体調に配慮（職員のみ）"
ALLOWED = {
    "own_staff": True,
    "coordinator": True,
    "community_welfare": True,
    "npo_worker": False,
    "supervisor": False,
}


@pytest.fixture
def world():
    area = AreaFactory(code="chuo", name="中央圏域", level="middle")
    runs_it, npo = AgencyFactory(name="みどり中央子ども食堂の会"), AgencyFactory(name="NPO法人みどりの家")
    people = {
        "own_staff": staff_user(Role.WORKER, runs_it, username="own_staff"),
        "npo_worker": staff_user(Role.WORKER, npo, username="npo_worker"),
        "coordinator": staff_user(Role.COORDINATOR, username="coordinator"),
        "community_welfare": staff_user(Role.COMMUNITY_WELFARE, username="community_welfare"),
        "supervisor": staff_user(Role.SUPERVISOR, runs_it, username="supervisor"),
    }
    place = services.resource_save(
        acting_user=people["coordinator"],
        name="みどり子ども食堂",
        kind="kodomo_shokudo",
        area=area,
        operating_agency=runs_it,
        internal_notes=NOTE,
    )
    return {"area": area, "runs_it": runs_it, "npo": npo, "place": place, **people}


def _edit(client, world, **changes):
    data = {
        "form": "edit",
        "name": "みどり子ども食堂",
        "kind": "kodomo_shokudo",
        "area": world["area"].pk,
        "is_active": "on",
        **changes,
    }
    return client.post(reverse("community:resource_detail", args=[world["place"].pk]), data)


@pytest.mark.parametrize("persona", ALLOWED)
def test_editing_a_place_on_its_page(client, world, persona):
    client.force_login(world[persona])
    response = _edit(client, world, name="みどり子ども食堂（中央）")
    world["place"].refresh_from_db()
    if ALLOWED[persona]:
        assert response.status_code == 302 and world["place"].name == "みどり子ども食堂（中央）"
        assert world["place"].history.latest().history_user == world[persona]
    else:
        assert response.status_code == 403 and world["place"].name == "みどり子ども食堂"


@pytest.mark.parametrize("persona", ALLOWED)
def test_deactivating_a_place_needs_the_right_and_a_reason(world, persona):
    place = world["place"]
    if not ALLOWED[persona]:
        with pytest.raises(PermissionDenied):
            services.resource_save(
                acting_user=world[persona], resource=place, is_active=False, inactive_reason="閉所"
            )
        return
    with pytest.raises(ValidationError, match="休止・終了にする理由"):
        services.resource_save(acting_user=world[persona], resource=place, is_active=False)
    services.resource_save(
        acting_user=world[persona], resource=place, is_active=False, inactive_reason="会場の閉鎖"
    )
    place.refresh_from_db()
    latest = place.history.latest()
    assert not place.is_active and place.inactive_reason == "会場の閉鎖"
    assert latest.history_user == world[persona] and latest.history_change_reason == "休止・終了: 会場の閉鎖"


@pytest.mark.parametrize("persona", ALLOWED)
def test_the_internal_notes_show_to_those_who_may_change_the_place(client, world, persona):
    client.force_login(world[persona])
    page = client.get(reverse("community:resource_detail", args=[world["place"].pk])).content.decode()
    detail = api_as(world[persona]).get(f"/api/v1/community/resources/{world['place'].pk}/").json()
    assert "みどり子ども食堂" in page  # the public fields, to everyone
    assert (NOTE in page) is ALLOWED[persona]
    assert (detail["internal_notes"] == NOTE) is ALLOWED[persona]
    assert ("更新する" in page) is ALLOWED[persona]


def test_the_operating_agency_holds_a_change_grant_and_loses_it_when_another_runs_the_place(world):
    place = world["place"]
    assert (
        AccessGrant.objects.valid()
        .filter(object_id=place.pk, agency=world["runs_it"], permission="change")
        .exists()
    )
    services.resource_save(
        acting_user=world["community_welfare"], resource=place, operating_agency=world["npo"]
    )
    for name, user in (("own_staff", world["own_staff"]), ("npo_worker", world["npo_worker"])):
        user = type(user).objects.get(pk=user.pk)  # memberships and perms are cached on the user
        assert selectors.resource_can_change(user, place) is (name == "npo_worker")


def test_only_a_keeper_of_the_register_changes_who_runs_a_place(world):
    with pytest.raises(ValidationError, match="運営する機関を変えられるのは"):
        services.resource_save(
            acting_user=world["own_staff"], resource=world["place"], operating_agency=world["npo"]
        )
    with pytest.raises(ValidationError, match="運営する機関を変えられるのは"):
        services.resource_save(
            acting_user=world["npo_worker"],
            name="x",
            kind="salon",
            area=world["area"],
            operating_agency=world["runs_it"],
        )


def test_a_worker_registers_a_place_for_their_own_agency_and_may_keep_it(world):
    mine = services.resource_save(
        acting_user=world["npo_worker"], name="西まちかど学習室", kind="ibasho", area=world["area"]
    )
    assert mine.operating_agency == world["npo"]
    assert selectors.resource_can_change(world["npo_worker"], mine)
    assert not selectors.resource_can_change(world["own_staff"], mine)


def test_the_list_marks_the_places_a_worker_may_change_in_one_query(
    client, world, django_assert_max_num_queries
):
    for i in range(10):
        services.resource_save(
            acting_user=world["coordinator"],
            name=f"サロン{i}",
            kind="salon",
            area=world["area"],
            operating_agency=world["npo"] if i % 2 else None,
        )
    client.force_login(world["npo_worker"])
    with django_assert_max_num_queries(14):
        response = client.get(reverse("community:resource_list"))
    rows = {r.name: r.can_change for r in response.context["rows"]}
    assert sum(rows.values()) == 5 and rows["みどり子ども食堂"] is False


def test_sessions_of_a_place_are_recorded_by_those_who_may_change_it(world):
    services.activity_record(
        acting_user=world["own_staff"],
        resource=world["place"],
        held_on="2026-11-01",
        participants=3,
        participant_visits=3,
    )
    with pytest.raises(PermissionDenied):
        services.activity_record(
            acting_user=world["npo_worker"],
            resource=world["place"],
            held_on="2026-11-01",
            participants=3,
            participant_visits=3,
        )
    assert CommunityResource.objects.get().activities.count() == 1


def test_the_demo_npo_worker_edits_the_npo_place_only(personas):
    outsider = personas["outsider"]
    own = CommunityResource.objects.get(name="東こども食堂ひまわり")
    other = CommunityResource.objects.get(name="みどり中央子ども食堂")
    assert selectors.resource_can_change(outsider, own) and not selectors.resource_can_change(outsider, other)
    assert selectors.resource_can_change(personas["chiiki"], other)
    assert not selectors.resource_can_change(personas["supervisor"], other)


def test_the_community_welfare_role_opens_the_register_and_no_case(client, personas):
    """地域福祉担当 is programme staff for 地域づくり only: the dashboard and the register open, cases do not."""
    from cases.models import Case

    client.force_login(personas["chiiki"])
    assert client.get(reverse("dashboard")).status_code == 200
    for url in (
        "community:resource_list",
        "community:area_view",
        "community:gap_list",
        "participation:development",
    ):
        assert client.get(reverse(url)).status_code == 200, url
    case = Case.objects.get(person__name="山本 トシ子")
    assert (
        client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 403
    )  # the role opens no case page
    assert "山本" not in client.get(reverse("cases:case_list")).content.decode()
