from django.utils.functional import SimpleLazyObject

from jusou.models import Role
from jusou.notifications.selectors import notification_unread_count
from jusou.registry import nav_for


def staff(request):
    """Role flags for the navigation and the bell's unread count (one query, only when rendered)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "roles": SimpleLazyObject(lambda: {role.name.lower(): role in user.roles for role in Role}),
        "unread_notification_count": SimpleLazyObject(lambda: notification_unread_count(user)),
        "nav_items": SimpleLazyObject(lambda: nav_for(user)),
    }
