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
    for _ in range(100):
        try:
            if requests.get(f"{url}/.well-known/openid-configuration", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(f"the OIDC IdP did not start: {process.stdout.read()}")
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
