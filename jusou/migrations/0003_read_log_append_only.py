"""The read log is append-only at the database too (総務省ガイドライン: tamper-evident access logs).

PostgreSQL refuses UPDATE and DELETE on jusou_readlog. SQLite (development only) refuses UPDATE;
DELETE stays possible there because Django's test flush empties tables with DELETE.
"""

from django.db import migrations

PG_FORWARD = """
CREATE FUNCTION jusou_readlog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '閲覧記録は変更・削除できません (jusou_readlog is append-only)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER jusou_readlog_append_only
    BEFORE UPDATE OR DELETE ON jusou_readlog
    FOR EACH ROW EXECUTE FUNCTION jusou_readlog_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS jusou_readlog_append_only ON jusou_readlog;
DROP FUNCTION IF EXISTS jusou_readlog_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER jusou_readlog_no_update BEFORE UPDATE ON jusou_readlog
BEGIN SELECT RAISE(ABORT, 'jusou_readlog is append-only'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS jusou_readlog_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("jusou", "0002_access_grants_read_log")]

    operations = [migrations.RunPython(forward, backward)]
