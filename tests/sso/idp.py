"""Fixtures (a pytest plugin, named in conftest.py): a real OpenID Provider for the SSO tests —
devdata/idp/oidc.mjs (the `oidc-provider` package under node), one per test worker, beside that
worker's live_server, with its own copy of the demo IdP's accounts. No part of the protocol is mocked."""

import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from jusou.sso.config import DEFAULT_MFA_AMR, OidcProvider

ROOT = Path(__file__).resolve().parents[2]
IDP_SCRIPT = ROOT / "devdata" / "idp" / "oidc.mjs"
DEMO_ACCOUNTS = ROOT / "devdata" / "idp" / "accounts.json"
IDP_PASSWORD = "idp-demo-2025"
SECRET = "jusou-test-oidc-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(process, probe_url: str, what: str, seconds: float = 15) -> None:
    """Wait until the IdP process answers at probe_url; fail the tests with its output if it does not."""
    for _ in range(int(seconds * 10)):
        try:
            if requests.get(probe_url, timeout=1).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"{what} did not start: {process.stdout.read()}")


class Idp:
    def __init__(self, url: str):
        self.url = url

    def _post(self, path, **data):
        response = requests.post(f"{self.url}/_test/{path}", data=data, timeout=10)
        assert response.status_code == 204, response.text

    def disable(self, sub):
        self._post("disable", sub=sub)

    def enable(self, sub):
        self._post("enable", sub=sub)

    def tamper(self, mode):
        """The next ID token the IdP's token endpoint returns: re-signed by a stranger's key
        ('signature'), for another client ('audience'), from another issuer ('issuer'), or long
        expired ('expired')."""
        self._post("tamper", mode=mode)

    def account(self, sub, **claims):
        self._post("account", sub=sub, json=json.dumps({"password": IDP_PASSWORD, **claims}))

    def provider(self, **overrides) -> OidcProvider:
        values = {
            "key": "city",
            "label": "みどり市職員（庁内認証）",
            "issuer": self.url,
            "client_id": "jusou",
            "client_secret": SECRET,
            "scopes": "openid email profile groups offline_access",
            "groups_claim": "groups",
            "mfa_amr": frozenset(DEFAULT_MFA_AMR),
            "mfa_acr": frozenset(),
            "create_accounts": False,
        }
        return OidcProvider(**{**values, **overrides})


