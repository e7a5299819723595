"""Grants follow the person's job (issue 14, finding 11): a worker who leaves an agency loses the
personal grants given to them as its staff — at once, in the ledger and the guardian tables — while
colleagues, the agency's own grants and the worker's other job are untouched; the agency's 管理者 is
told which cases need a new 主担当者."""

import importlib
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cases import selectors, services
from cases.models import Case
from cases.tests.conftest import fresh, record_case
from jusou import tasks
from jusou.access import grants as access
from jusou.models import AccessBasis, AccessGrant, Notification, Role, StaffMembership
from jusou.staff import services as core
from jusou.tests.api import api_as
from jusou.tests.factories import AgencyFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db


def _own_agency(world):
    return world.case.owning_agency


def _move(user, *, to, acting_user, ended_on=None):
    """The worker's membership at their agency ends and a new one begins at `to` (a 異動)."""
    membership = StaffMembership.objects.active().get(user=user)
    core.membership_end(membership=membership, acting_user=acting_user, ended_on=ended_on)
    core.membership_grant(
        user=user, agency=to, role=Role.WORKER, acting_user=acting_user, started_on=ended_on
    )


def _reads(client, api, world, note_pk=None) -> dict[str, int]:
    case, person = world.case, world.person
    return {
        "case page": client.get(reverse("cases:case_detail", args=[case.pk])).status_code,
        "person page": client.get(reverse("cases:person_detail", args=[person.pk])).status_code,
        "API case": api.get(f"/api/v1/cases/{case.pk}/").status_code,
        "API notes": api.get(f"/api/v1/cases/{case.pk}/notes/").status_code,
        "API person": api.get(f"/api/v1/people/{person.pk}/").status_code,
    }


def _note(world):
    return services.progress_note_add(
        case=world.case,
        acting_user=world.assigned,
        occurred_at=timezone.now(),
        kind="phone",
        content="電話で状況確認",
    )


# --- The regression -------------------------------------------------------------------------------------


def test_a_worker_who_moved_to_another_agency_gets_404_for_the_old_case_everywhere(client, world):
    _note(world)
    client.force_login(world.assigned)
    api = api_as(world.assigned)
    assert set(_reads(client, api, world).values()) == {200}
    _move(world.assigned, to=fresh(world.other_worker).agencies[0], acting_user=world.supervisor)

    client.force_login(world.assigned)
    assert _reads(client, api, world) == dict.fromkeys(_reads(client, api, world), 404)
    assert client.get(reverse("cases:case_detail", args=[world.case.pk + 999])).status_code == 404
    assert world.case.number not in client.get(reverse("cases:case_list"), {"scope": "all"}).content.decode()
    assert api.get("/api/v1/cases/").json()["results"] == []
    assert not selectors.cases_visible_to(fresh(world.assigned)).exists()


def test_ending_the_membership_revokes_the_ledger_rows_and_drops_the_guardian_rows_at_once(world):
    mine = AccessGrant.objects.filter(user=world.assigned, object_id=world.case.pk)
    assert {g.on_behalf_of for g in mine} == {_own_agency(world)}
    core.membership_end(membership=world.assigned.memberships.get(), acting_user=world.supervisor)
    assert mine.all().count() == 2
    assert all(
        g.revoked_at and g.revoke_reason == "所属終了" and g.revoked_by == world.supervisor
        for g in mine.all()
    )
    assert not world.case.caseuserobjectpermission_set.filter(user=world.assigned).exists()
    # The agency's own grant stays: the case is still the agency's.
    assert AccessGrant.objects.valid().filter(object_id=world.case.pk, agency=_own_agency(world)).count() == 2
    assert world.case.casegroupobjectpermission_set.count() == 2


# --- Who keeps what ---------------------------------------------------------------------------------------


def test_a_colleague_still_at_the_agency_keeps_the_case_and_may_write(client, world):
    _move(world.assigned, to=fresh(world.other_worker).agencies[0], acting_user=world.supervisor)
    client.force_login(world.colleague)
    api = api_as(world.colleague)
    assert set(_reads(client, api, world).values()) == {200}
    assert selectors.case_can_change(fresh(world.colleague), world.case)


def test_an_agency_wide_grant_is_unaffected_by_one_worker_leaving(world):
    npo = fresh(world.outsider).agencies[0]
    access.access_grant(obj=world.case, agency=npo, basis=AccessBasis.CONSENT, acting_user=world.assigned)
    stays = staff_user(Role.WORKER, npo, username="stays")
    core.membership_end(membership=world.outsider.memberships.get(), acting_user=world.supervisor)
    assert not selectors.cases_visible_to(fresh(world.outsider)).exists()
    assert list(selectors.cases_visible_to(fresh(stays))) == [world.case]
    assert AccessGrant.objects.valid().get(object_id=world.case.pk, agency=npo).basis == AccessBasis.CONSENT


