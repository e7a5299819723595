"""Places left and the hosts developed from gaps (issue 19): capacity − active placements, shown and
used by the matching (0 is 「受け入れ停止」); two gaps answered by one resource; a 開拓 candidate opened
from a gap joins the register with every field and closes the gap; candidates move every way and back."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from community import services as community_services
from community.models import CommunityResource
from community.selectors import ResourceFilters, resources
from participation import services
from participation.models import HostCandidate, PlacementStatus


@pytest.fixture
def plan(world):
    return services.plan_create(
        case=world.case,
        acting_user=world.assigned,
        kinds=["work_trial"],
        wishes="働いてみたい",
        goals="週1回の就労体験",
        review_on=timezone.localdate() + timedelta(days=90),
    )


def host(world, area, capacity, name="みどり商店", days=(0,)):
    return community_services.resource_save(
        acting_user=world.coordinator,
        name=name,
        kind="work_experience",
        area=area,
        accepts_participants=True,
        participation_kinds=["work_trial"],
        capacity=capacity,
        days=list(days),
    )


def place(world, plan, resource, status=PlacementStatus.ARRANGING):
    proposal = services.proposal_record(plan=plan, host=resource, acting_user=world.assigned)
    services.proposal_answer(
        proposal=proposal, acting_user=world.assigned, person_choice="wants", host_agreement="agreed"
    )
    placement = services.placement_start(
        proposal=proposal, acting_user=world.assigned, starts_on=timezone.localdate()
    )
    if status == PlacementStatus.ENDED:
        services.placement_move(
            placement=placement, acting_user=world.assigned, to_status="ended", reason="転居"
        )
    return placement


def listed(resource):
    return resources(ResourceFilters(accepting=True)).get(pk=resource.pk)


@pytest.mark.parametrize(
    ("capacity", "placed", "left", "label", "matched"),
    [
        (2, 0, 2, "受け入れ可（残り2人／上限2人）", True),
        (2, 1, 1, "受け入れ可（残り1人／上限2人）", True),
        (2, 2, 0, "満員（上限2人）", False),
        (0, 0, 0, "受け入れ停止", False),
        (None, 2, None, "受け入れ可（上限なし）", True),
    ],
)
def test_places_left_with_none_one_and_capacity_placements(
    world, plan, capacity, placed, left, label, matched
):
    from jusou.tests.factories import AreaFactory

    resource = host(world, AreaFactory(code="chuo"), capacity=2 if capacity == 0 else capacity)
    others = []
    for i in range(placed):
        other_plan = services.plan_create(
            case=world.case,
            acting_user=world.assigned,
            kinds=["work_trial"],
            wishes=f"希望{i}",
            goals="目標",
            review_on=timezone.localdate(),
        )
        others.append(place(world, other_plan, resource))
    if capacity and placed < capacity:  # an ended placement frees its place
        ended = services.plan_create(
            case=world.case,
            acting_user=world.assigned,
            kinds=["work_trial"],
            wishes="x",
            goals="y",
            review_on=timezone.localdate(),
        )
        place(world, ended, resource, status=PlacementStatus.ENDED)
    if capacity == 0:
        community_services.resource_save(acting_user=world.coordinator, resource=resource, capacity=0)
    row = listed(resource)
    assert row.places_left == left and row.acceptance_label == label
    assert (resource in services.match_hosts(plan)) is matched
    if not matched:
        with pytest.raises(ValidationError, match="受け入れの余裕がありません"):
            services.proposal_record(plan=plan, host=resource, acting_user=world.assigned)


def test_the_plan_page_and_the_register_show_what_is_left(client, world, plan):
    from jusou.tests.factories import AreaFactory

    resource = host(world, AreaFactory(code="chuo"), capacity=3)
    other = services.plan_create(
        case=world.case,
        acting_user=world.assigned,
        kinds=["work_trial"],
        wishes="a",
        goals="b",
        review_on=timezone.localdate(),
    )
    place(world, other, resource)
    client.force_login(world.assigned)
    page = client.get(plan.get_absolute_url() + "?match=1").content.decode()
    assert "残り2人（上限3人）" in page and "残り3人" not in page
    register = client.get(reverse("community:resource_list") + "?accepting=1").content.decode()
    assert "受け入れ可（残り2人／上限3人）" in register
    community_services.resource_save(acting_user=world.coordinator, resource=resource, capacity=0)
    detail = client.get(reverse("community:resource_detail", args=[resource.pk])).content.decode()
    assert "受け入れ停止" in detail


def test_two_gaps_answered_by_one_resource_stay_linked(client, world):
    from jusou.tests.factories import AreaFactory

    area = AreaFactory(code="chuo")
    user = world.coordinator
    first = community_services.gap_record(
        acting_user=user, category="居場所", description="昼の居場所", area=area
    )
    second = community_services.gap_record(
        acting_user=user, category="就労体験先", description="短時間の体験", area=area
    )
    resource = host(world, area, capacity=2)
    for gap in (first, second):
        community_services.gap_advance(gap=gap, to_status="considering", acting_user=user)
    community_services.gap_advance(gap=first, to_status="developed", acting_user=user, resources=[resource])
    client.force_login(user)
    # the picker names what each resource already answers
    html = client.get(reverse("community:gap_list")).content.decode()
    assert "すでに応えている不足: 居場所" in html
    client.post(
        reverse("community:gap_advance", args=[second.pk]),
        {"to_status": "developed", "resources": [resource.pk]},
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == "developed"
    assert list(first.developed_resources.all()) == [resource] == list(second.developed_resources.all())
    assert set(resource.gaps_answered.all()) == {first, second}
    assert resource.history.latest().history_user == user


def test_a_candidate_opened_from_a_gap_joins_with_every_field_and_closes_the_gap(client, world, plan):
    from jusou.tests.factories import AreaFactory

    area = AreaFactory(code="chuo")
    gap = community_services.gap_record(
        acting_user=world.assigned,
        category="就労体験先",
        area=area,
        description="平日の午前に働ける体験先がない",
    )
    client.force_login(world.assigned)
    form = client.get(reverse("participation:development") + f"?gap={gap.pk}").content.decode()
    assert "就労体験先" in form and f'name="gap" value="{gap.pk}"' in form
    client.post(
        reverse("participation:development"),
        {
            "gap": gap.pk,
            "new-name": "みどり商店街の八百屋",
            "new-kind": "work_experience",
            "new-area": area.pk,
            "new-operator": "八百屋みどり",
            "new-schedule": "平日 9時〜12時",
            "new-days": ["0", "2"],
            "new-contact": "みどり商店街事務所",
            "new-participation_kinds": ["work_trial"],
            "new-acceptance_conditions": "事前に見学",
            "new-capacity": "1",
            "new-approached_on": "2026-11-01",
            "new-note": "店主が前向き",
        },
    )
    candidate = HostCandidate.objects.get()
    gap.refresh_from_db()
    assert candidate.gap == gap and gap.status == "considering"
    # a 相談員 starts the 開拓 and may join the place; closing the gap is for the register's keepers
    assert (
        "きっかけの不足する社会資源を「開発済」にする"
        not in client.get(reverse("participation:development")).content.decode()
    )
    with pytest.raises(PermissionDenied, match="相談支援包括化推進員と地域福祉担当"):
        services.candidate_join(candidate=candidate, acting_user=world.assigned, close_gap=True)
    client.force_login(world.coordinator)
    join = client.get(reverse("participation:development")).content.decode()
    assert "きっかけの不足する社会資源を「開発済」にする" in join
    response = client.post(
        reverse("participation:candidate_join", args=[candidate.pk]),
        {
            f"join-{candidate.pk}-{k}": v
            for k, v in {
                "name": "みどり商店街の八百屋",
                "kind": "work_experience",
                "area": area.pk,
                "operator": "八百屋みどり",
                "schedule": "平日 9時〜12時",
                "days": ["0", "2"],
                "contact": "みどり商店街事務所",
                "participation_kinds": ["work_trial"],
                "acceptance_conditions": "事前に見学",
                "capacity": "1",
                "close_gap": "on",
            }.items()
        },
    )
    assert response.status_code == 302
    candidate.refresh_from_db()
    gap.refresh_from_db()
    resource = candidate.resource
    assert (
        resource.operator,
        resource.schedule,
        resource.days,
        resource.contact,
        resource.acceptance_conditions,
        resource.capacity,
        resource.participation_kinds,
    ) == ("八百屋みどり", "平日 9時〜12時", [0, 2], "みどり商店街事務所", "事前に見学", 1, ["work_trial"])
    assert candidate.outcome == "accepted" and gap.status == "developed"
    assert list(gap.developed_resources.all()) == [resource]
    # the day-filtered match (月) now finds the weekday-morning host
    assert resource in services.match_hosts(plan, day=0)


def test_candidates_move_through_every_status_and_back(world):
    from jusou.tests.factories import AreaFactory

    candidate = services.candidate_record(
        acting_user=world.assigned,
        name="みどり農園",
        kind="work_experience",
        area=AreaFactory(code="chuo"),
        approached_on=timezone.localdate(),
    )
    for to in ("declined", "negotiating", "accepted", "declined", "accepted", "negotiating"):
        candidate = services.candidate_move(
            candidate=candidate, acting_user=world.assigned, to_outcome=to, reason=""
        )
        assert candidate.outcome == to
    with pytest.raises(ValidationError, match="「交渉中」から「交渉中」"):
        services.candidate_move(candidate=candidate, acting_user=world.assigned, to_outcome="negotiating")
    assert [h.outcome for h in candidate.history.order_by("history_id")][-3:] == [
        "declined",
        "accepted",
        "negotiating",
    ]
    services.candidate_update(
        candidate=candidate, acting_user=world.assigned, note="条件を相談中", capacity=2
    )
    candidate.refresh_from_db()
    assert candidate.note == "条件を相談中" and candidate.capacity == 2
    services.candidate_move(candidate=candidate, acting_user=world.assigned, to_outcome="declined")
    with pytest.raises(ValidationError, match="受け入れ不可の開拓先は登録できません"):
        services.candidate_join(
            candidate=candidate, acting_user=world.assigned, participation_kinds=["work_trial"]
        )
    services.candidate_move(candidate=candidate, acting_user=world.assigned, to_outcome="negotiating")
    services.candidate_join(
        candidate=candidate, acting_user=world.assigned, participation_kinds=["work_trial"]
    )
    with pytest.raises(ValidationError, match="結果は変えられません"):
        services.candidate_move(candidate=candidate, acting_user=world.assigned, to_outcome="declined")
    assert CommunityResource.objects.get(name="みどり農園").capacity == 2


def test_outsiders_of_the_programme_cannot_record_candidates(client, world):
    from jusou.models import Role
    from jusou.tests.factories import staff_user

    client.force_login(staff_user(Role.SUPERVISOR))
    assert client.get(reverse("participation:development")).status_code == 200
    assert client.post(reverse("participation:development"), {"new-name": "x"}).status_code == 403


def test_the_development_page_queries_do_not_grow_with_candidates(
    client, world, django_assert_max_num_queries
):
    from jusou.tests.factories import AreaFactory

    area = AreaFactory(code="chuo")
    gap = community_services.gap_record(
        acting_user=world.assigned, category="居場所", description="不足", area=area
    )
    client.force_login(world.assigned)

    def add(n):
        for i in range(n):
            services.candidate_record(
                acting_user=world.assigned,
                name=f"候補{i}",
                kind="work_experience",
                area=area,
                approached_on=timezone.localdate(),
                gap=gap,
            )

    add(1)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        assert client.get(reverse("participation:development")).status_code == 200
    add(12)
    with django_assert_max_num_queries(len(first)):
        assert client.get(reverse("participation:development")).status_code == 200
