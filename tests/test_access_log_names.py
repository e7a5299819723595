"""The access log names what each read was about in one query per record type, whatever the number of
rows (jusou.audit.words.describe_reads): a consultation's name includes its person, a nullable key, which
select_related() alone does not follow — one more query per consultation read on the page (issue 14's
benchmark: 11 → 67 queries)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Consultation
from cases.tests.conftest import record_case, world  # noqa: F401
from jusou.audit.readlog import read_log
from jusou.audit.words import describe_reads
from jusou.models import ReadLog


def _queries_to_name(rows) -> int:
    rows = list(ReadLog.objects.filter(pk__in=[row.pk for row in rows]).order_by("pk"))
    with CaptureQueriesContext(connection) as captured:
        describe_reads(rows)
    assert all(str(row.object_id) and row.record_text for row in rows)
    return len(captured)


def test_naming_consultation_reads_costs_the_same_for_one_as_for_many(world):  # noqa: F811
    for i, kana in enumerate(["いち", "に", "さん", "し"]):
        record_case(world.assigned, name=f"川口 {kana}{i}", kana=f"かわぐち {kana}")
    consultations = list(Consultation.objects.filter(person__isnull=False).order_by("pk")[:5])
    assert len(consultations) >= 2
    reader = world.supervisor if hasattr(world, "supervisor") else None
    from jusou.models import User

    reader = reader or User.objects.order_by("pk").first()
    rows = [read_log(user=reader, action=ReadLog.Action.VIEW, obj=c) for c in consultations]
    assert _queries_to_name(rows[:1]) == _queries_to_name(rows)
    named = list(ReadLog.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk"))
    describe_reads(named)
    for row, consultation in zip(named, consultations, strict=True):
        assert consultation.person.name in row.record_text


def test_every_record_type_is_named_in_one_query(personas):
    """Each model's name comes with one query for its rows (its declared `name_relations`, else its
    foreign keys), and __str__ then reads nothing more: no query per record for any record type the
    demo world has. (A key of a key is joined only where a model declares it: following all of them
    made PostgreSQL plan 15-table joins.)"""
    from django.apps import apps

    from jusou.audit.words import Words

    checked, failures = 0, []
    for model in apps.get_models():
        if model._meta.app_label not in {
            "cases",
            "meetings",
            "outreach",
            "participation",
            "community",
            "jusou",
        }:
            continue
        if model.__name__.startswith("Historical") or model.__name__.endswith("ObjectPermission"):
            continue  # history rows and guardian's rows are never what a read or a change is about
        ids = list(model._base_manager.order_by("pk").values_list("pk", flat=True)[:3])
        if not ids:
            continue
        words = Words()
        words.want_records(model, ids)
        with CaptureQueriesContext(connection) as captured:
            words.resolve()
            names = [words.name(model, pk) for pk in ids]
        if len(captured) != 1 or not all(names):
            failures.append((model.__name__, len(captured)))
        checked += 1
    assert not failures
    assert checked > 20
