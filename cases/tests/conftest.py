"""The cases personas: the assigned worker, a colleague at the same agency, a worker at another
agency, an outsider, a coordinator and a supervisor — and a case of the assigned worker's."""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.models import Case, Code, CodeKind, Household, Person
from jusou.models import AgencyKind, Role, User
from jusou.tests.factories import AgencyFactory, staff_user

SEED = {
    CodeKind.CHANNEL: [("phone", "電話"), ("visit_office", "来所")],
    CodeKind.ROUTE: [("self", "本人"), ("family", "家族・親族"), ("minsei", "民生委員・児童委員")],
    CodeKind.ISSUE: [
        ("care", "介護"),
        ("8050", "8050"),
        ("abuse", "DV・虐待"),
        ("hikikomori", "ひきこもり・不登校"),
        ("suicide_risk", "自殺リスク"),
        ("income", "収入・生活費"),
    ],
    CodeKind.CLOSE_REASON: [("goal_achieved", "目標達成")],
    CodeKind.SUSPEND_REASON: [("lost_contact", "連絡途絶")],
    CodeKind.ATTRIBUTE: [("elderly", "高齢")],
}


def code(kind, value) -> Code:
    """A code list entry; transactional tests flush the seeded rows, so make sure it exists."""
    label = dict(SEED.get(kind, [])).get(value, value)
    return Code.objects.get_or_create(kind=kind, code=value, defaults={"label": label})[0]


@dataclass
class World:
    assigned: User
    colleague: User
    other_worker: User
    outsider: User
    coordinator: User
    supervisor: User
    case: Case
    person: Person
    son: Person
    household: Household

    def persona(self, name) -> User:
        return getattr(self, name)


def record_case(
    user, *, name="山田 花子", kana="やまだ はなこ", birth=date(1948, 5, 1), issues=("care",), **person
):
    """A person, their household and a case, recorded the way intake staff do it."""
    subject = services.person_register(acting_user=user, name=name, kana=kana, birth_date=birth, **person)
    household = services.household_register(acting_user=user, name=f"{name.split()[0]}さん世帯")
    services.household_member_add(acting_user=user, household=household, person=subject, relationship="本人")
    consultation = services.consultation_record(
        acting_user=user,
        received_at=timezone.now() - timedelta(hours=1),
        channel=code(CodeKind.CHANNEL, "phone"),
        route=code(CodeKind.ROUTE, "family"),
        issues=[code(CodeKind.ISSUE, i) for i in issues],
        main_issue=code(CodeKind.ISSUE, issues[0]),
        summary="母の介護について長男から相談",
        outcome="case",
        person=subject,
        household=household,
    )
    return consultation.case


@pytest.fixture
def world(db) -> World:
    agency = AgencyFactory(name="みどり中央地域包括支援センター")
    other = AgencyFactory(name="みどり障害者相談支援センター", kind=AgencyKind.DISABILITY_CONSULTATION)
    npo = AgencyFactory(name="NPO法人みどりの家", kind=AgencyKind.NPO_PRIVATE)
    office = AgencyFactory(name="みどり市 福祉総合相談課", kind=AgencyKind.MUNICIPAL_OFFICE)
    assigned = staff_user(Role.WORKER, agency, username="assigned")
    case = record_case(assigned)
    son = services.person_register(
        acting_user=assigned, name="山田 一郎", kana="やまだ いちろう", birth_date=date(1975, 1, 2)
    )
    services.household_member_add(
        acting_user=assigned, household=case.household, person=son, relationship="長男"
    )
    return World(
        assigned=assigned,
        colleague=staff_user(Role.WORKER, agency, username="colleague"),
        other_worker=staff_user(Role.WORKER, other, username="other_worker"),
        outsider=staff_user(Role.WORKER, npo, username="outsider"),
        coordinator=staff_user(Role.COORDINATOR, office, username="coordinator"),
        supervisor=staff_user(Role.SUPERVISOR, office, username="supervisor"),
        case=case,
        person=case.person,
        son=son,
        household=case.household,
    )


def fresh(user: User) -> User:
    """The user as a new request would load it (roles and agencies are cached per instance)."""
    return User.objects.get(pk=user.pk)
