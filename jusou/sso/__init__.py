"""Single sign-on with the municipality's identity providers (issue 20): OpenID Connect through
Authlib (authorization code + PKCE) and SAML 2.0 through pysaml2 (saml.py), several IdPs of either kind
at once. config.py reads the IdPs from the environment, models.py keeps who is who at which IdP and
their open SSO sessions, services.py holds the rules every IdP kind shares (matching, the group →
agency + role mapping, MFA, ending sessions), views.py the protocol endpoints."""
