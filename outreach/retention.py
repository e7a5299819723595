"""保存年限 of アウトリーチ (jusou.retention).

- An engagement never linked to a case is its own unit (outreach.engagement), from its end (ended_at).
- An engagement linked to a case goes with the case (a cascade), and an open one holds the case.
Anonymised: the provisional name, whereabouts, background, visitors, the meeting decision and the end
note, and each contact's who-was-met and response. Kept: kinds, stages, dates, agencies, safety
confirmations (contacts by kind, つなぎ achieved are counted from them).
"""

from django.db.models import Q
from django.urls import reverse

from cases.retention import people_dispose
from jusou.retention.anonymise import free_text_fields, grants_scrub, merge, scrub
from jusou.retention.selectors import disposed_ids
from outreach.models import OutreachContact, OutreachEngagement

ENGAGEMENT = "outreach.engagement"
CASE = "cases.case"


def _engagements_dispose(engagement_ids, acting_user) -> dict[str, list[int]]:
    engagement_ids = list(engagement_ids)
    rows = scrub(
        OutreachEngagement, engagement_ids, free_text_fields(OutreachEngagement), acting_user=acting_user
    )
    contacts = OutreachContact.objects.filter(engagement__in=engagement_ids).values_list("pk", flat=True)
    merge(
        rows,
        scrub(OutreachContact, contacts, free_text_fields(OutreachContact), acting_user=acting_user),
    )
    return merge(rows, grants_scrub(OutreachEngagement, engagement_ids, acting_user=acting_user))


class EngagementRetention:
    model = OutreachEngagement
    closed_field = "ended_at"
    agency_field = "owning_agency_id"

    def closed_records(self):
        return OutreachEngagement.objects.filter(ended_at__isnull=False, case__isnull=True)

    def number(self, pk: int) -> str:
        return f"O-{pk:06d}"

    def url(self, pk: int) -> str:
        return reverse("outreach:engagement_detail", args=[pk])

    def dispose(self, pk: int, *, acting_user) -> dict[str, list[int]]:
        person_id = OutreachEngagement.objects.values_list("person_id", flat=True).get(pk=pk)
        rows = _engagements_dispose([pk], acting_user)
        return merge(
            rows, people_dispose(person_ids={person_id}, household_ids=set(), acting_user=acting_user)
        )


def case_dispose(case_ids, *, acting_user) -> dict[str, list[int]]:
    engagements = list(OutreachEngagement.objects.filter(case__in=case_ids).values_list("pk", "person_id"))
    rows = _engagements_dispose([pk for pk, _ in engagements], acting_user)
    people = {person for _, person in engagements}
    return merge(rows, people_dispose(person_ids=people, household_ids=set(), acting_user=acting_user))


def case_hold(case_ids) -> set[int]:
    """An アウトリーチ still going on holds its case."""
    open_engagements = OutreachEngagement.objects.filter(case__in=case_ids, ended_at__isnull=True)
    return set(open_engagements.values_list("case_id", flat=True))


def person_hold(person_ids) -> set[int]:
    live = (Q(case__isnull=True) & ~Q(pk__in=disposed_ids(ENGAGEMENT))) | (
        Q(case__isnull=False) & ~Q(case__in=disposed_ids(CASE))
    )
    return set(
        OutreachEngagement.objects.filter(live, person__in=person_ids).values_list("person_id", flat=True)
    )
