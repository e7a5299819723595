"""The demo's single sign-on: the city IdP (devdata/idp/oidc.mjs, key "city") knows three demo staff by
their IdP ids, and its groups map to agencies and roles. k.shin is known to the IdP only: refused, or
given an account at the first login where SSO_OIDC_CITY_CREATE_ACCOUNTS=true (README「統合認証（SSO）」).
The 社協's SAML IdP (devdata/idp/saml.py, key "shakyo") knows two 委託先 workers; t.ono is its IdP-only
account."""

from jusou.models import Agency, Role, SsoGroupMapping, SsoIdentity, User

IDENTITIES = [
    ("city", "intake_a", "h.aoki"),
    ("city", "coord", "y.kato"),
    ("city", "supervisor", "m.sasaki"),
    ("shakyo", "intake_b", "k.inoue"),
    ("shakyo", "member_c", "m.ueda"),
]
MAPPINGS = [
    ("city", "jusou-chuo-houkatsu", "chuo-houkatsu", Role.WORKER),
    ("city", "jusou-fukushi-sogo-coordinator", "fukushi-sogo", Role.COORDINATOR),
    ("city", "jusou-fukushi-sogo-supervisor", "fukushi-sogo", Role.SUPERVISOR),
    ("shakyo", "shakyo-shogai-soudan", "shogai-soudan", Role.WORKER),
    ("shakyo", "shakyo-kodomo-katei", "kodomo-katei", Role.WORKER),
]


def load_sso_demo() -> None:
    for provider, group, agency_code, role in MAPPINGS:
        SsoGroupMapping.objects.get_or_create(
            provider=provider, group=group, agency=Agency.objects.get(code=agency_code), role=role
        )
    for provider, username, subject in IDENTITIES:
        SsoIdentity.objects.get_or_create(
            provider=provider, subject=subject, defaults={"user": User.objects.get(username=username)}
        )
