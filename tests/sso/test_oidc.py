"""Single sign-on through a real OpenID Provider (tests/sso/conftest.py): who is who, the group
mapping, MFA asserted or not, logout at both ends, back-channel logout, a disabled subject, tampered
and replayed responses, open redirects, and the password path where local login is off."""

from datetime import timedelta

import pytest
import requests
from django.db import IntegrityError, transaction
from django.utils import timezone
from joserfc import jwk, jwt

from jusou.models import (
    Agency,
    Role,
    SsoEvent,
    SsoGroupMapping,
    SsoIdentity,
    SsoSession,
    StaffMembership,
    User,
)
from jusou.sso import services
from tests.sso.idp import idp_login, logged_in_as

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_registered_subject_logs_in_and_lands_on_the_dashboard(sso, live_server, personas):
    session, response = idp_login(live_server.url, "h.aoki")
    assert response.url == f"{live_server.url}/"
    assert "青木 春香 さん" in response.text
    assert logged_in_as(session, live_server.url) == "intake_a"
    sso_session = SsoSession.objects.get()
    assert sso_session.identity.user == personas["intake_a"]
    assert sso_session.idp_session and sso_session.refresh_token and sso_session.id_token
    assert not sso_session.mfa
    event = SsoEvent.objects.get(kind=SsoEvent.Kind.LOGIN)
    assert (event.provider, event.subject, event.user) == ("city", "h.aoki", personas["intake_a"])


def test_matched_on_the_subject_never_on_the_e_mail(sso, live_server, personas):
    # the IdP's account carries intake_b's e-mail address, but its subject is registered to nobody
    sso.account("b.inoue", email=personas["intake_b"].email, family_name="井上", given_name="健太", groups=[])
    session, response = idp_login(live_server.url, "b.inoue")
    assert response.status_code == 403
    assert "このIdPのアカウントは jusou に登録されていません" in response.text
    assert logged_in_as(session, live_server.url) is None
    refused = SsoEvent.objects.get(kind=SsoEvent.Kind.REFUSED)
    assert refused.subject == "b.inoue" and "unknown subject" in refused.detail
    # the refusal page's button asks the IdP to authenticate again (prompt=login): another account
    assert "/sso/oidc/city/login/?force=1" in response.text
    again = session.get(f"{live_server.url}/sso/oidc/city/login/?force=1", timeout=10)
    assert "/interaction/" in again.url and 'name="password"' in again.text


def test_an_unknown_subject_gets_an_account_only_when_the_setting_says_so(
    sso, live_server, personas, settings
):
    session, response = idp_login(live_server.url, "k.shin")
    assert response.status_code == 403
    assert not SsoIdentity.objects.filter(subject="k.shin").exists()

    settings.SSO_OIDC = {"city": sso.provider(create_accounts=True)}
    session, response = idp_login(live_server.url, "k.shin")
    assert response.url == f"{live_server.url}/"
    user = SsoIdentity.objects.get(provider="city", subject="k.shin").user
    assert (user.last_name, user.first_name, user.has_usable_password()) == ("新井", "功", False)
    # its groups: jusou-chuo-houkatsu maps to 相談員 there; jusou-admins maps to nothing
    memberships = list(
        StaffMembership.objects.active().filter(user=user).values_list("agency__code", "role", "source")
    )
    assert memberships == [("chuo-houkatsu", Role.WORKER, "sso:city")]
    assert logged_in_as(session, live_server.url) == user.username


def test_an_unknown_subject_with_no_mapped_group_is_refused_even_with_accounts_on(
    sso, live_server, personas, settings
):
    settings.SSO_OIDC = {"city": sso.provider(create_accounts=True)}
    sso.account("z.nobody", family_name="無所属", given_name="太郎", groups=["jusou-admins"])
    _, response = idp_login(live_server.url, "z.nobody")
    assert response.status_code == 403
    assert "所属できるグループもありません" in response.text
    assert not User.objects.filter(last_name="無所属").exists()


