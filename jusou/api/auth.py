"""Who is calling the API, and what they may ask for.

- Staff: their browser session (with the second factor where it is required) or a personal token
  (`Authorization: Bearer …` or `Token …`). Their roles and grants decide, exactly as in the UI.
- Registered machine clients (ApiClient): a token of the client's service account. They act for one
  agency through that agency's grants, and only within the client's scopes.

Tokens are django-rest-knox tokens: only a hash is stored, each has an expiry, and deactivating the
account (or the client) ends them all.
"""

from datetime import timedelta

from django.conf import settings
from knox.auth import TokenAuthentication
from knox.models import AuthToken
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from jusou.models import ApiClient, ApiScope, Role, User
from jusou.staff.twofactor import otp_required, session_verified

STAFF_ROLES = frozenset({Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR})


def api_client_of(user: User) -> ApiClient | None:
    """The machine client whose service account this is (cached on the user object), or None."""
    if not user.is_authenticated or not user.has_role(Role.API_CLIENT):
        return None
    if "_api_client" not in user.__dict__:
        user.__dict__["_api_client"] = ApiClient.objects.filter(user=user).first()
    return user.__dict__["_api_client"]


def token_issue(*, user: User, days: int | None = None) -> tuple[AuthToken, str]:
    """A new token for `user`; the clear text is returned once and never stored."""
    ttl = timedelta(days=days or settings.API_TOKEN_DAYS)
    return AuthToken.objects.create(user=user, expiry=ttl)


class BearerTokenAuthentication(TokenAuthentication):
    """knox tokens sent as `Bearer <token>` (OAuth style) or `Token <token>` (DRF style)."""

    keywords = (b"bearer", b"token")

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Authorization ヘッダーの形式が正しくありません。", code="invalid_header"
            )
        try:
            user, token = self.authenticate_credentials(parts[1])
        except exceptions.AuthenticationFailed:
            raise exceptions.AuthenticationFailed(
                "トークンが無効か、期限が切れています。", code="invalid_token"
            ) from None
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("トークンが無効です。", code="invalid_token") from None
        if not user.roles:
            raise exceptions.AuthenticationFailed("有効な所属がないアカウントです。", code="no_membership")
        client = api_client_of(user)
        if user.has_role(Role.API_CLIENT) and (client is None or not client.is_active):
            raise exceptions.AuthenticationFailed("この連携システムは無効です。", code="client_inactive")
        return user, token

    def authenticate_header(self, request):
        return 'Bearer realm="jusou"'


class StaffSessionAuthentication(SessionAuthentication):
    """The browser session, for staff tools on the same site; the second factor must be done where
    it is required, as for every page."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None

        user = result[0]
        if otp_required(user) and not session_verified(request._request):
            raise exceptions.AuthenticationFailed("二要素認証を完了してください。", code="otp_required")
        return result


class ApiAccess(BasePermission):
    """Staff need a staff role (their grants decide the rest); a machine client needs the scope the
    view names for the method (`view.scopes = {"read": ApiScope…, "write": ApiScope…}`)."""

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        client = api_client_of(user)
        if client is not None:
            if getattr(view, "any_client", False):  # e.g. /me/: a client may always ask who it is
                return True
            scopes = getattr(view, "scopes", {})
            kind = "read" if request.method in ("GET", "HEAD", "OPTIONS") else "write"
            needed = scopes.get(kind)
            if needed is None or not client.has_scope(needed):
                label = ApiScope(needed).label if needed else "この操作"
                raise exceptions.PermissionDenied(
                    f"この連携システムには「{label}」の権限がありません。", code="scope_missing"
                )
            return True
        if not user.roles & getattr(view, "staff_roles", STAFF_ROLES):
            raise exceptions.PermissionDenied("この API を使う権限がありません。", code="role_missing")
        return True


class ClientRateThrottle(UserRateThrottle):
    """Per account (each machine client has its own); counted in the shared cache (Redis in
    production, so every gunicorn worker counts together)."""

    scope = "api"

    def get_rate(self):
        return settings.API_RATE_LIMIT


class TokenRequestThrottle(AnonRateThrottle):
    scope = "api_token"

    def get_rate(self):
        return settings.API_TOKEN_RATE_LIMIT
