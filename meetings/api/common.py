"""What the 多機関協働 API modules share: the read scope, the coordinators' permission, If-Match."""

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from jusou.api.base import require_if_match
from jusou.models import ApiScope, Role

READ_ONLY = {"read": ApiScope.MEETINGS_READ}
MAX_ID = 10**18 - 1  # larger ids cannot exist (and would overflow the database integer)


class CoordinatorsOnly(BasePermission):
    """The inbox and the 重層的支援会議 pages are the 相談支援包括化推進員's (everyone else gets 403,
    a machine client too: it acts for an agency, never as a coordinator)."""

    def has_permission(self, request, view):
        if not request.user.has_role(Role.COORDINATOR):
            raise PermissionDenied("この API は相談支援包括化推進員が使います。", code="role_missing")
        return True


def refuse_stale(request, locked) -> None:
    """If-Match is optional on these actions (as on the case transitions); when sent, a version older
    than the locked row's is refused (412)."""
    if request.headers.get("If-Match"):
        require_if_match(request, locked)
