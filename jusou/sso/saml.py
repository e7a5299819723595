"""SAML 2.0 (issue 20) with pysaml2: jusou is a Service Provider for each SAML IdP (its own entityID,
<SITE_URL>/sso/saml/<key>/metadata/, which is also where the IdP reads jusou's metadata).

- **Login**: a signed AuthnRequest over HTTP-Redirect; the request's id is kept server-side (cache) with
  the page to return to, and in a short cookie of this browser. The IdP's Response, POSTed to the ACS,
  must answer exactly that request (InResponseTo, once: a replayed Response finds nothing), carry a signed
  assertion (the IdP's key from its metadata), be for this SP (audience, recipient, destination) and
  within its times; an assertion id is accepted once. Then services.login_complete does what every IdP
  kind does (match the subject, map the groups, log in).
- **MFA**: the AuthnContextClassRef (or the IdP's MFA attribute, as Entra ID sends it) among the values
  the IdP's settings count.
- **Ending access**: logout sends a signed LogoutRequest naming the NameID and SessionIndex; the IdP's
  LogoutRequest (front channel over HTTP-Redirect, or back channel over SOAP, signed either way) ends
  the sessions it names; a session lasts at most SessionNotOnOrAfter or the IdP's SESSION_HOURS.
"""

from __future__ import annotations

import calendar
import logging
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from django.conf import settings
from django.core.cache import cache
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, BINDING_SOAP
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.response import StatusError, UnsolicitedResponse
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT, name_id_from_string
from saml2.samlp import STATUS_SUCCESS
from saml2.sigver import SigverError
from saml2.validate import ResponseLifetimeExceed, ToEarly
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from jusou.models import SsoSession
from jusou.sso.config import SamlProvider, self_signed_keypair
from jusou.sso.services import IdpAssertion, SsoRefused, sessions_end

logger = logging.getLogger(__name__)

