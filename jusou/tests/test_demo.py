import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jusou.models import Agency, Notification, Role, StaffMembership, User

pytestmark = pytest.mark.django_db


def test_loaddemo_is_idempotent(settings):
    settings.DEBUG = True
    call_command("loaddemo")
    snapshot = (
        Agency.objects.count(),
        User.objects.count(),
        StaffMembership.objects.count(),
        Notification.objects.count(),
    )
    call_command("loaddemo")
    assert snapshot == (
        Agency.objects.count(),
        User.objects.count(),
        StaffMembership.objects.count(),
        Notification.objects.count(),
    )
    assert snapshot[1] == 9  # the eight staff of README, and the 福祉総合システム service account


def test_demo_staff_have_the_documented_agencies_and_roles(settings):
    settings.DEBUG = True
    call_command("loaddemo")
    expected = {
        "intake_a": ("みどり中央地域包括支援センター", Role.WORKER),
        "intake_b": ("みどり障害者相談支援センター", Role.WORKER),
        "member_c": ("みどり子ども家庭支援センター", Role.WORKER),
        "outsider": ("NPO法人みどりの家", Role.WORKER),
        "coord": ("みどり市 福祉総合相談課", Role.COORDINATOR),
        "supervisor": ("みどり市 福祉総合相談課", Role.SUPERVISOR),
        "chiiki": ("みどり市 地域福祉課", Role.COMMUNITY_WELFARE),
        "admin": (None, Role.SYSTEM_ADMIN),
    }
    for username, (agency, role) in expected.items():
        membership = StaffMembership.objects.get(user__username=username)
        assert (membership.agency.name if membership.agency else None, membership.role) == (agency, role)
    assert User.objects.get(username="admin").is_staff
    assert not User.objects.get(username="supervisor").is_staff


def test_loaddemo_refuses_with_debug_off_unless_forced(settings, capsys):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG が無効です"):
        call_command("loaddemo")
    assert not User.objects.exists()
    call_command("loaddemo", "--force")
    assert (
        User.objects.filter(api_client__isnull=True).count() == 8
    )  # the staff, and one 外部システム account
    assert "トークン" not in capsys.readouterr().out  # secrets are printed with DEBUG on only


def test_loaddemo_prints_the_machine_client_token_with_debug_on(settings, capsys):
    from rest_framework.test import APIClient

    settings.DEBUG = True
    call_command("loaddemo")
    line = next(line for line in capsys.readouterr().out.splitlines() if "福祉総合システム" in line)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {line.rsplit(' ', 1)[-1]}")
    assert client.get("/api/v1/me/").json()["client"]["scopes"] == ["consultations:write"]
