"""Single sign-on through a real SAML 2.0 IdP (pysaml2's, devdata/idp/saml.py, started by tests/sso/idp.py):
who is who, the group mapping, MFA from the AuthnContext, single logout both ways, a disabled subject,
the session's time limit, tampered and replayed assertions, forged logout requests, open redirects."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from jusou.models import (
    Agency,
    Role,
    SsoEvent,
    SsoGroupMapping,
    SsoIdentity,
    SsoSession,
    StaffMembership,
)
from jusou.sso import services
from tests.sso.idp import IDP_PASSWORD, logged_in_as, saml_assertion, saml_login

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_registered_subject_logs_in_through_the_saml_idp(saml_sso, live_server, personas):
    session, response = saml_login(live_server.url, "k.inoue")
    assert response.url == f"{live_server.url}/"
    assert "井上 健太 さん" in response.text
    assert logged_in_as(session, live_server.url) == "intake_b"
    sso_session = SsoSession.objects.get()
    assert sso_session.identity.provider == "shakyo" and sso_session.identity.user == personas["intake_b"]
    assert sso_session.idp_session  # the SessionIndex, named again at logout
    assert ">k.inoue<" in sso_session.name_id
    assert not sso_session.mfa
    assert timedelta(hours=7) < sso_session.expires_at - timezone.now() <= timedelta(hours=8)
    event = SsoEvent.objects.get(kind=SsoEvent.Kind.LOGIN)
    assert (event.provider, event.subject, event.user) == ("shakyo", "k.inoue", personas["intake_b"])


def test_the_login_page_offers_the_saml_idp_and_jusou_publishes_its_metadata(saml_sso, live_server, client):
    page = client.get("/accounts/login/").content.decode()
    assert "社会福祉協議会・委託先（SAML）" in page and "/sso/saml/shakyo/login/" in page
    metadata = requests.get(f"{live_server.url}/sso/saml/shakyo/metadata/", timeout=10)
    assert metadata.status_code == 200
    assert f'entityID="{live_server.url}/sso/saml/shakyo/metadata/"' in metadata.text
    assert f"{live_server.url}/sso/saml/shakyo/acs/" in metadata.text
    assert f"{live_server.url}/sso/saml/shakyo/slo/soap/" in metadata.text
    assert 'AuthnRequestsSigned="true"' in metadata.text and "X509Certificate" in metadata.text


def test_an_unknown_subject_is_refused_or_created_when_the_setting_says_so(
    saml_sso, live_server, personas, settings
):
    session, response = saml_login(live_server.url, "t.ono")
    assert response.status_code == 403
    assert "このIdPのアカウントは jusou に登録されていません" in response.text
    assert logged_in_as(session, live_server.url) is None
    assert SsoEvent.objects.get(kind=SsoEvent.Kind.REFUSED).subject == "t.ono"
    # the IdP remembers t.ono; the refusal page's button asks it to authenticate again (ForceAuthn), so
    # the person can sign in as someone else
    assert "/sso/saml/shakyo/login/?force=1" in response.text
    assert 'name="pending"' not in session.get(f"{live_server.url}/sso/saml/shakyo/login/", timeout=10).text
    again = session.get(f"{live_server.url}/sso/saml/shakyo/login/?force=1", timeout=10)
    assert 'name="pending"' in again.text and 'name="password"' in again.text

    settings.SSO_SAML = {"shakyo": saml_sso.provider(create_accounts=True)}
    session, response = saml_login(live_server.url, "t.ono")
    assert response.url == f"{live_server.url}/"
    user = SsoIdentity.objects.get(provider="shakyo", subject="t.ono").user
    assert (user.last_name, user.first_name, user.email) == ("小野", "拓也", "t.ono@shakyo.midori.example")
    assert not user.has_usable_password()
    # shakyo-shogai-soudan maps to 相談員 there; shakyo-admins maps to nothing
    assert list(
        StaffMembership.objects.active().filter(user=user).values_list("agency__code", "role", "source")
    ) == [("shogai-soudan", Role.WORKER, "sso:shakyo")]


def test_groups_from_the_assertion_are_applied_at_every_login(saml_sso, live_server, personas):
    intake_b = personas["intake_b"]
    kodomo = Agency.objects.get(code="kodomo-katei")
    info = {"email": "k.inoue@shakyo.midori.example", "family_name": "井上", "given_name": "健太"}
    saml_sso.account("k.inoue", **info, groups=["shakyo-shogai-soudan", "shakyo-kodomo-katei"])
    saml_login(live_server.url, "k.inoue")
    made = StaffMembership.objects.active().get(user=intake_b, agency=kodomo)
    assert made.source == "sso:shakyo" and made.role == Role.WORKER
    assert made.history.first().history_change_reason == "統合認証（shakyo）のグループ割当て"

    saml_sso.account("k.inoue", **info, groups=["shakyo-shogai-soudan"])
    saml_login(live_server.url, "k.inoue")
    made.refresh_from_db()
    assert made.ended_on == timezone.localdate()
    assert StaffMembership.objects.active().filter(user=intake_b, agency__code="shogai-soudan").exists()


@pytest.fixture
def saml_supervisor(saml_sso, personas):
    saml_sso.account("s.kanri", email="s.kanri@shakyo.midori.example", family_name="佐々木", given_name="誠")
    SsoIdentity.objects.create(user=personas["supervisor"], provider="shakyo", subject="s.kanri")
    return "s.kanri"


def test_mfa_in_the_authn_context_is_not_asked_again(saml_supervisor, live_server, settings):
    settings.TWO_FACTOR_REQUIRED = True
    session, response = saml_login(live_server.url, saml_supervisor, mfa=True)
    assert response.url == f"{live_server.url}/"
    assert logged_in_as(session, live_server.url) == "supervisor"
    assert SsoSession.objects.get().mfa


def test_a_password_only_authn_context_gets_jusous_own_code(saml_supervisor, live_server, settings):
    settings.TWO_FACTOR_REQUIRED = True
    session, response = saml_login(live_server.url, saml_supervisor)
    assert response.url.startswith(f"{live_server.url}/accounts/2fa/verify/")
    assert session.get(f"{live_server.url}/api/v1/me/", timeout=10).json()["code"] == "otp_required"


def test_which_authn_contexts_count_is_a_setting(saml_supervisor, saml_sso, live_server, settings):
    settings.TWO_FACTOR_REQUIRED = True
    settings.SSO_SAML = {
        "shakyo": saml_sso.provider(mfa_contexts=frozenset({"https://refeds.org/profile/mfa"}))
    }
    _, response = saml_login(live_server.url, saml_supervisor, mfa=True)  # MobileTwoFactorContract
    assert response.url.startswith(f"{live_server.url}/accounts/2fa/verify/")


def csrf_of(session, base) -> str:
    page = session.get(f"{base}/", timeout=10)
    return page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]


def test_logout_ends_the_session_here_and_at_the_idp(saml_sso, live_server, personas):
    base = live_server.url
    session, _ = saml_login(base, "k.inoue")
    response = session.post(
        f"{base}/accounts/logout/",
        data={"csrfmiddlewaretoken": csrf_of(session, base)},
        headers={"Referer": base},
    )
    # jusou's signed LogoutRequest went to the IdP, whose LogoutResponse came back to jusou's SLS
    assert [r.url.split("?")[0] for r in response.history][1:] == [
        f"{saml_sso.url}/slo/redirect",
        f"{base}/sso/saml/shakyo/sls/",
    ]
    assert response.url == f"{base}/accounts/login/"
    assert "IdPからもログアウトしました。" in response.text
    assert logged_in_as(session, base) is None
    assert SsoSession.objects.get().end_reason == "ログアウト"
    # the IdP's session ended too: the next login asks for the password again
    again = session.get(f"{base}/sso/saml/shakyo/login/", timeout=10)
    assert again.url.startswith(f"{saml_sso.url}/sso/redirect") and 'name="password"' in again.text


def test_a_logout_at_the_idps_page_ends_the_session_here_through_the_browser(saml_sso, live_server, personas):
    base = live_server.url
    session, _ = saml_login(base, "k.inoue")
    # the IdP's own logout button: its signed LogoutRequest goes through the browser to jusou's SLS,
    # whose LogoutResponse goes back to the IdP
    response = session.get(f"{saml_sso.url}/slo/start", timeout=10)
    assert [r.url.split("?")[0] for r in response.history] == [
        f"{saml_sso.url}/slo/start",
        f"{base}/sso/saml/shakyo/sls/",
    ]
    assert "統合認証からログアウトしました。" in response.text
    assert logged_in_as(session, base) is None
    assert "SAML シングルログアウト" in SsoEvent.objects.get(kind=SsoEvent.Kind.ENDED).detail


def test_a_logout_at_the_idp_ends_the_session_here(saml_sso, live_server, personas):
    base = live_server.url
    session, _ = saml_login(base, "k.inoue")
    saml_sso.logout("k.inoue")  # the IdP's signed LogoutRequest over SOAP
    assert logged_in_as(session, base) is None
    ended = SsoEvent.objects.get(kind=SsoEvent.Kind.ENDED)
    assert "SAML シングルログアウト" in ended.detail and ended.user == personas["intake_b"]


def test_a_disabled_subject_loses_its_session_and_cannot_log_in_again(saml_sso, live_server, personas):
    base = live_server.url
    session, _ = saml_login(base, "k.inoue")
    other, _ = saml_login(base, "m.ueda")
    saml_sso.disable("k.inoue")
    assert logged_in_as(session, base) is None
    assert logged_in_as(other, base) == "member_c"  # only that subject's sessions
    page = requests.get(f"{base}/sso/saml/shakyo/login/", timeout=10)
    pending = page.text.split('name="pending" value="')[1].split('"')[0]
    refused = requests.post(
        f"{saml_sso.url}/login",
        data={"pending": pending, "username": "k.inoue", "password": IDP_PASSWORD},
        timeout=10,
    )
    assert "このアカウントは無効です。" in refused.text


def test_a_session_ends_at_its_time_limit(saml_sso, live_server, personas):
    base = live_server.url
    session, _ = saml_login(base, "k.inoue")
    other, _ = saml_login(base, "m.ueda")
    SsoSession.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert logged_in_as(session, base) is None  # at its next request
    assert services.sessions_check()["ended"] == 1  # and beat ends the one that made no request
    assert logged_in_as(other, base) is None
    assert set(SsoSession.objects.values_list("end_reason", flat=True)) == {
        "統合認証のセッションの有効期限（IdPで再認証が必要）"
    }


@pytest.mark.parametrize(
    "mode, message",
    [
        ("signature", "IdPからの応答の署名を確認できませんでした"),
        ("unsigned", "IdPからの応答の署名を確認できませんでした"),
        ("audience", "IdPからの応答が jusou 宛てのものではありません"),
        ("expired", "IdPからの応答の有効期限が切れています"),
    ],
)
def test_a_tampered_assertion_is_refused_and_logged(saml_sso, live_server, personas, mode, message):
    saml_sso.tamper(mode)
    session, response = saml_login(live_server.url, "k.inoue")
    assert response.status_code == 403
    assert message in response.text
    assert logged_in_as(session, live_server.url) is None
    assert SsoEvent.objects.filter(kind=SsoEvent.Kind.REFUSED).count() == 1
    assert not SsoSession.objects.exists()


def test_a_replayed_assertion_is_refused(saml_sso, live_server, personas):
    base = live_server.url
    session, acs, fields = saml_assertion(base, "k.inoue")
    assert session.post(acs, data=fields, timeout=10).url == f"{base}/"
    for replay in (session, requests.Session()):  # the same browser, and another one
        response = replay.post(acs, data=fields, timeout=10)
        assert response.status_code == 403
        assert "ログインの要求が見つからないか、すでに使われています" in response.text
    assert SsoEvent.objects.filter(kind=SsoEvent.Kind.REFUSED).count() == 2
    assert SsoSession.objects.count() == 1


def test_an_unsolicited_assertion_is_refused(saml_sso, live_server, personas):
    """An assertion for a login this browser did not start (login CSRF) finds no request here."""
    _, acs, fields = saml_assertion(live_server.url, "k.inoue")
    victim = requests.Session()
    response = victim.post(acs, data=fields, timeout=10)
    assert response.status_code == 403 and logged_in_as(victim, live_server.url) is None


def test_a_forged_logout_request_ends_nothing(saml_sso, live_server, personas):
    base = live_server.url
    session, _ = saml_login(base, "k.inoue")
    sso_session = SsoSession.objects.get()
    forged = f"""<?xml version="1.0"?>
