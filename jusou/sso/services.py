"""The rules of single sign-on (issue 20), one place for every IdP kind.

- **Who is who**: an IdP login is matched on (IdP, subject) only (SsoIdentity), never on an e-mail.
  An unknown subject is refused unless the IdP's CREATE_ACCOUNTS setting is on *and* its groups map
  to a role; then the account is made just in time.
- **Roles and agencies** come from the IdP's groups through SsoGroupMapping, applied at every login
  (mapping_apply), in history. A mapping never gives システム管理者.
- **MFA**: a login whose `amr`/`acr` the IdP's settings count as multi-factor is not asked for jusou's
  TOTP again (jusou.staff.twofactor.session_verified); any other login is, by today's rule.
- **Ending access**: logout ends the SSO session here and at the IdP (RP-initiated logout); the IdP's
  back-channel logout ends the sessions it names; beat asks the IdP, with each open session's refresh
  token, whether the subject may still sign in, and ends the sessions of those it refuses.
- Every login, refusal, logout, ending and mapping change is an SsoEvent.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.django_client import OAuth
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.contrib import auth
from django.contrib.sessions.models import Session
from django.core.cache import cache as django_cache
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, JoseError
from joserfc.jwk import KeySet

from jusou.models import (
    Agency,
    Role,
    SsoEvent,
    SsoGroupMapping,
    SsoIdentity,
    SsoSession,
    StaffMembership,
    User,
)
from jusou.sso.config import OidcProvider
from jusou.sso.models import MAPPABLE_ROLES

logger = logging.getLogger(__name__)

#: the session's keys: the SsoSession it belongs to, and whether the IdP asserted a second factor
SESSION_KEY = "jusou_sso_session"
MFA_KEY = "jusou_sso_mfa"
NEXT_KEY = "jusou_sso_next"
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class SsoRefused(Exception):
    """A login refused: `message` is what the person is told (Japanese), `detail` what the log keeps."""

    def __init__(self, message: str, detail: str = "", *, subject: str = "", user: User | None = None):
        super().__init__(message)
        self.message, self.detail, self.subject, self.user = message, detail or message, subject, user


# --- The IdPs ------------------------------------------------------------------------------------


def provider_get(key: str) -> OidcProvider:
    provider = settings.SSO_OIDC.get(key)
    if provider is None:
        raise Http404("このIdPは設定されていません。")
    return provider


@cache
def _client(provider: OidcProvider):
    oauth = OAuth()
    return oauth.register(
        name=provider.key,
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        server_metadata_url=provider.metadata_url,
        client_kwargs={"scope": provider.scopes, "code_challenge_method": "S256", "timeout": 10},
    )


def oidc_client(provider: OidcProvider):
    """Authlib's client for the IdP (discovery read once per process and IdP settings)."""
    return _client(provider)


# --- Login ---------------------------------------------------------------------------------------


def _groups(claims, provider: OidcProvider) -> list[str]:
    value = claims.get(provider.groups_claim) or []
    if isinstance(value, str):
        value = [value]
    return [str(group) for group in value if isinstance(group, str | int)]


def mfa_asserted(claims, provider: OidcProvider) -> bool:
    """Whether the IdP says this login used more than a password: an `amr` value or the `acr` the
    IdP's settings count (SSO_OIDC_<KEY>_MFA_AMR / _MFA_ACR)."""
    amr = claims.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    return bool(set(amr) & provider.mfa_amr) or (claims.get("acr") in provider.mfa_acr)


def mapped_roles(provider_key: str, groups) -> set[tuple[int | None, str]]:
    """(agency id, role) for each mapping of these groups at this IdP (never システム管理者)."""
    rows = SsoGroupMapping.objects.filter(
        provider=provider_key, group__in=list(groups), role__in=MAPPABLE_ROLES
    )
    return set(rows.values_list("agency_id", "role"))


