import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from jusou.models import Agency, AgencyKind, Area, AreaLevel, Notification, Role, StaffMembership, User
from jusou.staff import services

TEST_PASSWORD = "correct horse battery staple"


class AreaFactory(DjangoModelFactory):
    class Meta:
        model = Area
        django_get_or_create = ["code"]
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"area-{n}")
    name = factory.Sequence(lambda n: f"第{n}圏域")
    level = AreaLevel.MIDDLE


class AgencyFactory(DjangoModelFactory):
    class Meta:
        model = Agency
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"agency-{n}")
    name = factory.Sequence(lambda n: f"テスト地域包括支援センター{n}")
    kind = AgencyKind.COMMUNITY_GENERAL_SUPPORT


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    last_name = "試験"
    first_name = factory.Sequence(lambda n: f"職員{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.jp")
    password = factory.django.Password(TEST_PASSWORD)


class StaffMembershipFactory(DjangoModelFactory):
    class Meta:
        model = StaffMembership
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    agency = factory.SubFactory(AgencyFactory)
    role = Role.WORKER


def staff_user(role=Role.WORKER, agency=None, **user_fields) -> User:
    """A user with one active membership (no agency for a システム管理者)."""
    user = UserFactory(**user_fields)
    if role == Role.SYSTEM_ADMIN:
        services.membership_grant(user=user, agency=None, role=role, acting_user=None)
    else:
        StaffMembershipFactory(user=user, agency=agency or AgencyFactory(), role=role)
    return user


class NotificationFactory(DjangoModelFactory):
    class Meta:
        model = Notification
        skip_postgeneration_save = True

    recipient = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"お知らせ{n}")
    delivered_at = factory.LazyFunction(timezone.now)
