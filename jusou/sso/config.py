"""The identity providers, read from the environment by settings.py (README「統合認証（SSO）」).

SSO_OIDC_PROVIDERS=city,shakyo          the keys, in the order of the login page's buttons
SSO_OIDC_CITY_ISSUER=https://idp.city.midori.lg.jp/realms/staff   (discovery: /.well-known/openid-configuration)
SSO_OIDC_CITY_CLIENT_ID=jusou
SSO_OIDC_CITY_CLIENT_SECRET_FILE=/run/secrets/oidc_city             (or SSO_OIDC_CITY_CLIENT_SECRET)
SSO_OIDC_CITY_LABEL=みどり市職員（庁内認証）
SSO_OIDC_CITY_SCOPES=openid email profile groups offline_access
SSO_OIDC_CITY_GROUPS_CLAIM=groups
SSO_OIDC_CITY_MFA_AMR=mfa,otp,hwk,swk,sms,fido,face,fpt   amr values that count as a second factor
SSO_OIDC_CITY_MFA_ACR=                 acr values that count (e.g. a Keycloak level of assurance)
SSO_OIDC_CITY_CREATE_ACCOUNTS=false    an unknown subject whose groups map to a role gets an account
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

DEFAULT_MFA_AMR = ("mfa", "otp", "hwk", "swk", "sms", "fido", "face", "fpt", "iris", "retina", "sc")


@dataclass(frozen=True)
class OidcProvider:
    key: str
    label: str
    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    groups_claim: str
    mfa_amr: frozenset[str]
    mfa_acr: frozenset[str]
    create_accounts: bool

    @property
    def metadata_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def sso_origin(url: str) -> str:
    """scheme://host[:port] of an IdP address (for the Content-Security-Policy)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def oidc_providers(env) -> dict[str, OidcProvider]:
    providers = {}
    for key in env.list("SSO_OIDC_PROVIDERS"):
        if not re.fullmatch(r"[a-z][a-z0-9]{0,19}", key):
            raise ImproperlyConfigured(
                f"SSO_OIDC_PROVIDERS: {key!r} is not a key of lower-case letters and digits (at most 20)."
            )
        prefix = f"SSO_OIDC_{key.upper()}_"
        issuer = env.str(prefix + "ISSUER")
        client_id = env.str(prefix + "CLIENT_ID")
        secret = env.secret(prefix + "CLIENT_SECRET")
        missing = [name for name, value in (("ISSUER", issuer), ("CLIENT_ID", client_id)) if not value]
        if missing:
            raise ImproperlyConfigured(
                f"SSO_OIDC_PROVIDERS names {key!r} but {prefix}{missing[0]} is not set."
            )
        if not secret:
            raise ImproperlyConfigured(f"{prefix}CLIENT_SECRET (or {prefix}CLIENT_SECRET_FILE) is not set.")
        providers[key] = OidcProvider(
            key=key,
            label=env.str(prefix + "LABEL", key),
            issuer=issuer,
            client_id=client_id,
            client_secret=secret,
            scopes=env.str(prefix + "SCOPES", "openid email profile groups offline_access"),
            groups_claim=env.str(prefix + "GROUPS_CLAIM", "groups"),
            mfa_amr=frozenset(env.list(prefix + "MFA_AMR", list(DEFAULT_MFA_AMR))),
            mfa_acr=frozenset(env.list(prefix + "MFA_ACR")),
            create_accounts=env.bool(prefix + "CREATE_ACCOUNTS", default=False),
        )
    return providers
