"""保存年限 of 包括的相談支援's records (jusou.retention): what a disposal unit is and what disposing it
anonymises, and when the people and households themselves go.

Units:
- 支援ケース (cases.case): a case closed (終結) or suspended (中断), from `closed_at`; with it go its
  相談受付, アセスメント, 支援経過記録, the reasons typed into its state changes and its 緊急閲覧 reasons —
  and, through the later apps' cascades (jusou.registry.RetentionCascade), their rows of it.
- 相談受付（ケース化なし） (cases.consultation): a one-off consultation never attached to a case, from
  `received_at`.

What stays: every row, its codes (経路, 手段, 課題, 属性, 終結理由 …), flags, dates, agencies and
statuses, and the links between rows (a person's consultations stay that person's), so that every
statistic — counts by route, issue, attribute, status and month, 実人数 — is the same after disposal.
What goes: names, kana, addresses, phone numbers, e-mail, 宛名番号, notes and every free text.
"""

from datetime import date

from django.db.models import Q
from django.urls import reverse

from cases.models import (
    AddressConfidentiality,
    Assessment,
    BirthDatePrecision,
    Case,
    CaseHandover,
    CaseStatus,
    CaseTransition,
    Consultation,
    EmergencyAccess,
    Household,
    HouseholdMember,
    Person,
    ProgressNote,
)
from jusou.ja.text import normalize_for_search
from jusou.registry import person_retention_holds
from jusou.retention.anonymise import DISPOSED, free_text_fields, merge, personal_fields, scrub
from jusou.retention.selectors import disposed_ids

CASE = "cases.case"
CONSULTATION = "cases.consultation"
#: free-text fields that stay on disposal: categories, not what was written about the person
KEPT = {"cases.householdmember": ("relationship",)}
# A chain of households through people who moved between them longer than this is not followed: its
# people are kept (a conservative stop; real households are a few people).
MAX_HOPS = 10


def _birth_year_only(row):
    """The birth year stays (age bands in statistics); month and day go."""
    return date(row.birth_date.year, 1, 1) if row.birth_date else None


def _precision_year(row):
    exact = (BirthDatePrecision.EXACT, BirthDatePrecision.MONTH)
    return (
        BirthDatePrecision.YEAR
        if row.birth_date and row.birth_date_precision in exact
        else row.birth_date_precision
    )


PERSON_CUSTOM = {
    "kana": lambda row: "",
    "name_search": lambda row: normalize_for_search(DISPOSED),
    "kana_search": lambda row: "",
    "birth_date": _birth_year_only,
    "birth_date_precision": _precision_year,
}


class CaseRetention:
    model = Case
    closed_field = "closed_at"
    agency_field = "owning_agency_id"

    def closed_records(self):
        return Case.objects.filter(
            status__in=[CaseStatus.CLOSED, CaseStatus.SUSPENDED], closed_at__isnull=False
        )

    def number(self, pk: int) -> str:
        return f"C-{pk:06d}"

    def url(self, pk: int) -> str:
        return reverse("cases:case_detail", args=[pk])

    def dispose(self, pk: int, *, acting_user) -> dict[str, list[int]]:
        case = Case.objects.get(pk=pk)
        consultations = list(
            Consultation.objects.filter(case=case).values_list("pk", "person_id", "household_id")
        )
        rows: dict[str, list[int]] = {}
        # The case holds codes only; the reasons typed into its history (「受付→終結: 市外転居のため」) go.
        merge(rows, scrub(Case, [case.pk], [], acting_user=acting_user))
        merge(rows, _consultations_scrub([c for c, _, _ in consultations], acting_user))
        assessments = Assessment.objects.filter(case=case).values_list("pk", flat=True)
        merge(rows, scrub(Assessment, assessments, free_text_fields(Assessment), acting_user=acting_user))
        notes = ProgressNote.objects.filter(case=case).values_list("pk", flat=True)
        merge(rows, scrub(ProgressNote, notes, free_text_fields(ProgressNote), acting_user=acting_user))
        transitions = CaseTransition.objects.filter(case=case).exclude(reason="").values_list("pk", flat=True)
        merge(rows, scrub(CaseTransition, transitions, ["reason"], acting_user=acting_user))
        handovers = CaseHandover.objects.filter(case=case).values_list("pk", flat=True)
        merge(rows, scrub(CaseHandover, handovers, ["reason", "decline_reason"], acting_user=acting_user))
        emergencies = EmergencyAccess.objects.filter(case=case).values_list("pk", flat=True)
        merge(
            rows,
            scrub(EmergencyAccess, emergencies, ["justification", "review_note"], acting_user=acting_user),
        )
        people = {case.person_id, *(p for _, p, _ in consultations)}
        households = {case.household_id, *(h for _, _, h in consultations)}
        return merge(
            rows, people_dispose(person_ids=people, household_ids=households, acting_user=acting_user)
        )


