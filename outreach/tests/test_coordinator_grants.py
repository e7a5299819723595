"""Coordinators follow アウトリーチ through grants, not by role (issue 14, finding 6): each coordinator in
post when an engagement starts holds 担当 on it, on behalf of the agency where they are one; the read
log names that basis; a coordinator without a grant sees nothing; supervisors read by role only."""

from importlib import import_module

import pytest
from django.apps import apps
from django.urls import reverse

from jusou.models import AccessBasis, AccessGrant, ReadLog, Role
from jusou.tests.factories import AgencyFactory, staff_user
from outreach import services
from outreach.selectors import engagement_can_change, engagements_visible_to


@pytest.fixture
def engagement(world):
    return services.engagement_start(
        acting_user=world.assigned,
        provisional_name="山田さん（60代男性）",
        how_known="neighbour",
        background="近所の方から",
        purpose="relationship",
    )


def test_a_coordinator_in_post_holds_a_personal_grant_and_reads_on_it(client, world, engagement):
    grant = AccessGrant.objects.get(object_id=engagement.pk, user=world.coordinator, permission="view")
    assert grant.basis == AccessBasis.ASSIGNMENT and grant.on_behalf_of == world.coordinator.agencies[0]
    client.force_login(world.coordinator)
    assert client.get(reverse("outreach:engagement_detail", args=[engagement.pk])).status_code == 200
    row = ReadLog.objects.filter(user=world.coordinator).latest("pk")
    assert row.basis == AccessBasis.ASSIGNMENT and "推進員" not in row.detail


def test_a_coordinator_without_a_grant_sees_nothing_and_supervisors_only_read(client, world, engagement):
    newcomer = staff_user(Role.COORDINATOR, AgencyFactory(name="みどり市 こども家庭課"), username="coord_new")
    assert not engagements_visible_to(newcomer).filter(pk=engagement.pk).exists()
    client.force_login(newcomer)
    assert client.get(reverse("outreach:engagement_detail", args=[engagement.pk])).status_code == 404
    assert engagements_visible_to(world.supervisor).filter(pk=engagement.pk).exists()
    assert not engagement_can_change(world.supervisor, engagement)
    assert engagement_can_change(world.coordinator, engagement)


def test_the_migration_grants_existing_engagements_to_the_coordinators_once(world, engagement):
    AccessGrant.objects.filter(object_id=engagement.pk, user=world.coordinator).delete()
    assert not engagements_visible_to(world.coordinator).filter(pk=engagement.pk).exists()
    migration = import_module("outreach.migrations.0002_coordinator_grants")
    migration.grant_coordinators(apps, None)
    migration.grant_coordinators(apps, None)
    grants = AccessGrant.objects.filter(object_id=engagement.pk, user=world.coordinator)
    assert sorted(grants.values_list("permission", flat=True)) == ["change", "view"]
    assert engagements_visible_to(world.coordinator).filter(pk=engagement.pk).exists()
