"""Login, lockout, inactive accounts and idle-session expiry, for each role."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from devdata.demo.world import DEMO_PASSWORD
from jusou.models import Role
from jusou.staff import services
from jusou.tests.factories import TEST_PASSWORD, staff_user

LOGIN = reverse("login")


def login(client, username, password=TEST_PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


@pytest.mark.parametrize(
    ("username", "home"),
    [
        ("intake_a", "/"),
        ("intake_b", "/"),
        ("member_c", "/"),
        ("outsider", "/"),
        ("coord", "/"),
        ("supervisor", "/"),
        ("admin", "/admin/"),
    ],
)
def test_each_demo_role_lands_on_its_home(client, personas, username, home):
    response = login(client, username, DEMO_PASSWORD)
    assert response.status_code == 302
    assert response.url == home
    page = client.get(home)
    assert page.status_code == 200


ROLE_SECTIONS = {
    "intake_a": "担当ケース",
    "coord": "多機関協働（相談支援包括化推進員）",
    "supervisor": "管理者（監査・統計）",
}


@pytest.mark.parametrize("username", ROLE_SECTIONS)
def test_dashboard_shows_the_section_of_the_users_role_only(client, personas, username):
    client.force_login(personas[username])
    html = client.get("/").content.decode()
    for owner, section in ROLE_SECTIONS.items():
        assert (section in html) == (owner == username), section


@pytest.mark.django_db
def test_login_follows_a_safe_next_but_not_an_external_one(client):
    user = staff_user()
    response = login(client, user.username, next="/notifications/")
    assert response.url == "/notifications/"
    client.logout()
    response = login(client, user.username, next="https://evil.example/")
    assert response.url == "/"


@pytest.mark.django_db
def test_wrong_password_shows_a_japanese_error(client):
    user = staff_user()
    response = login(client, user.username, "wrong password")
    assert response.status_code == 200
    assert "ユーザー名またはパスワードが正しくありません" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_even_for_the_right_password(client, settings):
    user = staff_user()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, user.username, "wrong password")
    response = login(client, user.username, TEST_PASSWORD)
    assert response.status_code == 429
    assert "ログインを一時的に停止しています" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_lockout_ends_after_the_cool_off_and_does_not_touch_colleagues(client, settings):
    user, colleague = staff_user(), staff_user()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, user.username, "wrong password")
    assert login(client, colleague.username).status_code == 302  # same office IP, not locked
    client.logout()
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        assert login(client, user.username).status_code == 302


@pytest.mark.django_db
def test_inactive_staff_are_refused_with_a_clear_message(client):
    user = staff_user(is_active=False)
    response = login(client, user.username)
    assert response.status_code == 200
    assert "このアカウントは利用停止されています" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_staff_whose_memberships_have_all_ended_are_refused(client):
    user = staff_user()
    services.membership_end(membership=user.memberships.get(), acting_user=None)
    response = login(client, user.username)
    assert "有効な所属が登録されていません" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_deactivating_an_account_ends_its_open_session(client):
    user = staff_user()
    client.force_login(user)
    assert client.get("/").status_code == 200
    user.is_active = False
    user.save()
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


@pytest.mark.django_db
def test_idle_session_expires_after_the_configured_minutes(client, settings):
    user = staff_user()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        login(client, user.username)
        assert client.get("/").status_code == 200
    # Activity keeps the session alive ...
    with time_machine.travel(start + timedelta(minutes=settings.SESSION_IDLE_MINUTES - 1), tick=False):
        assert client.get("/").status_code == 200
    # ... idleness ends it.
    with time_machine.travel(start + timedelta(minutes=2 * settings.SESSION_IDLE_MINUTES), tick=False):
        response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


@pytest.mark.django_db
def test_every_page_needs_a_login_except_login_and_health(client):
    assert client.get("/").url.startswith(LOGIN)
    assert client.get("/notifications/").url.startswith(LOGIN)
    assert client.get(LOGIN).status_code == 200
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_logout_is_a_post_and_ends_the_session(client):
    user = staff_user()
    client.force_login(user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_password_change_in_japanese(client):
    user = staff_user()
    client.force_login(user)
    page = client.get(reverse("password_change")).content.decode()
    assert "新しいパスワード" in page
    bad = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "short", "new_password2": "short"},
    ).content.decode()
    assert "元のパスワードが間違っています" in bad
    ok = client.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "midori-new-pass-77",
            "new_password2": "midori-new-pass-77",
        },
    )
    assert ok.status_code == 302
    user.refresh_from_db()
    assert user.check_password("midori-new-pass-77")


@pytest.mark.django_db
def test_only_a_system_administrator_reaches_the_admin(client):
    worker = staff_user(Role.WORKER)
    client.force_login(worker)
    assert client.get("/admin/").status_code == 302  # to the admin login: not staff
    admin_user = staff_user(Role.SYSTEM_ADMIN)
    client.force_login(admin_user)
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "jusou システム管理" in page.content.decode()
    assert client.get("/admin/jusou/agency/").status_code == 200
    assert client.get("/admin/jusou/staffmembership/add/").status_code == 200
    # Administering accounts gives no say over groups and permissions themselves.
    assert client.get("/admin/auth/group/").status_code == 403
