"""Database-level guard for the audit trail: on PostgreSQL history tables (django-simple-history) take
inserts only (the read log has its own trigger, migration 0003). Installed after every `migrate`, so the history tables of every app are covered,
including ones added later; the application itself has no path that updates or deletes them —
with one exception, 保存年限 (DOMAIN.md §8): the disposal of a record past its retention must remove the
personal data from its history too. jusou.retention.anonymise.history_scrub sets `jusou.disposal = 'on'`
for the disposal's transaction only (SET LOCAL); then an UPDATE passes if it leaves the row's identity,
time, type and author as they were. DELETE is refused always."""

from django.apps import apps
from django.db import connection

# Columns of a history row that even a disposal may not change (those a table lacks compare as NULL).
HISTORY_IDENTITY = ("id", "history_id", "history_date", "history_type", "history_user_id", "m2m_history_id")

FUNCTION = """
CREATE OR REPLACE FUNCTION jusou_history_append_only() RETURNS trigger AS $$
DECLARE
    column_name text;
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('jusou.disposal', true) = 'on' THEN
        FOREACH column_name IN ARRAY ARRAY[__IDENTITY__] LOOP
            IF to_jsonb(NEW) -> column_name IS DISTINCT FROM to_jsonb(OLD) -> column_name THEN
                RAISE EXCEPTION '廃棄（匿名化）でも変更履歴の % は変更できません (%)', column_name, TG_TABLE_NAME;
            END IF;
        END LOOP;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '変更履歴は変更・削除できません (% is append-only)', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
""".replace("__IDENTITY__", ", ".join(f"'{column}'" for column in HISTORY_IDENTITY))


def history_tables() -> list[str]:
    return sorted(
        m._meta.db_table
        for m in apps.get_models()
        if hasattr(m, "instance_type") and hasattr(m, "history_id")
    )


# The read log takes one change only, a disposal's redaction of a row's `detail` (migration 0016,
# where the PostgreSQL rule lives); kept in step with that migration's SQLite trigger.
SQLITE_READ_LOG = """
CREATE TRIGGER jusou_readlog_no_update BEFORE UPDATE ON jusou_readlog
WHEN NOT (OLD.chain_version >= 2 AND OLD.detail_digest = '' AND NEW.detail_digest != ''
          AND NEW.redacted_at IS NOT NULL AND NEW.id IS OLD.id AND NEW.user_id IS OLD.user_id
          AND NEW.at IS OLD.at AND NEW.action IS OLD.action AND NEW.content_type_id IS OLD.content_type_id
          AND NEW.object_id IS OLD.object_id AND NEW.basis IS OLD.basis AND NEW.chain_hash IS OLD.chain_hash
          AND NEW.chain_version IS OLD.chain_version)
BEGIN SELECT RAISE(ABORT, 'jusou_readlog is append-only'); END;
"""


def install_history_guard(**kwargs) -> None:
    if connection.vendor == "sqlite":
        # SQLite rebuilds a table to alter it, dropping its triggers: restore the read-log guard
        # (UPDATE only; Django's test flush empties tables with DELETE).
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS jusou_readlog_no_update")
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
