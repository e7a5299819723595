# ruff: noqa: F811  (the fixtures imported from the apps' conftests are parameters here)
"""person_decisions with the people's visible cases handed in (the household panel, which has just read
them) decides exactly as when it works them out itself: same bases, scopes and grants, persona by persona."""

import pytest

from cases.selectors import cases_visible_to, person_decisions
from cases.tests.conftest import fresh, world  # noqa: F401  (fixture)
from meetings.tests.conftest import coordinating, referred  # noqa: F401  (fixtures)
from meetings.tests.test_plans import planned  # noqa: F401  (fixture)
from tests.test_access_decisions import approved, consent_of  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

PERSONAS = ("assigned", "colleague", "other_worker", "outsider", "coordinator", "supervisor")


def given_cases(user, person_ids):
    visible = cases_visible_to(user, per_row=True).filter(person_id__in=person_ids)
    cases = {pk: [] for pk in person_ids}
    for case_id, person_id in visible.values_list("pk", "person_id"):
        cases[person_id].append(case_id)
    return cases


@pytest.mark.parametrize("sons_own_consent", [False, True])
def test_handing_in_the_visible_cases_changes_no_decision(approved, sons_own_consent):
    w = approved
    if sons_own_consent:
        consent_of(w, w.son, ["basic"], "支援プランの実施")
    people = [w.person.pk, w.son.pk]
    decided = 0
    for name in PERSONAS:
        user = fresh(w.persona(name))
        expected = person_decisions(user, people)
        assert person_decisions(fresh(user), people, visible_cases=given_cases(user, people)) == expected, (
            name
        )
        decided += len(expected)
    assert decided  # somebody decides on somebody: the comparison is not vacuous
