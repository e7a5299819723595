"""A real SAML 2.0 identity provider for jusou's demo and tests: pysaml2's IdP (`saml2.server.Server`),
with a small login page of its own (password, and a box for "a second factor was used", which puts the
MFA AuthnContextClassRef into the assertion), accounts from a JSON file, IdP sessions (a login is
remembered until logout), single logout (jusou's LogoutRequest over HTTP-Redirect; the IdP's own
LogoutRequest to jusou over SOAP when an account is disabled), and a few test-only switches under
/_test/ (disable an account, tamper with the next assertion). Not for production: a municipality's
SAML IdP is Entra ID, AD FS, Keycloak, a 社協's own …

    .venv/bin/python devdata/idp/saml.py      (settings from the environment, defaults below)

SAML_IDP_PORT (9012), SAML_IDP_BASE (http://127.0.0.1:9012), SAML_IDP_ACCOUNTS (saml-accounts.json beside
this file), SAML_IDP_SP (jusou's address, http://127.0.0.1:8000; several comma-separated), SAML_IDP_SP_KEY
(shakyo: the IdP's key in jusou's SSO_SAML_PROVIDERS), SAML_IDP_DIR (var/saml-idp: the IdP's signing key,
made at the first start). jusou's SP metadata is read from <SP>/sso/saml/<key>/metadata/ when first needed.
"""

from __future__ import annotations

import base64
import datetime
import html
import json
import os
import secrets
import sys
import threading
from http.cookies import SimpleCookie
from pathlib import Path
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, BINDING_SOAP, class_name
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.s_utils import UnknownPrincipal, UnsupportedBinding
from saml2.saml import NAME_FORMAT_BASIC, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.sigver import pre_signature_part, signed_instance_factory
from saml2.time_util import in_a_while

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
from jusou.sso.config import SAML_MFA_CONTEXT, SAML_PASSWORD_CONTEXT, self_signed_keypair  # noqa: E402

PORT = int(os.environ.get("SAML_IDP_PORT", "9012"))
BASE = os.environ.get("SAML_IDP_BASE", f"http://127.0.0.1:{PORT}")
SPS = os.environ.get("SAML_IDP_SP", "http://127.0.0.1:8000").split(",")
SP_KEY = os.environ.get("SAML_IDP_SP_KEY", "shakyo")
ACCOUNTS_FILE = Path(os.environ.get("SAML_IDP_ACCOUNTS", HERE / "saml-accounts.json"))
KEY_DIR = Path(os.environ.get("SAML_IDP_DIR", ROOT / "var" / "saml-idp"))

accounts = json.loads(ACCOUNTS_FILE.read_text(encoding="utf-8"))
disabled: set[str] = set()
tamper: list[str] = []  # the next assertion: 'signature' | 'audience' | 'expired' | 'unsigned'
idp_sessions: dict[str, dict] = {}  # cookie → {"account", "mfa"}
pending: dict[str, tuple] = {}  # login form → (the verified AuthnRequest, RelayState)
sp_sessions: dict[str, list[dict]] = {}  # account → [{"sp", "session_index", "name_id"}]
lock = threading.Lock()
KEY_FILE, CERT_FILE = self_signed_keypair(KEY_DIR, "idp", "jusou demo SAML IdP")
_server: Server | None = None


def server() -> Server:
    """pysaml2's IdP, built at the first request (jusou's SP metadata is fetched then, once it runs)."""
    global _server
    with lock:
        if _server is None:
            sp_metadata = [requests.get(f"{sp}/sso/saml/{SP_KEY}/metadata/", timeout=10).text for sp in SPS]
            _server = Server(config=IdPConfig().load(config(sp_metadata)))
        return _server


