"""Reads for 多機関協働, always through the cases selectors (same grants, same 404s)."""

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from cases.models import Case, CaseStatus, CaseTransition
from cases.policy import mask_sensitive
from cases.selectors import cases_visible_to, require_case_section
from jusou.access import visible_q
from jusou.models import User
from meetings.models import (
    ConfidentialityPledge,
    Consent,
    PlanConference,
    PlanStatus,
    SupportDecision,
    SupportMeeting,
    SupportPlan,
)


def inbox(user: User, status: str = CaseStatus.REFERRED) -> list[Case]:
    """Referred (or, with `status`, taken-up) cases the user may see, oldest referral first, with
    when and by whom they were referred. Rows carry no 要配慮個人情報."""
    referral = CaseTransition.objects.filter(case=OuterRef("pk"), to_status=CaseStatus.REFERRED).order_by(
        "-at"
    )
    cases = (
        cases_visible_to(user)
        .filter(status=status)
        .select_related("person", "owning_agency", "lead_worker")
        .annotate(referred_at=Subquery(referral.values("at")[:1]))
        .order_by("referred_at", "pk")
    )
    return mask_sensitive(cases)


def case_consents(case: Case) -> list[Consent]:
    return list(
        Consent.objects.filter(case=case).select_related("person", "taken_by", "withdrawal_received_by")
        .prefetch_related("recipients")
        .order_by("person_id", "-consented_on", "-pk")
    )  # fmt: skip


def case_decisions(case: Case) -> QuerySet[SupportDecision]:
    return SupportDecision.objects.filter(case=case).select_related("decided_by")


def consent_get_for_user(user: User, pk: int) -> Consent:
    consent = Consent.objects.filter(pk=pk, case__in=cases_visible_to(user).values("pk")).first()
    if consent is None:
        raise Http404("本人同意の記録が見つかりません。")
    return consent


def case_plans(case: Case) -> list[SupportPlan]:
    return list(SupportPlan.objects.filter(case=case).order_by("-version"))


def plan_get_for_user(user: User, pk: int) -> SupportPlan:
    """A plan is readable exactly when its case is (same grants, same 404)."""
    plan = (
        SupportPlan.objects.filter(pk=pk, case__in=cases_visible_to(user).values("pk"))
        .select_related("case__person", "case__owning_agency", "author")
        .first()
    )
    if plan is None:
        raise Http404("支援プランが見つかりません。")
    require_case_section(user, plan.case, "plan")  # a consent that does not cover 支援プラン opens no plan
    return plan


def plan_detail(plan: SupportPlan) -> dict:
    evaluations = list(
        plan.evaluations.select_related(
            "item__conference", "evaluated_by", "next_lead_agency"
        ).prefetch_related("goal_results__goal")
    )
    return {
        "plan": plan,
        "goals": list(plan.goals.all()),
        "tasks": list(plan.tasks.select_related("agency")),
        "evaluations": evaluations,
        "agenda": list(plan.agenda_items.select_related("conference").order_by("conference__held_at", "pk")),
        "versions": list(SupportPlan.objects.filter(case_id=plan.case_id).order_by("-version")),
    }


def conferences_for(user: User) -> QuerySet[PlanConference]:
    """The coordinator's 重層的支援会議 records (hosted by any coordinator of the municipality)."""
    return PlanConference.objects.select_related("host").order_by("-held_at")


def conference_open_plans(user: User) -> dict:
    """Plans a conference can take up: drafts to approve, approved ones to evaluate — of cases the
    user may see."""
    visible = cases_visible_to(user).values("pk")
    plans = (
        SupportPlan.objects.filter(case__in=visible).select_related("case__person").prefetch_related("goals")
    )
    return {
        "drafts": list(plans.filter(status=PlanStatus.DRAFT).order_by("case_id")),
        "approved": list(plans.filter(status=PlanStatus.APPROVED).order_by("review_on")),
    }


# --- 支援会議 ----------------------------------------------------------------------------------


def meetings_visible_to(user: User) -> QuerySet[SupportMeeting]:
    """Meetings the user hosts, or is a member of with the access window open *and* 守秘義務
    acknowledged. Everyone else — a colleague of a member included — sees none of it."""
    pledged = ConfidentialityPledge.objects.filter(meeting=OuterRef("pk"), user=user)
    return SupportMeeting.objects.filter(visible_q(user, SupportMeeting)).filter(
        Q(host=user) | Q(Exists(pledged))
    )


def meeting_awaiting_pledge(user: User, pk: int) -> SupportMeeting | None:
    """A meeting whose window is open for this member but whose 守秘義務 is not yet acknowledged."""
    return (
        SupportMeeting.objects.filter(visible_q(user, SupportMeeting))
        .filter(pk=pk)
        .exclude(host=user)
        .first()
    )


def meeting_get_for_user(user: User, pk: int) -> SupportMeeting:
    meeting = meetings_visible_to(user).select_related("host").filter(pk=pk).first()
    if meeting is None:
        raise Http404("支援会議が見つかりません。")
    return meeting


def meeting_list(user: User) -> list[dict]:
    """For the list page: visible meetings, plus those waiting for this member's 守秘義務 (title and
    date only)."""
    visible = list(meetings_visible_to(user).select_related("host").order_by("-held_at"))
    visible_ids = {m.pk for m in visible}
    waiting = [m for m in SupportMeeting.objects.filter(visible_q(user, SupportMeeting)).order_by("-held_at")
               if m.pk not in visible_ids]  # fmt: skip
    return [{"meeting": m, "pledged": True} for m in visible] + [
        {"meeting": m, "pledged": False} for m in waiting
    ]


def meeting_detail(meeting: SupportMeeting) -> dict:
    return {
        "meeting": meeting,
        "briefings": list(meeting.briefings.prefetch_related("decisions").order_by("pk")),
        "members": list(meeting.members.select_related("user").order_by("pk")),
        "pledged_user_ids": set(meeting.pledges.values_list("user_id", flat=True)),
    }


def consent_categories_for(user: User, case: Case) -> set[str]:
    """The information categories that valid consents of the case's person open to the user's
    agencies (registered as the consent scope provider for the case page)."""
    consents = Consent.objects.valid().filter(
        case=case, person_id=case.person_id, recipients__in=user.agencies
    )
    return {
        category for categories in consents.values_list("categories", flat=True) for category in categories
    }
