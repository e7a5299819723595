"""The read log's one sanctioned change: a disposal (保存年限) may take a search term naming the disposed
person out of a row's `detail`, keeping the old text's sha256 in `detail_digest`, which is what the
chain hashes from now on (chain_version 2), so `verify_read_log` still passes. Rows written before keep
version 1 (their text is in their hash and cannot go).

PostgreSQL lets such an UPDATE through only inside the disposal's transaction (`jusou.disposal = 'on'`,
set by jusou.retention.anonymise.history_scrub), once per row, when `detail_digest` is the digest of
the old text and nothing else of the row changes. DELETE stays refused. SQLite (development only) has
no session settings: it checks the shape of the change only.
"""

from django.db import migrations, models

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION jusou_readlog_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('jusou.disposal', true) = 'on'
        AND OLD.chain_version >= 2 AND OLD.detail_digest = '' AND NEW.redacted_at IS NOT NULL
        AND NEW.detail_digest = encode(sha256(convert_to(OLD.detail, 'UTF8')), 'hex')
        AND (NEW.id, NEW.user_id, NEW.at, NEW.action, NEW.content_type_id, NEW.object_id, NEW.basis,
             NEW.chain_hash, NEW.chain_version)
            IS NOT DISTINCT FROM
            (OLD.id, OLD.user_id, OLD.at, OLD.action, OLD.content_type_id, OLD.object_id, OLD.basis,
             OLD.chain_hash, OLD.chain_version)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '閲覧記録は変更・削除できません (jusou_readlog is append-only)';
END;
$$ LANGUAGE plpgsql;
"""
PG_FUNCTION_BEFORE = """
CREATE OR REPLACE FUNCTION jusou_readlog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '閲覧記録は変更・削除できません (jusou_readlog is append-only)';
END;
$$ LANGUAGE plpgsql;
"""
# Keep in step with jusou.audit.guard.SQLITE_READ_LOG (restored after every migrate).
SQLITE_TRIGGER = """
CREATE TRIGGER jusou_readlog_no_update BEFORE UPDATE ON jusou_readlog
WHEN NOT (OLD.chain_version >= 2 AND OLD.detail_digest = '' AND NEW.detail_digest != ''
          AND NEW.redacted_at IS NOT NULL AND NEW.id IS OLD.id AND NEW.user_id IS OLD.user_id
          AND NEW.at IS OLD.at AND NEW.action IS OLD.action AND NEW.content_type_id IS OLD.content_type_id
          AND NEW.object_id IS OLD.object_id AND NEW.basis IS OLD.basis AND NEW.chain_hash IS OLD.chain_hash
          AND NEW.chain_version IS OLD.chain_version)
BEGIN SELECT RAISE(ABORT, 'jusou_readlog is append-only'); END;
"""
SQLITE_TRIGGER_BEFORE = """
CREATE TRIGGER jusou_readlog_no_update BEFORE UPDATE ON jusou_readlog
BEGIN SELECT RAISE(ABORT, 'jusou_readlog is append-only'); END;
"""


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION)
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS jusou_readlog_no_update")
        schema_editor.execute(SQLITE_TRIGGER)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION_BEFORE)
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS jusou_readlog_no_update")
        schema_editor.execute(SQLITE_TRIGGER_BEFORE)


class Migration(migrations.Migration):
    dependencies = [("jusou", "0015_community_welfare_role")]

    operations = [
        # Rows already written were hashed over their text: version 1.
        migrations.AddField(
            model_name="readlog",
            name="chain_version",
            field=models.PositiveSmallIntegerField(default=1, editable=False),
        ),
        migrations.AlterField(
            model_name="readlog",
            name="chain_version",
            field=models.PositiveSmallIntegerField(default=2, editable=False),
        ),
        migrations.AddField(
            model_name="readlog",
            name="detail_digest",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="readlog",
            name="redacted_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="廃棄による削除日時"
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
