"""保存年限: 参加支援's records of a case go with the case (participation.retention)."""

from cases.models import Case
from cases.tests.test_retention import TODAY, close, dispose
from jusou.retention import services as retention
from jusou.retention.anonymise import DISPOSED
from jusou.retention.models import DisposalCandidate
from participation import services
from participation.models import FollowUp, ParticipationPlan, Placement, PlacementStatus
from participation.tests.conftest import follow_up, new_plan, place


def placed(world, hosts):
    plan = new_plan(world)
    placement = place(world, plan, hosts["shokudo"], host_contact="食堂の田中さん")
    follow_up(world, placement, "person", "花子さんは楽しく通えている")
    return plan, placement


def test_an_active_placement_holds_the_case_and_the_plan_goes_with_it(world, hosts):
    plan, placement = placed(world, hosts)
    case = close(world.case, world.assigned)
    retention.retention_scan(today=TODAY)
    assert not DisposalCandidate.objects.filter(object_id=case.pk, record_type="cases.case").exists()  # held
    services.placement_move(
        placement=placement,
        acting_user=world.assigned,
        to_status=PlacementStatus.ENDED,
        reason="花子さんの入院のため",
    )
    dispose(Case.objects.get(pk=case.pk), world.supervisor)
    plan = ParticipationPlan.objects.get(pk=plan.pk)
    assert (plan.wishes, plan.strengths, plan.health, plan.mobility, plan.goals) == (DISPOSED,) * 5
    assert plan.kinds == ["volunteer"] and all(row.health in ("", DISPOSED) for row in plan.history.all())
    placement = Placement.objects.get(pk=placement.pk)
    assert (placement.end_reason, placement.status, placement.host_id) == (
        DISPOSED,
        "ended",
        hosts["shokudo"].pk,
    )
    assert FollowUp.objects.get(placement=placement).content == DISPOSED
