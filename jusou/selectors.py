"""Reads of the shared records that depend on who is asking."""

from django.db.models import Exists, OuterRef, QuerySet

from jusou.models import ApiClient, Notification, Role, StaffMembership, User


def person_accounts(users: QuerySet[User] | None = None) -> QuerySet[User]:
    """`users` (every account by default) without the service accounts of API clients (User.is_machine):
    what a list of people to choose from (構成員, 主担当者, a worker filter) starts from."""
    users = User.objects.all() if users is None else users
    machine_membership = StaffMembership.objects.filter(user=OuterRef("pk"), role=Role.API_CLIENT)
    return users.exclude(Exists(ApiClient.objects.filter(user=OuterRef("pk")))).exclude(
        Exists(machine_membership)
    )


def notifications_for_user(user: User) -> QuerySet[Notification]:
    """The user's own delivered notifications, newest first. Nobody reads another's."""
    return Notification.objects.delivered().filter(recipient=user)


def notification_unread_count(user: User) -> int:
    return Notification.objects.unread().filter(recipient=user).count()