class ConsultationRetention:
    model = Consultation
    closed_field = "received_at"
    agency_field = "agency_id"

    def closed_records(self):
        # A consultation that became a case is kept and disposed with its case.
        return Consultation.objects.filter(case__isnull=True)

    def number(self, pk: int) -> str:
        return f"R-{pk:06d}"

    def url(self, pk: int) -> None:
        return None  # no page of its own: supervisors see it in 相談受付一覧

    def dispose(self, pk: int, *, acting_user) -> dict[str, list[int]]:
        consultation = Consultation.objects.get(pk=pk)
        rows = _consultations_scrub([pk], acting_user)
        return merge(
            rows,
            people_dispose(
                person_ids={consultation.person_id},
                household_ids={consultation.household_id},
                acting_user=acting_user,
            ),
        )


def _consultations_scrub(ids, acting_user):
    return scrub(Consultation, ids, free_text_fields(Consultation), acting_user=acting_user)


# --- People and households -----------------------------------------------------------------------------


def live_cases() -> Q:
    return ~Q(pk__in=disposed_ids(CASE))


def live_consultations() -> Q:
    """Consultations whose unit is not disposed: their case's, or their own when they have none."""
    own = Q(case__isnull=True) & ~Q(pk__in=disposed_ids(CONSULTATION))
    with_case = Q(case__isnull=False) & ~Q(case__in=disposed_ids(CASE))
    return own | with_case


def _component(person_ids: set[int], household_ids: set[int]):
    """The people and households linked to these through household membership (past or present), and
    the memberships among them; None when the chain is longer than MAX_HOPS."""
    memberships: set[tuple[int, int]] = set()
    for _ in range(MAX_HOPS):
        found = set(
            HouseholdMember.objects.filter(
                Q(person__in=person_ids) | Q(household__in=household_ids)
            ).values_list("household_id", "person_id")
        )
        grown_people = person_ids | {p for _, p in found}
        grown_households = household_ids | {h for h, _ in found}
        memberships = found
        if grown_people == person_ids and grown_households == household_ids:
            return person_ids, household_ids, memberships
        person_ids, household_ids = grown_people, grown_households
    return None


def people_dispose(*, person_ids, household_ids, acting_user) -> dict[str, list[int]]:
    """Anonymise the people and households that nothing of theirs keeps any more.

    The rule, deliberately conservative (a person's data is kept while any record about them is):
    - a person is held while a case, a consultation or another app's record about them (本人同意,
      アウトリーチ …: jusou.registry.PersonRetentionHold) is not disposed;
    - a household is held while a case or consultation of the household is not disposed, or while one
      of its members (past or present) is held by records of their own;
    - a person is also held while any household they belong or belonged to is held (its records
      describe them: a son in his mother's case's household stays while that case does).
    The people and households reached through membership from the given ones are all considered, so
    the last disposal of a household takes its other members with it. The rest is anonymised: names,
    kana, addresses, phone, e-mail, 宛名番号, notes, the month and day of birth, household names and
    addresses, members' 本人の課題 and the reasons of 住所秘匿; sex, birth year, 属性, 続柄 and the dates stay.
    """
    person_ids = {pk for pk in person_ids if pk is not None}
    household_ids = {pk for pk in household_ids if pk is not None}
    component = _component(person_ids, household_ids)
    if component is None:
        return {}
    person_ids, household_ids, memberships = component
    own_held = set(
        Case.objects.filter(live_cases(), person__in=person_ids).values_list("person_id", flat=True)
    )
    own_held |= set(
        Consultation.objects.filter(live_consultations(), person__in=person_ids).values_list(
            "person_id", flat=True
        )
    )
    own_held |= person_retention_holds(person_ids - own_held) if person_ids - own_held else set()
    held_households = set(
        Case.objects.filter(live_cases(), household__in=household_ids).values_list("household_id", flat=True)
    )
    held_households |= set(
        Consultation.objects.filter(live_consultations(), household__in=household_ids).values_list(
            "household_id", flat=True
        )
    )
    held_households |= {h for h, p in memberships if p in own_held}
    held_people = own_held | {p for h, p in memberships if h in held_households}
    people = sorted(person_ids - held_people)
    households = sorted(household_ids - held_households)
    rows = scrub(
        Person,
        people,
        personal_fields(Person, "name", "atena_number"),
        custom=PERSON_CUSTOM,
        acting_user=acting_user,
    )
    confidentialities = AddressConfidentiality.objects.filter(person__in=people).values_list("pk", flat=True)
    merge(
        rows,
        scrub(AddressConfidentiality, confidentialities, ["reason", "lift_reason"], acting_user=acting_user),
    )
    merge(rows, scrub(Household, households, free_text_fields(Household), acting_user=acting_user))
    # A membership describes its person (本人の課題): it goes with the person (whose households are then
    # all disposable too, by the rule above). The 続柄 stays (長男, 母: a category the statistics use).
    members = HouseholdMember.objects.filter(person__in=people).values_list("pk", flat=True)
    member_fields = free_text_fields(HouseholdMember, keep=KEPT["cases.householdmember"])
    return merge(rows, scrub(HouseholdMember, members, member_fields, acting_user=acting_user))
