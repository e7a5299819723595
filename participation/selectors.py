"""Reads for 参加支援: exactly as the case (same grants, same 404)."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from cases.models import Case
from cases.selectors import cases_visible_to, is_supervisor, require_case_section
from jusou.fieldpolicy import mask_sensitive
from jusou.models import AccessBasis, AccessGrant, ResourceGap, ResourceGapStatus, User
from participation.models import HostCandidate, ParticipationPlan


def plans_visible_to(user: User) -> QuerySet[ParticipationPlan]:
    return ParticipationPlan.objects.filter(case__in=cases_visible_to(user).values("pk"))


def plans_listed_for(user: User) -> QuerySet[ParticipationPlan]:
    """For lists (the API's): the visible plans, except those whose case the user holds on 本人同意
    alone — a consent opens only the categories the person agreed to, which is decided per case when
    one plan is opened, not for a whole list."""
    plans = plans_visible_to(user)
    if is_supervisor(user):
        return plans
    beyond_consent = (
        AccessGrant.objects.valid()
        .filter(content_type=ContentType.objects.get_for_model(Case), object_id=OuterRef("case_id"),
                permission="view")
        .exclude(basis=AccessBasis.CONSENT)
        .filter(Q(user=user) | Q(agency__in=user.agencies))
    )  # fmt: skip
    return plans.filter(Exists(beyond_consent))


def plan_get_for_user(user: User, pk: int) -> ParticipationPlan:
    plan = (
        plans_visible_to(user)
        .filter(pk=pk)
        .select_related("case__person", "case__owning_agency", "created_by")
        .first()
    )
    if plan is None:
        raise Http404("参加支援プランが見つかりません。")
    require_case_section(user, plan.case, "plan")  # a consent that does not cover 支援プラン opens no plan
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