METADATA_SECONDS = (
    3600  # how long an IdP's metadata (its keys, its endpoints) is kept before it is read again
)
REQUEST_SECONDS = 600  # how long a login may take at the IdP
FAMILY_NAME = ("sn", "surname", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname")
GIVEN_NAME = ("givenName", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname")
EMAIL = ("mail", "email", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress")


def provider_get(key: str) -> SamlProvider:
    provider = settings.SSO_SAML.get(key)
    if provider is None:
        raise Http404("このIdPは設定されていません。")
    return provider


def cookie_name(key: str) -> str:
    return f"jusou_saml_{key}"


def sp_urls(key: str) -> dict[str, str]:
    site = settings.SITE_URL.rstrip("/")
    return {
        "entity_id": site + reverse("sso_saml_metadata", args=[key]),
        "acs": site + reverse("sso_saml_acs", args=[key]),
        "sls": site + reverse("sso_saml_sls", args=[key]),
        "soap": site + reverse("sso_saml_soap", args=[key]),
    }


def sp_keypair() -> tuple[str, str]:
    if settings.SSO_SAML_SP_KEY_FILE and settings.SSO_SAML_SP_CERT_FILE:
        return settings.SSO_SAML_SP_KEY_FILE, settings.SSO_SAML_SP_CERT_FILE
    key, cert = self_signed_keypair(Path(settings.BASE_DIR) / "var" / "saml-sp", "sp", "jusou SAML SP (demo)")
    return str(key), str(cert)


def sp_config(provider: SamlProvider, idp_metadata: str | None) -> dict:
    urls = sp_urls(provider.key)
    key_file, cert_file = sp_keypair()
    return {
        "entityid": urls["entity_id"],
        "service": {
            "sp": {
                "name": "jusou 重層的支援体制整備事業 支援記録",
                "endpoints": {
                    "assertion_consumer_service": [(urls["acs"], BINDING_HTTP_POST)],
                    "single_logout_service": [
                        (urls["sls"], BINDING_HTTP_REDIRECT),
                        (urls["soap"], BINDING_SOAP),
                    ],
                },
                "allow_unsolicited": False,
                "authn_requests_signed": True,
                "logout_requests_signed": True,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "name_id_format_allow_create": True,
            }
        },
        "key_file": key_file,
        "cert_file": cert_file,
        "metadata": {"inline": [idp_metadata]} if idp_metadata else {},
        "xmlsec_binary": shutil.which("xmlsec1"),
        "accepted_time_diff": settings.SSO_CLOCK_LEEWAY_SECONDS,
        "allow_unknown_attributes": True,
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
    }


def sp_metadata(provider: SamlProvider) -> str:
    """jusou's SP metadata for this IdP (entityID, ACS, SLO endpoints, signing certificate)."""
    return create_metadata_string(
        None, config=SPConfig().load(sp_config(provider, None)), valid=24 * 30
    ).decode()


_clients: dict[tuple, tuple[float, Saml2Client]] = {}
_clients_lock = threading.Lock()


def clients_clear() -> None:
    with _clients_lock:
        _clients.clear()


def client(provider: SamlProvider) -> Saml2Client:
    """pysaml2's SP for this IdP, with the IdP's metadata read at most every METADATA_SECONDS (a
    metadata URL) so that a new IdP key is taken up without a restart."""
    cache_key = (provider, settings.SITE_URL, sp_keypair())
    with _clients_lock:
        cached = _clients.get(cache_key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
    if provider.metadata_url:
        response = requests.get(provider.metadata_url, timeout=10)
        response.raise_for_status()
        metadata = response.text
    else:
        metadata = Path(provider.metadata_file).read_text(encoding="utf-8")
    sp = Saml2Client(config=SPConfig().load(sp_config(provider, metadata)))
    with _clients_lock:
        _clients[cache_key] = (time.monotonic() + METADATA_SECONDS, sp)
    return sp


def idp_entity_id(provider: SamlProvider, sp: Saml2Client) -> str:
    if provider.entity_id:
        return provider.entity_id
    idps = list(sp.metadata.identity_providers())
    if len(idps) != 1:
        raise ValueError(f"the metadata of {provider.key!r} names {len(idps)} IdPs: set its ENTITY_ID")
    return idps[0]


# --- Login ---------------------------------------------------------------------------------------


def login_start(provider: SamlProvider, next_url: str, *, force: bool = False) -> tuple[str, str]:
    """A signed AuthnRequest to the IdP: (the address to send the browser to, the request's id). With
    `force` the IdP is asked to authenticate again (ForceAuthn) rather than reuse its session."""
    sp = client(provider)
    request_id, info = sp.prepare_for_authenticate(
        entityid=idp_entity_id(provider, sp),
        force_authn="true" if force else None,
        relay_state=provider.key,
        binding=BINDING_HTTP_REDIRECT,
        sign=True,
        sigalg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    cache.set(f"sso-saml-request:{provider.key}:{request_id}", next_url, timeout=REQUEST_SECONDS)
    return dict(info["headers"])["Location"], request_id


def _first(ava: dict, names) -> str:
    for name in names:
        values = ava.get(name) or []
        if values:
            return str(values[0])
    return ""


def _as_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    from saml2.time_util import str_to_time

    return datetime.fromtimestamp(calendar.timegm(str_to_time(value)), tz=UTC)


def mfa_asserted(provider: SamlProvider, class_refs, ava) -> bool:
    values = set(class_refs) | {str(v) for v in ava.get(provider.mfa_attribute, [])}
    return bool(values & provider.mfa_contexts)


@dataclass
class SamlLogin:
    asserted: IdpAssertion
    next_url: str


def login_response(provider: SamlProvider, saml_response: str, request_id: str) -> SamlLogin:
    """Check the IdP's Response to this browser's AuthnRequest and say what it asserts (or refuse)."""
    next_url = cache.get(f"sso-saml-request:{provider.key}:{request_id}") if request_id else None
    outstanding = {}
    if next_url is not None and cache.delete(f"sso-saml-request:{provider.key}:{request_id}"):
        outstanding = {request_id: next_url}  # the request is used up here, whatever the outcome
    if not saml_response:
        raise SsoRefused("IdPからの応答がありません。もう一度ログインしてください。", "no SAMLResponse")
    try:
        sp = client(provider)  # the IdP's metadata (its keys) may have to be read again first
        response = sp.parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding=outstanding)
    except Exception as error:  # pysaml2 raises bare Exception for a wrong audience
        raise refusal_for(error) from None
    if response is None or response.assertion is None:
        raise SsoRefused("IdPからの応答を確認できませんでした。ログインできません。", "no assertion")
    assertion = response.assertion
    expiry = _as_datetime(assertion.conditions.not_on_or_after if assertion.conditions else None)
    seconds = int((expiry - timezone.now()).total_seconds()) if expiry else REQUEST_SECONDS
    if not cache.add(f"sso-saml-assertion:{provider.key}:{assertion.id}", 1, timeout=max(seconds, 60) + 600):
        raise SsoRefused(
            "ログインの要求が見つからないか、すでに使われています。もう一度ログインしてください。",
            f"assertion {assertion.id} replayed",
        )
    ava = response.ava or {}
    name_id = response.name_id
    if provider.subject_attribute:
        subject = _first(ava, [provider.subject_attribute])
    elif name_id is not None and name_id.format != NAMEID_FORMAT_TRANSIENT:
        subject = name_id.text or ""
    else:
        subject = ""
    if not subject:
        raise SsoRefused(
            "IdPの応答に利用者の永続的な識別子がありません。ログインできません。",
            "no persistent NameID and no subject attribute",
        )
    statement = assertion.authn_statement[0] if assertion.authn_statement else None
    class_refs = [info[0] for info in response.authn_info()]
    limit = timezone.now() + timedelta(hours=provider.session_hours)
    idp_limit = _as_datetime(statement.session_not_on_or_after if statement else None)
    groups = ava.get(provider.groups_attribute) or []
    asserted = IdpAssertion(
        subject=subject,
        groups=[str(group) for group in groups],
        mfa=mfa_asserted(provider, class_refs, ava),
        family_name=_first(ava, FAMILY_NAME),
        given_name=_first(ava, GIVEN_NAME),
        email=_first(ava, EMAIL),
        idp_session=(statement.session_index or "") if statement else "",
        name_id=str(name_id) if name_id is not None else "",
        expires_at=min(limit, idp_limit) if idp_limit else limit,
    )
    return SamlLogin(asserted, next_url or "")


def refusal_for(error: Exception) -> SsoRefused:
    detail = f"{type(error).__name__}: {error}"[:500]
    if isinstance(error, UnsolicitedResponse):
        return SsoRefused(
            "ログインの要求が見つからないか、すでに使われています。もう一度ログインしてください。", detail
        )
    if isinstance(error, SigverError):  # SignatureError, MissingKey …
        return SsoRefused("IdPからの応答の署名を確認できませんでした。ログインできません。", detail)
    if isinstance(error, ResponseLifetimeExceed | ToEarly):
        return SsoRefused("IdPからの応答の有効期限が切れています。もう一度ログインしてください。", detail)
    if "AudienceRestrictions" in str(error) or "destination" in str(error).lower():
        return SsoRefused("IdPからの応答が jusou 宛てのものではありません。ログインできません。", detail)
    if isinstance(error, StatusError):
        return SsoRefused("IdPでのログインに失敗しました。もう一度ログインしてください。", detail)
    if isinstance(error, requests.RequestException | OSError):
        return SsoRefused("IdPに接続できませんでした。しばらくしてからもう一度ログインしてください。", detail)
    return SsoRefused("IdPからの応答を確認できませんでした。ログインできません。", detail)


# --- Logout --------------------------------------------------------------------------------------


def logout_url(session: SsoSession) -> str | None:
    """A signed LogoutRequest (HTTP-Redirect) naming the session's NameID and SessionIndex, or None
    when the IdP has no single logout or cannot be reached."""
    provider = settings.SSO_SAML.get(session.identity.provider)
    if provider is None or not session.name_id:
        return None
    try:
        sp = client(provider)
        idp = idp_entity_id(provider, sp)
        binding, destination = sp.pick_binding(
            "single_logout_service", [BINDING_HTTP_REDIRECT], "idpsso", entity_id=idp
        )
        _, request = sp.create_logout_request(
            destination,
            idp,
            name_id=name_id_from_string(session.name_id),
            session_indexes=[session.idp_session] if session.idp_session else None,
            reason="urn:oasis:names:tc:SAML:2.0:logout:user",
            expire=None,
            sign=False,  # HTTP-Redirect: the query string is signed
        )
        info = sp.apply_binding(binding, str(request), destination, relay_state=provider.key, sign=True)
        return dict(info["headers"])["Location"]
    except Exception as error:  # unreachable IdP, no SLO endpoint in its metadata
        logger.warning("SSO %s: no SAML single logout (%s)", provider.key, error)
        return None


class LogoutRequestRefused(Exception):
    pass


def logout_request(
    provider: SamlProvider, message: str, binding: str, fields: dict | None = None, address=None
):
    """The IdP's LogoutRequest (signed: the query string over HTTP-Redirect, the XML over SOAP) ends the
    sessions it names. Returns (the request, how many sessions ended)."""
    fields = fields or {}
    try:
        sp = client(provider)
        request = sp.parse_logout_request(
            message,
            binding,
            relay_state=fields.get("RelayState"),
            sigalg=fields.get("SigAlg"),
            signature=fields.get("Signature"),
        )
    except Exception as error:  # pysaml2's checks raise many kinds
        raise LogoutRequestRefused(f"logout request refused: {type(error).__name__}: {error}") from None
    if request is None:
        raise LogoutRequestRefused("logout request not understood")
    signed = fields.get("Signature") if binding == BINDING_HTTP_REDIRECT else request.message.signature
    if not signed:
        raise LogoutRequestRefused("logout request without a signature")
    issuers = {provider.entity_id} if provider.entity_id else set(sp.metadata.identity_providers())
    if request.message.issuer is None or request.message.issuer.text not in issuers:
        raise LogoutRequestRefused("logout request from another issuer")
    name_id = request.message.name_id
    if name_id is None or not name_id.text:
        raise LogoutRequestRefused("logout request names no NameID")
    sessions = SsoSession.objects.filter(identity__provider=provider.key, ended_at__isnull=True)
    if provider.subject_attribute:
        sessions = sessions.filter(name_id__contains=f">{name_id.text}<")
    else:
        sessions = sessions.filter(identity__subject=name_id.text)
    indexes = [index.text for index in request.message.session_index or [] if index.text]
    if indexes:
        sessions = sessions.filter(idp_session__in=indexes)
    ended = sessions_end(
        sessions, reason="IdPからのログアウト要求（SAML シングルログアウト）", address=address
    )
    return request, ended


def logout_answer(provider: SamlProvider, request, binding: str, relay_state: str = "") -> dict:
    """The LogoutResponse for the IdP (success), as the binding carries it."""
    sp = client(provider)
    response = sp.create_logout_response(
        request.message, [binding], status=None, sign=binding == BINDING_SOAP
    )
    if binding == BINDING_SOAP:
        return sp.apply_binding(BINDING_SOAP, str(response), "", sign=False)
    return sp.apply_binding(
        binding, str(response), response.destination, relay_state, response=True, sign=True
    )


def logout_response_ok(provider: SamlProvider, message: str, fields: dict) -> bool:
    """The IdP's answer to jusou's LogoutRequest: whether the IdP says its session ended."""
    try:
        response = client(provider).parse_logout_request_response(message, BINDING_HTTP_REDIRECT)
    except Exception as error:
        logger.warning("SSO %s: logout response refused: %s", provider.key, error)
        return False
    return response is not None and response.response.status.status_code.value == STATUS_SUCCESS
