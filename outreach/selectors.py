"""Reads for アウトリーチ: the owning agency and the lead worker (担当), coordinators and supervisors;
anyone else gets 404."""

from django.db.models import QuerySet
from django.http import Http404

from jusou.access import visible_q
from jusou.models import Role, User
from outreach.models import OutreachEngagement


def engagements_visible_to(user: User) -> QuerySet[OutreachEngagement]:
    if user.roles & {Role.SUPERVISOR, Role.COORDINATOR}:
        return OutreachEngagement.objects.all()
    return OutreachEngagement.objects.filter(visible_q(user, OutreachEngagement))


def engagement_get_for_user(user: User, pk: int) -> OutreachEngagement:
    engagement = (
        engagements_visible_to(user).select_related("owning_agency", "lead_worker", "person", "case", "connected_agency")
        .filter(pk=pk).first()
    )  # fmt: skip
    if engagement is None:
        raise Http404("アウトリーチの記録が見つかりません。")
    return engagement


def engagement_can_change(user: User, engagement: OutreachEngagement) -> bool:
    """Writers: 担当 grants, and coordinators (who receive the alerts and may step in)."""
    if user.has_role(Role.COORDINATOR):
        return True
    return (
        OutreachEngagement.objects.filter(pk=engagement.pk)
        .filter(visible_q(user, OutreachEngagement, "change"))
        .exists()
    )
