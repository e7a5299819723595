"""The shared machinery later issues rely on is in place: guardian, history, Celery, the apps."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

from jusou.celery import app as celery_app
from jusou.models import User
from jusou.tests.factories import staff_user


def test_the_five_statutory_apps_are_installed():
    for label in ("cases", "meetings", "outreach", "participation", "community"):
        assert apps.is_installed(label)


def test_guardian_checks_object_permissions_without_an_anonymous_user():
    assert "guardian.backends.ObjectPermissionBackend" in settings.AUTHENTICATION_BACKENDS
    assert settings.ANONYMOUS_USER_NAME is None


@pytest.mark.django_db
def test_migrations_create_no_guardian_anonymous_user():
    assert not User.objects.filter(username__iexact="AnonymousUser").exists()


@pytest.mark.django_db
def test_history_records_who_changed_an_account_through_a_request(client):
    admin_user = staff_user("system_admin")
    target = staff_user()
    client.force_login(admin_user)
    response = client.post(
        f"/admin/jusou/user/{target.pk}/change/",
        {
            "username": target.username,
            "last_name": "新姓",
            "first_name": target.first_name,
            "email": target.email,
            "is_active": "on",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "1",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-id": str(target.memberships.get().pk),
            "memberships-0-user": str(target.pk),
            # the 統合認証の識別子 inline (the システム管理者 role registers IdP subjects here)
            "sso_identities-TOTAL_FORMS": "0",
            "sso_identities-INITIAL_FORMS": "0",
            "sso_identities-MIN_NUM_FORMS": "0",
            "sso_identities-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    latest = target.history.latest()
    assert latest.last_name == "新姓"
    assert latest.history_user == admin_user


def test_celery_reads_its_configuration_from_django_settings():
    assert celery_app.conf.timezone == "Asia/Tokyo"
    assert celery_app.conf.task_serializer == "json"
    assert {"deliver-pending-notifications", "expire-access-grants"} <= set(celery_app.conf.beat_schedule)


@pytest.mark.django_db
def test_the_system_admin_group_maintains_code_lists_and_accounts_but_no_case_records():
    from django.contrib.auth.models import Group

    from jusou.staff.roles import SYSTEM_ADMIN_GROUP, ensure_system_admin_group

    ensure_system_admin_group()
    granted = set(
        Group.objects.get(name=SYSTEM_ADMIN_GROUP).permissions.values_list(
            "content_type__app_label", "codename"
        )
    )
    assert {("cases", "view_code"), ("cases", "change_code"), ("jusou", "add_user")} <= granted
    assert not {("cases", "view_case"), ("cases", "view_person"), ("cases", "delete_code")} & granted


def test_each_contribution_is_declared_once_and_collected_once():
    """Every app declares what it adds in AppConfig.contributions(); the core asks each app once."""
    from jusou import registry

    declared = registry.declared()
    assert registry.declared() is declared
    assert registry._declared.cache_info().misses == 1
    items = [d.item for d in declared]
    assert [item for n, item in enumerate(items) if item in items[:n]] == []

    def once(values):
        values = list(values)
        return [v for n, v in enumerate(values) if v in values[:n]]

    assert once(i.url_name for i in registry.contributed(registry.Nav)) == []
    assert once(i.label for i in registry.contributed(registry.Nav)) == []
    assert once(i.template for i in registry.contributed(registry.DashboardPanel)) == []
    assert once(i.template for i in registry.contributed(registry.CasePanel)) == []
    assert once(i.code for i in registry.contributed(registry.RetentionType)) == []
    assert once(i.provider for i in registry.contributed(registry.Statistics)) == []
    assert once(d.app_label for d in declared if isinstance(d.item, registry.SystemAdminModels)) == []
    assert len(registry.contributed(registry.ConsentRule)) == 1
    assert registry.system_admin_models()["cases"] == ("code",)
    assert {d.app_label for d in declared} == {
        "jusou",
        "cases",
        "meetings",
        "outreach",
        "participation",
        "community",
    }


def test_no_app_imports_the_development_data():
    """devdata may import every app; nothing outside it (and the tests) imports devdata, so a deployment
    without it (DEBUG off) loads every app."""
    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for app in ("jusou", "cases", "meetings", "outreach", "participation", "community")
        for path in (root / app).rglob("*.py")
        if "tests" not in path.parts and re.search(r"^\s*(from|import) devdata", path.read_text(), re.M)
    ]
    assert offenders == []


@pytest.mark.django_db
def test_the_core_offers_its_statistics_page_to_staff():
    from jusou.models import Role
    from jusou.registry import nav_for

    for role in (Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR):
        assert "統計" in [item["label"] for item in nav_for(staff_user(role))]
    assert "統計" not in [item["label"] for item in nav_for(staff_user(Role.MEETING_MEMBER))]
