"""保存年限: 参加支援's rows of a case go with the case (jusou.registry.RetentionCascade).

Anonymised: the plan's wishes, strengths, weaknesses, health, mobility and goals; why a placement
ended; the follow-up contents. Kept: kinds, hosts, dates and statuses (matches, placements and 定着 are
counted from them). An active placement holds its case.
"""

from jusou.retention.anonymise import free_text_fields, merge, scrub
from participation.models import ACTIVE_PLACEMENT, FollowUp, ParticipationPlan, Placement

#: free-text fields that stay on disposal: the kinds of participation (codes)
KEPT = {"participation.participationplan": ("kinds",)}


def case_dispose(case_ids, *, acting_user) -> dict[str, list[int]]:
    plans = list(ParticipationPlan.objects.filter(case__in=case_ids).values_list("pk", flat=True))
    fields = free_text_fields(ParticipationPlan, keep=KEPT["participation.participationplan"])
    rows = scrub(ParticipationPlan, plans, fields, acting_user=acting_user)
    placements = list(Placement.objects.filter(plan__in=plans).values_list("pk", flat=True))
    merge(rows, scrub(Placement, placements, free_text_fields(Placement), acting_user=acting_user))
    follow_ups = FollowUp.objects.filter(placement__in=placements).values_list("pk", flat=True)
    return merge(rows, scrub(FollowUp, follow_ups, free_text_fields(FollowUp), acting_user=acting_user))


def case_hold(case_ids) -> set[int]:
    active = Placement.objects.filter(plan__case__in=case_ids, status__in=ACTIVE_PLACEMENT)
    return set(active.values_list("plan__case_id", flat=True))
