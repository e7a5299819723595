import pytest

from cases.models import CaseStatus, CodeKind
from cases.services import assessment_record, case_transition
from cases.tests.conftest import World, code, fresh, world  # noqa: F401  (the cases personas, reused)


@pytest.fixture
def referred(world: World) -> World:  # noqa: F811
    """The world's case, assessed and referred to 多機関協働 by its worker."""
    assessment_record(case=world.case, acting_user=world.assigned, issues=[code(CodeKind.ISSUE, "care")],
                      issues_detail="介護と就労", formulation="複合課題")  # fmt: skip
    case_transition(
        case=world.case, to_status=CaseStatus.REFERRED, acting_user=world.assigned, reason="複合課題"
    )
    world.case.refresh_from_db()
    return world


@pytest.fixture
def coordinating(referred: World) -> World:
    from meetings.services import case_accept

    case_accept(case=referred.case, acting_user=fresh(referred.coordinator))
    referred.case.refresh_from_db()
    return referred
