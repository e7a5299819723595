"""The 多機関協働 paper forms (FORMS.md 【5】, 評価シート, 会議録, 同意書) as the contexts their PDF
templates render. Each takes the record as its selector returned it (with `.decision`) and reads what
belongs to it through the same selectors the pages use: an agenda item of a case the reader may not
see is not printed, a briefing is printed in the rendering the reader was shown (external members:
the external one), and nothing is decided again here.
"""

from dataclasses import dataclass

from cases.documents import Check
from cases.models import Case
from jusou.access.decision import InformationCategory
from jusou.models import User
from meetings import briefings, selectors
from meetings.models import (
    AgendaKind,
    Consent,
    ConsentingParty,
    GoalResult,
    NextStep,
    PlanConference,
    SupportMeeting,
    SupportPlan,
)
from meetings.services import PLEDGE_STATEMENT

#: what an agenda item's outcome says, in words (the services store "approved", "sent_back" or a NextStep)
OUTCOME_LABELS = {"approved": "承認", "sent_back": "差戻し", **dict(NextStep.choices)}

#: 【5】利用する事業: the programmes a plan can use, in the reference form's order
PROGRAMMES = (
    ("多機関協働", None),
    ("参加支援", "needs_participation"),
    ("アウトリーチ等を通じた継続的支援", "needs_outreach"),
)


def outcome_label(value: str) -> str:
    return OUTCOME_LABELS.get(value, value)


def plan_form(user: User, plan: SupportPlan) -> dict:
    """【5】プラン兼事業等利用申込書: 本人の意向・課題, 長期目標, 短期目標 and the 支援内容 for them,
    役割分担 (機関・担当者・内容・期間), 利用する事業, プラン期間・評価予定日, 署名 and the 承認日."""
    detail = selectors.plan_detail(plan)
    approvals = [
        item for item in detail["agenda"] if item.kind == AgendaKind.PLAN and item.outcome == "approved"
    ]
    return {
        **detail,
        "case": plan.case,
        "decision": plan.decision,
        "programmes": [
            Check(label, True if field is None else getattr(plan, field)) for label, field in PROGRAMMES
        ],
        "approved_by": approvals[-1].conference if approvals else None,
    }


@dataclass
class GoalRow:
    text: str
    results: list
    comment: str = ""


def evaluation_sheet(user: User, plan: SupportPlan) -> dict:
    """評価シート: per 短期目標 its 達成度 and comment, 本人・世帯の変化, 今後の方針 (終結 / 継続 / 見直し /
    中断 …) with the reason, the 評価日 and the conference. Each recorded evaluation of the plan is a
    sheet; a plan not yet evaluated prints a blank sheet with its goals, to fill in at the meeting."""
    detail = selectors.plan_detail(plan)
    sheets = []
    for evaluation in detail["evaluations"]:
        by_goal = {result.goal_id: result for result in evaluation.goal_results.all()}
        rows = []
        for goal in detail["goals"]:
            result = by_goal.get(goal.pk)
            rows.append(
                GoalRow(
                    goal.text,
                    [
                        Check(label, result is not None and result.result == value)
                        for value, label in GoalResult.choices
                    ],
                    result.comment if result else "",
                )
            )
        sheets.append(
            {
                "evaluation": evaluation,
                "goals": rows,
                "next_steps": [
                    Check(label, evaluation.next_step == value) for value, label in NextStep.choices
                ],
                "conference": evaluation.item.conference,
            }
        )
    if not sheets:
        sheets.append(
            {
                "evaluation": None,
                "goals": [
                    GoalRow(goal.text, [Check(label) for _, label in GoalResult.choices])
                    for goal in detail["goals"]
                ],
                "next_steps": [Check(label) for _, label in NextStep.choices],
                "conference": None,
            }
        )
    return {"plan": plan, "case": plan.case, "decision": plan.decision, "sheets": sheets}


def meeting_minutes(user: User, meeting: SupportMeeting) -> dict:
    """会議録（支援会議, 社会福祉法 第106条の6）: 開催日時・会議体, 構成員 with each one's 守秘義務 confirmation
    time, the cases discussed in the rendering the reader was shown, 決定事項, and the 議事録 text."""
    context = selectors.meeting_detail(meeting)
    briefings.attach_contents(context["briefings"], meeting, user)
    pledges = {pledge.user_id: pledge for pledge in meeting.pledges.all()}
    attendance = [
        {"user": member.user, "agencies": list(member.user.agencies), "pledge": pledges.get(member.user_id)}
        for member in context["members"]
    ]
    return {
        **context,
        "decision": meeting.decision,
        "attendance": attendance,
        "pledge_statement": PLEDGE_STATEMENT,
    }


def conference_minutes(user: User, conference: PlanConference) -> dict:
    """会議録（重層的支援会議）: 開催日, 出席機関, and per case (of those the reader may see): プランの協議
    (承認/差戻し), 評価, 終結/継続, 不足する社会資源; then the 議事録 text."""
    items = selectors.conference_items_for(user, conference)
    for item in items:
        item.outcome_label = outcome_label(item.outcome)
    return {
        "conference": conference,
        "decision": conference.decision,
        "items": items,
        "agencies": list(conference.agencies.order_by("name")),
    }


def consent_form(
    case: Case,
    *,
    person=None,
    recipients=(),
    categories=(),
    purpose="",
    expires_on=None,
    consent: Consent | None = None,
) -> dict:
    """同意書 for the person to sign: whose information, the agencies it goes to, which categories, the
    purpose and the expiry, printed before the consent is recorded (what the worker has filled in so far,
    the rest left blank to fill in by hand) or from a recorded consent; the signed sheet is scanned and
    attached where the consent is recorded."""
    chosen = set(categories)
    return {
        "case": case,
        "decision": case.decision,
        "consent": consent,
        "person": person,
        "recipients": list(recipients),
        "category_checks": [Check(label, value in chosen) for value, label in InformationCategory.choices],
        "purpose": purpose,
        "expires_on": expires_on,
        "party_checks": [
            Check(label, consent is not None and consent.consenting_party == value)
            for value, label in ConsentingParty.choices
        ],
    }


def consent_record_form(consent: Consent) -> dict:
    """同意書 prefilled from a recorded consent (a consent taken orally, to be signed afterwards)."""
    return consent_form(
        consent.case,
        person=consent.person,
        recipients=consent.recipients.order_by("name"),
        categories=consent.categories,
        purpose=consent.purpose,
        expires_on=consent.expires_on,
        consent=consent,
    )
