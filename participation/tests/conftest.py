import pytest

from cases.tests.conftest import World, code, fresh, world  # noqa: F401  (the cases personas, reused)
from community import services as community_services
from jusou.tests.factories import AreaFactory


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
