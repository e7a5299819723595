"""The cases app's paper forms (FORMS.md 【1】【2】【3】) as the contexts their PDF templates render.

Each function takes a case as `case_get_for_user` returned it — projected through the reader's access
decision (`case.decision`) — and reads the rest of the case through that same decision: a part of the
record the decision does not open is left out of the context (the template prints 「（共有範囲外）」),
never fetched and hidden by the template. 住所秘匿 is applied as on the pages (cases.policy).
"""

from dataclasses import dataclass

from cases.models import Case, Code, CodeKind, Consultation, Person, Sex
from cases.policy import apply_location_policy
from cases.selectors import case_latest_assessment, household_panel
from jusou.access.fieldpolicy import project, withheld_fields
from jusou.models import User

# B票 — 生活の状況, in the reference form's order: each row one of the person's fields (the three 手帳
# together), printed as its list's check boxes with the recorded one ■ (cases.models.Person).
LIVING_SITUATION = (
    ("仕事（就労状況）", ("employment",)),
    ("住居", ("housing",)),
    ("健康保険", ("health_insurance",)),
    ("年金", ("pension",)),
    ("要介護度", ("care_level",)),
    ("障害支援区分", ("disability_support_level",)),
    ("手帳", tuple(name for name, _ in Person.HANDBOOKS)),
    ("生活保護", ("public_assistance",)),
)


@dataclass
class Check:
    label: str
    checked: bool = False
    main: bool = False


def _issue_checks(selected, main) -> list[Check]:
    """The 相談内容 check boxes: every active 課題分類 in the code list's order, ■ for those recorded
    and ◎ for the main issue (主訴)."""
    chosen = {code.pk for code in selected}
    main_pk = main.pk if main is not None else None
    return [
        Check(code.label, code.pk in chosen, code.pk == main_pk)
        for code in Code.objects.filter(kind=CodeKind.ISSUE, is_active=True).order_by("order", "pk")
    ]


def _living_situation(person: Person, decision) -> list[tuple[str, list | None]]:
    """The B票 rows as (heading, check boxes), or (heading, None) where the reader's decision withholds
    the row (病歴・障害の状況 outside a consent: the template prints （共有範囲外））."""
    hidden = withheld_fields(Person, decision) | person.masked_fields
    rows = []
    for heading, names in LIVING_SITUATION:
        if hidden & set(names):
            rows.append((heading, None))
        elif len(names) > 1:
            rows.append(
                (heading, [Check(label, bool(getattr(person, name))) for name, label in Person.HANDBOOKS])
            )
        else:
            value = getattr(person, names[0])
            choices = Person._meta.get_field(names[0]).choices
            rows.append((heading, [Check(label, value == option) for option, label in choices]))
    return rows


def _person_block(user: User, case: Case) -> dict:
    person = case.person
    apply_location_policy(user, [person], log=False)
    basic = case.decision.covers("basic")
    return {
        "person": person,
        "basic": basic,
        "sex_checks": [Check(label, person.sex == value) for value, label in Sex.choices] if basic else [],
        "location_shown": getattr(person, "address_confidential", False)
        and "address" not in person.masked_fields,
    }


def intake_form(user: User, case: Case) -> dict:
    """【1】相談受付・申込票: A票 (受付, 本人, 来談者, 相談内容), B票 (生活の状況), 署名欄 — from the case's
    first consultation (受付)."""
    decision = case.decision
    consultation = (
        Consultation.objects.filter(case=case)
        .select_related("agency", "recorded_by", "channel", "route", "main_issue", "referred_to")
        .prefetch_related("issues")
        .order_by("received_at", "pk")
        .first()
    )
    issues_open = decision.covers("issues")
    checks = []
    if consultation is not None:
        issues = list(consultation.issues.all()) if issues_open else []
        main = consultation.main_issue if issues_open else None
        project(consultation, decision)
        if issues_open:
            checks = _issue_checks(issues, main)
    attributes = list(case.person.attributes.all()) if issues_open else []
    return {
        "case": case,
        "decision": decision,
        "consultation": consultation,
        "issues_open": issues_open,
        "issue_checks": checks,
        "attribute_checks": [
            Check(code.label, code.pk in {a.pk for a in attributes})
            for code in Code.objects.filter(kind=CodeKind.ATTRIBUTE, is_active=True).order_by("order", "pk")
        ]
        if issues_open
        else [],
        "living_situation": _living_situation(case.person, decision),
        **_person_block(user, case),
    }


def assessment_sheet(user: User, case: Case, assessment=None) -> dict:
    """【2】インテーク・アセスメントシート: 基本情報 (from 【1】), 相談に至った経緯, 本人・家族の意向, 生活歴,
    家族状況, 課題 (◎ 主たる課題), 強み, リスク, 関わっている機関, 見立て. The latest version unless one
    is given (a version of this case, found by the caller)."""
    decision = case.decision
    issues_open = decision.covers("issues")
    if issues_open and assessment is None:
        assessment = case_latest_assessment(case)
    checks = []
    if assessment is not None and issues_open:
        checks = _issue_checks(assessment.issues.all(), None)
        project(assessment, decision)
    first = (
        Consultation.objects.filter(case=case)
        .select_related("route", "main_issue")
        .order_by("received_at")
        .first()
    )
    if first is not None:
        main = first.main_issue if issues_open else None
        if main is not None:
            checks = [
                Check(c.label, c.checked or c.label == main.label, c.label == main.label) for c in checks
            ]
        project(first, decision)
    return {
        "case": case,
        "decision": decision,
        "assessment": assessment if issues_open else None,
        "issues_open": issues_open,
        "first_consultation": first,
        "issue_checks": checks,
        "household_open": decision.covers("household"),
        "members": household_panel(user, case.household, decision),
        "risk_checks": [
            Check("虐待", case.risk_abuse),
            Check("自殺リスク", case.risk_suicide),
            Check("生命の危険", case.risk_life),
        ]
        if issues_open
        else [],
        **_person_block(user, case),
    }


def progress_sheet(user: User, case: Case) -> dict:
    """【3】支援経過記録シート: the entries in time order (日時, 手段, 対応者, 内容), and the next date."""
    decision = case.decision
    notes = []
    if decision.covers("progress"):
        notes = [
            project(note, decision)
            for note in case.notes.select_related("author").order_by("occurred_at", "pk")
        ]
    return {
        "case": case,
        "decision": decision,
        "progress_open": decision.covers("progress"),
        "notes": notes,
        **_person_block(user, case),
    }
