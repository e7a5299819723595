"""Reads for 多機関協働, always through the cases selectors (same grants, same 404s)."""

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404

from cases.models import Case, CaseStatus, CaseTransition
from cases.policy import mask_sensitive
from cases.selectors import cases_visible_to
from jusou.models import User
from meetings.models import Consent, SupportDecision


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
