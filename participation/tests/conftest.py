from datetime import timedelta

import pytest
from django.utils import timezone

from cases.tests.conftest import World, code, fresh, world  # noqa: F401  (the cases personas, reused)
from community import services as community_services
from jusou.tests.factories import AreaFactory
from participation import services


@pytest.fixture
def hosts(world):  # noqa: F811
    area = AreaFactory(code="chuo", name="中央圏域")
    sub = AreaFactory(code="chuo-1", name="中央一丁目", level="small", parent=area)
    other = AreaFactory(code="higashi", name="東圏域")

    def add(name, kinds, area, capacity=None, active=True, accepts=True, days=(2,)):
        return community_services.resource_save(
            acting_user=world.assigned,
            name=name,
            kind="kodomo_shokudo",
            area=area,
            accepts_participants=accepts,
            participation_kinds=list(kinds) if accepts else [],
            capacity=capacity,
            is_active=active,
            days=list(days),
        )

    return {
        "area": area,
        "other": other,
        "shokudo": add("みどり子ども食堂", ["volunteer"], sub, capacity=1),
        "farm": add("みどり農園", ["agriculture"], area),
        "east": add("東ボランティアセンター", ["volunteer"], other),
        "closed": add("休止中のサロン", ["volunteer"], area, active=False),
        "no_accept": add("受け入れなしのカフェ", [], area, accepts=False),
        "full": add("満員の居場所", ["volunteer"], area, capacity=0),
    }


def new_plan(world):  # noqa: F811
    """A 参加支援 plan for the case: volunteering, reviewed in 90 days."""
    return services.plan_create(
        case=world.case,
        acting_user=world.assigned,
        kinds=["volunteer"],
        wishes="人の役に立ちたい",
        strengths="料理",
        weaknesses="大人数",
        health="腰痛あり",
        mobility="自転車",
        goals="週1回、家の外で役割を持つ",
        review_on=timezone.localdate() + timedelta(days=90),
    )


@pytest.fixture
def plan(world, hosts):  # noqa: F811
    return new_plan(world)


def place(world, plan, host, **start):  # noqa: F811
    """Proposed to `host`, wanted by the person and agreed by the host, and started today (調整中)."""
    proposal = services.proposal_record(plan=plan, host=host, acting_user=world.assigned)
    services.proposal_answer(
        proposal=proposal, acting_user=world.assigned, person_choice="wants", host_agreement="agreed"
    )
    return services.placement_start(
        proposal=proposal, acting_user=world.assigned, starts_on=timezone.localdate(), **start
    )


def follow_up(world, placement, with_whom, content):  # noqa: F811
    return services.follow_up_record(
        placement=placement,
        acting_user=world.assigned,
        done_on=timezone.localdate(),
        with_whom=with_whom,
        content=content,
    )