def test_a_worker_with_two_memberships_who_ends_one_keeps_the_grants_given_for_the_other(client, world):
    here = _own_agency(world)
    there = AgencyFactory(name="みどり東地域包括支援センター")
    dual = staff_user(Role.WORKER, here, username="dual")
    core.membership_grant(user=dual, agency=there, role=Role.WORKER, acting_user=None)
    dual = fresh(dual)
    case_here = services.case_open(acting_user=dual, person=world.son, agency=here)
    person = services.person_register(acting_user=dual, name="鈴木 一子", kana="すずき いちこ", agency=there)
    case_there = services.case_open(acting_user=dual, person=person, agency=there)
    assert {g.on_behalf_of for g in AccessGrant.objects.filter(user=dual, object_id=case_there.pk)} == {there}

    core.membership_end(membership=dual.memberships.get(agency=here), acting_user=world.supervisor)
    dual = fresh(dual)
    assert list(selectors.cases_visible_to(dual).order_by("pk")) == [case_there]
    assert AccessGrant.objects.valid().filter(user=dual, on_behalf_of=there).count() == 2
    assert not AccessGrant.objects.valid().filter(user=dual, on_behalf_of=here).exists()
    assert not case_here.caseuserobjectpermission_set.filter(user=dual).exists()
    client.force_login(dual)
    assert client.get(reverse("cases:case_detail", args=[case_there.pk])).status_code == 200
    assert client.get(reverse("cases:case_detail", args=[case_here.pk])).status_code == 404


def test_another_role_at_the_same_agency_keeps_the_grants(world):
    # A 相談員 who becomes the agency's 管理者: the 相談員 membership ends, the agency stays theirs.
    core.membership_grant(
        user=world.assigned, agency=_own_agency(world), role=Role.SUPERVISOR, acting_user=None
    )
    core.membership_end(
        membership=world.assigned.memberships.get(role=Role.WORKER), acting_user=world.supervisor
    )
    assert AccessGrant.objects.valid().filter(user=world.assigned, object_id=world.case.pk).count() == 2


# --- An end dated ahead -------------------------------------------------------------------------------------


def test_an_end_dated_ahead_stops_access_on_that_day_and_beat_tidies_the_ledger(client, world):
    today = timezone.localdate()
    _move(
        world.assigned,
        to=fresh(world.other_worker).agencies[0],
        acting_user=world.supervisor,
        ended_on=today + timedelta(days=2),
    )
    client.force_login(world.assigned)
    assert client.get(reverse("cases:case_detail", args=[world.case.pk])).status_code == 200
    assert tasks.expire_access_grants() == 0
    mine = AccessGrant.objects.filter(user=world.assigned, object_id=world.case.pk)
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        # The ledger still says "valid": the membership check alone refuses the read.
        assert mine.valid().count() == 2
        client.force_login(world.assigned)
        assert client.get(reverse("cases:case_detail", args=[world.case.pk])).status_code == 404
        assert api_as(world.assigned).get(f"/api/v1/cases/{world.case.pk}/").status_code == 404
        assert tasks.expire_access_grants() == 2
        assert tasks.expire_access_grants() == 0  # a re-run finds nothing left
    assert {g.revoke_reason for g in mine} == {"所属終了"}
    assert not world.case.caseuserobjectpermission_set.filter(user=world.assigned).exists()


# --- The 管理者 is told -------------------------------------------------------------------------------------


def test_the_municipalitys_supervisors_are_told_when_the_agency_has_no_manager(client, world):
    record_case(world.assigned, name="佐藤 二郎", kana="さとう じろう")
    core.membership_end(membership=world.assigned.memberships.get(), acting_user=world.supervisor)
    note = Notification.objects.get(recipient=world.supervisor, kind="departure_handover")
    assert "主担当の支援ケース（2件）" in note.title and str(_own_agency(world)) in note.title
    assert note.link == f"{reverse('cases:case_list')}?scope=all&worker={world.assigned.pk}"
    client.force_login(world.supervisor)
    html = client.get(note.link).content.decode()
    assert world.case.number in html
    # The case keeps its 主担当者 until the agency names another (nothing is reassigned silently).
    assert Case.objects.get(pk=world.case.pk).lead_worker == world.assigned
    assert (
        not Notification.objects.filter(kind="departure_handover")
        .exclude(recipient=world.supervisor)
        .exists()
    )


def test_the_agencys_own_manager_is_told_rather_than_the_municipalitys(world):
    manager = staff_user(Role.SUPERVISOR, _own_agency(world), username="manager")
    core.membership_end(membership=world.assigned.memberships.get(), acting_user=world.supervisor)
    assert Notification.objects.filter(kind="departure_handover").get().recipient == manager


def test_nobody_is_told_when_the_worker_leads_no_open_case_there(world):
    core.membership_end(membership=world.colleague.memberships.get(), acting_user=world.supervisor)
    assert not Notification.objects.filter(kind="departure_handover").exists()


