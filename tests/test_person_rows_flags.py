# ruff: noqa: F811  (the fixtures imported from the apps' conftests are parameters here)
"""Search results decided from the bases read with the rows (persons_visible_to(user, flags=True)) get
exactly the decisions person_decisions works out on its own, persona by persona; and the search costs a
bounded number of queries whatever the number of results (issue 14)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.selectors import person_decisions, person_rows, person_search, persons_visible_to
from cases.tests.conftest import fresh, world  # noqa: F401  (fixture)
from meetings.tests.conftest import coordinating, referred  # noqa: F401  (fixtures)
from meetings.tests.test_plans import planned  # noqa: F401  (fixture)
from tests.test_access_decisions import approved, consent_of  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

PERSONAS = ("assigned", "colleague", "other_worker", "outsider", "coordinator", "supervisor")


@pytest.mark.parametrize("sons_own_consent", [False, True])
def test_the_bases_read_with_the_rows_change_no_decision(approved, sons_own_consent):
    w = approved
    if sons_own_consent:
        consent_of(w, w.son, ["basic"], "支援プランの実施")
    people = [w.person.pk, w.son.pk]
    decided = 0
    for name in PERSONAS:
        user = fresh(w.persona(name))
        expected = person_decisions(user, people)
        rows = person_rows(fresh(user), persons_visible_to(user, flags=True).filter(pk__in=people))
        assert {row.pk: row.decision for row in rows} == expected, name
        decided += len(expected)
    assert decided  # somebody decides on somebody: the comparison is not vacuous


def test_search_results_are_decided_from_their_own_flags(approved):
    w = approved
    user = fresh(w.persona("other_worker"))
    key = w.person.name[:1]
    expected = {p.pk: p.decision for p in person_search(user, key)}
    assert expected == person_decisions(user, list(expected))


def test_person_search_costs_the_same_queries_for_one_or_many_results(client, world):
    client.force_login(world.assigned)
    client.get(reverse("cases:person_search"), {"q": "やまだ"})  # session and caches warm
    counts = []
    for query, found in (("はなこ", 1), ("やまだ", 2)):  # 山田 花子; and 山田 一郎 too
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("cases:person_search"), {"q": query, "fragment": "1"})
        assert response.content.decode().count("やまだ") == found
        counts.append(len(captured))
    # 15 on SQLite, 12 on PostgreSQL (the read log's chained append takes more statements on SQLite)
    assert counts[0] == counts[1] <= 15
