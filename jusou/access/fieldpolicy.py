"""Field-level protection, declared once per model and applied by the selectors.

Each protected model declares a FIELD_POLICY:
- "location": fields that reveal where a person can be found (address, phone, e-mail …). Under
  住所秘匿 they are replaced by MASK for everyone but the staff personally assigned (cases.policy).
- "sensitive": fields holding 要配慮個人情報 (個人情報保護法 第2条第3項: 病歴, 障害, 犯罪被害, 虐待 …).
  List views, search results, autocomplete and dashboards never carry them: their rows are masked.
- "categories": {information category: fields} — which part of the record each field is
  (jusou.access.decision.InformationCategory). `project(obj, decision)` withholds every field of a category
  the reader's access decision does not open: pages show NOT_SHARED, the API leaves the field out.
  Fields named in no category are the record's identity (number, dates, who recorded it) and go
  wherever the record goes.
- "identifying": fields that say who the person is (氏名, 住所, 電話, 宛名番号, 生年月日 …): a
  pseudonymised rendering (仮名化, a 支援会議 briefing) leaves them out.

A masked instance refuses to be saved, so a masked value can never be written back by accident.
"""

import functools
from collections.abc import Iterable

from django.db import models

MASK = "秘匿"
NOT_SHARED = "（共有範囲外）"


class FieldPolicyModel(models.Model):
    FIELD_POLICY: dict[str, tuple[str, ...]] = {}

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if getattr(self, "_masked_fields", None):
            raise RuntimeError(f"{type(self).__name__} #{self.pk} is masked for display and cannot be saved")
        super().save(*args, **kwargs)

    @property
    def masked_fields(self) -> frozenset[str]:
        return frozenset(getattr(self, "_masked_fields", ()))

    @property
    def unshared_fields(self) -> frozenset[str]:
        """The fields its access decision withholds (jusou.access.fieldpolicy.project)."""
        return frozenset(getattr(self, "_unshared_fields", ()))


def declared(model: type[models.Model] | models.Model, kind: str) -> tuple[str, ...]:
    return tuple(getattr(model, "FIELD_POLICY", {}).get(kind, ()))


def mask(obj: models.Model, fields: Iterable[str], *, value: str = MASK) -> models.Model:
    """Replace the given concrete fields of `obj` by MASK (relations and many-to-many fields are
    dropped from display by not loading them; see `concrete`)."""
    fields = tuple(fields)
    how = _mask_how(type(obj))
    names = [name for name in fields if name in how]
    for name in names:
        attname, empty = how[name]
        if attname != name:  # a relation: its id and any loaded row go
            setattr(obj, attname, None)
            obj._state.fields_cache[name] = None
        else:
            setattr(obj, name, None if empty else value)
    # Many-to-many fields are recorded too, so that a serializer leaves them out rather than loading them.
    relations = [name for name in fields if name in _many_to_many_names(type(obj))]
    obj._masked_fields = set(getattr(obj, "_masked_fields", ())) | set(names) | set(relations)
    return obj


def category_fields(model: type[models.Model] | models.Model, categories: Iterable[str]) -> set[str]:
    """The fields of `model` that belong to any of `categories`."""
    declared_categories = getattr(model, "FIELD_POLICY", {}).get("categories", {})
    return {name for category in categories for name in declared_categories.get(category, ())}


def withheld_fields(model: type[models.Model] | models.Model, decision) -> set[str]:
    """The fields of `model` that `decision` does not open."""
    declared_categories = getattr(model, "FIELD_POLICY", {}).get("categories", {})
    return category_fields(model, [c for c in declared_categories if not decision.covers(c)])


def project(obj: models.Model, decision) -> models.Model:
    """Render `obj` as `decision` lets its reader see it: every field of a category outside the
    decision's scope is withheld (NOT_SHARED on pages, left out of API output), and the decision
    goes with the instance (`obj.decision`) for the read log and the page's notice."""
    withheld = withheld_fields(obj, decision)
    if withheld:
        mask(obj, withheld, value=NOT_SHARED)
        obj._unshared_fields = set(getattr(obj, "_unshared_fields", ())) | withheld
    obj.decision = decision
    return obj


def is_shared(obj: models.Model, name: str) -> bool:
    """Whether field `name` of `obj` may be rendered (not withheld by its decision, not masked)."""
    return name not in getattr(obj, "_masked_fields", ())


def mask_sensitive(objects: Iterable[models.Model]) -> list:
    """For lists, search results and dashboards: every declared sensitive field masked."""
    rows = list(objects)
    for obj in rows:
        mask(obj, declared(obj, "sensitive"))
    return rows


@functools.cache
def _mask_how(model) -> dict[str, tuple[str, bool]]:
    """For `mask`, once per model: each concrete field's name -> (the attribute to clear, whether it
    is emptied to None rather than given the mask text: relations, booleans, dates and numbers)."""
    how = {}
    for field in model._meta.concrete_fields:
        empty = field.is_relation or isinstance(
            field, models.BooleanField | models.DateField | models.IntegerField
        )
        how[field.name] = (field.attname, empty)
    return how


@functools.cache
def _many_to_many_names(model) -> frozenset[str]:
    return frozenset(f.name for f in model._meta.many_to_many)