def mapping_apply(*, user: User, provider_key: str, groups, address=None) -> list[str]:
    """Make the user's memberships from this IdP's groups what the mappings say, today: a membership
    a mapping made (source "sso:<IdP>") ends when no group maps to it any more; a mapped role the user
    lacks begins. Memberships entered by hand are not touched, and an IdP with no mapping at all
    changes nothing (the システム管理者 then keeps the memberships by hand). Returns what changed."""
    from jusou.staff.services import membership_end, membership_grant

    if not SsoGroupMapping.objects.filter(provider=provider_key).exists():
        return []
    source = f"sso:{provider_key}"
    reason = f"統合認証（{provider_key}）のグループ割当て"
    wanted = mapped_roles(provider_key, groups)
    active = list(StaffMembership.objects.active().filter(user=user).select_related("agency"))
    changes = []
    kept = set()
    for membership in active:
        pair = (membership.agency_id, membership.role)
        if membership.source == source and pair not in wanted:
            membership_end(membership=membership, acting_user=None, reason=reason)
            changes.append(f"終了: {membership.agency or '—'} / {membership.get_role_display()}")
        else:
            kept.add(pair)
    agencies = Agency.objects.in_bulk([agency_id for agency_id, _ in wanted if agency_id])
    for agency_id, role in sorted(wanted - kept, key=lambda pair: (pair[0] or 0, pair[1])):
        agency = agencies.get(agency_id) if agency_id else None
        membership_grant(user=user, agency=agency, role=role, acting_user=None, source=source, reason=reason)
        changes.append(f"開始: {agency or '—'} / {Role(role).label}")
    if changes:
        SsoEvent.objects.create(
            provider=provider_key,
            subject="",
            user=user,
            kind=SsoEvent.Kind.MAPPED,
            detail="、".join(changes)[:500],
            address=address,
        )
    return changes


def _username_for(provider_key: str, subject: str) -> str:
    base = re.sub(r"[^\w.@+-]", "_", f"{provider_key}-{subject}")[:140]
    username, n = base, 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{base}-{n}"
    return username


def _account_create(provider_key: str, asserted: IdpAssertion) -> SsoIdentity:
    user = User(
        username=_username_for(provider_key, asserted.subject),
        last_name=asserted.family_name[:150],
        first_name=asserted.given_name[:150],
        email=asserted.email[:254],
        is_active=True,
    )
    user.set_unusable_password()
    user._change_reason = f"統合認証（{provider_key}）で作成"
    user.save()
    return SsoIdentity.objects.create(user=user, provider=provider_key, subject=asserted.subject)


@dataclass
class IdpAssertion:
    """What an IdP said about the person, once its protocol's checks all passed (OIDC: Authlib's ID token
    checks; SAML: pysaml2's signature, audience, time and InResponseTo checks)."""

    subject: str
    groups: list[str]
    mfa: bool
    family_name: str = ""
    given_name: str = ""
    email: str = ""
    idp_session: str = ""  # OIDC sid, SAML SessionIndex
    id_token: str = ""
    refresh_token: str = ""
    name_id: str = ""  # SAML: the NameID (XML)
    expires_at: datetime | None = None


@dataclass
class SsoLogin:
    user: User
    session: SsoSession
    mfa: bool


def refuse_log(provider_key: str, refused: SsoRefused, address=None) -> None:
    """A refused login in the sign-in log: what the person was told, and the technical reason."""
    logger.warning("SSO %s: refused %s: %s", provider_key, refused.subject or "-", refused.detail)
    detail = (
        refused.message if refused.detail == refused.message else f"{refused.message}（{refused.detail}）"
    )
    SsoEvent.objects.create(
        provider=provider_key,
        subject=refused.subject[:255],
        user=refused.user,
        kind=SsoEvent.Kind.REFUSED,
        detail=detail[:500],
        address=address,
    )


def logout_refused_log(provider_key: str, error: Exception, address=None) -> None:
    """A logout message from an IdP that was not accepted (forged, unsigned, replayed …): it ended nothing."""
    logger.warning("SSO %s: %s", provider_key, error)
    SsoEvent.objects.create(
        provider=provider_key,
        kind=SsoEvent.Kind.LOGOUT_REFUSED,
        detail=f"IdPからのログアウト要求を受け付けませんでした（{error}）"[:500],
        address=address,
    )


