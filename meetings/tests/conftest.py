from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import CaseStatus, CodeKind
from cases.services import assessment_record, case_transition
from cases.tests.conftest import World, code, fresh, world  # noqa: F401  (the cases personas, reused)
from jusou.models import Role
from jusou.tests.factories import staff_user


@pytest.fixture
def referred(world: World) -> World:  # noqa: F811
    """The world's case, assessed and referred to 多機関協働 by its worker."""
    assessment_record(
        case=world.case,
        acting_user=world.assigned,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="介護と就労",
        formulation="複合課題",
    )
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


@pytest.fixture
def approved(coordinating):
    """A case in 多機関協働 with an approved plan (tasks for the worker's agency and 障害相談), the
    person's consent naming both, and the 重層的支援会議 that approved it."""
    from meetings import services

    w = coordinating
    w.coord = fresh(w.coordinator)
    w.next_agency = fresh(w.other_worker).agencies[0]  # みどり障害者相談支援センター
    w.own_agency = fresh(w.assigned).agencies[0]
    w.next_colleague = staff_user(Role.WORKER, w.next_agency, username="next_colleague")
    today = timezone.localdate()
    services.support_decision_record(case=w.case, acting_user=w.coord, decided_on=today)
    services.consent_record(
        case=w.case,
        person=w.person,
        acting_user=w.coord,
        consenting_party="self",
        consented_on=today,
        method="written",
        recipients=[w.next_agency, w.own_agency],
        categories=["basic", "plan"],
        purpose="支援プランの協議と実施",
    )
    w.plan = draft_plan(
        w,
        ["長男が相談窓口につながる"],
        [
            {"agency": w.next_agency, "role": "障害福祉サービスの調整", "content": "長男の面談"},
            {"agency": w.own_agency, "role": "母の介護サービス調整", "content": "ケアプランの見直し"},
        ],
    )
    w.conference = services.conference_create(acting_user=w.coord, held_at=timezone.now())
    services.plan_approve(conference=w.conference, plan=w.plan, acting_user=w.coord)
    return w


def evaluate(w, next_step, *, result=None, person_change="安定", **extra):
    """評価 of the approved plan's one goal at the 重層的支援会議 (達成 unless `result` says otherwise)."""
    from meetings import services
    from meetings.models import GoalResult

    goal = w.plan.goals.get()
    return services.plan_evaluate(
        conference=w.conference,
        plan=w.plan,
        acting_user=w.coord,
        goal_results={goal.pk: (result or GoalResult.ACHIEVED, "")},
        person_change=person_change,
        next_step=next_step,
        **extra,
    )


def draft_plan(w, goals, tasks):
    """A 支援プラン drafted by the coordinator for the 8050 household: `goals` and `tasks` (role sharing),
    to be reviewed in 90 days."""
    from meetings import services

    return services.plan_create(
        case=w.case,
        acting_user=w.coord,
        goals=goals,
        tasks=tasks,
        person_wishes="家で暮らしたい",
        issues_summary="介護と長男のひきこもり",
        long_term_goal="世帯が安定して暮らせる",
        review_on=timezone.localdate() + timedelta(days=90),
    )
