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


# --- SAML 2.0 --------------------------------------------------------------------------------------
# SSO_SAML_PROVIDERS=shakyo                the keys (unique beside the OIDC ones), in button order
# SSO_SAML_SHAKYO_METADATA_URL=https://idp.shakyo.example/saml/metadata   (or _METADATA_FILE=/run/…/idp.xml)
# SSO_SAML_SHAKYO_ENTITY_ID=              the IdP's entityID, when the metadata holds more than one
# SSO_SAML_SHAKYO_LABEL=社会福祉協議会・委託先（SAML）
# SSO_SAML_SHAKYO_GROUPS_ATTRIBUTE=groups (Entra ID: http://schemas.microsoft.com/ws/2008/06/identity/claims/groups)
# SSO_SAML_SHAKYO_SUBJECT_ATTRIBUTE=      an attribute holding the stable id; empty: the persistent NameID
# SSO_SAML_SHAKYO_MFA_CONTEXTS=…          AuthnContextClassRef (or MFA attribute) values that count as MFA
# SSO_SAML_SHAKYO_MFA_ATTRIBUTE=http://schemas.microsoft.com/claims/authnmethodsreferences
# SSO_SAML_SHAKYO_CREATE_ACCOUNTS=false
# SSO_SAML_SHAKYO_SESSION_HOURS=8         the longest an SSO session lasts (or the IdP's SessionNotOnOrAfter)
# SSO_SAML_SHAKYO_ORIGINS=                IdP addresses the browser is sent to (CSP), if not the metadata URL's
# SSO_SAML_SP_KEY_FILE / SSO_SAML_SP_CERT_FILE   jusou's signing key and certificate (PEM), one for all IdPs

SAML_PASSWORD_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"  # noqa: S105  (a SAML class name, not a password)
SAML_MFA_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"
DEFAULT_SAML_MFA_CONTEXTS = (
    SAML_MFA_CONTEXT,
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
    "https://refeds.org/profile/mfa",
    "http://schemas.microsoft.com/claims/multipleauthn",  # Entra ID / AD FS
)


@dataclass(frozen=True)
class SamlProvider:
    key: str
    label: str
    metadata_url: str
    metadata_file: str
    entity_id: str
    groups_attribute: str
    subject_attribute: str
    mfa_contexts: frozenset[str]
    mfa_attribute: str
    create_accounts: bool
    session_hours: int
    origins: tuple[str, ...]


def saml_providers(env, taken=()) -> dict[str, SamlProvider]:
    providers = {}
    for key in env.list("SSO_SAML_PROVIDERS"):
        if not re.fullmatch(r"[a-z][a-z0-9]{0,19}", key):
            raise ImproperlyConfigured(
                f"SSO_SAML_PROVIDERS: {key!r} is not a key of lower-case letters and digits (at most 20)."
            )
        if key in taken:
            raise ImproperlyConfigured(f"SSO_SAML_PROVIDERS: {key!r} is already an OpenID Connect IdP's key.")
        prefix = f"SSO_SAML_{key.upper()}_"
        url, file = env.str(prefix + "METADATA_URL", ""), env.str(prefix + "METADATA_FILE", "")
        if not url and not file:
            raise ImproperlyConfigured(
                f"SSO_SAML_PROVIDERS names {key!r} but {prefix}METADATA_URL (or _FILE) is not set."
            )
        origins = env.list(prefix + "ORIGINS") or ([sso_origin(url)] if url else [])
        providers[key] = SamlProvider(
            key=key,
            label=env.str(prefix + "LABEL", key),
            metadata_url=url,
            metadata_file=file,
            entity_id=env.str(prefix + "ENTITY_ID", ""),
            groups_attribute=env.str(prefix + "GROUPS_ATTRIBUTE", "groups"),
            subject_attribute=env.str(prefix + "SUBJECT_ATTRIBUTE", ""),
            mfa_contexts=frozenset(env.list(prefix + "MFA_CONTEXTS", list(DEFAULT_SAML_MFA_CONTEXTS))),
            mfa_attribute=env.str(
                prefix + "MFA_ATTRIBUTE", "http://schemas.microsoft.com/claims/authnmethodsreferences"
            ),
            create_accounts=env.bool(prefix + "CREATE_ACCOUNTS", default=False),
            session_hours=env.int(prefix + "SESSION_HOURS", default=8, minimum=1, maximum=24),
            origins=tuple(origins),
        )
    return providers


def self_signed_keypair(directory, name: str, common_name: str):
    """A signing key and a self-signed certificate (PEM) in `directory`, made once: for the demo IdP,
    and for jusou's SAML SP where DEBUG is on and no SSO_SAML_SP_KEY_FILE is given."""
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    directory = Path(directory)
    key_file, cert_file = directory / f"{name}.key", directory / f"{name}.crt"
    if key_file.exists() and cert_file.exists():
        return key_file, cert_file
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_file.chmod(0o600)
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file