def oidc_login_complete(request, provider: OidcProvider, token: dict) -> SsoLogin:
    """Log the person in from an IdP's validated token response (Authlib checked the ID token's
    signature, issuer, audience, times and nonce, and the state)."""
    claims = token.get("userinfo") or {}
    subject = str(claims.get("sub") or "")
    if not subject:
        raise SsoRefused("IdPの応答に利用者の識別子（sub）がありません。", "no sub claim")
    asserted = IdpAssertion(
        subject=subject,
        groups=_groups(claims, provider),
        mfa=mfa_asserted(claims, provider),
        family_name=str(claims.get("family_name") or claims.get("name") or ""),
        given_name=str(claims.get("given_name") or ""),
        email=str(claims.get("email") or ""),
        idp_session=str(claims.get("sid") or ""),
        id_token=token.get("id_token") or "",
        refresh_token=token.get("refresh_token") or "",
    )
    return login_complete(
        request, provider_key=provider.key, create_accounts=provider.create_accounts, asserted=asserted
    )


@transaction.atomic
def login_complete(request, *, provider_key: str, create_accounts: bool, asserted: IdpAssertion) -> SsoLogin:
    """Every IdP kind's login, once the protocol's checks passed: match the subject, apply the group
    mapping, check the account and its memberships, log in, open the SsoSession, log the event."""
    subject, groups = asserted.subject, asserted.groups
    address = request.META.get("REMOTE_ADDR")
    identity = (
        SsoIdentity.objects.select_related("user").filter(provider=provider_key, subject=subject).first()
    )
    if identity is None:
        if not create_accounts:
            raise SsoRefused(
                "このIdPのアカウントは jusou に登録されていません。システム管理者に登録を依頼してください。",
                "unknown subject (CREATE_ACCOUNTS is off)",
                subject=subject,
            )
        if not mapped_roles(provider_key, groups):
            raise SsoRefused(
                "このIdPのアカウントは jusou に登録されておらず、所属できるグループもありません。"
                "システム管理者に連絡してください。",
                f"unknown subject, no mapped group in {groups!r}",
                subject=subject,
            )
        identity = _account_create(provider_key, asserted)
    user = identity.user
    if not user.is_active:
        raise SsoRefused(
            "このアカウントは利用停止されています。システム管理者に連絡してください。",
            "account inactive",
            subject=subject,
            user=user,
        )
    mapping_apply(user=user, provider_key=provider_key, groups=groups, address=address)
    user = User.objects.get(pk=user.pk)  # memberships as the mapping left them
    if not user.active_memberships and not user.is_superuser:
        raise SsoRefused(
            "有効な所属が登録されていません。システム管理者に連絡してください。",
            f"no active membership (groups {groups!r})",
            subject=subject,
            user=user,
        )
    mfa = asserted.mfa
    auth.login(request, user, backend="jusou.staff.auth.StaffBackend")
    session = SsoSession.objects.create(
        identity=identity,
        session_key=request.session.session_key or "",
        idp_session=asserted.idp_session[:255],
        mfa=mfa,
        id_token=asserted.id_token,
        refresh_token=asserted.refresh_token,
        name_id=asserted.name_id,
        expires_at=asserted.expires_at,
    )
    request.session[SESSION_KEY] = session.pk
    request.session[MFA_KEY] = mfa
    identity.last_login_at = timezone.now()
    identity.save(update_fields=["last_login_at"])
    SsoEvent.objects.create(
        provider=provider_key,
        subject=subject,
        user=user,
        kind=SsoEvent.Kind.LOGIN,
        detail="IdPが多要素認証を表明"
        if mfa
        else "IdPの多要素認証の表明なし（二要素認証が必要な役割には jusou の確認コードを求める）",
        address=address,
    )
    return SsoLogin(user, session, mfa)


# --- Ending sessions -----------------------------------------------------------------------------


def session_current(request) -> SsoSession | None:
    pk = request.session.get(SESSION_KEY)
    if not pk:
        return None
    return SsoSession.objects.select_related("identity").filter(pk=pk).first()