def config(sp_metadata: list[str]) -> dict:
    return {
        "entityid": f"{BASE}/metadata",
        "service": {
            "idp": {
                "name": "みどり市 社会福祉協議会 統合認証（デモ）",
                "endpoints": {
                    "single_sign_on_service": [(f"{BASE}/sso/redirect", BINDING_HTTP_REDIRECT)],
                    "single_logout_service": [(f"{BASE}/slo/redirect", BINDING_HTTP_REDIRECT)],
                },
                "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_BASIC}},
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "want_authn_requests_signed": True,
                "sign_response": True,
                "sign_assertion": True,
            }
        },
        "key_file": str(KEY_FILE),
        "cert_file": str(CERT_FILE),
        "metadata": {"inline": sp_metadata},
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "allow_unknown_attributes": True,
        "accepted_time_diff": 60,
    }


def metadata_xml() -> str:
    return create_metadata_string(None, config=IdPConfig().load(config([])), valid=24 * 7).decode()


def page(title: str, body: str, status: str = "200 OK", headers=()):
    text = (
        f'<!doctype html><html lang="ja"><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<body style='font-family:sans-serif;max-width:32rem;margin:2rem auto'>{body}</body></html>"
    )
    return status, [("Content-Type", "text/html; charset=utf-8"), *headers], text.encode()


def login_form(pending_id: str, error: str = ""):
    hidden = f'<input type="hidden" name="pending" value="{html.escape(pending_id)}">'
    warning = f'<p role="alert" style="color:#b00">{html.escape(error)}</p>' if error else ""
    return page(
        "社協 統合認証（デモ）",
        f"""<h1>みどり市社会福祉協議会 統合認証（デモ・SAML）</h1>{warning}
<form method="post" action="/login">{hidden}
<p><label>利用者ID <input name="username" autocomplete="username" required></label></p>
<p><label>パスワード <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><label><input type="checkbox" name="mfa" value="1"> 二要素認証（ワンタイムコード）を使った</label></p>
<p><button type="submit">ログイン</button></p></form>""",
    )


def authn_request(fields: dict):
    return server().parse_authn_request(
        fields["SAMLRequest"],
        BINDING_HTTP_REDIRECT,
        relay_state=fields.get("RelayState"),
        sigalg=fields.get("SigAlg"),
        signature=fields.get("Signature"),
    )


def signed(response, idp: Server) -> str:
    """Sign the assertion and the response, as pysaml2 does for a normal response."""
    assertion = response.assertion[0] if isinstance(response.assertion, list) else response.assertion
    assertion.signature = pre_signature_part(assertion.id, idp.sec.my_cert, 1)
    response.signature = pre_signature_part(response.id, idp.sec.my_cert, 2)
    return signed_instance_factory(
        response, idp.sec, [(class_name(assertion), assertion.id), (class_name(response), response.id)]
    )


def assertion_post(account: str, mfa: bool, request, relay_state: str):
    """The auto-submitting form that carries the signed assertion to jusou's ACS."""
    idp = server()
    args = idp.response_args(request.message, [BINDING_HTTP_POST])
    info = accounts[account]
    identity = {
        "mail": [info["email"]],
        "sn": [info["family_name"]],
        "givenName": [info["given_name"]],
        "groups": list(info.get("groups", [])),
    }
    session_index = secrets.token_hex(12)
    name_id = NameID(format=NAMEID_FORMAT_PERSISTENT, text=account, sp_name_qualifier=args["sp_entity_id"])
    mode = tamper.pop(0) if tamper else ""
    response = idp.create_authn_response(
        identity,
        name_id=name_id,
        authn={
            "class_ref": SAML_MFA_CONTEXT if mfa else SAML_PASSWORD_CONTEXT,
            "authn_auth": f"{BASE}/metadata",
        },
        sign_response=False,
        sign_assertion=False,
        session_not_on_or_after=in_a_while(hours=8),
        **args,
    )
    assertion = response.assertion[0] if isinstance(response.assertion, list) else response.assertion
    assertion.authn_statement[0].session_index = session_index
    if mode == "audience":  # signed by the IdP, but for another service
        for restriction in assertion.conditions.audience_restriction:
            for audience in restriction.audience:
                audience.text = "https://another-service.example/saml/metadata/"
    if mode == "expired":
        past = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        assertion.conditions.not_on_or_after = past
        assertion.conditions.not_before = past
        for confirmation in assertion.subject.subject_confirmation:
            confirmation.subject_confirmation_data.not_on_or_after = past
    if mode == "unsigned":
        xml = str(response)
    else:
        xml = signed(response, idp)
    if mode == "signature":  # another person's NameID after signing: the digest no longer matches
        xml = xml.replace(f">{account}</", ">m.ueda</" if account != "m.ueda" else ">k.inoue</")
    with lock:
        sp_sessions.setdefault(account, []).append(
            {"sp": args["sp_entity_id"], "session_index": session_index, "name_id": name_id}
        )
    http_args = idp.apply_binding(
        BINDING_HTTP_POST, xml, destination=args["destination"], relay_state=relay_state, response=True
    )
    return "200 OK", [("Content-Type", "text/html; charset=utf-8")], http_args["data"].encode()


