"""Versions of editable records, for the pages: a form carries the version it was filled from, a save
from an older one is refused, and the page is shown again with what was typed and what the other
person changed in the meantime (issue 17, 「フォームが作業を失わない」).

A record's version is the one the API's ETag names (jusou.api.base.etag_of): its `version` counter
where it has one (a case), else its latest history row — every save writes one, so the number moves
on with each change and needs no column of its own. The services compare it under the record's row
lock (`check`), so two writers racing on one version cannot both win. A record whose `version` is a
版 number (an assessment, a support plan) is written anew, never edited: its form carries the 版 it
was based on instead (cases.services.assessment_record, meetings.services.plan_create).
"""

from dataclasses import dataclass, field
from datetime import datetime

from django import forms
from django.shortcuts import render

from jusou.audit.selectors import _diffs
from jusou.audit.words import Words
from jusou.services import EditConflict

STALE = (
    "ほかの人が先に変更しました。あなたの入力はそのまま残してあります。下に示す変更を確かめてから、"
    "必要なら入力を直して、もう一度保存してください。"
)


class StaleEdit(EditConflict):
    """The record changed since the form was filled from it (the API answers 412 stale_version)."""

    def __init__(self, message: str = STALE):
        super().__init__(message)


def _counts(obj) -> bool:
    return any(f.name == "version" for f in obj._meta.concrete_fields)


def version_of(obj) -> int:
    """The record's version now (see the module's docstring)."""
    if _counts(obj):
        return obj.version
    latest = obj.history.order_by("-history_id").values_list("history_id", flat=True).first()
    return latest or 0


def attach(model, objs) -> None:
    """Give each of `objs` (records of a history-versioned `model`) its `form_version`, in one query:
    for a list page with a form per row."""
    from django.db.models import Max

    latest = dict(
        model.history.filter(id__in=[o.pk for o in objs])
        .values("id")
        .annotate(h=Max("history_id"))
        .values_list("id", "h")
    )
    for obj in objs:
        obj.form_version = latest.get(obj.pk) or 0


def check(obj, expected: int | None) -> None:
    """Refuse a save from a form filled from an older version (call it holding the row lock).
    None: the caller named no version (a script, an older page) — nothing to compare."""
    if expected is not None and version_of(obj) != expected:
        raise StaleEdit()


class VersionField(forms.IntegerField):
    """The version a form was filled from, as a hidden field; optional (a script may send none)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.HiddenInput)
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 0)
        super().__init__(**kwargs)


@dataclass
class OtherChange:
    """One save someone else made after the form was filled: who, when, and each field's new value."""

    who: str
    when: datetime | None
    fields: list[tuple[str, str]] = field(default_factory=list)  # (label, their value, in words)


def who(user) -> str:
    if user is None:
        return "システム"
    return user.get_full_name() or user.username


def changes_since(obj, expected: int | None, fields) -> list[OtherChange]:
    """What was saved to `obj` after version `expected`, limited to `fields` (the form's own: what the
    user may see and was about to change), in words from the history (jusou.audit.views): for each field only
    its latest change — the value the record holds now, which the form shows anyway, with who saved it
    and when. Values since overwritten are never shown: the version comes from the page, and a page
    sent with an older one (by hand) must not read the record's history, which is for the 管理者."""

    if expected is None:
        return []
    history = obj.history.all()
    rows = history.filter(version__gt=expected) if _counts(obj) else history.filter(history_id__gt=expected)
    rows = list(rows.select_related("history_user").order_by("history_date", "history_id"))
    if not rows:
        return []
    _diffs(type(obj), rows)
    shown = set(fields) - {"version"}
    out = []
    for row in reversed(rows):  # newest first: a field's latest change is the one kept
        changed = []
        for change in row.changes:
            name = getattr(change.model_field, "name", None)
            if name in shown:
                shown.discard(name)
                changed.append((change.field, change.after))
        if changed:
            out.append(OtherChange(who(row.history_user), row.history_date, changed))
    return out[::-1]


def differences(model, before, after, fields, *, who, when) -> list[OtherChange]:
    """`after` compared with `before` (two records of `model`, such as two 版 of an assessment) on
    `fields`, in words: for a record written anew rather than edited."""
    words = Words()
    pairs = []
    for name in fields:
        model_field = model._meta.get_field(name)
        if model_field.many_to_many:
            old = frozenset(getattr(before, name).values_list("pk", flat=True)) if before else frozenset()
            new = frozenset(getattr(after, name).values_list("pk", flat=True))
        else:
            old = getattr(before, model_field.attname) if before else None
            new = getattr(after, model_field.attname)
        if old != new:
            words.want(model, model_field, new, after)
            pairs.append((model_field, new))
    words.resolve()
    changed = [(str(f.verbose_name), words.text(model, f, value, after)) for f, value in pairs]
    return [OtherChange(who, when, changed)] if changed else []


def refuse(
    request, form, template, context, *, changes, current_version, version_field="version", message=STALE
):
    """The page again after a refused stale save: the form as the user typed it, its version moved on
    to the current one (saving again applies the user's input over the other change, knowingly), the
    notice at the top and the other person's changes (templates/jusou/_stale_notice.html). 409."""
    form.data = form.data.copy()
    form.data[form.add_prefix(version_field)] = str(current_version)
    form.add_error(None, message)
    return render(request, template, {**context, "form": form, "stale_changes": changes}, status=409)
