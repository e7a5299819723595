"""Issue 18: the audit in words, and one history per case.

- Every history row of every record type renders without a raw code: every tracked model (every model
  with django-simple-history) gets a change of every field, and no value of a coded field (choices,
  foreign keys, content types, generic ids, booleans, dates, JSON lists of codes) shows in the history
  page or its export as the stored code or id.
- A case's history page holds the changes and the reads of every record kind that belongs to the case."""

import csv
import io
import re
from datetime import date, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db import models as dj
from django.urls import reverse

from jusou.audit import selectors as audit
from jusou.audit.words import MISSING, generic_content_type_field
from jusou.models import ReadLog
from tests.leak_world import build

ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture
def world(db):
    return build()


def _other(model, field, value, obj):
    """A different value of `field`'s own kind, or None if there is none to give."""
    if field.is_relation:
        related = field.related_model
        if field.one_to_one:
            return None  # another record's one-to-one is taken
        other = related._base_manager.exclude(pk=value).order_by("pk").first()
        return other.pk if other is not None else None
    if generic_content_type_field(model, field):
        return None  # changed with its content type only when a matching record exists: left alone
    if field.choices:
        codes = [code for code, _ in field.flatchoices if code not in ("", None) and code != value]
        return codes[0] if codes else None
    if isinstance(field, dj.BooleanField):
        return not value
    if isinstance(field, dj.DateTimeField):
        return (value or datetime.now().astimezone()) + timedelta(hours=1)
    if isinstance(field, dj.DateField):
        return (value or date.today()) + timedelta(days=1)
    if isinstance(field, dj.JSONField):
        if choices := getattr(field, "item_choices", None):
            wanted = list(choices)
            return wanted if wanted != value else wanted[:1]
        return None
    if isinstance(field, dj.PositiveIntegerField | dj.PositiveSmallIntegerField | dj.IntegerField):
        return (value or 0) + 1
    if isinstance(field, dj.EmailField):
        return "changed@example.jp"
    if isinstance(field, dj.SlugField):
        return f"{value or 'x'}-changed"[: field.max_length]
    if isinstance(field, dj.CharField | dj.TextField):
        return (f"{value or ''}変")[: field.max_length or 1000]
    return None


def make_one(model):
    """A record of a model the seeded world has none of, every required field given a value of its kind
    (a one-to-one takes a related record not yet taken)."""
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.has_default() or field.null or getattr(field, "auto_now_add", False):
            continue
        if field.is_relation:
            taken = model._base_manager.values(field.attname) if field.one_to_one else []
            values[field.name] = (
                field.related_model._base_manager.exclude(pk__in=taken).order_by("pk").first()
            )
        elif field.choices:
            values[field.name] = field.flatchoices[0][0]
        elif isinstance(field, dj.DateTimeField):
            values[field.name] = datetime.now().astimezone()
        elif isinstance(field, dj.DateField):
            values[field.name] = date.today()
        elif isinstance(field, dj.IntegerField):
            values[field.name] = 1
        elif isinstance(field, dj.JSONField):
            values[field.name] = []
        else:
            values[field.name] = "試験"
    for field in model._meta.concrete_fields:  # a generic id names an existing record (a case)
        if ct_field := generic_content_type_field(model, field):
            from django.contrib.contenttypes.models import ContentType

            from cases.models import Case

            values[ct_field] = ContentType.objects.get_for_model(Case)
            values[field.name] = Case.objects.order_by("pk").first().pk
    return model._base_manager.create(**values)


def change_every_field(obj) -> list[str]:
    """Change each concrete field of `obj` (one save per field, so a constraint refusing one value does
    not hide the others); the names of the fields changed."""
    model = type(obj)
    changed = []
    for field in model._meta.concrete_fields:
        if field.primary_key or isinstance(field, dj.FileField):
            continue
        value = getattr(obj, field.attname)
        new = _other(model, field, value, obj)
        if new is None:
            continue
        try:
            with transaction.atomic():
                setattr(obj, field.attname, new)
                obj.save()
        except (IntegrityError, Exception):
            setattr(obj, field.attname, value)
            continue
        changed.append(field.name)
    for field in getattr(model.history.model, "_history_m2m_fields", ()):  # tracked many-to-many too
        getattr(obj, field.name).set(field.related_model._base_manager.order_by("-pk")[:2])
        changed.append(field.name)
    return changed


