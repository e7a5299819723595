"""The demo's single sign-on: the city IdP (devdata/idp/oidc.mjs, key "city") knows three demo staff by
their IdP ids, and its groups map to agencies and roles. k.shin is known to the IdP only: refused, or
given an account at the first login where SSO_OIDC_CITY_CREATE_ACCOUNTS=true (README「統合認証（SSO）」)."""

from jusou.models import Agency, Role, SsoGroupMapping, SsoIdentity, User

PROVIDER = "city"
IDENTITIES = [("intake_a", "h.aoki"), ("coord", "y.kato"), ("supervisor", "m.sasaki")]
MAPPINGS = [
    ("jusou-chuo-houkatsu", "chuo-houkatsu", Role.WORKER),
    ("jusou-fukushi-sogo-coordinator", "fukushi-sogo", Role.COORDINATOR),
    ("jusou-fukushi-sogo-supervisor", "fukushi-sogo", Role.SUPERVISOR),
]


def load_sso_demo() -> None:
    for group, agency_code, role in MAPPINGS:
        SsoGroupMapping.objects.get_or_create(
            provider=PROVIDER, group=group, agency=Agency.objects.get(code=agency_code), role=role
        )
    for username, subject in IDENTITIES:
        SsoIdentity.objects.get_or_create(
            provider=PROVIDER, subject=subject, defaults={"user": User.objects.get(username=username)}
        )
