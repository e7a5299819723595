"""Database-level guard for the audit trail: on PostgreSQL history tables (django-simple-history) take
inserts only (the read log has its own trigger, migration 0003). Installed after every `migrate`, so the history tables of every app are covered,
including ones added later; the application itself has no path that updates or deletes them."""

from django.apps import apps
from django.db import connection

FUNCTION = """
CREATE OR REPLACE FUNCTION jusou_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '変更履歴は変更・削除できません (% is append-only)', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""


def history_tables() -> list[str]:
    return sorted(
        m._meta.db_table
        for m in apps.get_models()
        if hasattr(m, "instance_type") and hasattr(m, "history_id")
    )


SQLITE_READ_LOG = """
CREATE TRIGGER IF NOT EXISTS jusou_readlog_no_update BEFORE UPDATE ON jusou_readlog
BEGIN SELECT RAISE(ABORT, 'jusou_readlog is append-only'); END;
"""


def install_history_guard(**kwargs) -> None:
    if connection.vendor == "sqlite":
        # SQLite rebuilds a table to alter it, dropping its triggers: restore the read-log guard
        # (UPDATE only; Django's test flush empties tables with DELETE).
        with connection.cursor() as cursor:
            cursor.execute(SQLITE_READ_LOG)
        return
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(FUNCTION)
        for table in history_tables():
            cursor.execute(f'DROP TRIGGER IF EXISTS jusou_history_append_only ON "{table}"')
            cursor.execute(
                f'CREATE TRIGGER jusou_history_append_only BEFORE UPDATE OR DELETE ON "{table}" '
                "FOR EACH ROW EXECUTE FUNCTION jusou_history_append_only()"
            )
