"""Disposal by anonymisation: the personal fields of a record and of its history rows are replaced,
the row with its codes, dates, agencies and statuses stays (statistics count it as before).

The rule per field (`disposed_value`): text that was written is replaced by DISPOSED, text that was
never written stays empty; e-mail addresses become empty; a nullable unique identifier (宛名番号)
becomes NULL; a file is removed from storage (after the transaction commits) and its name emptied;
JSON content is emptied. Apps pass the fields to scrub — usually `personal_fields(model, …)`, which
takes the model's FIELD_POLICY "sensitive" and "location" text fields (its codes, flags and relations
are statistics and stay) — and `custom` rules for fields that keep a coarse value (the birth year).

History: django-simple-history keeps every earlier value, and on PostgreSQL its tables refuse UPDATE
and DELETE by trigger (jusou.audit.guard). The trigger lets an UPDATE through only inside
`history_scrub()`, which sets `jusou.disposal = 'on'` for the current transaction alone, and even then
refuses a change to a history row's identity, time, type or author; DELETE stays refused. This is the
only code that opens it, and only the disposal service (jusou.retention.services.disposal_execute)
calls it, after a 管理者's approval, in the transaction that records the disposal.

Every text a scrub takes out is gathered (Removed, yielded by history_scrub) so that the disposal can then
take its copies out of other records — notifications, the read log's search terms, meeting minutes
(jusou.retention.leftovers). The reasons typed into history rows go too, whatever the fields scrubbed: a
record with no text of its own (a case) is scrubbed with no fields for exactly that.
"""

import logging
from collections.abc import Callable, Iterable
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, models, transaction
from simple_history.utils import bulk_update_with_history

from jusou.access.fieldpolicy import declared
from jusou.models import AccessGrant

log = logging.getLogger("jusou.retention")

DISPOSED = "廃棄済み"
DISPOSAL_REASON = "保存年限の経過による廃棄（匿名化）"
BATCH = 500

Rows = dict[str, list[int]]


class Removed:
    """The texts a disposal took out (old values of the rows and their history rows, and the reasons
    typed into their history), so that their copies elsewhere — a notification, a search term in the
    read log, a meeting's minutes (jusou.retention.leftovers) — can go too. `search_keys` are the
    normalised search keys (a person's name_search / kana_search), for search terms naming them."""

    def __init__(self):
        self.texts: set[str] = set()
        self.search_keys: set[str] = set()

    def add(self, field_name: str, old, new=None) -> None:
        """The strings of `old` that `new` no longer holds (a briefing keeps its case number)."""
        kept = set(_strings(new))
        for text in _strings(old):
            if text.strip() and text not in kept and text not in (DISPOSED, DISPOSAL_REASON):
                self.texts.add(text.strip())
                if field_name.endswith("_search"):
                    self.search_keys.add(text)


def _strings(value) -> Iterable[str]:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


_removed: ContextVar[Removed | None] = ContextVar("jusou_retention_removed", default=None)
# Off while scrubbing texts written by the system or about the access rather than the person (access
# grants' reasons): they are scrubbed in place but not looked for elsewhere (「緊急閲覧」 is in every
# emergency notice).
_quoted_elsewhere: ContextVar[bool] = ContextVar("jusou_retention_quoted", default=True)


def _note_removed(field_name: str, old, new=None) -> None:
    removed = _removed.get()
    if removed is not None and _quoted_elsewhere.get():
        removed.add(field_name, old, new)


