"""meetings 0006 drops meetings' ResourceGap tables (the model moved to jusou): their rows and their
history are copied to jusou's tables first, because a DROP TABLE is not stopped by the append-only guard."""

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from jusou.models import ResourceGap
from meetings.models import AgendaItem


@pytest.mark.django_db(transaction=True)
def test_gaps_noted_at_a_conference_and_their_history_survive_the_move_to_jusou(approved):
    state = MigrationExecutor(connection).loader.project_state(
        [("meetings", "0005_consent_document"), ("jusou", "0005_resource_gaps")]
    )
    old_apps = state.apps
    Old = old_apps.get_model("meetings", "ResourceGap")
    OldHistory = old_apps.get_model("meetings", "HistoricalResourceGap")
    with connection.schema_editor() as editor:
        editor.create_model(Old)
        editor.create_model(OldHistory)
    try:
        item = AgendaItem.objects.select_related("conference").get(conference=approved.conference)
        noted_at = timezone.now() - timezone.timedelta(days=30)
        kept = Old.objects.create(category="居場所", description="夜に通える場がない", item_id=item.pk)
        OldHistory.objects.create(
            id=kept.pk,
            category="居場所",
            description="夜に通える場がない",
            item_id=item.pk,
            history_date=noted_at,
            history_type="+",
            history_user_id=approved.coord.pk,
        )
        OldHistory.objects.create(
            id=kept.pk + 1,
            category="就労",
            description="短時間の職場",
            item_id=item.pk,
            history_date=noted_at,
            history_type="-",
            history_user_id=approved.coord.pk,
        )
        migration = importlib.import_module("meetings.migrations.0006_resource_gaps_move_to_jusou")
        with connection.schema_editor() as editor:
            migration.copy_gaps(old_apps, editor)

        gap = ResourceGap.objects.get(pk=kept.pk)
        assert (gap.category, gap.description, gap.status) == ("居場所", "夜に通える場がない", "noted")
        assert (gap.recorded_by_id, gap.recorded_at, gap.source_id) == (approved.coord.pk, noted_at, item.pk)
        assert gap.source_label.startswith(item.conference.title)
        history = ResourceGap.history.model.objects.order_by("history_id")
        assert [(h.id, h.history_type, h.history_user_id) for h in history] == [
            (kept.pk, "+", approved.coord.pk),
            (kept.pk + 1, "-", approved.coord.pk),
        ]
        later = ResourceGap.objects.create(
            category="移動", description="通院の足", source_label="地域づくり", recorded_by=approved.coord
        )
        assert later.pk > kept.pk + 1  # past every copied id, the deleted gap's too
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(OldHistory)
            editor.delete_model(Old)
