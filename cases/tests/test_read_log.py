import pytest
from django.db import DatabaseError, transaction

from jusou.audit.readlog import read_log
from jusou.models import ReadLog
from jusou.tests.factories import staff_user

pytestmark = pytest.mark.django_db


def test_the_database_refuses_to_change_a_read_log_row():
    row = read_log(user=staff_user(), action=ReadLog.Action.SEARCH, detail="やまだ")
    with pytest.raises(DatabaseError), transaction.atomic():
        ReadLog.objects.filter(pk=row.pk).update(detail="書き換え")
    assert ReadLog.objects.get(pk=row.pk).detail == "やまだ"


def test_postgresql_also_refuses_to_delete_one(settings):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps DELETE possible for Django's test flush; production runs PostgreSQL")
    row = read_log(user=staff_user(), action=ReadLog.Action.SEARCH, detail="やまだ")
    with pytest.raises(DatabaseError), transaction.atomic():
        ReadLog.objects.filter(pk=row.pk).delete()
    assert ReadLog.objects.filter(pk=row.pk).exists()
