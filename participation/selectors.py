"""Reads for 参加支援: exactly as the case (same grants, same 404)."""

from django.http import Http404

from cases.models import Case
from cases.selectors import cases_visible_to
from jusou.fieldpolicy import mask_sensitive
from jusou.models import ResourceGap, ResourceGapStatus, User
from participation.models import HostCandidate, ParticipationPlan


def plan_get_for_user(user: User, pk: int) -> ParticipationPlan:
    plan = (
        ParticipationPlan.objects.filter(pk=pk, case__in=cases_visible_to(user).values("pk"))
        .select_related("case__person", "case__owning_agency", "created_by")
        .first()
    )
    if plan is None:
        raise Http404("参加支援プランが見つかりません。")
    return plan


def case_plans(case: Case) -> list[ParticipationPlan]:
    return mask_sensitive(ParticipationPlan.objects.filter(case=case).order_by("-created_at"))


def plan_detail(plan: ParticipationPlan) -> dict:
    return {
        "proposals": list(plan.proposals.select_related("host__area").order_by("pk")),
        "placements": list(
            plan.placements.select_related("host").prefetch_related("follow_ups").order_by("-pk")
        ),
    }


def development_backlog() -> dict:
    return {
        "candidates": list(HostCandidate.objects.select_related("area", "approached_by", "resource")[:100]),
        "gaps": list(ResourceGap.objects.exclude(status=ResourceGapStatus.DEVELOPED).select_related("area")),
    }
