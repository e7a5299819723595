"""The IdPs read from the environment (jusou.sso.config): what a deployment writes, and the mistakes
that stop the start-up with the variable named."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from jusou.env import Env
from jusou.sso.config import DEFAULT_SAML_MFA_CONTEXTS, oidc_providers, saml_providers


def test_a_saml_idp_from_its_metadata_url():
    env = Env(
        {
            "SSO_SAML_PROVIDERS": "shakyo",
            "SSO_SAML_SHAKYO_METADATA_URL": "https://idp.shakyo.example/saml/metadata",
            "SSO_SAML_SHAKYO_LABEL": "社会福祉協議会",
            "SSO_SAML_SHAKYO_SESSION_HOURS": "4",
        }
    )
    provider = saml_providers(env)["shakyo"]
    assert (provider.label, provider.session_hours, provider.create_accounts) == ("社会福祉協議会", 4, False)
    assert provider.origins == ("https://idp.shakyo.example",)  # allowed as a form target (logout)
    assert provider.mfa_contexts == frozenset(DEFAULT_SAML_MFA_CONTEXTS)
    assert provider.subject_attribute == "" and provider.groups_attribute == "groups"


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"SSO_SAML_PROVIDERS": "shakyo"}, "SSO_SAML_SHAKYO_METADATA_URL"),
        ({"SSO_SAML_PROVIDERS": "Shakyo!"}, "lower-case"),
        (
            {"SSO_SAML_PROVIDERS": "city", "SSO_SAML_CITY_METADATA_FILE": "/x.xml"},
            "already an OpenID Connect",
        ),
        (
            {
                "SSO_SAML_PROVIDERS": "s",
                "SSO_SAML_S_METADATA_FILE": "/x.xml",
                "SSO_SAML_S_SESSION_HOURS": "48",
            },
            "SSO_SAML_S_SESSION_HOURS",
        ),
    ],
)
def test_a_saml_idp_set_up_wrongly_stops_the_start(environ, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        saml_providers(Env(environ), taken={"city": object()})


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"SSO_OIDC_PROVIDERS": "city"}, "SSO_OIDC_CITY_ISSUER"),
        (
            {
                "SSO_OIDC_PROVIDERS": "city",
                "SSO_OIDC_CITY_ISSUER": "https://idp",
                "SSO_OIDC_CITY_CLIENT_ID": "j",
            },
            "SSO_OIDC_CITY_CLIENT_SECRET",
        ),
    ],
)
def test_an_oidc_idp_set_up_wrongly_stops_the_start(environ, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        oidc_providers(Env(environ))
