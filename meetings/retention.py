"""保存年限: what 多機関協働 keeps of a case goes with the case (jusou.registry.RetentionCascade).

Anonymised with a disposed case: the texts of its 本人同意 (代理人, 目的, 撤回の内容) and the scanned
form itself (removed from storage), 支援決定 notes, 支援プラン texts, goals, 役割分担 contents, agenda
notes, evaluations, and the 支援会議 briefings (both renderings, and which members were chosen) and
decisions about it. Kept: the rows, their dates,
statuses, agencies, categories and versions (plans new/revised, meetings held and cases discussed
are counted from them).

The minutes of a 支援会議 or 重層的支援会議 (議事録) concern several cases: they stay, but the texts the
case's disposal removed (names, what was written about the person) are taken out of them
(case_leftovers, after every other scrub).
"""

from jusou.retention.anonymise import DISPOSED, free_text_fields, merge, scrub
from jusou.retention.leftovers import text_replace
from jusou.retention.selectors import disposed_ids
from meetings.models import (
    AgendaItem,
    Consent,
    Evaluation,
    GoalEvaluation,
    MeetingBriefing,
    MeetingDecision,
    PlanConference,
    PlanGoal,
    PlanStatus,
    PlanTask,
    SupportDecision,
    SupportMeeting,
    SupportPlan,
)

CASE = "cases.case"
#: free-text fields that stay on disposal: codes and numbers (同意の情報区分, 決定番号, 会議での結果)
KEPT = {
    "meetings.consent": ("categories",),
    "meetings.supportdecision": ("decision_number",),
    "meetings.agendaitem": ("outcome",),
}


def _briefing_sections(row) -> dict:
    """A briefing keeps the case number it was about (meetings held and cases discussed), nothing else."""
    sections = row.sections if isinstance(row.sections, dict) else {}
    if not sections:
        return sections
    return {"case_number": sections.get("case_number", ""), "person": DISPOSED}


def _briefing_external_sections(row) -> dict:
    """The external members' rendering keeps nothing (it carries no case number to keep)."""
    sections = getattr(row, "external_sections", None)
    return {"person": DISPOSED} if isinstance(sections, dict) and sections else {}


def _briefing_choice(row) -> dict:
    """What was chosen, by category; not which household members (their ids) it named."""
    choice = getattr(row, "choice", None)
    return {"categories": choice.get("categories", [])} if isinstance(choice, dict) and choice else {}


def case_dispose(case_ids, *, acting_user) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = {}
    consents = Consent.objects.filter(case__in=case_ids).values_list("pk", flat=True)
    consent_fields = free_text_fields(Consent, keep=KEPT["meetings.consent"])
    merge(rows, scrub(Consent, consents, consent_fields, acting_user=acting_user))
    decisions = SupportDecision.objects.filter(case__in=case_ids).values_list("pk", flat=True)
    decision_fields = free_text_fields(SupportDecision, keep=KEPT["meetings.supportdecision"])
    merge(rows, scrub(SupportDecision, decisions, decision_fields, acting_user=acting_user))
    plans = list(SupportPlan.objects.filter(case__in=case_ids).values_list("pk", flat=True))
    merge(rows, scrub(SupportPlan, plans, free_text_fields(SupportPlan), acting_user=acting_user))
    goals = PlanGoal.objects.filter(plan__in=plans).values_list("pk", flat=True)
    merge(rows, scrub(PlanGoal, goals, ["text"], acting_user=acting_user))
    tasks = PlanTask.objects.filter(plan__in=plans).values_list("pk", flat=True)
    merge(rows, scrub(PlanTask, tasks, free_text_fields(PlanTask), acting_user=acting_user))
    items = AgendaItem.objects.filter(case__in=case_ids).values_list("pk", flat=True)
    item_fields = free_text_fields(AgendaItem, keep=KEPT["meetings.agendaitem"])
    merge(rows, scrub(AgendaItem, items, item_fields, acting_user=acting_user))
    evaluations = list(Evaluation.objects.filter(plan__in=plans).values_list("pk", flat=True))
    merge(rows, scrub(Evaluation, evaluations, ["person_change"], acting_user=acting_user))
    goal_results = GoalEvaluation.objects.filter(evaluation__in=evaluations).values_list("pk", flat=True)
    merge(rows, scrub(GoalEvaluation, goal_results, ["comment"], acting_user=acting_user))
    briefings = list(MeetingBriefing.objects.filter(case__in=case_ids).values_list("pk", flat=True))
    merge(
        rows,
        scrub(
            MeetingBriefing,
            briefings,
            [],
            acting_user=acting_user,
            custom={
                "sections": _briefing_sections,
                "external_sections": _briefing_external_sections,
                "choice": _briefing_choice,
            },
        ),
    )
    meeting_decisions = MeetingDecision.objects.filter(briefing__in=briefings).values_list("pk", flat=True)
    return merge(rows, scrub(MeetingDecision, meeting_decisions, ["text"], acting_user=acting_user))


def case_leftovers(case_ids, removed, *, acting_user) -> dict[str, list[int]]:
    """The minutes (and titles) of the 支援会議 and 重層的支援会議 the case was discussed at concern several
    cases: only what was written about this one — the texts its disposal removed — goes from them."""
    meetings = MeetingBriefing.objects.filter(case__in=case_ids).values_list("meeting_id", flat=True)
    rows = text_replace(SupportMeeting, meetings, ["title", "minutes"], removed)
    conferences = AgendaItem.objects.filter(case__in=case_ids).values_list("conference_id", flat=True)
    return merge(rows, text_replace(PlanConference, conferences, ["title", "minutes"], removed))


def case_hold(case_ids) -> set[int]:
    """A case with a plan still in force (承認済) is not disposed: the plan is evaluated and ended first."""
    return set(
        SupportPlan.objects.filter(case__in=case_ids, status=PlanStatus.APPROVED).values_list(
            "case_id", flat=True
        )
    )


def person_hold(person_ids) -> set[int]:
    """A person who consented for a case not yet disposed is kept."""
    consents = Consent.objects.filter(person__in=person_ids).exclude(case__in=disposed_ids(CASE))
    return set(consents.values_list("person_id", flat=True))