def raw_forms(model, field, value) -> set[str]:
    """How `value` looks when shown unlabelled."""
    out = {str(value), repr(value)}
    if isinstance(value, list | dict):
        out |= {str(item) for item in (value if isinstance(value, list) else value.keys())}
    return {text for text in out if text not in ("", "None")}


CODED = (dj.BooleanField, dj.DateField, dj.JSONField)


def coded(model, field) -> bool:
    return bool(
        field.is_relation
        or field.choices
        or isinstance(field, CODED)
        or generic_content_type_field(model, field)
    )


def test_every_field_of_every_tracked_model_shows_in_words(client, world):
    supervisor = world.users["supervisor"]
    client.force_login(supervisor)
    walked, without_records = [], []
    for label, model in audit.audited_models().items():
        obj = model._base_manager.order_by("pk").first()
        if obj is None:
            try:
                with transaction.atomic():
                    obj = make_one(model)
            except Exception as error:
                without_records.append((label, repr(error)))
                continue
        change_every_field(obj)
        walked.append(label)
        page = client.get(reverse("audit_record_history", args=[label, obj.pk]))
        assert page.status_code == 200, label
        html = page.content.decode()
        export = client.get(reverse("audit_history_export", args=["csv"]), {"type": label, "record": obj.pk})
        rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
        changes = "\n".join(row[6] for row in rows[1:])
        history = model.history.model
        entries = list(model.history.filter(id=obj.pk).order_by("-history_date", "-history_id"))
        audit._diffs(model, entries)
        raw_rows = {e.history_id: e for e in history.objects.filter(id=obj.pk)}
        for entry in entries:
            for change in entry.changes:
                field = change.model_field
                if isinstance(field, dj.ManyToManyField):  # names, never ids
                    assert change.after != MISSING and MISSING not in change.after, (label, field.name)
                    names = {str(o) for o in field.related_model._base_manager.select_related()}
                    assert set(change.after.split("、")) <= names | {"（空）"}, (
                        label,
                        field.name,
                        change.after,
                    )
                    assert f" → {change.after}" in changes, (label, field.name)
                    continue
                if not hasattr(field, "attname") or not coded(model, field):
                    continue
                raw = getattr(raw_rows[entry.history_id], field.attname, None)
                if raw in (None, "", [], {}):
                    continue
                # The page and the export show the same words (the formatter is one for both).
                assert f"{change.field}: " in changes and f" → {change.after}" in changes, (label, field.name)
                assert change.field in html, (label, field.name)
                assert change.after != MISSING, (label, field.name)  # every related record is named
                for text in (change.after, change.before or ""):
                    assert text not in raw_forms(model, field, raw), (label, field.name, text)
                    assert not ISO.fullmatch(text) and text not in ("True", "False"), (
                        label,
                        field.name,
                        text,
                    )
                    assert "['" not in text and "{'" not in text and '{"' not in text, (
                        label,
                        field.name,
                        text,
                    )
                assert not re.search(r"[a-z]", change.field), (
                    label,
                    field.name,
                    change.field,
                )  # Japanese labels
    assert without_records == []
    assert set(walked) == set(audit.audited_models())


