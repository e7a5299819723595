"""Metadata on model fields that Django has no place for, read by the audit formatter (jusou.audit.words)."""

from collections.abc import Callable, Iterable

from django.db import models


def coded_list(field: models.JSONField, choices: Iterable[tuple[object, str]]) -> models.JSONField:
    """A JSON list of codes (a consent's categories, a resource's weekdays): `choices` names each code,
    so the audit shows 「基本情報、課題」 rather than ['basic', 'issues']. Not part of the field's
    deconstruction: no migration, and the database column is unchanged."""
    field.item_choices = dict(choices)
    return field


def described(field: models.JSONField, text: Callable[[object], str]) -> models.JSONField:
    """A structured JSON value the audit shows through `text(value)` (in words) instead of its raw form."""
    field.audit_text = text
    return field
