from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from community import selectors, services
from community.models import CommunityResource
from jusou.models import ResourceGap, Role
from jusou.tests.factories import AreaFactory, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    middle = AreaFactory(code="chuo", name="中央圏域", level="middle")
    small = AreaFactory(code="chuo-1", name="中央一丁目町会", level="small", parent=middle)
    other = AreaFactory(code="higashi", name="東圏域", level="middle")
    worker = staff_user(Role.WORKER)
    return {
        "middle": middle,
        "small": small,
        "other": other,
        "worker": worker,
        "supervisor": staff_user(Role.SUPERVISOR),
        "admin": staff_user(Role.SYSTEM_ADMIN),
    }


def add(world, name, **fields):
    defaults = {"kind": "kodomo_shokudo", "area": world["small"], "is_active": True}
    return services.resource_save(acting_user=world["worker"], name=name, **{**defaults, **fields})


def test_the_register_is_readable_by_all_staff_and_written_by_workers(client, world):
    add(world, "みどり子ども食堂", internal_notes="代表者の体調に配慮")
    for persona in ("worker", "supervisor"):
        client.force_login(world[persona])
        html = client.get(reverse("community:resource_list")).content.decode()
        assert "みどり子ども食堂" in html
    client.force_login(world["supervisor"])
    response = client.post(
        reverse("community:resource_list"), {"name": "x", "kind": "salon", "area": world["small"].pk}
    )
    assert response.status_code == 403
    client.force_login(world["admin"])  # system administration is not programme work
    assert client.get(reverse("community:resource_list")).status_code == 403


def test_a_resource_is_registered_and_updated_with_history(client, world):
    client.force_login(world["worker"])
    response = client.post(
        reverse("community:resource_list"),
        {
            "name": "ふれあいサロン",
            "kind": "salon",
            "area": world["small"].pk,
            "days": ["1", "3"],
            "is_active": "on",
        },
    )
    resource = CommunityResource.objects.get(name="ふれあいサロン")
    assert response.status_code == 302 and resource.days == [1, 3] and resource.day_labels == "火・木"
    client.post(
        reverse("community:resource_detail", args=[resource.pk]),
        {
            "form": "edit",
            "name": "ふれあいサロン中央",
            "kind": "salon",
            "area": world["small"].pk,
            "is_active": "on",
        },
    )
    resource.refresh_from_db()
    assert resource.name == "ふれあいサロン中央"
    assert [h.history_user for h in resource.history.all()] == [world["worker"], world["worker"]]


def test_accepting_participants_needs_the_kinds_it_accepts(world):
    with pytest.raises(ValidationError, match="受け入れできる参加支援の種類"):
        add(world, "農園", kind="work_experience", accepts_participants=True)


def test_activity_visits_cannot_be_fewer_than_people(client, world):
    resource = add(world, "みどり子ども食堂")
    client.force_login(world["worker"])
    response = client.post(
        reverse("community:resource_detail", args=[resource.pk]),
        {
            "form": "activity",
            "held_on": "2026-11-01",
            "participants": 20,
            "participant_visits": 5,
        },
    )
    assert "延べ人数は実人数以上にしてください。" in response.content.decode()
    client.post(
        reverse("community:resource_detail", args=[resource.pk]),
        {
            "form": "activity",
            "held_on": "2026-11-01",
            "participants": 20,
            "participant_visits": 25,
        },
    )
    assert resource.activities.get().participant_visits == 25


def test_area_view_rolls_resources_up_the_tree(client, world):
    add(world, "子ども食堂A")
    add(world, "サロンB", kind="salon", area=world["other"])
    rows = {row["area"].code: row for row in selectors.area_tree_rows(selectors.Period.from_query({}))}
    assert rows["chuo"]["places"] == 1 and rows["chuo-1"]["places"] == 1 and rows["higashi"]["places"] == 1
    assert rows["chuo-1"]["depth"] == 1
    client.force_login(world["worker"])
    assert "中央一丁目町会" in client.get(reverse("community:area_view")).content.decode()


def test_resource_gap_runs_noted_considering_developed_with_the_new_resource(client, world):
    gap = services.gap_record(
        acting_user=world["worker"],
        category="居場所",
        description="中高年の居場所がない",
        area=world["middle"],
    )
    keeper = staff_user(Role.COMMUNITY_WELFARE)
    with pytest.raises(PermissionDenied):  # a 相談員 notes a gap; the register's keepers move it
        services.gap_advance(gap=gap, to_status="considering", acting_user=world["worker"], reason="")
    with pytest.raises(ValidationError, match="から「開発済」には変更できません"):
        services.gap_advance(gap=gap, to_status="developed", acting_user=keeper, reason="")
    services.gap_advance(gap=gap, to_status="considering", acting_user=keeper, reason="社協と協議")
    with pytest.raises(ValidationError, match="この不足に応える地域資源"):
        services.gap_advance(gap=gap, to_status="developed", acting_user=keeper, reason="")
    new = add(world, "中高年の居場所「ひだまり」", kind="ibasho")
    client.force_login(keeper)
    client.post(
        reverse("community:gap_advance", args=[gap.pk]), {"to_status": "developed", "resources": [new.pk]}
    )
    gap.refresh_from_db()
    new.refresh_from_db()
    assert gap.status == "developed" and list(new.gaps_answered.all()) == [gap]
    assert gap.history.latest().history_user == keeper
    assert "ひだまり" in client.get(reverse("community:gap_list")).content.decode()


def test_supervisors_cannot_write(world):
    with pytest.raises(PermissionDenied):
        services.platform_record(
            acting_user=world["supervisor"], held_on=date(2026, 11, 1), name="x", area=world["middle"]
        )


@pytest.mark.parametrize(
    "url",
    [
        "community:resource_list",
        "community:gap_list",
        "community:platform_list",
        "community:activity_list",
        "community:coordinator_log",
        "community:area_view",
    ],
)
def test_list_queries_do_not_grow_with_rows(client, world, url, django_assert_max_num_queries):
    for i in range(15):
        add(world, f"資源{i}", kind="salon" if i % 2 else "kodomo_shokudo")
        services.gap_record(
            acting_user=world["worker"], category=f"分野{i}", description="内容", area=world["small"]
        )
        services.platform_record(
            acting_user=world["worker"], held_on=date(2026, 11, 1), name=f"会議{i}", area=world["middle"]
        )
        services.coordinator_activity_record(
            acting_user=world["worker"],
            done_on=date(2026, 11, 1),
            area=world["small"],
            kind="connect",
            content="つなぎ",
        )
    client.force_login(world["worker"])
    # the 圏域 page counts every figure of the city and of each 圏域 (constant, see test_areas.py)
    with django_assert_max_num_queries(20 if url == "community:area_view" else 15):
        assert client.get(reverse(url)).status_code == 200
    assert ResourceGap.objects.count() == 15


def test_demo_register_spans_three_areas_and_develops_the_gap(personas):
    areas = {
        r.area.parent.code if r.area.parent and r.area.level == "small" else r.area.code
        for r in CommunityResource.objects.select_related("area__parent")
    }
    assert {"chuo", "higashi", "nishi"} <= areas
    assert CommunityResource.objects.count() >= 12
    gap = ResourceGap.objects.get(category="居場所")
    assert gap.status == "developed" and gap.developed_resources.get().name == "中高年の居場所「ひだまり」"
    assert gap.area.code == "chuo"  # its text says 中央圏域: stored with it, so the 圏域 pages count it