@contextmanager
def history_scrub():
    """Open the history tables (and the read log's redaction) for anonymising UPDATEs, for the current
    transaction only. Yields a Removed that gathers every text the scrubs inside take out."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("history_scrub() must run inside the disposal transaction")
    removed = Removed()
    token = _removed.set(removed)
    try:
        if connection.vendor != "postgresql":
            yield removed
            return
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jusou.disposal = 'on'")
        try:
            yield removed
        finally:
            # After a failure inside, PostgreSQL refuses every statement until the rollback, and the
            # rollback (of the transaction or of the savepoint around us) undoes the SET LOCAL as well.
            with suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute("SET LOCAL jusou.disposal = 'off'")
    finally:
        _removed.reset(token)


def _is_text(field) -> bool:
    return isinstance(field, (models.CharField, models.TextField, models.JSONField, models.FileField))


def personal_fields(model: type[models.Model], *extra: str) -> tuple[str, ...]:
    """The fields to scrub: the FIELD_POLICY "sensitive" and "location" fields that hold free text
    (codes, flags, choices and relations are what statistics count, and stay), plus `extra`."""
    names = []
    for name in (*declared(model, "sensitive"), *declared(model, "location"), *extra):
        field = model._meta.get_field(name)
        if field.concrete and not field.is_relation and not field.choices and _is_text(field):
            names.append(name)
        elif name in extra:
            raise ImproperlyConfigured(f"{model.__name__}.{name} is not a free-text field")
    return tuple(dict.fromkeys(names))


def disposed_value(field, value):
    """What a written value becomes; an empty value stays as it is."""
    if isinstance(field, models.FileField):
        return ""
    if value in (None, "") or (isinstance(value, (dict, list)) and not value):
        return value
    if isinstance(field, models.JSONField):
        return type(value)() if isinstance(value, (dict, list)) else None
    if isinstance(field, models.EmailField):
        return ""
    if field.null and field.unique:
        return None
    if field.max_length is not None and field.max_length < len(DISPOSED):
        return ""
    return DISPOSED


def _file_name(value) -> str:
    return (getattr(value, "name", value) or "") if value else ""


def free_text_fields(model: type[models.Model], *, keep: Iterable[str] = ()) -> tuple[str, ...]:
    """Every free-text field of `model` (text, JSON and file fields without choices), but `keep`: for
    the rows of a unit that hold nothing but what was written about the person."""
    keep = set(keep)
    return tuple(
        f.name
        for f in model._meta.concrete_fields
        if _is_text(f) and not f.choices and not f.is_relation and f.name not in keep
    )


def scrub(
    model: type[models.Model],
    ids: Iterable[int],
    fields: Iterable[str],
    *,
    acting_user,
    custom: dict[str, Callable[[Any], Any]] | None = None,
) -> Rows:
    """Anonymise `fields` (and the `custom` fields: name -> fn(row) -> new value) of the rows `ids`
    of `model`, in the rows and in all their history rows, and the reasons typed into those history
    rows (with no fields: the reasons only). Returns {label: [ids changed]}.

    Idempotent: a row already anonymised is left alone (no new history row). Each changed row gets a
    history row with the reason DISPOSAL_REASON and the acting user. Must run inside history_scrub()
    when the model keeps history."""
    ids = sorted(set(ids))
    fields, custom = tuple(fields), dict(custom or {})
    history = getattr(model, "history", None)
    if not ids or not (fields or custom or history is not None):
        return {}
    concrete = {f.name: f for f in model._meta.concrete_fields}
    missing = [name for name in (*fields, *custom) if name not in concrete]
    if missing:
        raise ImproperlyConfigured(f"{model.__name__} has no field {missing}")
    files: set[str] = set()

    def apply(row) -> bool:
        changed = False
        for name in fields:
            field = concrete[name]
            old = getattr(row, field.attname)  # a history row holds a file's name as text
            if isinstance(field, models.FileField):
                files.add(_file_name(old))
            new = disposed_value(field, old)
            if new != old:
                _note_removed(name, old, new)
                setattr(row, field.attname, new)
                changed = True
        for name, rule in custom.items():
            new = rule(row)
            old = getattr(row, concrete[name].attname)
            if new != old:
                _note_removed(name, old, new)
                setattr(row, concrete[name].attname, new)
                changed = True
        return changed

    names = [*fields, *custom]
    if history is not None:
        history_model = history.model
        for start in range(0, len(ids), BATCH):
            rows = [
                row
                for row in history_model.objects.filter(id__in=ids[start : start + BATCH])
                if _apply_history(row, apply)
            ]
            if rows:
                history_model.objects.bulk_update(rows, [*names, "history_change_reason"], batch_size=BATCH)
    changed = []
    for start in range(0, len(ids), BATCH):
        if not names:  # a record with no text of its own (a case): only its history's reasons
            break
        objects = [
            obj for obj in model._default_manager.filter(pk__in=ids[start : start + BATCH]) if apply(obj)
        ]
        if not objects:
            continue
        if history is not None:
            last = history.model.objects.aggregate(last=models.Max("history_id"))["last"] or 0
            bulk_update_with_history(
                objects,
                model,
                names,
                batch_size=BATCH,
                default_user=acting_user,
                default_change_reason=DISPOSAL_REASON,
            )
            _snapshot_many_to_many(model, [obj.pk for obj in objects], after=last)
        else:
            model._default_manager.bulk_update(objects, names, batch_size=BATCH)
        changed.extend(obj.pk for obj in objects)
    _delete_files_on_commit(files - {""})
    label = model._meta.label_lower
    if changed:
        log.info("retention: anonymised %s ids=%s", label, changed)
    return {label: changed} if changed else {}


def _snapshot_many_to_many(model, pks: list[int], *, after: int) -> None:
    """Give the history rows bulk_update_with_history just wrote (history_id > `after`) the tracked
    many-to-many values the record still has, as a save would: without them the audit would read the
    disposal as 「課題分類: … → （空）」, though the codes stay (statistics)."""
    history_model = model.history.model
    tracked = getattr(history_model, "_history_m2m_fields", ())
    if not tracked:
        return
    rows = {row.id: row for row in history_model.objects.filter(id__in=pks, history_id__gt=after)}
    for field in tracked:
        through = field.remote_field.through
        own = through._meta.get_field(field.m2m_field_name()).attname  # the record's side (also for "self")
        snapshot = getattr(history_model, field.name).model  # simple_history's HistoricalX_<field>
        names = [f.attname for f in through._meta.fields]
        snapshot.objects.bulk_create(
            [
                snapshot(history=rows[getattr(link, own)], **{name: getattr(link, name) for name in names})
                for link in through.objects.filter(**{f"{own}__in": list(rows)})
            ],
            batch_size=BATCH,
        )


def _apply_history(row, apply) -> bool:
    """A history row: the same rules, and any reason typed by a user (it may name the person) goes
    too; the reason this module writes, and the history's dates, types and authors, stay."""
    changed = apply(row)
    reason = row.history_change_reason
    if reason and reason not in (DISPOSAL_REASON, DISPOSED):
        # Scrubbed in place, not looked for elsewhere: most reasons are the system's own words.
        row.history_change_reason = DISPOSED
        changed = True
    return changed


