"""Reads of the shared records that depend on who is asking."""

from django.db.models import Exists, OuterRef, QuerySet

from jusou.models import ApiClient, Role, StaffMembership, User


def person_accounts(users: QuerySet[User] | None = None) -> QuerySet[User]:
    """`users` (every account by default) without the service accounts of API clients (User.is_machine):
    what a list of people to choose from (構成員, 主担当者, a worker filter) starts from."""
    users = User.objects.all() if users is None else users
    machine_membership = StaffMembership.objects.filter(user=OuterRef("pk"), role=Role.API_CLIENT)
    return users.exclude(Exists(ApiClient.objects.filter(user=OuterRef("pk")))).exclude(
        Exists(machine_membership)
    )


def active_supervisors(*, agency=None) -> QuerySet[User]:
    """Active accounts with a 管理者 membership in force today (at `agency` when given): who is told
    of unusual reads, 緊急閲覧, departures and retention deadlines."""
    memberships = StaffMembership.objects.active().filter(role=Role.SUPERVISOR)
    if agency is not None:
        memberships = memberships.filter(agency=agency)
    return User.objects.filter(is_active=True, pk__in=memberships.values("user_id")).order_by("pk")
