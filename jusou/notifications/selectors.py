"""お知らせ as their recipient reads them."""

from django.db.models import QuerySet

from jusou.models import Notification, User


def notifications_for_user(user: User) -> QuerySet[Notification]:
    """The user's own delivered notifications, newest first. Nobody reads another's."""
    return Notification.objects.delivered().filter(recipient=user)


def notification_unread_count(user: User) -> int:
    return Notification.objects.unread().filter(recipient=user).count()