def _delete_files_on_commit(names: set[str]) -> None:
    """Uploaded files (consent scans) go from storage once the disposal is committed: a rolled back
    disposal leaves them, and the rows still point to them."""
    if not names:
        return

    def delete():
        for name in sorted(names):
            try:
                default_storage.delete(name)
            except OSError:  # already gone, or the storage refused: the row no longer names it
                log.warning("retention: could not delete the file %s", name, exc_info=True)
            else:
                log.info("retention: deleted the file %s", name)

    transaction.on_commit(delete)


def grants_scrub(model: type[models.Model], ids: Iterable[int], *, acting_user) -> Rows:
    """The reasons typed into the access-grant ledger for these records (a referral's reason, a
    revocation's) may describe the person: scrubbed too. Who, on what basis and when stay."""

    ids = list(ids)
    if not ids:
        return {}
    content_type = ContentType.objects.get_for_model(model)
    grant_ids = AccessGrant.objects.filter(content_type=content_type, object_id__in=ids).values_list(
        "pk", flat=True
    )
    token = _quoted_elsewhere.set(False)
    try:
        return scrub(AccessGrant, list(grant_ids), ["reason", "revoke_reason"], acting_user=acting_user)
    finally:
        _quoted_elsewhere.reset(token)


def merge(into: Rows, more: Rows) -> Rows:
    for label, ids in more.items():
        into[label] = sorted(set(into.get(label, [])) | set(ids))
    return into
