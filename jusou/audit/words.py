"""The audit in words: one formatter for every value the audit shows — the change history (pages and
CSV/xlsx exports) and the read log — from the models' own metadata: a field's verbose_name, its choices,
the __str__ of the record a foreign key names (an agency's name, a staff member's name, a code-list
entry's label), a content type as its model's verbose name, booleans as はい/いいえ, dates in 和暦 and times
in Asia/Tokyo, JSON lists of codes through the labels their field declares (jusou.fields.coded_list).

Names of related records are fetched in a batch: `Words.want(...)` every value of a page first, then
`resolve()` runs one query per related model (content types come from Django's cache), then `text(...)`.
"""

import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from jusou.access.decision import InformationCategory
from jusou.access.fieldpolicy import MASK
from jusou.ja.wareki import to_wareki, to_wareki_datetime

EMPTY = "（空）"
MISSING = "（削除された記録）"
YES, NO = "はい", "いいえ"
LIST_SEPARATOR = "、"
# The ids a list read names in its detail (jusou.views.log_list: 「ケース一覧 50件 [1,2,3]」).
LISTED_IDS = re.compile(r"\s*\[([\d,]*)\](.*)$")
# The scope a partial read opened, as the read log keeps it (jusou.access.decision.AccessDecision.log_detail:
# 「範囲: basic・plan」): codes, shown as the categories' labels.
READ_SCOPE = re.compile(r"範囲: ([a-z_]+(?:・[a-z_]+)*)")


def generic_content_type_field(model, field) -> str | None:
    """The content-type field that names the model of `field`'s id, when `field` is the id half of a
    generic relation: declared with a GenericForeignKey, or a `<x>_id` beside a `<x>_type` foreign key
    to ContentType (jusou.ResourceGap.source_id), or `object_id` beside `content_type`."""
    for private in model._meta.private_fields:
        if isinstance(private, GenericForeignKey) and private.fk_field == field.name:
            return private.ct_field
    if field.name == "object_id":
        candidate = "content_type"
    elif field.name.endswith("_id"):
        candidate = field.name[: -len("_id")] + "_type"
    else:
        return None
    try:
        sibling = model._meta.get_field(candidate)
    except Exception:
        return None
    return candidate if getattr(sibling, "related_model", None) is ContentType else None


def content_type_name(content_type_id) -> str:
    """A content type as its model's verbose name (支援ケース), never its number."""
    if content_type_id is None:
        return EMPTY
    try:
        content_type = ContentType.objects.get_for_id(content_type_id)
    except ContentType.DoesNotExist:
        return MISSING
    model = content_type.model_class()
    return str(model._meta.verbose_name) if model is not None else content_type.name


class Words:
    """Values in words for one page (or one export chunk)."""

    def __init__(self):
        self._wanted: dict[type, set] = defaultdict(set)
        self._names: dict[type, dict] = {}

    # --- Collect ----------------------------------------------------------------------------------

    def want(self, model, field, value, row=None) -> None:
        """Note the records `value` names (a foreign key's id, a many-to-many's ids, a generic id)."""
        if value in (None, "") or value == MASK:
            return
        many = isinstance(field, models.ManyToManyField)
        related = field.related_model if many else self._related(model, field, row)
        if related is None or related is ContentType:
            return
        if isinstance(value, set | frozenset | list | tuple):
            self._wanted[related].update(value)
        else:
            self._wanted[related].add(value)

    def want_records(self, model, ids: Iterable) -> None:
        """Note records to name themselves (the record a history row or a read-log row is about)."""
        if model is not None and model is not ContentType:
            self._wanted[model].update(i for i in ids if i is not None)

    def resolve(self) -> None:
        """One query per related model for every name noted so far."""
        for model, ids in self._wanted.items():
            known = self._names.setdefault(model, {})
            missing = {i for i in ids if i not in known}
            if not missing:
                continue
            # The records' __str__ often names their case or person (「2025-0012 山田」, 「相談受付 … 山田」):
            # those come in the same query, a nullable one too (a consultation's person), not one query
            # per record.
            for obj in model._base_manager.select_related(*_name_relations(model)).filter(pk__in=missing):
                known[obj.pk] = str(obj)
        self._wanted.clear()

    def name(self, model, pk) -> str:
        if pk is None:
            return EMPTY
        if model is ContentType:
            return content_type_name(pk)
        return self._names.get(model, {}).get(pk, MISSING)

    # --- Render -----------------------------------------------------------------------------------

    def text(self, model, field, value, row=None) -> str:
        """`value` of `model`'s `field` in words (`row`: the record or history row, for generic ids)."""
        if value == MASK:
            return MASK
        if isinstance(field, models.ManyToManyField):
            names = sorted(self.name(field.related_model, pk) for pk in value or ())
            return LIST_SEPARATOR.join(names) if names else EMPTY
        if value is None or value == "" or value == [] or value == {}:
            return EMPTY
        related = self._related(model, field, row)
        if related is not None:
            return self.name(related, value)
        if getattr(field, "choices", None):
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(value, bool):
            return YES if value else NO
        if isinstance(value, datetime):
            return to_wareki_datetime(value)
        if isinstance(value, date):
            return to_wareki(value)
        if isinstance(field, models.JSONField):
            return self._json(field, value)
        if isinstance(field, models.FileField):
            return str(getattr(value, "name", value)).rsplit("/", 1)[-1]
        return str(value)

    def _json(self, field, value) -> str:
        if text := getattr(field, "audit_text", None):
            return text(value)
        return json_text(value, getattr(field, "item_choices", None))

    @staticmethod
    def _related(model, field, row):
        if field.is_relation and (field.many_to_one or field.one_to_one):
            return field.related_model
        if row is not None and (ct_field := generic_content_type_field(model, field)):
            content_type_id = getattr(row, f"{ct_field}_id", None)
            if content_type_id is None:
                return None
            try:
                return ContentType.objects.get_for_id(content_type_id).model_class()
            except ContentType.DoesNotExist:
                return None
        return None


