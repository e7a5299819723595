"""Issue 14, property-based: for random households (1–6 members) and random 本人同意 (giver, recipients,
categories, expiry, withdrawal), a recipient agency's worker receives, on the main read paths (person,
case, household pages and API, the consultation API), no field value that their basis does not open.

What the basis opens is worked out here from the rules (README "Access"), not asked of the system: a
consent opens the categories it names, of the person who gave it, to the agencies it names, while it is
valid (not expired, not withdrawn); the case itself opens to the plan agency on the 本人's valid consent."""

from datetime import date, timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import services as case_services
from cases.models import CaseStatus, CodeKind
from cases.tests.conftest import code, fresh
from jusou.models import AgencyKind, Role
from jusou.tests.api import api_as
from jusou.tests.factories import AgencyFactory, staff_user
from meetings import services as meeting_services
from tests.leak_routes import body_text

pytestmark = pytest.mark.django_db

CATEGORIES = ("basic", "household", "issues", "health", "progress", "plan")
RECIPIENTS = 3  # recipient agencies; the first has the plan's 役割分担

consent_strategy = st.fixed_dictionaries(
    {
        "giver": st.integers(min_value=0, max_value=5),
        "recipients": st.sets(st.integers(min_value=0, max_value=RECIPIENTS - 1), min_size=1),
        "categories": st.sets(st.sampled_from(CATEGORIES), min_size=1),
        "expired": st.booleans(),
        "withdrawn": st.booleans(),
    }
)
scenario = st.fixed_dictionaries(
    {
        "size": st.integers(min_value=1, max_value=6),
        # the 本人's consent to the plan agency, which the plan's approval needs
        "first": st.sets(st.sampled_from(CATEGORIES), min_size=1),
        "first_withdrawn": st.booleans(),
        "consents": st.lists(consent_strategy, max_size=4),
    }
)


def marker(i: int, field: str) -> str:
    return f"秘密-{i}-{field}"


def phone(i: int) -> str:
    return f"090-5{i}5{i}-{i}{i}{i}{i}"


def seed(data):
    """The household, its case in 多機関協働 with a plan approved on the 本人's consent, then the
    random consents; returns what the expectation needs."""
    own = AgencyFactory(name="地域包括")
    agencies = [
        AgencyFactory(name=f"受け手機関{i}", kind=AgencyKind.DISABILITY_CONSULTATION)
        for i in range(RECIPIENTS)
    ]
    owner = staff_user(Role.WORKER, own)
    coordinator = staff_user(Role.COORDINATOR, AgencyFactory(name="福祉総合相談課"))
    readers = [staff_user(Role.WORKER, agency) for agency in agencies]
    people = [
        case_services.person_register(
            acting_user=owner,
            name=f"試験 {i}郎",
            birth_date=date(1950 + i, 1, 1),
            phone=phone(i),
            notes=marker(i, "健康"),
        )
        for i in range(data["size"])
    ]
    household = case_services.household_register(acting_user=owner, name="試験さん世帯")
    for i, person in enumerate(people):
        case_services.household_member_add(
            acting_user=owner,
            household=household,
            person=person,
            relationship="本人" if i == 0 else "家族",
            own_issues=marker(i, "課題"),
        )
    consultation = case_services.consultation_record(
        acting_user=owner,
        received_at=timezone.now() - timedelta(hours=1),
        channel=code(CodeKind.CHANNEL, "phone"),
        route=code(CodeKind.ROUTE, "family"),
        issues=[code(CodeKind.ISSUE, "care")],
        main_issue=code(CodeKind.ISSUE, "care"),
        summary=marker(0, "主訴"),
        outcome="case",
        person=people[0],
        household=household,
    )
    case = consultation.case
    case_services.assessment_record(
        case=case,
        acting_user=owner,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="課題",
        formulation=marker(0, "見立て"),
    )
    case_services.progress_note_add(case=case, acting_user=owner, kind="phone", content=marker(0, "経過"))
    case_services.case_transition(case=case, to_status=CaseStatus.REFERRED, acting_user=owner, reason="複合")
    coordinator = fresh(coordinator)
    meeting_services.case_accept(case=case, acting_user=coordinator)
    case.refresh_from_db()
    plan = meeting_services.plan_create(
        case=case,
        acting_user=coordinator,
        goals=["目標"],
        tasks=[{"agency": agencies[0], "role": "調整", "content": "面談"}],
        person_wishes="意向",
        issues_summary="整理",
        long_term_goal="長期",
        review_on=timezone.localdate() + timedelta(days=90),
    )
    today = timezone.localdate()

    def consent(person, recipients, categories, *, expired=False):
        return meeting_services.consent_record(
            case=case,
            person=person,
            acting_user=coordinator,
            consenting_party="self",
            consented_on=today - timedelta(days=60),
            method="written",
            recipients=recipients,
            categories=sorted(categories),
            purpose="支援",
            expires_on=today - timedelta(days=1) if expired else None,
        )

    valid = []  # (person index, agency index, categories) of the consents in force
    first = consent(people[0], [agencies[0]], data["first"])
    meeting_services.support_decision_record(case=case, acting_user=coordinator, decided_on=today)
    meeting_services.plan_approve(
        conference=meeting_services.conference_create(acting_user=coordinator, held_at=timezone.now()),
        plan=plan,
        acting_user=coordinator,
    )
    if data["first_withdrawn"]:
        meeting_services.consent_withdraw(consent=first, acting_user=coordinator, method="oral", note="撤回")
    else:
        valid.append((0, 0, set(data["first"])))
    for c in data["consents"]:
        giver = c["giver"] % data["size"]
        made = consent(
            people[giver],
            [agencies[i] for i in sorted(c["recipients"])],
            c["categories"],
            expired=c["expired"],
        )
        if c["withdrawn"]:
            meeting_services.consent_withdraw(
                consent=made, acting_user=coordinator, method="oral", note="撤回"
            )
        elif not c["expired"]:
            valid += [(giver, i, set(c["categories"])) for i in c["recipients"]]
    return people, household, case, consultation, readers, valid


