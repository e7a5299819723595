"""保存年限 of 包括的相談支援's records (cases.retention): a closed case and its records, a one-off
consultation, and when the people and households themselves are anonymised."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import (
    AddressConfidentiality,
    Assessment,
    BirthDatePrecision,
    Case,
    CaseStatus,
    CaseTransition,
    CodeKind,
    Consultation,
    Household,
    HouseholdMember,
    Person,
    ProgressNote,
)
from cases.retention import people_dispose
from cases.tests.conftest import code, record_case
from jusou.models import AccessGrant
from jusou.retention import services as retention
from jusou.retention.anonymise import DISPOSED, personal_fields
from jusou.retention.models import DisposalCandidate, DisposalStatus, add_years

TODAY = timezone.localdate()
ELEVEN_YEARS_AGO = TODAY.replace(year=TODAY.year - 11, day=1)


def close(case, user, *, on: date = ELEVEN_YEARS_AGO):
    services.case_transition(
        case=case,
        to_status=CaseStatus.CLOSED,
        acting_user=user,
        reason="目標を達成（山田さん）",
        close_reason=code(CodeKind.CLOSE_REASON, "goal_achieved"),
    )
    moment = timezone.make_aware(timezone.datetime.combine(on, timezone.datetime.min.time())) + timedelta(
        hours=12
    )
    Case.objects.filter(pk=case.pk).update(closed_at=moment, opened_at=moment - timedelta(days=90))
    Consultation.objects.filter(case=case).update(received_at=moment - timedelta(days=90))
    case.refresh_from_db()
    return case


def dispose(case_or_consultation, supervisor, record_type="cases.case"):
    retention.retention_scan(today=TODAY)
    candidate = DisposalCandidate.objects.get(
        record_type=record_type, object_id=case_or_consultation.pk, status=DisposalStatus.LISTED
    )
    retention.disposal_approve(candidate_ids=[candidate.pk], acting_user=supervisor)
    return retention.disposal_execute(candidate_id=candidate.pk, acting_user=supervisor)


def fill_case(world):
    """A case with everything that can hold personal data, edited once so the history has old values."""
    case = world.case
    services.person_update(
        person=world.person,
        acting_user=world.assigned,
        address="みどり市中央1-2-3",
        phone="090-1111-2222",
        email="hanako@example.jp",
        notes="難聴あり",
        reason="転居",
    )
    Person.objects.filter(pk=world.person.pk).update(atena_number="1234567890")
    services.case_transition(case=case, to_status=CaseStatus.ASSESSING, acting_user=world.assigned)
    services.assessment_record(
        case=case,
        acting_user=world.assigned,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="山田 花子さんの介護負担",
        formulation="長男の一郎さんが孤立",
        life_history="みどり市で生まれ育つ",
    )
    services.progress_note_add(
        case=case, acting_user=world.assigned, kind="visit", content="花子さん宅を訪問した"
    )
    services.address_confidentiality_set(
        person=world.son, acting_user=world.assigned, reason="元配偶者からのDV"
    )
    HouseholdMember.objects.filter(person=world.son).update(own_issues="ひきこもり10年")
    return case


def test_personal_fields_are_the_declared_free_texts():
    assert personal_fields(Consultation) == ("summary", "action_taken", "consulter_name")
    assert set(personal_fields(Person, "name", "atena_number")) == {
        "notes",
        "address",
        "phone",
        "email",
        "name",
        "atena_number",
    }
    assert personal_fields(Case) == ()  # codes and flags only: statistics


def test_a_closed_case_is_listed_after_ten_years_and_a_day(world):
    case = close(world.case, world.assigned, on=add_years(TODAY, -10) - timedelta(days=1))
    younger = record_case(world.assigned, name="佐藤 次郎", kana="さとう じろう")
    close(younger, world.assigned, on=add_years(TODAY, -10) + timedelta(days=1))
    retention.retention_scan(today=TODAY)
    candidates = DisposalCandidate.objects.filter(record_type="cases.case")
    assert list(candidates.values_list("object_id", "number", "agency")) == [
        (case.pk, case.number, case.owning_agency_id)
    ]


def test_an_open_case_is_never_listed(world):
    Case.objects.filter(pk=world.case.pk).update(opened_at=timezone.now() - timedelta(days=20 * 365))
    retention.retention_scan(today=TODAY)
    assert not DisposalCandidate.objects.filter(record_type="cases.case").exists()


def test_case_disposal_removes_personal_data_and_keeps_the_statistics(world):
    case = close(fill_case(world), world.assigned)
    consultations = Consultation.objects.filter(route=code(CodeKind.ROUTE, "family"))
    before = {
        "by_route_and_year": consultations.filter(
            received_at__year=(case.closed_at - timedelta(days=90)).year
        ).count(),
        "by_issue": dict(Consultation.issues.through.objects.values_list("code_id").annotate(n=Count("pk"))),
        "case_issues": set(case.issues.values_list("pk", flat=True)),
        "assessment_issues": list(Assessment.objects.filter(case=case).values_list("issues", flat=True)),
        "attributes": set(world.person.attributes.values_list("pk", flat=True)),
        "people": Consultation.objects.values("person").distinct().count(),
    }
    candidate = dispose(case, world.supervisor)

    person = Person.objects.get(pk=world.person.pk)
    assert (person.name, person.kana, person.address, person.phone, person.email, person.notes) == (
        DISPOSED,
        "",
        DISPOSED,
        DISPOSED,
        "",
        DISPOSED,
    )
    assert person.atena_number is None
    assert (person.birth_date, person.birth_date_precision) == (date(1948, 1, 1), BirthDatePrecision.YEAR)
    for row in person.history.all():  # the history tables too
        assert "山田" not in row.name and "花子" not in row.name and "みどり市中央" not in row.address
        assert row.phone in ("", DISPOSED) and row.email == "" and row.atena_number is None
    consultation = Consultation.objects.get(case=case)
    assert consultation.summary == DISPOSED and consultation.consulter_name == ""
    assert all(row.summary == DISPOSED for row in consultation.history.all())
    assessment = Assessment.objects.get(case=case)
    assert (assessment.issues_detail, assessment.formulation, assessment.life_history) == (DISPOSED,) * 3
    assert all("一郎" not in row.formulation for row in assessment.history.all())
    assert ProgressNote.objects.get(case=case).content == DISPOSED
    assert not CaseTransition.objects.filter(case=case, reason__contains="山田").exists()
    # The son has no records of his own: he goes with his mother's household, and so does its name.
    son = Person.objects.get(pk=world.son.pk)
    assert son.name == DISPOSED and son.birth_date == date(1975, 1, 1)
    assert Household.objects.get(pk=world.household.pk).name == DISPOSED
    assert HouseholdMember.objects.get(person=son).own_issues == DISPOSED
    assert HouseholdMember.objects.get(person=son).relationship == "長男"
    assert AddressConfidentiality.objects.get(person=son).reason == DISPOSED

    # What the statistics count is the same.
    case.refresh_from_db()
    assert (case.status, case.owning_agency_id, case.person_id) == (
        CaseStatus.CLOSED,
        world.case.owning_agency_id,
        person.pk,
    )
    assert (
        consultations.filter(received_at__year=(case.closed_at - timedelta(days=90)).year).count()
        == before["by_route_and_year"]
    )
    assert (
        dict(Consultation.issues.through.objects.values_list("code_id").annotate(n=Count("pk")))
        == before["by_issue"]
    )
    assert set(case.issues.values_list("pk", flat=True)) == before["case_issues"]
    assert (
        list(Assessment.objects.filter(case=case).values_list("issues", flat=True))
        == before["assessment_issues"]
    )
    assert set(person.attributes.values_list("pk", flat=True)) == before["attributes"]
    assert Consultation.objects.values("person").distinct().count() == before["people"]
    assert consultation.route == code(CodeKind.ROUTE, "family") and consultation.channel == code(
        CodeKind.CHANNEL, "phone"
    )

    # The act is logged with the rows it anonymised.
    assert candidate.disposed_rows["cases.person"] == sorted([world.person.pk, world.son.pk])
    assert candidate.disposed_rows["cases.consultation"] == [consultation.pk]
    assert not AccessGrant.objects.filter(reason__contains="山田").exists()


def test_a_person_with_another_case_still_in_retention_is_kept(world):
    old = close(world.case, world.assigned)
    services.case_open(acting_user=world.assigned, person=world.person, household=world.household)
    dispose(old, world.supervisor)
    person = Person.objects.get(pk=world.person.pk)
    assert person.name == "山田 花子" and person.birth_date == date(1948, 5, 1)
    assert Household.objects.get(pk=world.household.pk).name == "山田さん世帯"
    assert (
        Person.objects.get(pk=world.son.pk).name == "山田 一郎"
    )  # his household is still described by a case
    assert Consultation.objects.get(case=old).summary == DISPOSED  # the old case's own texts went


def test_a_mother_stays_while_her_son_has_a_case_in_their_household(world):
    old = close(world.case, world.assigned)
    services.case_open(acting_user=world.assigned, person=world.son)
    dispose(old, world.supervisor)
    assert Person.objects.get(pk=world.person.pk).name == "山田 花子"
    assert Person.objects.get(pk=world.son.pk).name == "山田 一郎"


def test_people_already_anonymised_are_left_alone(world):
    old = close(world.case, world.assigned)
    dispose(old, world.supervisor)
    rows = Person.objects.get(pk=world.person.pk).history.count()
    assert (
        people_dispose(person_ids={world.person.pk}, household_ids=set(), acting_user=world.supervisor) == {}
    )
    assert Person.objects.get(pk=world.person.pk).history.count() == rows


def test_a_reopened_case_is_not_disposed(world):
    case = world.case
    services.case_transition(case=case, to_status=CaseStatus.ASSESSING, acting_user=world.assigned)
    services.case_transition(
        case=case,
        to_status=CaseStatus.SUSPENDED,
        acting_user=world.assigned,
        suspend_reason=code(CodeKind.SUSPEND_REASON, "lost_contact"),
    )
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=11 * 366))
    retention.retention_scan(today=TODAY)
    candidate = DisposalCandidate.objects.get(record_type="cases.case", object_id=case.pk)
    retention.disposal_approve(candidate_ids=[candidate.pk], acting_user=world.supervisor)
    services.case_transition(
        case=Case.objects.get(pk=case.pk),
        to_status=CaseStatus.SUPPORTING,
        acting_user=world.assigned,
        reason="本人から連絡があり再開",
    )
    with pytest.raises(ValidationError, match="保存期間内に戻った"):
        retention.disposal_execute(candidate_id=candidate.pk, acting_user=world.supervisor)
    assert Person.objects.get(pk=world.person.pk).name == "山田 花子"
    assert Consultation.objects.get(case=case).summary == "母の介護について長男から相談"
    retention.retention_scan(today=TODAY)
    candidate.refresh_from_db()
    assert candidate.status == DisposalStatus.WITHDRAWN


def test_a_one_off_consultation_is_its_own_unit_after_five_years(world):
    caller = services.person_register(acting_user=world.assigned, name="鈴木 三郎", kana="すずき さぶろう")
    old, recent, anonymous = (
        services.consultation_record(
            acting_user=world.assigned,
            received_at=timezone.now() - timedelta(days=days),
            person=person,
            channel=code(CodeKind.CHANNEL, "phone"),
            route=code(CodeKind.ROUTE, "self"),
            issues=[code(CodeKind.ISSUE, "income")],
            main_issue=code(CodeKind.ISSUE, "income"),
            summary="家賃の相談（鈴木さん）",
            consulter_name="鈴木",
            outcome="advice",
        )
        for days, person in ((6 * 366, caller), (4 * 365, None), (6 * 366, None))
    )
    retention.retention_scan(today=TODAY)
    listed = DisposalCandidate.objects.filter(record_type="cases.consultation")
    assert set(listed.values_list("object_id", flat=True)) == {old.pk, anonymous.pk}
    assert listed.get(object_id=old.pk).number == f"R-{old.pk:06d}"
    dispose(old, world.supervisor, record_type="cases.consultation")
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.summary, old.consulter_name, old.outcome) == (DISPOSED, DISPOSED, "advice")
    assert recent.summary == "家賃の相談（鈴木さん）"
    assert Person.objects.get(pk=caller.pk).name == DISPOSED  # nothing else of his
    assert Person.objects.get(pk=world.person.pk).name == "山田 花子"  # not touched


def test_the_case_page_link_opens_for_the_supervisor(client, world):
    close(world.case, world.assigned)
    retention.retention_scan(today=TODAY)
    candidate = DisposalCandidate.objects.get(record_type="cases.case")
    client.force_login(world.supervisor)
    html = client.get(reverse("retention_detail", args=[candidate.pk])).content.decode()
    assert world.case.get_absolute_url() in html and "支援ケース（終結・中断）" in html


def test_the_statistics_report_is_the_same_after_disposal(world):
    from cases.tests.conftest import fresh
    from jusou.reports.statistics import StatisticsParams, statistics_report

    case = close(fill_case(world), world.assigned)
    start = ELEVEN_YEARS_AGO - timedelta(days=400)
    params = StatisticsParams.from_query(
        {"period": "range", "date_from": start.isoformat(), "date_to": TODAY.isoformat()}
    )
    before = statistics_report(fresh(world.supervisor), params)
    assert any(any(value for row in table.rows for value in row.values if value) for table in before.tables())
    dispose(case, world.supervisor)
    assert Person.objects.get(pk=world.person.pk).name == DISPOSED
    assert statistics_report(fresh(world.supervisor), params) == before


def test_case_disposal_removes_what_a_handover_says(world):
    """主担当機関の移行 (issue 17): the handover's 経緯 and the decline's reason are free text about the
    case; they go with it."""
    from cases.models import CaseHandover
    from cases.tests.conftest import fresh

    case = fill_case(world)
    services.case_transition(case=case, to_status=CaseStatus.SUPPORTING, acting_user=world.assigned)
    handover = services.case_handover_start(
        case=case,
        acting_user=fresh(world.assigned),
        to_agency=fresh(world.other_worker).agencies[0],
        reason="花子さんの障害",
    )
    services.case_handover_decline(
        handover=handover, acting_user=fresh(world.other_worker), reason="一郎さんは対象外"
    )
    case = close(Case.objects.get(pk=case.pk), fresh(world.assigned))
    dispose(case, world.supervisor)
    handover = CaseHandover.objects.get(pk=handover.pk)
    assert (handover.reason, handover.decline_reason) == (DISPOSED, DISPOSED)
    assert all(
        "花子" not in row.reason and "一郎" not in row.decline_reason for row in handover.history.all()
    )


def test_the_disposals_history_row_keeps_the_codes_the_record_keeps(world):
    """The disposal's history row carries the tracked many-to-many values (課題分類, 属性) the record
    still has: the audit must not read it as 「課題分類: 介護 → （空）」 (issue 18 walk)."""
    case = close(fill_case(world), world.assigned)
    world.person.attributes.add(code(CodeKind.ATTRIBUTE, "elderly"))
    Consultation.objects.get(case=case).issues.add(code(CodeKind.ISSUE, "care"))
    dispose(case, world.supervisor)
    consultation = Consultation.objects.get(case=case)
    for record, field in ((consultation, "issues"), (Person.objects.get(pk=world.person.pk), "attributes")):
        latest = record.history.latest()
        assert latest.history_change_reason == "保存年限の経過による廃棄（匿名化）"
        held = set(getattr(record, field).values_list("pk", flat=True))
        assert held and set(getattr(latest, field).values_list("code_id", flat=True)) == held
        assert field not in {change.field for change in latest.diff_against(latest.prev_record).changes}