def json_text(value, choices: dict | None = None) -> str:
    """A JSON value without brackets or quotes: a list as 「a、b」, a mapping as 「key: value」, codes through
    `choices`; true/false as はい/いいえ."""
    if isinstance(value, bool):
        return YES if value else NO
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(json_text(item, choices) for item in value)
    if isinstance(value, dict):
        return "／".join(
            f"{json_text(key, choices)}: {json_text(item, choices)}" for key, item in value.items()
        )
    if choices:
        return str(choices.get(value, value))
    return str(value)


def field_of(model, name: str):
    """The tracked model's own field (its verbose_name, choices and relations), for a history field."""
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def listed_ids(detail: str) -> tuple[str, list[int], str]:
    """A list read's detail split into what was listed, the ids shown and the rest (「(1/2)」)."""
    head, _, tail = detail.partition(" [")
    match = LISTED_IDS.match(" [" + tail) if tail else None
    if not match:
        return detail, [], ""
    ids = [int(i) for i in match.group(1).split(",") if i]
    return head, ids, match.group(2).strip()


def scope_words(detail: str) -> str:
    """A read's detail with the scope it opened in words (「範囲: 基本情報（氏名・生年月日・連絡先）、支援プラン」)."""

    labels = dict(InformationCategory.choices)
    return READ_SCOPE.sub(
        lambda m: "範囲: " + LIST_SEPARATOR.join(labels.get(code, code) for code in m.group(1).split("・")),
        detail,
    )


@functools.cache
def _name_relations(model) -> tuple[str, ...]:
    """What Words.resolve reads with `model`'s rows so that their __str__ needs no further query: the
    model's own `name_relations` where it declares them (a case's name is its number and its person's
    name: ("person",)), else each of its foreign keys, nullable or not. A declaration keeps the query
    to the joins the name needs: following every key of every key made PostgreSQL spend 15 ms planning
    a 15-table join for one page of consultation reads (issue 14's benchmark, access log)."""
    declared = getattr(model, "name_relations", None)
    if declared is not None:
        return tuple(declared)
    return tuple(field.name for field in model._meta.concrete_fields if field.many_to_one)


def describe_reads(rows) -> None:
    """Give each read-log row `record_text` (what was read: 「支援ケース 2025-0012 山田 太郎」, or for a list
    read what was listed: 「ケース一覧（担当・支援中） 50件」) and `detail_text` (the detail, a list's ids
    as the names of the records shown). One query per record type on the page."""
    words = Words()
    parsed = []
    for row in rows:
        model = _model_of(row.content_type_id)
        head, ids, tail = listed_ids(row.detail) if row.object_id is None else (row.detail, [], "")
        words.want_records(model, [row.object_id, *ids])
        parsed.append((row, model, head, ids, tail))
    words.resolve()
    for row, model, head, ids, tail in parsed:
        type_name = content_type_name(row.content_type_id) if row.content_type_id else ""
        if row.object_id is not None:
            row.record_text = f"{type_name} {words.name(model, row.object_id)}"
            row.detail_text = scope_words(row.detail)
        elif ids:
            row.record_text = head
            row.detail_text = " ".join(
                part
                for part in ("表示: " + LIST_SEPARATOR.join(words.name(model, pk) for pk in ids), tail)
                if part
            )
        else:
            row.record_text = f"{type_name}（一覧）" if type_name else ""
            row.detail_text = scope_words(row.detail)


def _model_of(content_type_id):
    if content_type_id is None:
        return None
    try:
        return ContentType.objects.get_for_id(content_type_id).model_class()
    except ContentType.DoesNotExist:
        return None