# --- How grants name the agency ---------------------------------------------------------------------------


def test_a_personal_grant_is_given_on_behalf_of_the_owning_agency_or_the_users_only_one(world):
    access.access_grant(
        obj=world.case, user=world.outsider, basis=AccessBasis.CONSENT, acting_user=world.assigned
    )
    grant = AccessGrant.objects.get(user=world.outsider)
    assert grant.on_behalf_of == fresh(world.outsider).agencies[0]
    assert all(g.on_behalf_of is None for g in AccessGrant.objects.filter(agency__isnull=False))


def test_a_grant_to_someone_with_several_agencies_must_name_one(world):
    core.membership_grant(user=world.outsider, agency=AgencyFactory(), role=Role.WORKER, acting_user=None)
    with pytest.raises(ValueError, match="several agencies"):
        access.access_grant(
            obj=world.case, user=fresh(world.outsider), basis=AccessBasis.CONSENT, acting_user=world.assigned
        )


def test_a_grant_cannot_be_given_on_behalf_of_an_agency_the_user_does_not_work_for(world):
    with pytest.raises(ValidationError, match="所属していない"):
        access.access_grant(
            obj=world.case,
            user=world.outsider,
            on_behalf_of=_own_agency(world),
            basis=AccessBasis.CONSENT,
            acting_user=world.assigned,
        )
    core.membership_end(membership=world.outsider.memberships.get(), acting_user=None)
    with pytest.raises(ValidationError, match="有効な所属がない"):
        access.access_grant(
            obj=world.case, user=fresh(world.outsider), basis=AccessBasis.CONSENT, acting_user=world.assigned
        )


def test_the_lead_worker_of_a_new_case_works_for_the_owning_agency(world):
    with pytest.raises(ValidationError, match="主担当機関の職員"):
        services.case_open(acting_user=world.assigned, person=world.son, lead_worker=world.other_worker)


def test_the_database_refuses_an_agency_grant_on_behalf_of_an_agency(world):
    grant = AccessGrant.objects.filter(agency__isnull=False).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessGrant.objects.filter(pk=grant.pk).update(on_behalf_of=grant.agency)


def test_referral_grants_are_given_on_behalf_of_the_coordinators_agency(world):
    services.assessment_record(
        case=world.case,
        acting_user=world.assigned,
        issues=[],
        issues_detail="介護と就労",
        formulation="複合課題",
    )
    services.case_transition(
        case=world.case, to_status="referred", acting_user=world.assigned, reason="複合課題"
    )
    office = fresh(world.coordinator).agencies[0]
    assert {g.on_behalf_of for g in AccessGrant.objects.filter(user=world.coordinator)} == {office}
    core.membership_end(membership=world.coordinator.memberships.get(), acting_user=world.supervisor)
    assert not AccessGrant.objects.valid().filter(user=world.coordinator).exists()


# --- The migration that fills existing grants ---------------------------------------------------------------


def test_the_migration_ties_existing_personal_grants_to_the_agency_of_the_time(world):
    fill = importlib.import_module("jusou.migrations.0012_access_grant_on_behalf_of").fill_on_behalf_of
    minsei = UserFactory(username="minsei")
    core.membership_grant(user=minsei, agency=None, role=Role.MEETING_MEMBER, acting_user=None)
    access.access_grant(obj=world.case, user=minsei, basis=AccessBasis.CONSENT, acting_user=None)
    access.access_grant(obj=world.case, user=world.colleague, basis=AccessBasis.CONSENT, acting_user=None)
    access.access_grant(obj=world.case, user=world.outsider, basis=AccessBasis.CONSENT, acting_user=None)
    # As it was before the field: no grant names an agency, and memberships ended the old way, without
    # touching grants — the lead worker moved to another agency the day the case was opened (the
    # finding), the colleague left.
    today = timezone.localdate()
    StaffMembership.objects.filter(user__in=[world.assigned, world.colleague]).update(ended_on=today)
    StaffMembership.objects.create(
        user=world.assigned, agency=fresh(world.other_worker).agencies[0], role=Role.WORKER, started_on=today
    )
    AccessGrant.objects.update(on_behalf_of=None)
    assert selectors.cases_visible_to(fresh(world.assigned)).exists()  # what the finding saw

    fill(apps, None)
    on_behalf_of = {g.user.username: g.on_behalf_of for g in AccessGrant.objects.filter(user__isnull=False)}
    assert on_behalf_of == {
        "assigned": _own_agency(world),  # the case's owning agency, where the lead worker worked then
        "colleague": _own_agency(world),  # left since: the grant gives nothing any more
        "outsider": fresh(world.outsider).agencies[0],  # not the owner: the agency they worked for
        "minsei": None,  # an external 支援会議 member belongs to no agency: not tied to a membership
    }
    assert not selectors.cases_visible_to(fresh(world.assigned)).exists()
    assert not selectors.cases_visible_to(fresh(world.colleague)).exists()
