"""Migration 0003 keeps what the register held: a resource developed for a gap (the old foreign key) now
answers it through the many-to-many, and a record's correction window counts from its first history row."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("community", "0002_plausible_dates")]
AFTER = [("community", "0003_register_permissions_gap_links")]


def test_the_old_gap_link_and_the_recording_time_are_carried_over():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    User, Area, Gap = (
        apps.get_model("jusou", "User"),
        apps.get_model("jusou", "Area"),
        apps.get_model("jusou", "ResourceGap"),
    )
    Resource, Activity = (
        apps.get_model("community", "CommunityResource"),
        apps.get_model("community", "Activity"),
    )
    HistoricalActivity = apps.get_model("community", "HistoricalActivity")
    user = User.objects.create(username="keeper")
    area = Area.objects.create(code="chuo", name="中央圏域", level="middle")
    gap = Gap.objects.create(
        category="居場所", description="不足", recorded_by=user, source_label="地域づくり"
    )
    resource = Resource.objects.create(name="ひだまり", kind="ibasho", area=area, developed_for_gap=gap)
    Resource.objects.create(name="サロン", kind="salon", area=area)
    activity = Activity.objects.create(resource=resource, held_on="2026-11-01", recorded_by=user)
    long_ago = timezone.now() - timedelta(days=90)
    HistoricalActivity.objects.create(
        id=activity.pk,
        resource=resource,
        held_on="2026-11-01",
        recorded_by=user,
        participants=0,
        participant_visits=0,
        history_date=long_ago,
        history_type="+",
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    Resource, Activity = (
        apps.get_model("community", "CommunityResource"),
        apps.get_model("community", "Activity"),
    )
    linked = Resource.objects.get(name="ひだまり")
    assert list(linked.gaps_answered.values_list("pk", flat=True)) == [gap.pk]
    assert not Resource.objects.get(name="サロン").gaps_answered.exists()
    assert abs(Activity.objects.get().recorded_at - long_ago) < timedelta(seconds=1)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # back to the latest state for the other tests