def logout_soap(account: str) -> int:
    """The IdP's own single logout to every SP the account is logged in at (SOAP, signed)."""
    idp = server()
    with lock:
        sessions = sp_sessions.pop(account, [])
        for cookie in [c for c, s in idp_sessions.items() if s["account"] == account]:
            idp_sessions.pop(cookie)
    sent = 0
    for session in sessions:
        binding, destination = idp.pick_binding(
            "single_logout_service", [BINDING_SOAP], "spsso", entity_id=session["sp"]
        )
        _, request = idp.create_logout_request(
            destination,
            session["sp"],
            name_id=session["name_id"],
            session_indexes=[session["session_index"]],
            reason="urn:oasis:names:tc:SAML:2.0:logout:admin",
            sign=True,
        )
        http_args = idp.apply_binding(binding, str(request), destination, sign=False)
        reply = requests.post(
            destination, data=http_args["data"], headers=dict(http_args["headers"]), timeout=10
        )
        sent += reply.status_code == 200
    return sent


def logout_start(cookie: str):
    """The person signs out at the IdP (its own logout button): the IdP session ends and the browser
    carries the IdP's signed LogoutRequest to jusou (front channel), which answers with a LogoutResponse."""
    idp = server()
    with lock:
        session = idp_sessions.pop(cookie, None)
        sessions = sp_sessions.pop(session["account"], []) if session else []
    if not sessions:
        return page("ログアウト", "<h1>統合認証からログアウトしました。</h1>")
    first = sessions[0]
    binding, destination = idp.pick_binding(
        "single_logout_service", [BINDING_HTTP_REDIRECT], "spsso", entity_id=first["sp"]
    )
    _, request = idp.create_logout_request(
        destination,
        first["sp"],
        name_id=first["name_id"],
        session_indexes=[first["session_index"]],
        reason="urn:oasis:names:tc:SAML:2.0:logout:user",
        sign=False,
    )
    http_args = idp.apply_binding(binding, str(request), destination, relay_state="idp-logout", sign=True)
    return "303 See Other", [*http_args["headers"], ("Set-Cookie", "idp=; Path=/; Max-Age=0")], b""


def logout_redirect(fields: dict, cookie: str):
    """jusou's LogoutRequest (HTTP-Redirect, signed): end the IdP session, answer with a LogoutResponse;
    or jusou's LogoutResponse to the IdP's own request (logout_start)."""
    idp = server()
    if "SAMLResponse" in fields:
        response = idp.parse_logout_request_response(fields["SAMLResponse"], BINDING_HTTP_REDIRECT)
        done = response is not None and response.response.status.status_code.value.endswith(":Success")
        return page(
            "ログアウト",
            f"<h1>{'統合認証からログアウトしました。' if done else 'ログアウトを確認できませんでした。'}</h1>",
        )
    request = idp.parse_logout_request(
        fields["SAMLRequest"],
        BINDING_HTTP_REDIRECT,
        relay_state=fields.get("RelayState"),
        sigalg=fields.get("SigAlg"),
        signature=fields.get("Signature"),
    )
    if not fields.get("Signature"):
        return page("エラー", "<h1>署名のないログアウト要求です。</h1>", "400 Bad Request")
    with lock:
        session = idp_sessions.pop(cookie, None)
        if session:
            sp_sessions.pop(session["account"], None)
    response = idp.create_logout_response(request.message, [BINDING_HTTP_REDIRECT])
    binding, destination = idp.pick_binding(
        "single_logout_service", [BINDING_HTTP_REDIRECT], "spsso", request=request.message
    )
    http_args = idp.apply_binding(
        binding, str(response), destination, fields.get("RelayState", ""), response=True, sign=True
    )
    return "303 See Other", [*http_args["headers"], ("Set-Cookie", "idp=; Path=/; Max-Age=0")], b""