<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"><soap-env:Body>
<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"
 xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="id-forged" Version="2.0"
 IssueInstant="{timezone.now():%Y-%m-%dT%H:%M:%SZ}" Destination="{base}/sso/saml/shakyo/slo/soap/">
<saml:Issuer>{saml_sso.url}/metadata</saml:Issuer>
<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">k.inoue</saml:NameID>
<samlp:SessionIndex>{sso_session.idp_session}</samlp:SessionIndex></samlp:LogoutRequest>
</soap-env:Body></soap-env:Envelope>"""
    response = requests.post(
        f"{base}/sso/saml/shakyo/slo/soap/",
        data=forged.encode(),
        headers={"Content-Type": "text/xml"},
        timeout=10,
    )
    assert response.status_code == 400
    redirect = requests.get(
        f"{base}/sso/saml/shakyo/sls/", params={"SAMLRequest": "bm90IGEgcmVxdWVzdA=="}, timeout=10
    )
    assert redirect.status_code == 400 and "IdPからのログアウト要求を確認できませんでした" in redirect.text
    # a form is not a SOAP message (and its body is read as a form before the view)
    form = requests.post(f"{base}/sso/saml/shakyo/slo/soap/", files={"x": ("x.xml", b"<x/>")}, timeout=10)
    assert form.status_code == 400
    assert logged_in_as(session, base) == "intake_b"
    refused = SsoEvent.objects.filter(kind=SsoEvent.Kind.LOGOUT_REFUSED)
    assert all(event.detail.startswith("IdPからのログアウト要求を受け付けませんでした") for event in refused)
    assert (
        SsoEvent.objects.filter(kind=SsoEvent.Kind.LOGOUT_REFUSED, detail__contains="logout request").count()
        == 2
    )
    assert (
        SsoEvent.objects.filter(
            kind=SsoEvent.Kind.LOGOUT_REFUSED, detail__contains="not a SOAP message"
        ).count()
        == 1
    )


@pytest.mark.parametrize(
    "target, lands",
    [("/cases/", "/cases/"), ("https://evil.example/phish", "/"), ("//evil.example/", "/")],
)
def test_after_login_only_a_page_of_this_site(saml_sso, live_server, personas, target, lands):
    _, response = saml_login(live_server.url, "k.inoue", next_url=target)
    assert response.url == f"{live_server.url}{lands}"


def test_a_saml_idp_out_of_reach_is_told_in_japanese(saml_sso, live_server, personas, settings):
    settings.SSO_SAML = {"shakyo": saml_sso.provider(metadata_url="http://127.0.0.1:9/metadata")}
    response = requests.get(f"{live_server.url}/sso/saml/shakyo/login/", timeout=10)
    assert response.status_code == 503
    assert "IdPに接続できませんでした" in response.text


def test_a_mapping_for_the_saml_idp_is_accepted_and_an_unknown_idp_is_not(saml_sso, personas):
    shogai = Agency.objects.get(code="shogai-soudan")
    SsoGroupMapping(provider="shakyo", group="g", agency=shogai, role=Role.WORKER).full_clean()
    with pytest.raises(Exception, match="設定されていないIdPです"):
        SsoGroupMapping(provider="nowhere", group="g", agency=shogai, role=Role.WORKER).full_clean()


def test_an_account_deactivated_in_jusou_loses_its_sso_session_at_once(saml_sso, live_server, personas):
    session, _ = saml_login(live_server.url, "k.inoue")
    user = personas["intake_b"]
    user.is_active = False
    user.save()
    assert logged_in_as(session, live_server.url) is None
    _, response = saml_login(live_server.url, "k.inoue")
    assert response.status_code == 403 and "このアカウントは利用停止されています" in response.text


def test_the_system_admin_ends_a_persons_sso_session_and_nobody_else_may(
    saml_sso, live_server, personas, client
):
    session, _ = saml_login(live_server.url, "k.inoue")
    sso_session = SsoSession.objects.get()
    action = {"action": "end_sessions", "_selected_action": [str(sso_session.pk)]}

    client.force_login(personas["supervisor"])  # a 管理者 reads the sign-in log, but this is not theirs
    assert client.post("/admin/jusou/ssosession/", action).status_code in (302, 403)
    assert logged_in_as(session, live_server.url) == "intake_b"

    client.force_login(personas["admin"])
    response = client.post("/admin/jusou/ssosession/", action, follow=True)
    assert "1件のセッションを終了しました。" in response.content.decode()
    assert logged_in_as(session, live_server.url) is None
    assert SsoSession.objects.get().end_reason == "システム管理者（admin）が終了"


def test_the_system_admin_keeps_the_idp_identities_and_group_mappings(saml_sso, personas, client):
    """The システム管理者 (not a superuser: the role's group) registers subjects and edits mappings."""
    client.force_login(personas["admin"])
    assert client.get("/admin/jusou/ssogroupmapping/add/").status_code == 200
    assert client.get("/admin/jusou/ssoevent/").status_code == 200
    assert client.get("/admin/jusou/ssosession/").status_code == 200
    page = client.get(f"/admin/jusou/user/{personas['intake_b'].pk}/change/").content.decode()
    assert "統合認証の識別子" in page and "k.inoue" in page
    client.force_login(personas["supervisor"])
    assert client.get("/admin/jusou/ssogroupmapping/add/").status_code in (302, 403)


def test_an_answer_while_the_idps_metadata_is_out_of_reach_is_refused_not_an_error(
    saml_sso, live_server, personas, settings
):
    from jusou.sso import saml

    session, acs, fields = saml_assertion(live_server.url, "k.inoue")
    saml.clients_clear()  # the metadata must be read again, and the IdP's address no longer answers
    settings.SSO_SAML = {"shakyo": saml_sso.provider(metadata_url="http://127.0.0.1:9/metadata")}
    response = session.post(acs, data=fields, timeout=10)
    assert response.status_code == 403 and "IdPに接続できませんでした" in response.text
    soap = requests.post(
        f"{live_server.url}/sso/saml/shakyo/slo/soap/",
        data=b"<x/>",
        headers={"Content-Type": "text/xml"},
        timeout=10,
    )
    assert soap.status_code == 400
