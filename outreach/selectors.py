"""Reads for アウトリーチ: through the engagement's grants (the owning agency, the lead worker and each
coordinator, all 担当) and supervisors by role; anyone else gets 404."""

from django.db.models import QuerySet
from django.http import Http404

from cases.policy import confidential_ids, location_allowed_ids
from jusou.access.decision import AccessDecision, combine
from jusou.access.fieldpolicy import declared, mask
from jusou.access.grants import access_decision, visible_or_404, visible_q
from jusou.models import Role, User
from outreach.models import OutreachEngagement


def engagements_visible_to(user: User) -> QuerySet[OutreachEngagement]:
    if user.has_role(Role.SUPERVISOR):
        return OutreachEngagement.objects.all()
    return OutreachEngagement.objects.filter(visible_q(user, OutreachEngagement))


def engagement_get_for_user(user: User, pk: int) -> OutreachEngagement:
    engagements = engagements_visible_to(user).select_related(
        "owning_agency", "lead_worker", "person", "case", "connected_agency"
    )
    engagement = visible_or_404(engagements, user=user, pk=pk, message="アウトリーチの記録が見つかりません。")
    engagement.decision = engagement_decision(user, engagement)
    return engagement


def engagement_decision(user: User, engagement: OutreachEngagement) -> AccessDecision:
    """担当 through the engagement's grants; 管理者 by role."""
    decision = access_decision(user, engagement)
    if user.has_role(Role.SUPERVISOR):
        decision = combine(decision, AccessDecision.supervisor())
    if decision is None:
        raise Http404("アウトリーチの記録が見つかりません。")
    return decision


def engagement_can_change(user: User, engagement: OutreachEngagement) -> bool:
    """Writers: 担当 grants (each coordinator holds one: they receive the alerts and step in)."""
    return (
        OutreachEngagement.objects.filter(pk=engagement.pk)
        .filter(visible_q(user, OutreachEngagement, "change"))
        .exists()
    )


def engagement_location_policy(user: User, engagements):
    """An engagement linked to a person under 住所秘匿 shows its whereabouts only to the assigned
    (the pages and the API both apply this)."""
    people = {e.person_id for e in engagements if e.person_id}
    hidden = confidential_ids(people)
    allowed = location_allowed_ids(user, hidden)
    for engagement in engagements:
        if engagement.person_id in hidden and engagement.person_id not in allowed:
            mask(engagement, declared(OutreachEngagement, "location"))
    return engagements