def app(environ, start_response):
    status, headers, body = route(environ)
    start_response(status, headers)
    return [body]


def route(environ):
    path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    fields = dict(query)
    if method == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        fields |= {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()}
    cookies = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    cookie = cookies["idp"].value if "idp" in cookies else ""
    try:
        if path == "/metadata":
            return "200 OK", [("Content-Type", "application/samlmetadata+xml")], metadata_xml().encode()
        if path == "/sso/redirect":
            request = authn_request(fields)
            session = idp_sessions.get(cookie)
            if session and session["account"] not in disabled and not request.message.force_authn:
                return assertion_post(
                    session["account"], session["mfa"], request, fields.get("RelayState", "")
                )
            pending_id = secrets.token_urlsafe(16)
            with lock:
                pending[pending_id] = (request, fields.get("RelayState", ""))
            return login_form(pending_id)
        if path == "/login" and method == "POST":
            pending_id = fields.get("pending", "")
            if pending_id not in pending:
                return page("エラー", "<h1>ログインの要求が見つかりません。</h1>", "400 Bad Request")
            request, relay_state = pending[pending_id]
            account = fields.get("username", "")
            info = accounts.get(account)
            if info is None or not secrets.compare_digest(info["password"], fields.get("password", "")):
                return login_form(pending_id, "IDまたはパスワードが違います。")
            if account in disabled:
                return login_form(pending_id, "このアカウントは無効です。")
            mfa = fields.get("mfa") == "1"
            new_cookie = secrets.token_urlsafe(16)
            with lock:
                pending.pop(pending_id, None)
                idp_sessions[new_cookie] = {"account": account, "mfa": mfa}
            status, headers, body = assertion_post(account, mfa, request, relay_state)
            return (
                status,
                [*headers, ("Set-Cookie", f"idp={new_cookie}; Path=/; HttpOnly; SameSite=Lax")],
                body,
            )
        if path == "/slo/redirect":
            return logout_redirect(fields, cookie)
        if path == "/slo/start":
            return logout_start(cookie)
        if path.startswith("/_test/") and method == "POST":
            return test_switch(path.removeprefix("/_test/"), fields)
    except (UnknownPrincipal, UnsupportedBinding, ValueError, KeyError) as error:
        return page(
            "エラー", f"<h1>要求を処理できません</h1><p>{html.escape(repr(error))}</p>", "400 Bad Request"
        )
    return page("見つかりません", "<h1>見つかりません</h1>", "404 Not Found")


def test_switch(name: str, fields: dict):
    """Test-only switches (as an IdP administrator would act)."""
    with lock:
        if name == "disable":
            disabled.add(fields["sub"])
        elif name == "enable":
            disabled.discard(fields["sub"])
        elif name == "tamper":
            tamper.append(fields["mode"])
        elif name == "account":
            accounts[fields["sub"]] = json.loads(fields["json"])
        elif name != "logout":
            return page("見つかりません", "", "404 Not Found")
    if name in ("disable", "logout"):
        logout_soap(fields["sub"])  # the IdP ends the account's sessions at the SPs
    return "204 No Content", [], b""


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        sys.stderr.write("saml-idp: " + (format % args) + "\n")


if __name__ == "__main__":
    cert = base64.b64encode(CERT_FILE.read_bytes()).decode()[:16]
    print(f"SAML IdP {BASE} (metadata {BASE}/metadata) for {', '.join(SPS)} [{cert}…]", flush=True)
    make_server(
        "127.0.0.1", PORT, app, server_class=ThreadingServer, handler_class=QuietHandler
    ).serve_forever()