def test_groups_are_applied_at_every_login_with_history(sso, live_server, personas):
    intake_a = personas["intake_a"]
    by_hand = StaffMembership.objects.active().get(user=intake_a)
    assert by_hand.source == ""
    shogai = Agency.objects.get(code="shogai-soudan")
    SsoGroupMapping.objects.create(provider="city", group="jusou-shogai", agency=shogai, role=Role.WORKER)
    sso.account(
        "h.aoki", family_name="青木", given_name="春香", groups=["jusou-chuo-houkatsu", "jusou-shogai"]
    )
    idp_login(live_server.url, "h.aoki")
    made = StaffMembership.objects.active().get(user=intake_a, agency=shogai)
    assert made.source == "sso:city" and made.role == Role.WORKER
    assert made.history.first().history_change_reason == "統合認証（city）のグループ割当て"
    assert SsoEvent.objects.filter(kind=SsoEvent.Kind.MAPPED, user=intake_a).exists()

    # the group is taken away at the IdP: the next login ends what the mapping made, and only that
    sso.account("h.aoki", family_name="青木", given_name="春香", groups=[])
    idp_login(live_server.url, "h.aoki")
    made.refresh_from_db()
    assert made.ended_on == timezone.localdate()
    assert made.history.first().history_change_reason == "統合認証（city）のグループ割当て"
    assert StaffMembership.objects.active().filter(pk=by_hand.pk).exists()


def test_a_mapping_can_never_make_a_system_admin(sso, personas):
    mapping = SsoGroupMapping(provider="city", group="jusou-admins", agency=None, role=Role.SYSTEM_ADMIN)
    with pytest.raises(Exception, match="この役割はIdPのグループからは割り当てられません"):
        mapping.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        mapping.save()
    # nor through a row written behind the model's back: the login reads only the roles a mapping may give
    assert services.mapped_roles("city", ["jusou-admins"]) == set()


def test_mfa_asserted_by_the_idp_is_not_asked_again(sso, live_server, personas, settings):
    settings.TWO_FACTOR_REQUIRED = True
    session, response = idp_login(live_server.url, "m.sasaki", mfa=True)
    assert response.url == f"{live_server.url}/"
    assert logged_in_as(session, live_server.url) == "supervisor"
    assert SsoSession.objects.get().mfa


def test_without_an_mfa_assertion_jusou_asks_for_its_own_code(sso, live_server, personas, settings):
    settings.TWO_FACTOR_REQUIRED = True
    session, response = idp_login(live_server.url, "m.sasaki")
    assert response.url.startswith(f"{live_server.url}/accounts/2fa/verify/")
    assert session.get(f"{live_server.url}/cases/", timeout=10).url.startswith(
        f"{live_server.url}/accounts/2fa/verify/"
    )
    me = session.get(f"{live_server.url}/api/v1/me/", timeout=10)
    assert me.status_code in (401, 403) and me.json()["code"] == "otp_required"


def test_which_assertions_count_is_a_setting(sso, live_server, personas, settings):
    settings.TWO_FACTOR_REQUIRED = True
    settings.SSO_OIDC = {"city": sso.provider(mfa_amr=frozenset({"hwk"}))}  # only a hardware key counts
    _, response = idp_login(live_server.url, "m.sasaki", mfa=True)  # the IdP says amr=[pwd, otp]
    assert response.url.startswith(f"{live_server.url}/accounts/2fa/verify/")


def test_logout_ends_the_session_here_and_at_the_idp(sso, live_server, personas):
    base = live_server.url
    session, _ = idp_login(base, "h.aoki")
    page = session.get(f"{base}/", timeout=10)
    token = page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = session.post(
        f"{base}/accounts/logout/", data={"csrfmiddlewaretoken": token}, headers={"Referer": base}, timeout=10
    )
    assert response.url.startswith(f"{sso.url}/session/end")  # RP-initiated logout, with the ID token as hint
    assert "ログアウトしますか" in response.text
    assert logged_in_as(session, base) is None
    assert SsoSession.objects.get().ended_at is not None
    assert SsoEvent.objects.filter(kind=SsoEvent.Kind.LOGOUT).exists()
    # confirming at the IdP ends its session: the next login asks for the password again
    xsrf = response.text.split('name="xsrf" value="')[1].split('"')[0]
    back = session.post(f"{sso.url}/session/end/confirm", data={"xsrf": xsrf, "logout": "yes"}, timeout=10)
    assert back.url.startswith(f"{base}/accounts/login/")
    again = session.get(f"{base}/sso/oidc/city/login/", timeout=10)
    assert "/interaction/" in again.url and 'name="password"' in again.text