@pytest.fixture(scope="session")
def oidc_idp(live_server, tmp_path_factory):
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").exists():
        if os.environ.get("JUSOU_REQUIRE_BROWSER"):
            pytest.fail(
                "node and `npm ci` (oidc-provider) are needed for the SSO tests; .ci/run installs both"
            )
        pytest.skip("node or node_modules/oidc-provider missing (npm ci)")
    port = _free_port()
    accounts = tmp_path_factory.mktemp("idp") / "accounts.json"
    shutil.copy(DEMO_ACCOUNTS, accounts)
    env = {
        **os.environ,
        "OIDC_IDP_PORT": str(port),
        "OIDC_IDP_ISSUER": f"http://127.0.0.1:{port}",
        "OIDC_IDP_RP": live_server.url,
        "OIDC_IDP_ACCOUNTS": str(accounts),
        "OIDC_IDP_CLIENT_SECRET": SECRET,
    }
    process = subprocess.Popen(  # noqa: S603  (our own script, run by the node found on PATH)
        [node, str(IDP_SCRIPT)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    _wait_until_up(process, f"{url}/.well-known/openid-configuration", "the OIDC IdP")
    yield Idp(url)
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def sso(oidc_idp, settings):
    """jusou configured with the test IdP as "city" (as SSO_OIDC_PROVIDERS=city would), its origin
    allowed as a form target (logout ends at its end-session page)."""
    from jusou.sso import services

    services._client.cache_clear()
    settings.SSO_OIDC = {"city": oidc_idp.provider()}
    policy = settings.CONTENT_SECURITY_POLICY
    directives = {**policy["DIRECTIVES"], "form-action": [*policy["DIRECTIVES"]["form-action"], oidc_idp.url]}
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": directives}
    oidc_idp.enable("h.aoki")
    yield oidc_idp
    services._client.cache_clear()


def logged_in_as(session, base) -> str | None:
    """The username jusou's API says the session belongs to (None when it is not logged in)."""
    response = session.get(f"{base}/api/v1/me/", timeout=10)
    return response.json().get("username") if response.status_code == 200 else None


def idp_login(base, sub, *, mfa=False, next_url=None, session=None, password=IDP_PASSWORD):
    """A person's login through the IdP, as a browser makes it (redirects, the IdP's login form), with
    requests: returns the session (jusou's and the IdP's cookies) and the last response."""
    session = session or requests.Session()
    params = {"next": next_url} if next_url else {}
    page = session.get(f"{base}/sso/oidc/city/login/", params=params, timeout=15)
    action = re.search(r'action="(/interaction/[^"]+)"', page.text)
    assert action, page.text[:500]
    form = {"login": sub, "password": password}
    if mfa:
        form["mfa"] = "1"
    response = session.post(urljoin(page.url, action.group(1)), data=form, timeout=15)
    return session, response


# --- SAML 2.0: pysaml2's IdP (devdata/idp/saml.py) --------------------------------------------------

SAML_IDP_SCRIPT = ROOT / "devdata" / "idp" / "saml.py"
SAML_ACCOUNTS = ROOT / "devdata" / "idp" / "saml-accounts.json"


class SamlIdp(Idp):
    """The test SAML IdP: switches as for the OIDC one; tamper() takes 'signature' (changed after
    signing), 'audience' (for another SP), 'expired' or 'unsigned' for the next assertion; disable()
    also sends jusou the IdP's signed LogoutRequest over SOAP for that account's sessions."""

    def __init__(self, url, sp_key, sp_cert):
        super().__init__(url)
        self.sp_key, self.sp_cert = sp_key, sp_cert

    def logout(self, sub):
        """The account signs out at the IdP, which tells jusou over SOAP."""
        self._post("logout", sub=sub)

    def provider(self, **overrides):
        from jusou.sso.config import DEFAULT_SAML_MFA_CONTEXTS, SamlProvider

        values = {
            "key": "shakyo",
            "label": "社会福祉協議会・委託先（SAML）",
            "metadata_url": f"{self.url}/metadata",
            "metadata_file": "",
            "entity_id": "",
            "groups_attribute": "groups",
            "subject_attribute": "",
            "mfa_contexts": frozenset(DEFAULT_SAML_MFA_CONTEXTS),
            "mfa_attribute": "http://schemas.microsoft.com/claims/authnmethodsreferences",
            "create_accounts": False,
            "session_hours": 8,
            "origins": (self.url,),
        }
        return SamlProvider(**{**values, **overrides})


@pytest.fixture(scope="session")
def saml_idp(live_server, tmp_path_factory):
    import sys

    from jusou.sso.config import self_signed_keypair

    if shutil.which("xmlsec1") is None:
        if os.environ.get("JUSOU_REQUIRE_BROWSER"):
            pytest.fail("xmlsec1 is needed for the SAML tests; .ci/run installs it")
        pytest.skip("xmlsec1 missing (apt install xmlsec1)")
    keys = tmp_path_factory.mktemp("saml")
    sp_key, sp_cert = self_signed_keypair(keys, "sp", "jusou test SP")
    port = _free_port()
    env = {
        **os.environ,
        "SAML_IDP_PORT": str(port),
        # the IdP's answer is a cross-origin POST: over plain HTTP the request's cookie (SameSite=Lax) comes
        # along only from the same site, so the IdP is addressed as localhost, like live_server
        "SAML_IDP_BASE": f"http://localhost:{port}",
        "SAML_IDP_SP": live_server.url,
        "SAML_IDP_ACCOUNTS": str(SAML_ACCOUNTS),
        "SAML_IDP_DIR": str(keys),
    }
    process = subprocess.Popen(  # noqa: S603  (our own script, run by this interpreter)
        [sys.executable, str(SAML_IDP_SCRIPT)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://localhost:{port}"
    _wait_until_up(process, f"{url}/metadata", "the SAML IdP")
    yield SamlIdp(url, str(sp_key), str(sp_cert))
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def saml_sso(saml_idp, settings, live_server):
    """jusou configured with the test SAML IdP as "shakyo" (as SSO_SAML_PROVIDERS=shakyo would)."""
    from jusou.sso import saml

    saml.clients_clear()
    settings.SSO_SAML = {"shakyo": saml_idp.provider()}
    settings.SITE_URL = live_server.url
    settings.SSO_SAML_SP_KEY_FILE, settings.SSO_SAML_SP_CERT_FILE = saml_idp.sp_key, saml_idp.sp_cert
    policy = settings.CONTENT_SECURITY_POLICY
    directives = {**policy["DIRECTIVES"], "form-action": [*policy["DIRECTIVES"]["form-action"], saml_idp.url]}
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": directives}
    saml_idp.enable("k.inoue")
    yield saml_idp
    saml.clients_clear()


def saml_assertion(base, account, *, mfa=False, next_url=None, session=None, password=IDP_PASSWORD):
    """Up to the IdP's answer: the session, the ACS address and the form fields (SAMLResponse,
    RelayState) the IdP's page would POST there."""
    import html

    session = session or requests.Session()
    params = {"next": next_url} if next_url else {}
    page = session.get(f"{base}/sso/saml/shakyo/login/", params=params, timeout=15)
    pending = re.search(r'name="pending" value="([^"]+)"', page.text)
    assert pending, page.text[:500]
    form = {"pending": pending.group(1), "username": account, "password": password}
    if mfa:
        form["mfa"] = "1"
    answer = session.post(urljoin(page.url, "/login"), data=form, timeout=15)
    action = re.search(r'action="([^"]+)"', answer.text)
    assert action, answer.text[:500]
    fields = {
        name: html.unescape(value) for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', answer.text)
    }
    return session, html.unescape(action.group(1)), fields


def saml_login(base, account, **kwargs):
    """A person's login through the SAML IdP, as a browser makes it: returns (session, last response)."""
    session, acs, fields = saml_assertion(base, account, **kwargs)
    return session, session.post(acs, data=fields, timeout=15)
