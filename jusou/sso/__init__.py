"""Single sign-on with the municipality's identity providers (issue 20): OpenID Connect through
Authlib (authorization code + PKCE, several IdPs at once). config.py reads the IdPs from the
environment, models.py keeps who is who at which IdP and their open SSO sessions, services.py holds
the rules (matching, the group → agency + role mapping, MFA, ending sessions), views.py the protocol
endpoints."""
