import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from jusou.models import Role, StaffMembership
from jusou.staff import services
from jusou.tests.factories import AgencyFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db


def test_system_admin_membership_opens_the_admin_and_ending_it_closes_it():
    actor = staff_user(Role.SYSTEM_ADMIN)
    user = UserFactory()
    membership = services.membership_grant(user=user, agency=None, role=Role.SYSTEM_ADMIN, acting_user=actor)
    user = type(user).objects.get(pk=user.pk)
    assert user.is_staff
    assert user.has_perm("jusou.change_agency") and user.has_perm("jusou.add_staffmembership")
    assert not user.has_perm("jusou.delete_staffmembership")
    services.membership_end(membership=membership, acting_user=actor)
    user = type(user).objects.get(pk=user.pk)
    assert not user.is_staff
    assert not user.has_perm("jusou.change_agency")
    assert Role.SYSTEM_ADMIN not in user.roles


def test_roles_other_than_system_admin_need_an_agency():
    with pytest.raises(ValidationError, match="所属機関が必要です"):
        services.membership_grant(user=UserFactory(), agency=None, role=Role.WORKER, acting_user=None)


def test_ended_membership_grants_no_role_and_its_history_names_the_actor():
    actor = staff_user(Role.SYSTEM_ADMIN)
    user = UserFactory()
    agency = AgencyFactory()
    membership = services.membership_grant(user=user, agency=agency, role=Role.COORDINATOR, acting_user=actor)
    assert user.has_role(Role.COORDINATOR)
    services.membership_end(membership=membership, acting_user=actor)
    user = type(user).objects.get(pk=user.pk)
    assert not user.has_role(Role.COORDINATOR)
    history = StaffMembership.history.filter(id=membership.pk).order_by("history_date")
    assert [h.history_user for h in history] == [actor, actor]
    assert history.last().ended_on == timezone.localdate()


def test_a_membership_cannot_be_ended_twice():
    membership = services.membership_grant(
        user=UserFactory(), agency=AgencyFactory(), role=Role.WORKER, acting_user=None
    )
    services.membership_end(membership=membership, acting_user=None)
    with pytest.raises(ValidationError, match="すでに終了"):
        services.membership_end(membership=membership, acting_user=None)


def test_user_history_never_stores_the_password_hash():
    user = UserFactory()
    user.set_password("another password 123")
    user.save()
    fields = {f.name for f in user.history.model._meta.get_fields()}
    assert "password" not in fields
    assert user.history.count() >= 1