def sessions_end(sessions, *, reason: str, kind=SsoEvent.Kind.ENDED, address=None) -> int:
    """End these SSO sessions now: their Django sessions are deleted, and should one live on elsewhere
    (a cache), jusou.sso.middleware logs it out at its next request."""
    ended = 0
    now = timezone.now()
    for session in sessions.select_related("identity").filter(ended_at__isnull=True):
        session.ended_at, session.end_reason = now, reason[:200]
        session.save(update_fields=["ended_at", "end_reason"])
        if session.session_key:
            Session.objects.filter(session_key=session.session_key).delete()
        SsoEvent.objects.create(
            provider=session.identity.provider,
            subject=session.identity.subject,
            user_id=session.identity.user_id,
            kind=kind,
            detail=reason[:500],
            address=address,
        )
        ended += 1
    return ended


def logout_url(request, session: SsoSession, post_logout_redirect_uri: str) -> str | None:
    """The IdP's address that ends its session too (OIDC RP-initiated logout; SAML a signed
    LogoutRequest), or None when it has none."""
    if session.identity.provider in settings.SSO_SAML:
        from jusou.sso import saml

        return saml.logout_url(session)
    provider = settings.SSO_OIDC.get(session.identity.provider)
    if provider is None:
        return None
    try:
        client = oidc_client(provider)
        if not client.load_server_metadata().get("end_session_endpoint"):
            return None
        return client.create_logout_url(
            post_logout_redirect_uri=post_logout_redirect_uri,
            id_token_hint=session.id_token or None,
            client_id=provider.client_id,
        )["url"]
    except (requests.RequestException, AuthlibBaseError, ValueError) as error:
        logger.warning("SSO %s: no end-session address (%s)", provider.key, error)
        return None


class LogoutTokenRefused(Exception):
    pass


def backchannel_logout(provider: OidcProvider, logout_token: str, address=None) -> int:
    """OpenID Connect Back-Channel Logout 1.0: check the IdP's logout token (signature by the IdP's
    keys, issuer, audience = our client, issued recently, the logout event, no nonce, a sid or sub,
    never seen before) and end the sessions it names. Returns how many ended."""
    client = oidc_client(provider)
    metadata = client.load_server_metadata()
    try:
        try:
            token = jwt.decode(logout_token, KeySet.import_key_set(client.fetch_jwk_set()))
        except JoseError:
            token = jwt.decode(logout_token, KeySet.import_key_set(client.fetch_jwk_set(force=True)))
        leeway = settings.SSO_CLOCK_LEEWAY_SECONDS
        jwt.JWTClaimsRegistry(
            leeway=leeway,
            iss={"essential": True, "value": metadata.get("issuer")},
            aud={"essential": True, "value": provider.client_id},
            iat={"essential": True},
            jti={"essential": True},
        ).validate(token.claims)
    except (JoseError, ValueError) as error:
        raise LogoutTokenRefused(f"logout token refused: {type(error).__name__}: {error}") from None
    claims = token.claims
    if BACKCHANNEL_EVENT not in (claims.get("events") or {}):
        raise LogoutTokenRefused("logout token without the back-channel logout event")
    if "nonce" in claims:
        raise LogoutTokenRefused("logout token with a nonce")
    if claims["iat"] < timezone.now().timestamp() - 600 - settings.SSO_CLOCK_LEEWAY_SECONDS:
        raise LogoutTokenRefused("logout token issued too long ago")
    sid, sub = claims.get("sid"), claims.get("sub")
    if not sid and not sub:
        raise LogoutTokenRefused("logout token names neither sid nor sub")
    if not django_cache.add(f"sso-logout-jti:{provider.key}:{claims['jti']}", 1, timeout=3600):
        raise LogoutTokenRefused("logout token replayed")
    sessions = SsoSession.objects.filter(identity__provider=provider.key)
    sessions = sessions.filter(idp_session=sid) if sid else sessions
    sessions = sessions.filter(identity__subject=sub) if sub else sessions
    return sessions_end(sessions, reason="IdPからのログアウト通知（バックチャネル）", address=address)


