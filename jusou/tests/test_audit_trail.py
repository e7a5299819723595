"""The audit trail cannot be rewritten: history rows refuse UPDATE/DELETE on PostgreSQL, and the read
log's hash chain exposes a tampered row."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from jusou.audit.guard import history_tables
from jusou.audit.readlog import read_log, read_log_verify
from jusou.models import ReadLog, User
from jusou.tests.factories import AgencyFactory, staff_user

pytestmark = pytest.mark.django_db


def test_every_app_has_its_history_tables_guarded():
    tables = history_tables()
    for expected in (
        "cases_historicalcase",
        "cases_historicalperson",
        "meetings_historicalconsent",
        "jusou_historicaluser",
        "outreach_historicaloutreachengagement",
    ):
        assert expected in tables


def test_postgresql_refuses_to_update_or_delete_history():
    if connection.vendor != "postgresql":
        pytest.skip("the database-level guard is PostgreSQL's (production); SQLite is for development")
    agency = AgencyFactory(name="改ざん前")
    row = agency.history.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        type(row).objects.filter(pk=row.pk).update(name="改ざん後")
    with pytest.raises(DatabaseError), transaction.atomic():
        type(row).objects.filter(pk=row.pk).delete()
    assert agency.history.get().name == "改ざん前"


def _disable_read_log_guard(cursor):
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL session_replication_role = replica")  # triggers off for this transaction
    else:
        cursor.execute("DROP TRIGGER jusou_readlog_no_update")


def test_the_hash_chain_detects_a_tampered_row():
    user = staff_user()
    rows = [read_log(user=user, action=ReadLog.Action.SEARCH, detail=f"検索{i}") for i in range(5)]
    assert read_log_verify() == (5, None)
    call_command("verify_read_log")
    with transaction.atomic():
        with connection.cursor() as cursor:
            _disable_read_log_guard(cursor)  # what someone with database access could do
        ReadLog.objects.filter(pk=rows[2].pk).update(detail="書き換えた検索")
        checked, broken = read_log_verify()
        assert (checked, broken.pk) == (2, rows[2].pk)
        with pytest.raises(CommandError, match=f"行 #{rows[2].pk}"):
            call_command("verify_read_log")
        transaction.set_rollback(True)
    assert User.objects.filter(pk=user.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_unbroken_chain():
    """read_log appends from several connections at once (threaded web workers): each row is chained to
    the one before it, none to the same predecessor (on PostgreSQL: the lock and the INSERT … SELECT in
    one message, jusou.audit.readlog._append_chained)."""
    import threading

    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database takes one writer at a time; production runs PostgreSQL")

    from django.db import connections

    user = staff_user()
    errors = []

    def append(worker):
        try:
            for i in range(15):
                read_log(user=user, action=ReadLog.Action.SEARCH, detail=f"並行{worker}-{i}")
        except Exception as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert read_log_verify() == (60, None)
    hashes = list(ReadLog.objects.values_list("chain_hash", flat=True))
    assert len(set(hashes)) == 60


def test_a_read_log_row_comes_back_saved_with_its_hash():
    user = staff_user()
    first = read_log(user=user, action=ReadLog.Action.SEARCH, detail="最初")
    second = read_log(user=user, action=ReadLog.Action.SEARCH, detail="二番目 ｶﾅ 😀")
    stored = ReadLog.objects.get(pk=second.pk)
    assert stored.chain_hash == second.chain_hash == stored.compute_hash(first.chain_hash)
    assert not second._state.adding