def test_the_formatter_labels_codes_names_and_dates():
    from cases.models import Case, Person
    from jusou.audit.words import Words
    from meetings.models import AgendaItem, Consent

    words = Words()
    assert words.text(Person, Person._meta.get_field("sex"), "female") == "女"
    categories = words.text(Consent, Consent._meta.get_field("categories"), ["basic", "plan"])
    assert categories == "基本情報（氏名・生年月日・連絡先）、支援プラン"
    assert words.text(Case, Case._meta.get_field("risk_abuse"), True) == "はい"
    assert words.text(Case, Case._meta.get_field("next_follow_up_on"), date(2019, 5, 1)) == "令和元年5月1日"
    assert words.text(AgendaItem, AgendaItem._meta.get_field("outcome"), "approved") == "承認"
    assert words.text(AgendaItem, AgendaItem._meta.get_field("outcome"), "close") == "終結"


# --- One history per case --------------------------------------------------------------------------


def test_a_case_history_holds_the_changes_and_reads_of_every_record_kind(client, world):
    case = world.objects["case"]
    # Read every record of the case once, so each kind has a read.
    owner = world.users["owner"]
    from jusou.audit.readlog import read_log

    kinds = {}
    for label, rows in audit._case_histories(case).items():
        ids = set(rows.values_list("id", flat=True))
        if ids:
            kinds[label] = ids
            read_log(
                user=owner,
                action=ReadLog.Action.VIEW,
                model=audit.audited_models()[label],
                object_id=min(ids),
            )
    expected = {
        "cases.case",
        "cases.consultation",
        "cases.assessment",
        "cases.progressnote",
        "meetings.consent",
        "meetings.supportdecision",
        "meetings.supportplan",
        "meetings.plantask",
        "meetings.agendaitem",
        "meetings.planconference",
        "meetings.meetingbriefing",
        "meetings.supportmeeting",
        "participation.participationplan",
        "participation.proposal",
        "participation.placement",
        "participation.followup",
    }
    assert expected <= set(kinds), expected - set(kinds)
    client.force_login(world.users["supervisor"])
    models = audit.audited_models()
    for label in kinds:
        response = client.get(reverse("audit_case_history", args=[case.pk]), {"kind": label})
        assert response.status_code == 200
        html = response.content.decode()
        assert (
            f"{models[label]._meta.verbose_name}の作成" in html
            or f"{models[label]._meta.verbose_name}の変更" in html
        ), label
        assert "閲覧・owner" in html or owner.get_full_name() in html, label
    # The consent's recipients are part of its history, by name.
    html = client.get(
        reverse("audit_case_history", args=[case.pk]), {"kind": "meetings.consent"}
    ).content.decode()
    assert "情報を共有する機関" in html and "みどり障害者相談支援センター" in html
    # Everything together, in time order, newest first.
    html = client.get(reverse("audit_case_history", args=[case.pk])).content.decode()
    assert 'data-kind="change"' in html and 'data-kind="read"' in html


def test_a_case_history_page_is_for_supervisors_only_and_linked_from_the_case(client, world):
    case = world.objects["case"]
    url = reverse("audit_case_history", args=[case.pk])
    client.force_login(world.users["owner"])
    assert client.get(url).status_code == 403
    assert url not in client.get(case.get_absolute_url()).content.decode()
    client.force_login(world.users["supervisor"])
    assert url in client.get(case.get_absolute_url()).content.decode()
    assert client.get(url).status_code == 200
    assert ReadLog.objects.filter(
        user=world.users["supervisor"], detail__startswith="ケースの履歴の確認"
    ).exists()


def test_a_case_history_page_uses_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    from cases import services

    case = world.objects["case"]
    owner = world.users["owner"]
    client.force_login(world.users["supervisor"])
    url = reverse("audit_case_history", args=[case.pk])

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = count()
    for i in range(30):
        services.progress_note_add(case=case, acting_user=owner, kind="phone", content=f"記録{i}")
    assert count() <= before + 3  # a new record kind's names at most, never one per row
    with django_assert_max_num_queries(120):
        client.get(url)


def test_the_conference_page_names_each_items_outcome(client, world):
    conference = world.objects["conference"]
    client.force_login(world.users["host"])
    html = client.get(reverse("meetings:conference_detail", args=[conference.pk])).content.decode()
    assert "→ 承認" in html and "→ approved" not in html