def opened(valid, person: int, agency: int) -> set[str]:
    return set().union(*[cats for p, a, cats in valid if p == person and a == agency])


def forbidden_values(size: int, valid, agency: int) -> list[tuple[str, str]]:
    """(what, value) pairs the worker of `agency` must not receive anywhere."""
    case_cats = opened(valid, 0, agency) if agency == 0 else set()  # the case opens to the plan agency only
    out = []
    for i in range(size):
        own = opened(valid, i, agency) | (case_cats if i == 0 else set())
        if "basic" not in own:
            out.append((f"member {i} 電話", phone(i)))
        if "health" not in own:
            out += [(f"member {i} 備考", marker(i, "健康")), (f"member {i} 本人の課題", marker(i, "課題"))]
    if "issues" not in case_cats:
        out += [("主訴", marker(0, "主訴")), ("見立て", marker(0, "見立て"))]
    if "progress" not in case_cats:
        out.append(("支援経過", marker(0, "経過")))
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=scenario)
def test_a_recipient_agency_receives_only_what_valid_consents_open(db, data):
    with transaction.atomic():
        people, household, case, consultation, readers, valid = seed(data)
        for agency, reader in enumerate(readers):
            forbidden = forbidden_values(len(people), valid, agency)
            page, api = Client(), api_as(reader)
            page.force_login(reader)
            urls = [
                (api, f"/api/v1/cases/{case.pk}/"),
                (page, f"/cases/{case.pk}/"),
                (api, "/api/v1/people/"),
                (page, f"/households/{household.pk}/"),
                (api, f"/api/v1/households/{household.pk}/"),
                (api, f"/api/v1/consultations/{consultation.pk}/"),
                (api, "/api/v1/consultations/"),
                (api, "/api/v1/households/"),
            ]
            for person in people:
                urls += [(page, f"/persons/{person.pk}/"), (api, f"/api/v1/people/{person.pk}/")]
            for client, url in urls:
                response = client.get(url)
                assert response.status_code in (200, 404), (url, response.status_code)
                text = body_text(response)
                leaked = [what for what, value in forbidden if value in text]
                assert leaked == [], f"agency {agency} at {url}: {leaked} (valid consents: {valid})"
        transaction.set_rollback(True)


def test_people_list_withholds_basic_information(db):
    data = {"size": 1, "first": {"household"}, "first_withdrawn": False, "consents": []}
    people, _household, _case, _consultation, readers, valid = seed(data)
    assert "basic" not in opened(valid, 0, 0)
    api = api_as(readers[0])
    assert phone(0) not in body_text(api.get(f"/api/v1/people/{people[0].pk}/"))
    assert phone(0) not in body_text(api.get("/api/v1/people/"))


def test_case_timeline_withholds_issues_outside_the_consent(db, client):
    data = {"size": 1, "first": {"basic", "progress"}, "first_withdrawn": False, "consents": []}
    _people, _household, case, _consultation, readers, _valid = seed(data)
    client.force_login(readers[0])
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert marker(0, "経過") in html  # 支援経過 is opened
    assert marker(0, "主訴") not in html and marker(0, "見立て") not in html
