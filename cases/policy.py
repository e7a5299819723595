"""The cases app's application of the field policy (jusou.access.fieldpolicy): 住所秘匿 and the masking of
要配慮個人情報 in lists. Selectors call these before anything reaches a template or serializer.

Who may see a 住所秘匿 person's whereabouts: staff holding a *personal* 担当 grant, valid now, on a
case of that person or of a household they currently belong to. Agency-wide grants, supervisors,
支援会議 members and everyone else see MASK. Each unmasked display is written to the read log.
"""

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef

from cases.models import AddressConfidentiality, Case, Household, HouseholdMember, Person
from jusou.access.decision import AccessDecision
from jusou.access.fieldpolicy import declared, mask, mask_sensitive
from jusou.audit.readlog import read_log
from jusou.models import AccessBasis, AccessGrant, ReadLog, User

__all__ = [
    "apply_household_policy",
    "apply_location_policy",
    "confidential_ids",
    "confidential_today",
    "mask_sensitive",
]

#: the annotation confidential_today() adds to Person rows
CONFIDENTIAL_TODAY = "confidential_today"


def confidential_today() -> dict:
    """Annotate Person rows with whether they are under 住所秘匿 today (the same test as
    confidential_ids), for apply_location_policy to read instead of querying again."""
    in_force = AddressConfidentiality.objects.in_force().filter(person=OuterRef("pk"))
    return {CONFIDENTIAL_TODAY: Exists(in_force)}


def confidential_ids(person_ids: Iterable[int]) -> set[int]:
    """Which of these people are under 住所秘匿 today."""
    ids = list(person_ids)
    if not ids:
        return set()
    return set(
        AddressConfidentiality.objects.in_force()
        .filter(person_id__in=ids)
        .values_list("person_id", flat=True)
    )


def location_allowed_ids(user: User, person_ids: Iterable[int]) -> set[int]:
    """Of these people, whose whereabouts `user` may see: personally assigned to their case, or to
    the case of a household they currently live in."""
    ids = set(person_ids)
    if not ids:
        return set()
    assigned_cases = (
        AccessGrant.objects.valid()
        .personal(user)
        .filter(
            content_type=ContentType.objects.get_for_model(Case),
            basis=AccessBasis.ASSIGNMENT,
            permission="view",
        )
        .values("object_id")
    )
    cases = Case.objects.filter(pk__in=assigned_cases)
    direct = set(cases.filter(person_id__in=ids).values_list("person_id", flat=True))
    via_household = set(
        HouseholdMember.objects.filter(person_id__in=ids, left_on__isnull=True)
        .filter(household_id__in=cases.exclude(household__isnull=True).values("household_id"))
        .values_list("person_id", flat=True)
    )
    return direct | via_household


def apply_location_policy(user: User, people: Iterable[Person], *, log: bool = True) -> list[Person]:
    """Mask the location fields of 住所秘匿 people the user is not assigned to; log unmasked views."""
    people = [p for p in people if p is not None]
    if people and all(hasattr(p, CONFIDENTIAL_TODAY) for p in people):
        hidden = {p.pk for p in people if getattr(p, CONFIDENTIAL_TODAY)}  # read with the rows
    else:
        hidden = confidential_ids(p.pk for p in people)
    if not hidden:
        return people
    allowed = location_allowed_ids(user, hidden)
    for person in people:
        if person.pk not in hidden:
            continue
        if person.pk in allowed:
            person.address_confidential = True
            if log:
                # The rule above is itself the basis: a personal 担当 grant on the person's (household's) case.
                read_log(
                    user=user,
                    action=ReadLog.Action.VIEW,
                    obj=person,
                    decision=AccessDecision(AccessBasis.ASSIGNMENT),
                    detail="住所秘匿: 所在情報を表示",
                )
        else:
            mask(person, declared(Person, "location"))
            person.address_confidential = True
    return people


def apply_household_policy(user: User, households: Iterable[Household]) -> list[Household]:
    """A household's address reveals where each current member lives: mask it unless the user may
    see the whereabouts of every member under 住所秘匿."""
    households = [h for h in households if h is not None]
    if not households:
        return households
    members = HouseholdMember.objects.filter(household__in=households, left_on__isnull=True)
    by_household: dict[int, set[int]] = {}
    for household_id, person_id in members.values_list("household_id", "person_id"):
        by_household.setdefault(household_id, set()).add(person_id)
    hidden = confidential_ids({pid for ids in by_household.values() for pid in ids})
    allowed = location_allowed_ids(user, hidden)
    for household in households:
        protected = by_household.get(household.pk, set()) & hidden
        if protected and not protected <= allowed:
            mask(household, declared(Household, "location"))
            household.address_confidential = True
    return households


def protected_record_ids(model, object_ids) -> set[int]:
    """For the audit views in jusou: which Person/Household records are under 住所秘匿 (any member)."""
    ids = set(object_ids)
    if model is Person:
        return confidential_ids(ids)
    if model is Household:
        members = HouseholdMember.objects.filter(household_id__in=ids, left_on__isnull=True).values_list(
            "household_id", "person_id"
        )
        hidden = confidential_ids({person for _, person in members})
        return {household for household, person in members if person in hidden}
    return set()
