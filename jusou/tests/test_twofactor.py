"""二要素認証: required for 管理者 and システム管理者, available to all staff, with 回復コード.

The root conftest switches 2FA off for every other test; here it is on, as in production.
"""

import runpy
import time
from base64 import b32decode
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from devdata.demo.twofactor import DEMO_TOTP_SECRET
from devdata.demo.world import DEMO_PASSWORD
from jusou.models import Role
from jusou.staff import twofactor
from jusou.tests.factories import TEST_PASSWORD, staff_user

ENROL = reverse("twofactor_enrol")
VERIFY = reverse("twofactor_verify")
SETTINGS_PAGE = reverse("twofactor_settings")
SETTINGS_FILE = Path(__file__).resolve().parents[1] / "settings.py"


@pytest.fixture(autouse=True)
def _two_factor_required(settings, _two_factor_off):
    settings.TWO_FACTOR_REQUIRED = True


def code_for(device, steps_ahead=0) -> str:
    """The code the user's app shows now (or `steps_ahead` 30-second steps later: with the default
    tolerance of one step, the next step's code is also accepted, and a code is never accepted twice)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name=twofactor.TOTP_DEVICE_NAME, confirmed=True)


def recovery_codes(user, codes=("abcd2345", "efgh6723")) -> list[str]:
    device = StaticDevice.objects.create(user=user, name=twofactor.RECOVERY_DEVICE_NAME, confirmed=True)
    for code in codes:
        StaticToken.objects.create(device=device, token=code)
    return list(codes)


def enrol(client, user, next_url=None) -> list[str]:
    """Through the pages, as the user does; returns the 回復コード shown."""
    query = f"?next={next_url}" if next_url else ""
    client.get(ENROL + query)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(ENROL, {"code": code_for(device), "next": next_url or ""})
    assert response.status_code == 200, response.content.decode()
    return response.context["codes"]


def enter_code(client, code, next_url=""):
    return client.post(VERIFY, {"code": code, "next": next_url})


def assert_sent_to(response, url_name, next_url):
    assert response.status_code == 302
    assert response.url == f"{reverse(url_name)}?next={next_url.replace('/', '%2F')}"


# --- The setting ------------------------------------------------------------------------------------


def test_the_requirement_is_on_by_default_and_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("TWO_FACTOR_REQUIRED", raising=False)
    assert runpy.run_path(str(SETTINGS_FILE))["TWO_FACTOR_REQUIRED"] is True
    monkeypatch.setenv("TWO_FACTOR_REQUIRED", "false")
    loaded = runpy.run_path(str(SETTINGS_FILE))
    assert loaded["TWO_FACTOR_REQUIRED"] is False
    assert "TWO_FACTOR_REQUIRED" in loaded["ENVIRONMENT_VARIABLES"]
    monkeypatch.setenv("TWO_FACTOR_REQUIRED", "maybe")
    with pytest.raises(ImproperlyConfigured, match="TWO_FACTOR_REQUIRED"):
        runpy.run_path(str(SETTINGS_FILE))


# --- otp_required and verify_code ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "required"),
    [
        (Role.SUPERVISOR, True),
        (Role.SYSTEM_ADMIN, True),
        (Role.WORKER, False),
        (Role.COORDINATOR, False),
        (Role.MEETING_MEMBER, False),
    ],
)
def test_otp_required_for_supervisors_and_system_admins_only(role, required):
    assert twofactor.otp_required(staff_user(role)) is required


@pytest.mark.django_db
def test_otp_required_for_anyone_with_a_confirmed_device_but_not_an_unconfirmed_one():
    worker = staff_user()
    TOTPDevice.objects.create(user=worker, name="途中", confirmed=False)
    assert not twofactor.otp_required(worker)
    confirmed_device(worker)
    assert twofactor.otp_required(worker)


@pytest.mark.django_db
def test_otp_required_for_a_superuser_without_a_membership():
    from jusou.tests.factories import UserFactory

    assert twofactor.otp_required(UserFactory(is_superuser=True, is_staff=True))


@pytest.mark.django_db
def test_the_setting_off_means_nobody_is_asked(settings):
    settings.TWO_FACTOR_REQUIRED = False
    supervisor = staff_user(Role.SUPERVISOR)
    worker = staff_user()
    confirmed_device(worker)
    assert not twofactor.otp_required(supervisor)
    assert not twofactor.otp_required(worker)
    assert not twofactor.otp_required(AnonymousUser())


@pytest.mark.django_db
def test_verify_code_accepts_the_apps_code_once():
    user = staff_user(Role.SUPERVISOR)
    device = confirmed_device(user)
    code = code_for(device)
    assert twofactor.verify_code(user, code)
    assert not twofactor.verify_code(user, code)  # a code is never accepted twice


@pytest.mark.django_db
def test_verify_code_accepts_full_width_digits_typed_through_an_ime():
    user = staff_user(Role.SUPERVISOR)
    device = confirmed_device(user)
    full_width = code_for(device).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert twofactor.verify_code(user, full_width)


@pytest.mark.django_db
def test_verify_code_uses_up_a_recovery_code():
    user = staff_user(Role.SUPERVISOR)
    confirmed_device(user)
    first, second = recovery_codes(user)
    assert twofactor.verify_code(user, "ABCD-2345")  # as shown on the page, in capitals
    assert not twofactor.verify_code(user, first)
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):  # past the back-off of the failure
        assert twofactor.verify_code(user, second)
    assert twofactor.recovery_codes_left(user) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["000000", "", None, "x" * 40, "123", "zzzz9999"])
def test_verify_code_refuses_anything_else(code):
    user = staff_user(Role.SUPERVISOR)
    device = confirmed_device(user)
    recovery_codes(user)
    if code == "000000" and code_for(device) == code:  # one in a million
        code = "000001"
    assert not twofactor.verify_code(user, code)


@pytest.mark.django_db
def test_verify_code_refuses_another_users_code_an_unconfirmed_device_and_anonymous():
    user, other = staff_user(Role.SUPERVISOR), staff_user(Role.SUPERVISOR)
    others_device = confirmed_device(other)
    assert not twofactor.verify_code(user, code_for(others_device))
    pending = TOTPDevice.objects.create(user=user, name="途中", confirmed=False)
    assert not twofactor.verify_code(user, code_for(pending))
    assert not twofactor.verify_code(AnonymousUser(), code_for(others_device))


@pytest.mark.django_db
def test_verify_code_is_throttled_by_django_otp_after_a_failure():
    user = staff_user(Role.SUPERVISOR)
    device = confirmed_device(user)
    with time_machine.travel(timezone.now(), tick=False):
        assert not twofactor.verify_code(user, "999999" if code_for(device) != "999999" else "999998")
        assert twofactor.code_locked_until(user, "123456") is not None
        assert not twofactor.verify_code(user, code_for(device))  # right code, but too soon
    with time_machine.travel(timezone.now() + timedelta(seconds=2), tick=False):
        assert twofactor.code_locked_until(user, "123456") is None
        assert twofactor.verify_code(user, code_for(device))


# --- Pages: supervisors and system admins must enrol ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/", "/cases/", "/audit/access-log/", "/notifications/", SETTINGS_PAGE, VERIFY]
)
def test_supervisor_without_a_device_reaches_no_page_but_enrolment(client, path):
    client.force_login(staff_user(Role.SUPERVISOR))
    response = client.get(path)
    if path == VERIFY:  # the code page itself sends someone with nothing to enter to enrolment
        assert response.status_code == 302 and response.url.startswith(ENROL)
    else:
        assert_sent_to(response, "twofactor_enrol", path)
    assert client.get(ENROL).status_code == 200


@pytest.mark.django_db
def test_a_post_without_a_device_is_refused_too(client):
    client.force_login(staff_user(Role.SUPERVISOR))
    response = client.post(reverse("notification_read_all"))
    assert response.status_code == 302
    assert response.url == ENROL


@pytest.mark.django_db
def test_system_admin_without_a_device_cannot_open_the_django_admin(client):
    client.force_login(staff_user(Role.SYSTEM_ADMIN))
    for path in ("/admin/", "/admin/jusou/user/"):
        assert_sent_to(client.get(path), "twofactor_enrol", path)


@pytest.mark.django_db
def test_logout_healthz_static_and_the_api_stay_outside_the_2fa_step(client):
    client.force_login(staff_user(Role.SUPERVISOR))
    assert client.get("/healthz").status_code == 200
    response = client.get("/api/v1/")
    assert not (response.status_code == 302 and response.url.startswith(ENROL))
    assert client.get("/static/css/jusou.css").status_code != 302
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response.url == reverse("login")
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_supervisor_enrols_with_a_code_from_the_app_and_then_pages_open(client, caplog):
    supervisor = staff_user(Role.SUPERVISOR)
    client.force_login(supervisor)
    page = client.get(ENROL + "?next=/cases/")
    html = page.content.decode()
    assert "管理者・システム管理者のアカウントは、二要素認証の設定が必要です" in html
    assert '<svg width="' in html and 'class="segno"' in html
    device = TOTPDevice.objects.get(user=supervisor, confirmed=False)
    assert twofactor.base32_secret(device) in html
    assert client.get(ENROL).context["secret"] == twofactor.base32_secret(device)  # same secret on reload

    with caplog.at_level("INFO", logger="jusou.staff.twofactor"):
        response = client.post(ENROL, {"code": code_for(device), "next": "/cases/"})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == len(set(codes)) == 10
    html = response.content.decode()
    assert "この画面は一度しか表示されません" in html
    assert f"{codes[0][:4]}-{codes[0][4:]}" in html
    assert 'href="/cases/"' in html
    assert f"TOTP device {device.pk} confirmed for user {supervisor.pk}" in caplog.text

    device.refresh_from_db()
    assert device.confirmed
    for path in ("/", "/cases/", "/audit/access-log/", SETTINGS_PAGE):
        assert client.get(path).status_code == 200, path
    assert twofactor.recovery_codes_left(supervisor) == 10


@pytest.mark.django_db
def test_enrolment_refuses_a_wrong_code_and_pages_stay_closed(client):
    supervisor = staff_user(Role.SUPERVISOR)
    client.force_login(supervisor)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=supervisor)
    wrong = "111111" if code_for(device) != "111111" else "222222"
    response = client.post(ENROL, {"code": wrong})
    assert response.status_code == 200
    assert "確認コードが正しくありません。" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticDevice.objects.filter(user=supervisor).exists()
    assert_sent_to(client.get("/"), "twofactor_enrol", "/")


@pytest.mark.django_db
def test_system_admin_enrols_and_lands_in_the_admin(client):
    admin = staff_user(Role.SYSTEM_ADMIN)
    client.force_login(admin)
    response = client.get("/admin/")
    assert_sent_to(response, "twofactor_enrol", "/admin/")
    enrol(client, admin, next_url="/admin/")
    assert client.get("/admin/").status_code == 200


# --- Pages: a code after the password ---------------------------------------------------------------


@pytest.mark.django_db
def test_supervisor_with_a_device_must_enter_a_code_after_the_password(client, personas):
    response = client.post(reverse("login"), {"username": "supervisor", "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response.url == "/"
    assert_sent_to(client.get("/"), "twofactor_verify", "/")
    assert_sent_to(client.get("/cases/"), "twofactor_verify", "/cases/")
    # Someone holding only the password cannot add their own app either.
    assert client.get(ENROL).url.startswith(VERIFY)
    page = client.get(VERIFY + "?next=/cases/")
    assert page.status_code == 200
    assert "確認コードの入力" in page.content.decode()

    device = TOTPDevice.objects.get(user=personas["supervisor"])
    response = enter_code(client, code_for(device), "/cases/")
    assert response.status_code == 302 and response.url == "/cases/"
    assert client.get("/").status_code == 200
    assert client.get("/audit/access-log/").status_code == 200


@pytest.mark.django_db
def test_a_wrong_code_is_refused_with_the_japanese_message_and_no_access(client):
    supervisor = staff_user(Role.SUPERVISOR)
    device = confirmed_device(supervisor)
    client.force_login(supervisor)
    wrong = "123456" if code_for(device) != "123456" else "654321"
    response = enter_code(client, wrong, "/cases/")
    assert response.status_code == 200
    assert response.context["form"].errors["code"] == ["確認コードが正しくありません。"]
    assert "確認コードが正しくありません。" in response.content.decode()
    assert_sent_to(client.get("/cases/"), "twofactor_verify", "/cases/")
    assert "otp_device_id" not in client.session


@pytest.mark.django_db
def test_repeated_wrong_codes_make_the_user_wait(client):
    supervisor = staff_user(Role.SUPERVISOR)
    device = confirmed_device(supervisor)
    client.force_login(supervisor)
    wrong = "123456" if code_for(device) != "123456" else "654321"
    with time_machine.travel(timezone.now(), tick=False):
        enter_code(client, wrong)
        response = enter_code(client, code_for(device))
    assert "続けて間違えたため、しばらく入力できません" in response.content.decode()
    assert_sent_to(client.get("/"), "twofactor_verify", "/")


@pytest.mark.django_db
def test_the_code_page_follows_only_a_local_next(client):
    supervisor = staff_user(Role.SUPERVISOR)
    device = confirmed_device(supervisor)
    client.force_login(supervisor)
    response = enter_code(client, code_for(device), "https://evil.example/")
    assert response.status_code == 302 and response.url == "/"


@pytest.mark.django_db
def test_a_recovery_code_works_once_and_not_twice(client):
    supervisor = staff_user(Role.SUPERVISOR)
    confirmed_device(supervisor)
    code, _ = recovery_codes(supervisor)
    client.force_login(supervisor)
    response = enter_code(client, code, "/cases/")
    assert response.status_code == 302 and response.url == "/cases/"
    assert "回復コードを使いました（残り 1 件）" in client.get("/cases/").content.decode()

    client.logout()
    client.force_login(supervisor)
    response = enter_code(client, code)
    assert response.status_code == 200
    assert "確認コードが正しくありません。" in response.content.decode()
    assert_sent_to(client.get("/"), "twofactor_verify", "/")


@pytest.mark.django_db
def test_verification_lasts_for_the_session_only(client):
    supervisor = staff_user(Role.SUPERVISOR)
    device = confirmed_device(supervisor)
    client.force_login(supervisor)
    enter_code(client, code_for(device))
    assert client.get("/").status_code == 200
    client.logout()
    client.force_login(supervisor)
    assert_sent_to(client.get("/"), "twofactor_verify", "/")
    assert enter_code(client, code_for(device, steps_ahead=1)).status_code == 302
    assert client.get("/").status_code == 200


# --- Pages: workers, and the setting off ------------------------------------------------------------


@pytest.mark.django_db
def test_worker_without_a_device_is_not_asked(client):
    worker = staff_user()
    response = client.post(reverse("login"), {"username": worker.username, "password": TEST_PASSWORD})
    assert response.url == "/"
    assert client.get("/").status_code == 200
    assert client.get("/cases/").status_code == 200
    assert client.get(VERIFY).url == "/"  # nothing to verify
    assert "未設定" in client.get(SETTINGS_PAGE).content.decode()


@pytest.mark.django_db
def test_worker_who_enrols_is_asked_at_the_next_login(client):
    worker = staff_user()
    client.force_login(worker)
    enrol(client, worker)
    assert client.get("/").status_code == 200  # this session is verified by the enrolment
    assert "有効" in client.get(SETTINGS_PAGE).content.decode()
    client.logout()

    client.post(reverse("login"), {"username": worker.username, "password": TEST_PASSWORD})
    assert_sent_to(client.get("/"), "twofactor_verify", "/")
    device = TOTPDevice.objects.get(user=worker)
    enter_code(client, code_for(device, steps_ahead=1))
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_with_the_requirement_off_a_supervisor_is_not_asked(client, settings, personas):
    settings.TWO_FACTOR_REQUIRED = False
    client.force_login(staff_user(Role.SUPERVISOR))
    assert client.get("/").status_code == 200
    assert client.get("/audit/access-log/").status_code == 200
    client.force_login(personas["supervisor"])  # even with the demo app registered
    assert client.get("/").status_code == 200
    assert "無効に設定されています" in client.get(SETTINGS_PAGE).content.decode()


# --- The settings page: recovery codes and removal --------------------------------------------------


@pytest.mark.django_db
def test_settings_page_is_linked_from_every_page_and_bounded_in_queries(
    client, django_assert_max_num_queries
):
    worker = staff_user()
    client.force_login(worker)
    assert f'href="{SETTINGS_PAGE}"' in client.get("/").content.decode()
    enrol(client, worker)
    with django_assert_max_num_queries(14):
        response = client.get(SETTINGS_PAGE)
    html = response.content.decode()
    assert twofactor.TOTP_DEVICE_NAME in html
    assert "残り 10 件" in html


@pytest.mark.django_db
def test_regenerating_recovery_codes_replaces_the_old_ones(client, caplog):
    supervisor = staff_user(Role.SUPERVISOR)
    client.force_login(supervisor)
    old = enrol(client, supervisor)
    with caplog.at_level("INFO", logger="jusou.staff.twofactor"):
        response = client.post(SETTINGS_PAGE, {"action": "regenerate"})
    new = response.context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert "recovery codes regenerated" in caplog.text
    assert twofactor.verify_code(supervisor, new[0])
    assert not twofactor.verify_code(supervisor, old[0])


@pytest.mark.django_db
def test_a_supervisor_cannot_remove_the_last_app_but_may_replace_it(client):
    supervisor = staff_user(Role.SUPERVISOR)
    client.force_login(supervisor)
    enrol(client, supervisor)
    first = TOTPDevice.objects.get(user=supervisor)
    response = client.post(SETTINGS_PAGE, {"action": "remove", "device": first.pk}, follow=True)
    assert "最後の認証アプリは削除できません" in response.content.decode()
    assert TOTPDevice.objects.filter(pk=first.pk).exists()

    enrol(client, supervisor)  # the new phone, while this session is verified
    response = client.post(SETTINGS_PAGE, {"action": "remove", "device": first.pk}, follow=True)
    assert "認証アプリの登録を削除しました。" in response.content.decode()
    assert list(TOTPDevice.objects.filter(user=supervisor).values_list("confirmed", flat=True)) == [True]


@pytest.mark.django_db
def test_a_worker_who_removes_the_app_is_no_longer_asked(client, caplog):
    worker = staff_user()
    client.force_login(worker)
    enrol(client, worker)
    device = TOTPDevice.objects.get(user=worker)
    with caplog.at_level("INFO", logger="jusou.staff.twofactor"):
        client.post(SETTINGS_PAGE, {"action": "remove", "device": device.pk})
    assert f"TOTP device {device.pk} removed for user {worker.pk}" in caplog.text
    assert not StaticDevice.objects.filter(user=worker).exists()
    assert not twofactor.otp_required(worker)
    client.logout()
    client.force_login(worker)
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_nobody_removes_another_users_app():
    owner, other = staff_user(), staff_user()
    device = confirmed_device(owner)
    with pytest.raises(ValidationError, match="登録されていません"):
        twofactor.totp_device_remove(device_id=device.pk, acting_user=other)
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


@pytest.mark.django_db
def test_a_worker_without_an_app_gets_no_recovery_codes(client):
    client.force_login(staff_user())
    response = client.post(SETTINGS_PAGE, {"action": "regenerate"}, follow=True)
    assert "認証アプリを登録してから発行できます" in response.content.decode()


# --- The demo -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_supervisor_and_admin_have_the_documented_app(personas):
    from devdata.demo.world import load_demo

    load_demo()  # idempotent
    devices = TOTPDevice.objects.filter(confirmed=True).select_related("user")
    assert sorted(d.user.username for d in devices) == ["admin", "supervisor"]
    for device in devices:
        assert device.bin_key == b32decode(DEMO_TOTP_SECRET)
        assert twofactor.verify_code(device.user, code_for(device))


@pytest.mark.django_db
def test_loaddemo_prints_the_secret_only_with_debug_on(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("loaddemo", stdout=out)
    assert DEMO_TOTP_SECRET in out.getvalue()
    assert "otpauth://totp/jusou%3Asupervisor?secret=" + DEMO_TOTP_SECRET in out.getvalue()

    settings.DEBUG = False
    out = StringIO()
    call_command("loaddemo", "--force", stdout=out)
    assert DEMO_TOTP_SECRET not in out.getvalue()
    assert "otpauth" not in out.getvalue()
    assert TOTPDevice.objects.filter(user__username__in=["supervisor", "admin"], confirmed=True).count() == 2
