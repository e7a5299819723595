"""`generate_municipality`: a tiny city (900 people) generated once for the module, twice in fact —
the first run is rolled back after its fingerprint is taken, so reproducibility is checked against
the second, which the tests then read."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from cases import services as case_services
from cases.models import (
    ALLOWED_TRANSITIONS,
    Case,
    CaseStatus,
    CaseTransition,
    Consultation,
    Household,
    HouseholdMember,
    Person,
    ProgressNote,
)
from cases.selectors import cases_visible_to
from community.models import CommunityResource
from devdata.generate.core import digest
from jusou.audit.readlog import read_log_verify
from jusou.models import AccessBasis, AccessGrant, AgencyKind, ApiClient, User
from meetings import services as meeting_services
from meetings.models import Consent, MeetingBriefing, PlanStatus, PlanTask, SupportMeeting, SupportPlan
from meetings.selectors import inbox, meeting_get_for_user
from outreach import services as outreach_services
from outreach.models import OutreachContact, OutreachEngagement
from participation.models import ParticipationPlan

POPULATION = 900


def _generate(seed: int = 1) -> str:
    out = io.StringIO()
    call_command(
        "generate_municipality",
        population=POPULATION,
        seed=seed,
        as_of=timezone.localdate().isoformat(),
        force=True,
        stdout=out,
    )
    return out.getvalue()


def _fingerprint() -> str:
    """Values that do not depend on primary keys, in creation order."""
    return digest(
        [
            Person.objects.order_by("pk").values_list(
                "name", "kana", "birth_date", "sex", "address", "atena_number"
            ),
            Household.objects.order_by("pk").values_list("name", "address", "created_at"),
            Case.objects.order_by("pk").values_list(
                "person__name",
                "owning_agency__code",
                "lead_worker__username",
                "status",
                "opened_at",
                "closed_at",
                "close_reason__code",
                "version",
            ),
            CaseTransition.objects.order_by("pk").values_list(
                "case__person__name", "from_status", "to_status", "actor__username", "at"
            ),
            Consultation.objects.order_by("pk").values_list(
                "agency__code", "received_at", "outcome", "summary"
            ),
            AccessGrant.objects.order_by("pk").values_list(
                "basis",
                "permission",
                "user__username",
                "agency__code",
                "starts_at",
                "ends_at",
                "revoked_at",
                "reason",
            ),
            SupportPlan.objects.order_by("pk").values_list(
                "case__person__name", "version", "status", "review_on"
            ),
            SupportMeeting.objects.order_by("pk").values_list("title", "held_at", "host__username"),
            OutreachContact.objects.order_by("pk").values_list("contacted_at", "kind"),
            CommunityResource.objects.order_by("pk").values_list("name", "kind", "area__code"),
            ParticipationPlan.objects.order_by("pk").values_list("case__person__name", "created_at"),
        ]
    )


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        with transaction.atomic():
            _generate()
            first = _fingerprint()
            transaction.set_rollback(True)
        output = _generate()
        yield {"output": output, "first": first, "second": _fingerprint()}
        transaction.set_rollback(True)


@pytest.fixture
def world(generated, db):
    names = ("bench_worker", "bench_coordinator", "bench_supervisor", "bench_member")
    return {"output": generated["output"], **{name: User.objects.get(username=name) for name in names}}


def test_same_seed_and_day_give_the_same_data(generated):
    assert generated["first"] == generated["second"]


def test_proportions_follow_the_population(world):
    # 900 people = 1/1000 of the full city: ≈200 people, 150 households, 500 consultations, 100 cases.
    assert 170 <= Person.objects.count() <= 240
    assert 130 <= Household.objects.count() <= 170
    assert 420 <= Consultation.objects.count() <= 580
    assert 85 <= Case.objects.count() <= 115
    assert SupportPlan.objects.count() >= 10
    assert OutreachEngagement.objects.count() >= 10 and OutreachContact.objects.count() >= 30
    assert CommunityResource.objects.exists() and ParticipationPlan.objects.exists()
    # Households of one to six, people found by name in any script.
    sizes = set(Household.objects.annotate(n=Count("members")).values_list("n", flat=True))
    assert min(sizes) == 1 and max(sizes) == 6
    assert not Person.objects.filter(Q(name_search="") | Q(kana_search="")).exists()


def test_every_case_status_is_present_and_follows_the_state_machine(world):
    assert set(Case.objects.values_list("status", flat=True)) == set(CaseStatus.values)
    assert not Case.objects.filter(status=CaseStatus.CLOSED, close_reason__isnull=True).exists()
    assert not Case.objects.filter(status=CaseStatus.SUSPENDED, suspend_reason__isnull=True).exists()
    moves: dict[int, list] = {}
    for case_id, before, after, at in CaseTransition.objects.order_by("at", "pk").values_list(
        "case_id", "from_status", "to_status", "at"
    ):
        moves.setdefault(case_id, []).append((before, after, at))
    for case in Case.objects.all():
        status = CaseStatus.RECEIVED
        for before, after, at in moves.get(case.pk, []):
            assert before == status and after in ALLOWED_TRANSITIONS[before], case.pk
            assert case.opened_at <= at <= timezone.now()
            status = after
        assert status == case.status and case.version == 1 + len(moves.get(case.pk, []))


def test_history_rows_exist_for_what_was_generated(world):
    assert Person.history.count() == Person.objects.count()
    assert Consultation.history.count() == Consultation.objects.count()
    # One row when the case opened and one per move, each carrying the case's 課題分類.
    assert Case.history.count() == Case.objects.count() + CaseTransition.objects.count()
    case_issues = apps.get_model("cases", "HistoricalCase_issues")
    assert case_issues.objects.count() >= Case.history.count()
    assert (
        AccessGrant.history.count()
        == AccessGrant.objects.count() + AccessGrant.objects.filter(revoked_at__isnull=False).count()
    )
    case = Case.objects.filter(status=CaseStatus.CLOSED).first()
    assert [row.status for row in case.history.order_by("history_date", "history_id")][
        -1
    ] == CaseStatus.CLOSED
    assert case.history.earliest("history_date").history_user == case.lead_worker


def _consent_cases(agencies) -> set:
    """Cases whose approved plan gives the agency a 役割分担 that a valid consent of the person names."""
    ids = set()
    for plan in SupportPlan.objects.filter(status=PlanStatus.APPROVED, tasks__agency__in=agencies).distinct():
        covered = Consent.objects.valid().filter(
            case=plan.case, person=plan.case.person, recipients__in=agencies
        )
        if covered.exists():
            ids.add(plan.case_id)
    return ids


def test_a_worker_sees_their_agency_cases_and_the_consented_ones_and_nothing_else(world):
    worker = world["bench_worker"]
    agencies = worker.agencies
    expected = set(Case.objects.filter(owning_agency__in=agencies).values_list("pk", flat=True))
    expected |= _consent_cases(agencies)
    assert set(cases_visible_to(worker).values_list("pk", flat=True)) == expected
    # Someone at an NPO sees only what consents open to them.
    outsider = User.objects.filter(memberships__agency__kind=AgencyKind.NPO_PRIVATE).first()
    assert set(cases_visible_to(outsider).values_list("pk", flat=True)) == _consent_cases(outsider.agencies)


def test_coordinators_see_the_referred_cases_until_they_go_back(world):
    coordinator = world["bench_coordinator"]
    referred = set(
        CaseTransition.objects.filter(to_status=CaseStatus.REFERRED).values_list("case_id", flat=True)
    )
    returned = set(
        CaseTransition.objects.filter(
            from_status__in=[CaseStatus.REFERRED, CaseStatus.COORDINATING], to_status=CaseStatus.SUPPORTING
        ).values_list("case_id", flat=True)
    )
    agencies = coordinator.agencies
    expected = (referred - returned) | set(
        Case.objects.filter(owning_agency__in=agencies).values_list("pk", flat=True)
    )
    expected |= _consent_cases(agencies)
    assert set(cases_visible_to(coordinator).values_list("pk", flat=True)) == expected
    assert inbox(coordinator)


def _grant_shape(obj, *, owner_id=None, live=True, bases=tuple(AccessBasis.values)) -> list:
    """The grants on `obj` with what does not depend on ids or moments: basis, permission, grantee kind,
    reason, on whose behalf (the record's owning agency, the grantee's own agency or none), whether the
    grant ends with a window of the record, and — for revoked grants — why."""
    grants = AccessGrant.objects.filter(
        content_type__model=obj._meta.model_name,
        object_id=obj.pk,
        revoked_at__isnull=live,
        basis__in=bases,
    ).select_related("user")

    def on_behalf_of(grant):
        if grant.on_behalf_of_id is None:
            return ""
        if grant.on_behalf_of_id == owner_id:
            return "owning agency"
        assert grant.user is not None and grant.on_behalf_of_id in [a.pk for a in grant.user.agencies]
        return "own agency"

    def ends(grant):
        if grant.ends_at is None:
            return ""
        return "window" if grant.ends_at == getattr(obj, "access_until", None) else "dated"

    return sorted(
        (
            g.basis,
            g.permission,
            "user" if g.user_id else "agency",
            g.reason.split(":")[0],
            on_behalf_of(g),
            ends(g),
            g.revoke_reason,
        )
        for g in grants
    )


def _guardian_shape(obj, kinds=("user", "group")) -> list:
    name = obj._meta.model_name
    return sorted(
        (kind, codename)
        for kind in kinds
        for codename in getattr(obj, f"{name}{kind}objectpermission_set").values_list(
            "permission__codename", flat=True
        )
    )


def _same_rows(made, generated, *, bases=tuple(AccessBasis.values), guardian=("user", "group")) -> None:
    for live in (True, False):
        assert _grant_shape(
            made, owner_id=getattr(made, "owning_agency_id", None), live=live, bases=bases
        ) == _grant_shape(
            generated, owner_id=getattr(generated, "owning_agency_id", None), live=live, bases=bases
        )
    assert _guardian_shape(made, guardian) == _guardian_shape(generated, guardian)


def test_generated_grants_are_the_rows_the_services_write(world):
    worker = world["bench_worker"]
    generated = Case.objects.filter(lead_worker=worker, status=CaseStatus.RECEIVED).first()
    person = Person.objects.filter(registered_by_agency__in=worker.agencies).first()
    _same_rows(case_services.case_open(acting_user=worker, person=person), generated)
    # つなぎ依頼: every coordinator, view and change, as case_transition gives them.
    assessing = Case.objects.filter(lead_worker=worker, status=CaseStatus.ASSESSING).first()
    case_services.case_transition(
        case=assessing, to_status=CaseStatus.REFERRED, acting_user=worker, reason="複合的な課題"
    )
    referred = Case.objects.filter(status=CaseStatus.REFERRED).exclude(pk=assessing.pk).first()
    _same_rows(assessing, referred)
    # Back to the 主担当機関: the coordinators' grants revoked, as case_return leaves them.
    # (Every generated case that went back had a plan in between, and 本人同意 grants from it: the
    # comparison is of the 担当 grants and the personal guardian rows.)
    returned = Case.objects.filter(
        transitions__from_status__in=[CaseStatus.REFERRED, CaseStatus.COORDINATING],
        transitions__to_status=CaseStatus.SUPPORTING,
    ).first()
    meeting_services.case_return(case=assessing, acting_user=world["bench_coordinator"], reason="戻す")
    _same_rows(assessing, returned, bases=[AccessBasis.ASSIGNMENT], guardian=["user"])


def test_generated_meeting_grants_are_the_rows_the_services_write(world):
    generated = SupportMeeting.objects.filter(held_at__gt=timezone.now()).order_by("pk").first()
    members = [m.user for m in generated.members.select_related("user")]
    assert any(not m.agencies for m in members), "an external member (民生委員 …) is among them"
    made = meeting_services.meeting_convene(
        acting_user=generated.host,
        held_at=generated.held_at,
        access_from=generated.access_from,
        access_until=generated.access_until,
        members=members,
    )
    _same_rows(made, generated)


def test_generated_outreach_grants_are_the_rows_the_services_write(world):
    generated = OutreachEngagement.objects.filter(ended_at__isnull=True).order_by("pk").first()
    made = outreach_services.engagement_start(
        acting_user=generated.lead_worker,
        provisional_name="仮名",
        how_known=generated.how_known,
        background="近所の方から",
        purpose=generated.purpose,
    )
    _same_rows(made, generated)


def test_generated_consent_grants_leave_the_service_nothing_to_change(world):
    """consent_access_sync makes a case's 本人同意 grants match its approved plan and consents: on a
    generated case it finds them already so, and neither grants nor revokes."""
    coordinator = world["bench_coordinator"]
    cases = Case.objects.filter(
        pk__in=AccessGrant.objects.filter(content_type__model="case", basis=AccessBasis.CONSENT).values(
            "object_id"
        )
    ).order_by("pk")[:20]
    assert cases
    before = AccessGrant.objects.count(), AccessGrant.objects.filter(revoked_at__isnull=False).count()
    for case in cases:
        meeting_services.consent_access_sync(case=case, acting_user=coordinator, reason="照合")
    assert (
        AccessGrant.objects.count(),
        AccessGrant.objects.filter(revoked_at__isnull=False).count(),
    ) == before


def test_the_benchmark_fixtures_exist(world):
    output = world["output"]
    for name in ("bench_worker", "bench_coordinator", "bench_supervisor", "bench_member", "midori-demo-2025"):
        assert name in output
    case = Case.objects.annotate(notes_count=Count("notes")).get(notes_count=200)
    assert case.lead_worker == world["bench_worker"] and case.status == CaseStatus.COORDINATING
    assert HouseholdMember.objects.filter(household=case.household, left_on__isnull=True).count() == 6
    assert ProgressNote.objects.filter(case=case).count() == 200
    plans = dict(SupportPlan.objects.filter(case=case).values_list("version", "status"))
    assert plans == {1: PlanStatus.SUPERSEDED, 2: PlanStatus.SUPERSEDED, 3: PlanStatus.APPROVED}
    assert PlanTask.objects.filter(plan__case=case, plan__version=3).exists()
    meeting = SupportMeeting.objects.get(title__contains="性能試験用", host=world["bench_coordinator"])
    assert MeetingBriefing.objects.filter(meeting=meeting).count() == 10
    assert meeting.pledges.count() == meeting.members.count() >= 2
    assert meeting_get_for_user(world["bench_worker"], meeting.pk) == meeting
    assert meeting_get_for_user(world["bench_member"], meeting.pk) == meeting
    client = ApiClient.objects.get(name="ベンチマーク連携システム")
    assert client.user.auth_token_set.exists()


def test_the_read_log_chain_verifies(world):
    checked, broken = read_log_verify()
    assert checked > 100 and broken is None
    assert AccessGrant.objects.filter(basis=AccessBasis.SUPPORT_MEETING).exists()


def test_it_refuses_a_database_with_people_and_production_settings(world, settings):
    with pytest.raises(CommandError, match="すでに本人のデータがあります"):
        _generate()
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG が無効です"):
        call_command("generate_municipality", population=POPULATION, stdout=io.StringIO())
