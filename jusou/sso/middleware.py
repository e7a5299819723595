"""Ends, at its next request, a session whose SSO session has ended (IdP back-channel logout, beat's
check, logout elsewhere), and keeps the SSO session's record of the session key current."""

from django.contrib import auth, messages
from django.utils import timezone

from jusou.models import SsoSession
from jusou.sso.services import SESSION_KEY, sessions_end


class SsoSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        pk = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if pk:
            row = SsoSession.objects.filter(pk=pk).values("ended_at", "session_key", "expires_at").first()
            if (
                row is not None
                and row["ended_at"] is None
                and row["expires_at"]
                and row["expires_at"] <= timezone.now()
            ):
                sessions_end(
                    SsoSession.objects.filter(pk=pk),
                    reason="統合認証のセッションの有効期限（IdPで再認証が必要）",
                )
                row["ended_at"] = timezone.now()
            if row is None or row["ended_at"] is not None:
                auth.logout(request)
                messages.info(request, "統合認証（IdP）側でログインが終了したため、ログアウトしました。")
            elif row["session_key"] != request.session.session_key:
                SsoSession.objects.filter(pk=pk).update(session_key=request.session.session_key or "")
        return self.get_response(request)
