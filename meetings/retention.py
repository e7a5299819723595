"""保存年限: what 多機関協働 keeps of a case goes with the case (jusou.registry.register_retention_cascade).

Anonymised with a disposed case: the texts of its 本人同意 (代理人, 目的, 撤回の内容) and the scanned
form itself (removed from storage), 支援決定 notes, 支援プラン texts, goals, 役割分担 contents, agenda
notes, evaluations, and the 支援会議 briefings (both renderings, and which members were chosen) and
decisions about it. Kept: the rows, their dates,
statuses, agencies, categories and versions (plans new/revised, meetings held and cases discussed
are counted from them).

Not covered: the minutes of a 支援会議 or 重層的支援会議 as a whole (議事録), which concern several
cases; they are the meeting's record, not the case's.
"""

from jusou.retention.anonymise import DISPOSED, merge, scrub
from jusou.retention.selectors import disposed_ids
from meetings.models import (
    AgendaItem,
    Consent,
    Evaluation,
    GoalEvaluation,
    MeetingBriefing,
    MeetingDecision,
    PlanGoal,
    PlanStatus,
    PlanTask,
    SupportDecision,
    SupportPlan,
)

CASE = "cases.case"


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
    consent_fields = ["proxy_name", "proxy_relation", "purpose", "withdrawal_note", "document"]
    merge(rows, scrub(Consent, consents, consent_fields, acting_user=acting_user))
    decisions = SupportDecision.objects.filter(case__in=case_ids).values_list("pk", flat=True)
    merge(rows, scrub(SupportDecision, decisions, ["note"], acting_user=acting_user))
    plans = list(SupportPlan.objects.filter(case__in=case_ids).values_list("pk", flat=True))
    plan_fields = [
        "person_wishes",
        "household_wishes",
        "issues_summary",
        "long_term_goal",
        "sent_back_reason",
    ]
    merge(rows, scrub(SupportPlan, plans, plan_fields, acting_user=acting_user))
    goals = PlanGoal.objects.filter(plan__in=plans).values_list("pk", flat=True)
    merge(rows, scrub(PlanGoal, goals, ["text"], acting_user=acting_user))
    tasks = PlanTask.objects.filter(plan__in=plans).values_list("pk", flat=True)
    merge(rows, scrub(PlanTask, tasks, ["content"], acting_user=acting_user))
    items = AgendaItem.objects.filter(case__in=case_ids).values_list("pk", flat=True)
    merge(rows, scrub(AgendaItem, items, ["notes"], acting_user=acting_user))
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