def test_back_channel_logout_from_the_idp_ends_the_session(sso, live_server, personas):
    base = live_server.url
    session, _ = idp_login(base, "h.aoki")
    assert logged_in_as(session, base) == "intake_a"
    # the person signs out at the IdP itself (another application's logout button, the portal …)
    page = session.get(f"{sso.url}/session/end", timeout=10)
    xsrf = page.text.split('name="xsrf" value="')[1].split('"')[0]
    session.post(f"{sso.url}/session/end/confirm", data={"xsrf": xsrf, "logout": "yes"}, timeout=10)
    # the IdP posted its logout token to jusou's back-channel address: the session is gone
    assert SsoSession.objects.get().ended_at is not None
    assert logged_in_as(session, base) is None
    ended = SsoEvent.objects.get(kind=SsoEvent.Kind.ENDED)
    assert "バックチャネル" in ended.detail


def test_a_forged_logout_token_ends_nothing(sso, live_server, personas):
    base = live_server.url
    session, _ = idp_login(base, "h.aoki")
    sso_session = SsoSession.objects.get()
    stranger = jwk.RSAKey.generate_key(2048)
    now = int(timezone.now().timestamp())
    claims = {
        "iss": sso.url,
        "aud": "jusou",
        "iat": now,
        "jti": "forged-1",
        "sid": sso_session.idp_session,
        "events": {services.BACKCHANNEL_EVENT: {}},
    }
    forged = jwt.encode({"alg": "RS256", "kid": "idp-forged"}, claims, stranger)
    response = requests.post(
        f"{base}/sso/oidc/city/backchannel-logout/", data={"logout_token": forged}, timeout=10
    )
    assert response.status_code == 400
    assert requests.post(f"{base}/sso/oidc/city/backchannel-logout/", data={}, timeout=10).status_code == 400
    assert logged_in_as(session, base) == "intake_a"
    assert (
        SsoEvent.objects.filter(kind=SsoEvent.Kind.LOGOUT_REFUSED, detail__contains="logout token").count()
        == 2
    )


def test_a_disabled_subject_loses_its_session_and_cannot_log_in_again(sso, live_server, personas):
    base = live_server.url
    session, _ = idp_login(base, "h.aoki")
    sso.disable("h.aoki")
    # beat's check, once the interval has passed since the login
    SsoSession.objects.update(checked_at=timezone.now() - timedelta(hours=1))
    assert services.sessions_check() == {"checked": 1, "ended": 1, "unreachable": 0}
    assert logged_in_as(session, base) is None
    assert "invalid_grant" in SsoSession.objects.get().end_reason
    _, response = idp_login(base, "h.aoki")
    assert "/interaction/" in response.url  # the IdP itself refuses the password of a disabled account
    assert "ユーザーIDまたはパスワードが違います" in response.text


def test_an_idp_out_of_reach_ends_no_session(sso, live_server, personas, settings):
    base = live_server.url
    session, _ = idp_login(base, "h.aoki")
    SsoSession.objects.update(checked_at=timezone.now() - timedelta(hours=1))
    services._client.cache_clear()
    settings.SSO_OIDC = {"city": sso.provider(issuer="http://127.0.0.1:9")}  # nothing listens there
    assert services.sessions_check()["unreachable"] == 1
    assert SsoSession.objects.get().ended_at is None
    settings.SSO_OIDC = {"city": sso.provider()}
    assert logged_in_as(session, base) == "intake_a"


@pytest.mark.parametrize(
    "mode, message",
    [
        ("signature", "IdPからの応答の署名を確認できませんでした"),
        ("audience", "IdPからの応答が jusou 宛てのものではありません"),
        ("issuer", "IdPからの応答が jusou 宛てのものではありません"),
        ("expired", "IdPからの応答の有効期限が切れています"),
    ],
)
def test_a_tampered_id_token_is_refused_and_logged(sso, live_server, personas, mode, message):
    sso.tamper(mode)
    session, response = idp_login(live_server.url, "h.aoki")
    assert response.status_code == 400
    assert message in response.text
    assert logged_in_as(session, live_server.url) is None
    assert SsoEvent.objects.filter(kind=SsoEvent.Kind.REFUSED).count() == 1
    assert not SsoSession.objects.exists()


