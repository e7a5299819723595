"""Break-glass access and unusual-access flags (DOMAIN §8, 総務省ガイドライン)."""

from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone

from cases.models import EmergencyAccess
from jusou.access.decision import AccessDecision
from jusou.audit import readlog as access
from jusou.models import AccessBasis, Notification, ReadLog

REASON = "本人が自宅で倒れていると近隣から通報があり、既往歴と緊急連絡先の確認が必要なため"


def test_break_glass_needs_a_justification_is_time_limited_flagged_and_reviewed(
    client, world, django_capture_on_commit_callbacks
):
    client.force_login(world.outsider)
    assert client.get(world.case.get_absolute_url()).status_code == 404
    short = client.post(
        reverse("cases:emergency_access"), {"case_pk": world.case.pk, "justification": "急ぎ"}
    )
    assert "20文字以上" in short.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("cases:emergency_access"), {"case_pk": world.case.pk, "justification": REASON}
        )
    assert response.url == world.case.get_absolute_url()
    assert client.get(world.case.get_absolute_url()).status_code == 200
    assert ReadLog.objects.filter(user=world.outsider, basis=AccessBasis.EMERGENCY).exists()
    assert Notification.objects.filter(recipient=world.supervisor, kind="emergency_access").exists()
    with time_machine.travel(timezone.now() + timedelta(hours=3)):
        client.force_login(world.outsider)
        assert client.get(world.case.get_absolute_url()).status_code == 404  # the window has closed

    client.force_login(world.supervisor)
    record = EmergencyAccess.objects.get()
    assert REASON in client.get(reverse("cases:emergency_review")).content.decode()
    client.post(
        reverse("cases:emergency_review"), {"record": record.pk, "note": "通報記録と照合し妥当と判断"}
    )
    record.refresh_from_db()
    assert record.reviewed_by == world.supervisor
    client.force_login(world.assigned)
    assert client.get(reverse("cases:emergency_review")).status_code == 403


def test_reads_after_hours_are_flagged_once_per_hour(world, settings, django_capture_on_commit_callbacks):
    settings.AUDIT_AFTER_HOURS = (22, 6)
    late = timezone.localtime().replace(hour=23, minute=10)
    with time_machine.travel(late, tick=False), django_capture_on_commit_callbacks(execute=True):
        access.read_log(
            user=world.assigned,
            action="view",
            obj=world.case,
            decision=AccessDecision(AccessBasis.ASSIGNMENT),
        )
        access.read_log(
            user=world.assigned,
            action="view",
            obj=world.case,
            decision=AccessDecision(AccessBasis.ASSIGNMENT),
        )
    notes = Notification.objects.filter(recipient=world.supervisor, kind="unusual_access")
    assert notes.count() == 1 and "時間外の閲覧" in notes.get().title


def test_many_reads_outside_ones_own_basis_are_flagged(world, settings, django_capture_on_commit_callbacks):
    settings.AUDIT_OUTSIDE_BASIS_LIMIT = 3
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            access.read_log(
                user=world.other_worker,
                action="view",
                obj=world.case,
                decision=AccessDecision(AccessBasis.CONSENT),
            )
        assert not Notification.objects.filter(kind="unusual_access").exists()
        access.read_log(
            user=world.other_worker,
            action="view",
            obj=world.case,
            decision=AccessDecision(AccessBasis.CONSENT),
        )
    assert "担当外の根拠" in Notification.objects.get(recipient=world.supervisor, kind="unusual_access").title


def test_daytime_reads_on_ones_own_basis_are_not_flagged(world, settings):
    settings.AUDIT_AFTER_HOURS = (22, 6)
    with time_machine.travel(timezone.localtime().replace(hour=10), tick=False):
        access.read_log(
            user=world.assigned,
            action="view",
            obj=world.case,
            decision=AccessDecision(AccessBasis.ASSIGNMENT),
        )
    assert not Notification.objects.filter(kind="unusual_access").exists()