def sessions_check(*, now=None) -> dict:
    """Beat (SSO_SESSION_CHECK_SECONDS): for each open SSO session not checked for that long, end it if
    its jusou session has gone (logout, idle timeout); otherwise ask the IdP with its refresh token
    whether the subject may still sign in — refused (invalid_grant: disabled, deleted, signed out
    everywhere) ends it. An IdP that cannot be reached ends nothing: it is asked again next time.
    Sessions past `expires_at` (SAML, which has no refresh: SessionNotOnOrAfter or the IdP's
    SESSION_HOURS) end, so the person signs in at the IdP again, where a disabled subject is refused."""
    now = now or timezone.now()
    expired = sessions_end(
        SsoSession.objects.filter(ended_at__isnull=True, expires_at__lte=now),
        reason="統合認証のセッションの有効期限（IdPで再認証が必要）",
    )
    due = SsoSession.objects.filter(
        ended_at__isnull=True, checked_at__lte=now - timedelta(seconds=settings.SSO_SESSION_CHECK_SECONDS)
    ).select_related("identity")
    counts = {"checked": 0, "ended": expired, "unreachable": 0}
    for session in due[:500]:
        counts["checked"] += 1
        alive = Session.objects.filter(session_key=session.session_key, expire_date__gt=now).exists()
        if not alive:
            session.ended_at, session.end_reason = now, "jusou のセッションが終了"
            session.save(update_fields=["ended_at", "end_reason"])
            continue
        provider = settings.SSO_OIDC.get(session.identity.provider)
        if provider is None or not session.refresh_token:
            session.checked_at = now
            session.save(update_fields=["checked_at"])
            continue
        try:
            metadata = oidc_client(provider).load_server_metadata()
            with OAuth2Session(provider.client_id, provider.client_secret, timeout=10) as client:
                fresh = client.refresh_token(metadata["token_endpoint"], refresh_token=session.refresh_token)
        except AuthlibBaseError as error:
            if getattr(error, "error", "") in ("invalid_grant", "unauthorized_client", "invalid_client"):
                counts["ended"] += sessions_end(
                    SsoSession.objects.filter(pk=session.pk),
                    reason=f"IdPがサインインを認めなくなったため（{error.error}）",
                )
                continue
            counts["unreachable"] += 1
            logger.warning("SSO %s: session check failed: %s", provider.key, error)
            continue
        except (requests.RequestException, ValueError, KeyError) as error:
            counts["unreachable"] += 1
            logger.warning("SSO %s: IdP not reachable for the session check: %s", provider.key, error)
            continue
        session.checked_at = now
        session.refresh_token = fresh.get("refresh_token") or session.refresh_token
        session.save(update_fields=["checked_at", "refresh_token"])
    return counts


# --- Refusals in words ---------------------------------------------------------------------------


def refusal_for(error: Exception) -> SsoRefused:
    """What a failed IdP response tells the person (Japanese) and the log (the technical reason)."""
    from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError

    detail = f"{type(error).__name__}: {error}"
    if isinstance(error, MismatchingStateError):
        return SsoRefused(
            "ログインの要求が見つからないか、すでに使われています。もう一度ログインしてください。", detail
        )
    if isinstance(error, BadSignatureError):
        return SsoRefused("IdPからの応答の署名を確認できませんでした。ログインできません。", detail)
    if isinstance(error, ExpiredTokenError):
        return SsoRefused("IdPからの応答の有効期限が切れています。もう一度ログインしてください。", detail)
    if isinstance(error, JoseError):
        claim = getattr(error, "claim", "") or ""
        if claim in ("aud", "azp", "iss") or "aud" in str(error) or "iss" in str(error):
            return SsoRefused("IdPからの応答が jusou 宛てのものではありません。ログインできません。", detail)
        return SsoRefused("IdPからの応答を確認できませんでした。ログインできません。", detail)
    if isinstance(error, OAuthError):
        if error.error == "access_denied":
            return SsoRefused("IdPでログインが取り消されました。", detail)
        return SsoRefused("IdPでのログインに失敗しました。もう一度ログインしてください。", detail)
    if isinstance(error, requests.RequestException):
        return SsoRefused("IdPに接続できませんでした。しばらくしてからもう一度ログインしてください。", detail)
    return SsoRefused("IdPからの応答を確認できませんでした。ログインできません。", detail)