def test_a_replayed_callback_is_refused(sso, live_server, personas):
    base = live_server.url
    session = requests.Session()
    page = session.get(f"{base}/sso/oidc/city/login/", timeout=10)
    action = page.text.split('action="')[1].split('"')[0]
    to_callback = session.post(
        f"{sso.url}{action}", data={"login": "h.aoki", "password": "idp-demo-2025"}, allow_redirects=False
    )
    while "/sso/oidc/city/callback/" not in to_callback.headers["Location"]:
        to_callback = session.get(to_callback.headers["Location"], allow_redirects=False, timeout=10)
    callback = to_callback.headers["Location"]
    assert session.get(callback, timeout=10).url == f"{base}/"
    # the same code and state again (a copied URL, a back button, an attacker who saw it)
    replayed = requests.Session()
    replayed.cookies.update(session.cookies)
    again = session.get(callback, timeout=10)
    assert again.status_code == 400
    assert "すでに使われています" in again.text


@pytest.mark.parametrize(
    "target, lands",
    [
        ("/cases/", "/cases/"),
        ("https://evil.example/phish", "/"),
        ("//evil.example/", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_after_login_only_a_page_of_this_site(sso, live_server, personas, target, lands):
    _, response = idp_login(live_server.url, "h.aoki", next_url=target)
    assert response.url == f"{live_server.url}{lands}"


def test_with_local_login_off_only_the_break_glass_account_uses_a_password(
    live_server, personas, settings, client
):
    from devdata.demo.world import DEMO_PASSWORD

    settings.LOCAL_LOGIN_ENABLED = False
    settings.TWO_FACTOR_REQUIRED = False
    response = client.post("/accounts/login/", {"username": "intake_a", "password": DEMO_PASSWORD})
    assert response.status_code == 200
    assert (
        "パスワードでのログインはシステム管理者の緊急用アカウントに限られています"
        in response.content.decode()
    )
    api = client.post(
        "/api/v1/auth/token/",
        {"username": "intake_a", "password": DEMO_PASSWORD},
        content_type="application/json",
    )
    assert api.status_code in (401, 403) and api.json()["code"] == "local_login_disabled"
    response = client.post("/accounts/login/", {"username": "admin", "password": DEMO_PASSWORD})
    assert response.status_code == 302


def test_a_person_who_logged_in_through_the_idp_issues_a_personal_token(sso, live_server, personas):
    base = live_server.url
    session, _ = idp_login(base, "h.aoki")
    page = session.get(f"{base}/accounts/tokens/", timeout=10)
    token = page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    issued = session.post(
        f"{base}/accounts/tokens/", data={"csrfmiddlewaretoken": token}, headers={"Referer": base}
    )
    assert issued.status_code == 200
    from knox.models import AuthToken

    assert AuthToken.objects.filter(user=personas["intake_a"]).count() == 1


def test_the_supervisors_read_the_sign_in_log_and_nobody_else(sso, live_server, personas, client):
    idp_login(live_server.url, "h.aoki")
    sso.tamper("audience")
    idp_login(live_server.url, "h.aoki")
    client.force_login(personas["supervisor"])
    page = client.get("/audit/sign-ins/").content.decode()
    assert (
        "青木 春香（intake_a）" in page and "ログイン拒否" in page and "azp" in page
    )  # why, as the log keeps it
    refused_only = client.get("/audit/sign-ins/?kind=refused").content.decode()
    assert "ログイン拒否" in refused_only and "IdPの多要素認証の表明なし" not in refused_only
    from jusou.models import ReadLog

    logged = ReadLog.objects.filter(user=personas["supervisor"], detail__startswith="統合認証の記録の確認")
    assert [row.basis for row in logged] == ["supervisor", "supervisor"]
    for name in ("intake_a", "coord"):
        client.force_login(personas[name])
        assert client.get("/audit/sign-ins/").status_code == 403
