"""Reads for 参加支援: exactly as the case (same grants, same 404)."""

from django.db.models import QuerySet

from cases.models import Case
from cases.selectors import cases_opening, cases_visible_to, require_case_section
from community.selectors import can_record, keeps_whole_register
from jusou.access.fieldpolicy import mask_sensitive, project
from jusou.access.grants import visible_or_404
from jusou.models import ResourceGap, ResourceGapStatus, User
from participation.models import HostCandidate, ParticipationPlan


def candidate_can_change(user: User, candidate: HostCandidate) -> bool:
    """Complete, move or join a 開拓 candidate: the 職員 who approached it (still a recorder) and the
    keepers of the register (相談支援包括化推進員, 地域福祉担当), who coordinate every 開拓. Another
    agency's 相談員 reads it on the page but does not change someone else's negotiation."""
    return keeps_whole_register(user) or (candidate.approached_by_id == user.pk and can_record(user))


def plans_visible_to(user: User) -> QuerySet[ParticipationPlan]:
    return ParticipationPlan.objects.filter(case__in=cases_visible_to(user).values("pk"))


def plans_listed_for(user: User) -> QuerySet[ParticipationPlan]:
    """For lists (the API's): the plans of the cases whose decision opens 支援プラン — a case held on
    本人同意 alone lists its plans when the consent covers them (cases.selectors.cases_opening)."""
    return ParticipationPlan.objects.filter(case__in=cases_opening(user, "plan").values("pk"))


def plan_get_for_user(user: User, pk: int) -> ParticipationPlan:
    plans = plans_visible_to(user).select_related("case__person", "case__owning_agency", "created_by")
    plan = visible_or_404(plans, user=user, pk=pk, message="参加支援プランが見つかりません。")
    # a consent that does not cover 支援プラン opens no plan
    project(plan, require_case_section(user, plan.case, "plan"))
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
        "candidates": list(
            HostCandidate.objects.select_related("area", "approached_by", "resource", "gap__area")[:100]
        ),
        "gaps": list(
            ResourceGap.objects.exclude(status=ResourceGapStatus.DEVELOPED)
            .select_related("area")
            .order_by("-recorded_at")
        ),
    }
