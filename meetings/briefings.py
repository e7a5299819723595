"""支援会議 briefings (社会福祉法 第106条の6): what the host chose, item by item, and nothing more.

The host chooses, per agenda case, which information categories of the case to share and, for each
current member of its household, whether they appear and which of *their own* categories go with
them (DOMAIN.md §4: another member's information needs that member's own basis — here the host's
explicit choice for that member; by default a member appears with their place in the household only,
never their health, disability or abuse information).

The content is what `jusou.access.fieldpolicy.project` leaves of the records under an AccessDecision whose
categories are the choice — the case's for the case and its 本人, each member's own for that member.
No field is listed here: each record's FIELD_POLICY says which of its fields belong to which
category, which reveal whereabouts ("location": never in a briefing) and which say who the person
is ("identifying": left out when pseudonymised).

Two renderings are frozen with each briefing: one for staff members, one for external members
(民生委員, a school social worker … on a meeting-only account), pseudonymised by default: 仮名化 drops
the case number and every identifying field (氏名, 住所, 電話, 宛名番号), gives the birth date as an
age band, and blanks the household's names and case numbers in free text. The host previews both
before sharing; what is frozen is the same rendering (`BriefingRendering.digest` checks it).
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Prefetch

from cases.models import BirthDatePrecision, Case, HouseholdMember, Person
from jusou.access.decision import AccessDecision, InformationCategory
from jusou.access.fieldpolicy import declared, is_shared, project
from jusou.ja.wareki import to_wareki
from jusou.models import AccessBasis, User

#: the categories a briefing may carry. 支援プラン is not among them: a plan is discussed at the
#: 重層的支援会議, with the person's consent (DOMAIN.md §2 steps 5–7), not at a 支援会議.
BRIEFING_CATEGORIES = (
    InformationCategory.BASIC,
    InformationCategory.HOUSEHOLD,
    InformationCategory.ISSUES,
    InformationCategory.HEALTH,
    InformationCategory.PROGRESS,
)
#: what may be chosen for a household member besides their place in the household (世帯の状況)
MEMBER_CATEGORIES = (InformationCategory.BASIC, InformationCategory.ISSUES, InformationCategory.HEALTH)
COMPOSITION = InformationCategory.HOUSEHOLD
#: 支援経過 in a briefing: the latest notes only
PROGRESS_NOTES = 10
FORMAT = 2
PSEUDONYM = "本人（仮名）"
REDACTED = "〇〇"

STAFF, EXTERNAL = "staff", "external"
AUDIENCE_LABELS = {STAFF: "職員の構成員", EXTERNAL: "外部の構成員"}


@dataclass(frozen=True)
class BriefingChoice:
    """What the host shares of one case: the case's categories; each household member shown (by
    person id) with their own categories (COMPOSITION always, for a member who appears at all);
    whether external members see names (`external_named`, off: 仮名化) and whether everyone sees the
    pseudonymised version (`pseudonymised`)."""

    categories: frozenset[str]
    members: dict[int, frozenset[str]] = field(default_factory=dict)
    external_named: bool = False
    pseudonymised: bool = False

    def as_json(self) -> dict:
        return {
            "categories": [c for c in InformationCategory.values if c in self.categories],
            "members": {
                str(pk): [c for c in InformationCategory.values if c in cats]
                for pk, cats in sorted(self.members.items())
            },
            "external_named": self.external_named,
            "pseudonymised": self.pseudonymised,
        }

    def external_pseudonymised(self) -> bool:
        return self.pseudonymised or not self.external_named


@dataclass
class MemberOption:
    """One current household member as the host may share them: `available` are the member's own
    categories the host can see (their own basis on that member), `is_subject` for the case's 本人."""

    person_id: int
    relationship: str
    name: str
    is_subject: bool
    available: frozenset[str]


@dataclass
class BriefingRendering:
    staff: dict
    external: dict

    @property
    def digest(self) -> str:
        """A fingerprint of both renderings: the preview the host saw, and what is frozen, compare equal."""
        text = json.dumps([self.staff, self.external], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def audience(user: User) -> str:
    """Which rendering a member reads: an account that works for no agency (a meeting-only account:
    民生委員, a school social worker, a resident) is an external member."""
    return STAFF if user.agencies else EXTERNAL


def attach_contents(rows, meeting, user: User) -> list:
    """Give each briefing of `meeting` the frozen rendering `user` reads (`briefing.content`): an
    external member the external one, a staff member the staff one; the host reads the staff one and
    sees the external one beside it (`briefing.external_content`)."""
    external = meeting.host_id != user.pk and audience(user) == EXTERNAL
    for briefing in rows:
        briefing.content = briefing.external_sections if external else briefing.sections
        briefing.audience = EXTERNAL if external else STAFF
        briefing.external_content = briefing.external_sections if meeting.host_id == user.pk else None
    return rows


# --- What the host may choose ------------------------------------------------------------------


def _current_members(case: Case) -> list[HouseholdMember]:
    if not case.household_id:
        return []
    return list(
        HouseholdMember.objects.filter(household_id=case.household_id, left_on__isnull=True)
        .select_related("person")
        .prefetch_related(
            "person__attributes", Prefetch("cares_for", HouseholdMember.objects.only("relationship"))
        )
        .order_by("pk")
    )


def member_options(host: User, case: Case) -> list[MemberOption]:
    """The household as the host may share it: each current member with the categories of their own
    that the host's own basis on that member opens (cases.selectors.person_decisions); a member the
    host has no basis for can appear with their place in the household only."""
    from cases.selectors import person_decisions

    members = _current_members(case)
    decisions = person_decisions(host, [m.person_id for m in members])
    options = []
    for member in members:
        decision = decisions.get(member.person_id)
        opened = decision.categories if decision is not None else frozenset()
        options.append(
            MemberOption(
                person_id=member.person_id,
                relationship=member.relationship,
                name=member.person.name,
                is_subject=member.person_id == case.person_id,
                available=frozenset(c for c in MEMBER_CATEGORIES if c in opened),
            )
        )
    return options


def choice_clamp(host: User, case: Case, choice: BriefingChoice, options=None) -> BriefingChoice:
    """The choice narrowed to what the host may share: the case's categories within the host's own
    decision on the case (`case.decision`), each member's within the host's basis on that member, and
    only current members. The host can only pass on what they may see."""
    opened = case.decision.categories if getattr(case, "decision", None) is not None else frozenset()
    categories = frozenset(c for c in choice.categories if c in BRIEFING_CATEGORIES and c in opened)
    options = member_options(host, case) if options is None else options
    members = {}
    for option in options:
        if option.is_subject or option.person_id not in choice.members:
            continue
        members[option.person_id] = frozenset({COMPOSITION}) | (
            choice.members[option.person_id] & option.available
        )
    return BriefingChoice(categories, members, choice.external_named, choice.pseudonymised)


def default_choice(options: list[MemberOption], categories=(COMPOSITION,)) -> BriefingChoice:
    """Every member with their place in the household, nothing of their own; external members get the
    pseudonymised version."""
    members = {o.person_id: frozenset({COMPOSITION}) for o in options if not o.is_subject}
    return BriefingChoice(frozenset(categories), members)


# --- Rendering ---------------------------------------------------------------------------------


def _label(value) -> str:
    if isinstance(value, HouseholdMember):
        return value.relationship  # whom a member cares for, by their place, never by name
    return str(getattr(value, "label", None) or value)


def _display(obj: models.Model, name: str) -> str:
    model_field = obj._meta.get_field(name)
    if model_field.many_to_many:
        return "、".join(_label(item) for item in getattr(obj, name).all())
    value = getattr(obj, name)
    if value is None or value == "" or value is False:
        return ""
    if model_field.choices:
        return str(getattr(obj, f"get_{name}_display")())
    if value is True:
        return "はい"
    if isinstance(value, datetime | date):
        return to_wareki(value)
    if isinstance(value, models.Model):
        return _label(value)
    return str(value)


def _age_rows(person: Person, pseudonymised: bool) -> list[dict]:
    """The birth date as a briefing gives it: the age (and the date itself, named); pseudonymised, an
    age band only."""
    age = person.age if is_shared(person, "birth_date") and person.birth_date else None
    if age is None:
        return []
    if pseudonymised:
        return [{"label": "年代", "value": "10歳未満" if age < 10 else f"{age // 10 * 10}歳代"}]
    rows = [{"label": "年齢", "value": f"{age}歳"}]
    if person.birth_date_precision == BirthDatePrecision.EXACT:
        rows.append({"label": "生年月日", "value": to_wareki(person.birth_date)})
    return rows


class _Renderer:
    """Renders records through their projection: the shared, declared fields of each, by category."""

    def __init__(self, pseudonymised: bool, names: list[str]):
        self.pseudonymised = pseudonymised
        parts = {p for n in names for p in [n, n.replace(" ", ""), *n.split()] if len(p) >= 2}
        self._names = sorted(parts, key=len, reverse=True)

    def redact(self, text: str) -> str:
        if not self.pseudonymised:
            return text
        text = re.sub(r"C-\d{6}", REDACTED, text)
        for name in self._names:
            text = text.replace(name, REDACTED)
        return text

    def rows(self, obj: models.Model, decision: AccessDecision) -> dict[str, list[dict]]:
        """{category: [{label, value}]} of what `project(obj, decision)` leaves shared."""
        project(obj, decision)
        hidden = set(declared(obj, "location"))
        if self.pseudonymised:
            hidden |= set(declared(obj, "identifying"))
        by_category: dict[str, list[dict]] = {}
        for category, names in obj.FIELD_POLICY.get("categories", {}).items():
            for name in names:
                if name == "birth_date" and isinstance(obj, Person):
                    rows = _age_rows(obj, self.pseudonymised)
                elif name == "birth_date_precision" or name in hidden or not is_shared(obj, name):
                    continue  # (the precision is given with the birth date)
                else:
                    value = _display(obj, name)
                    rows = [
                        {"label": str(obj._meta.get_field(name).verbose_name), "value": self.redact(value)}
                    ]
                    rows = rows if value else []
                by_category.setdefault(category, []).extend(rows)
        return by_category


def _meeting_decision(categories) -> AccessDecision:
    return AccessDecision(
        AccessBasis.SUPPORT_MEETING, categories=frozenset(categories), note="支援会議の資料"
    )


def render(case: Case, choice: BriefingChoice, *, pseudonymised: bool) -> dict:
    """One rendering of the briefing (see the module docstring). The records are read afresh, not
    taken from the host's projected page objects, and projected here through the choice."""
    from cases.models import Assessment, Consultation, ProgressNote

    case = (
        Case.objects.select_related("person", "household", "close_reason", "suspend_reason")
        .prefetch_related("issues", "person__attributes")
        .get(pk=case.pk)
    )
    members = _current_members(case) if COMPOSITION in choice.categories else []
    names = [case.person.name, *(m.person.name for m in members)]
    if case.household is not None:
        names.append(case.household.name)
    renderer = _Renderer(pseudonymised, names)
    decision = _meeting_decision(choice.categories)
    groups: dict[str, list[dict]] = {c: [] for c in BRIEFING_CATEGORIES}

    def add(title: str, by_category: dict[str, list[dict]]) -> None:
        for category, rows in by_category.items():
            if rows and category in groups:
                groups[category].append({"title": title, "rows": rows})

    add("本人", renderer.rows(case.person, decision))
    add("支援ケース", renderer.rows(case, decision))
    consultation = (
        Consultation.objects.filter(case=case)
        .select_related("main_issue", "referred_to")
        .prefetch_related("issues")
        .order_by("received_at", "pk")
        .first()
    )
    if consultation is not None:
        add(f"相談受付（{to_wareki(consultation.received_at)}）", renderer.rows(consultation, decision))
    assessment = Assessment.objects.filter(case=case).prefetch_related("issues").order_by("-version").first()
    if assessment is not None:
        add(f"アセスメント 第{assessment.version}版", renderer.rows(assessment, decision))
    if case.household is not None and COMPOSITION in choice.categories:
        add("世帯", renderer.rows(case.household, decision))
    for member in members:
        if member.person_id == case.person_id:
            own = decision  # the 本人's own row: what the case's choice opens
        elif member.person_id in choice.members:
            own = _meeting_decision(choice.members[member.person_id] | {COMPOSITION})
        else:
            continue  # a member the host left out does not appear at all
        rows = renderer.rows(member, own)
        person_rows = renderer.rows(member.person, own) if member.person_id != case.person_id else {}
        # 続柄 is the group's title, not a row of it
        relationship = str(HouseholdMember._meta.get_field("relationship").verbose_name)
        flat = [
            row
            for category in InformationCategory.values
            for row in rows.get(category, []) + person_rows.get(category, [])
            if row["label"] != relationship
        ]
        title = member.relationship if pseudonymised else f"{member.relationship} {member.person.name}"
        groups[COMPOSITION].append({"title": title, "rows": flat})
    if InformationCategory.PROGRESS in choice.categories:
        notes = ProgressNote.objects.filter(case=case).order_by("-occurred_at", "-pk")[:PROGRESS_NOTES]
        for note in notes:
            add(f"{to_wareki(note.occurred_at)} {note.get_kind_display()}", renderer.rows(note, decision))
    return {
        "format": FORMAT,
        "case_number": "" if pseudonymised else case.number,
        "person": PSEUDONYM if pseudonymised else case.person.name,
        "pseudonymised": pseudonymised,
        "sections": [
            {"category": c, "title": InformationCategory(c).label, "groups": groups[c]}
            for c in BRIEFING_CATEGORIES
            if c in choice.categories and groups[c]
        ],
    }


def render_both(case: Case, choice: BriefingChoice) -> BriefingRendering:
    """The staff and the external rendering of a (clamped) choice."""
    return BriefingRendering(
        staff=render(case, choice, pseudonymised=choice.pseudonymised),
        external=render(case, choice, pseudonymised=choice.external_pseudonymised()),
    )


def briefing_preview(*, meeting, case: Case, acting_user: User, choice: BriefingChoice):
    """What each kind of member will see if the host shares `choice` now: (clamped choice, rendering).
    Only the host previews; `case` comes from case_get_for_user (its decision bounds the choice)."""
    if meeting.host_id != acting_user.pk:
        raise PermissionDenied("資料を共有できるのは会議の主催者です。")
    choice = choice_clamp(acting_user, case, choice)
    return choice, render_both(case, choice)


# --- Briefings frozen before the item-by-item choice ---------------------------------------------


def from_v1(old: dict, *, pseudonymised: bool) -> dict:
    """A briefing frozen in the first format ({summary, household, issues, risks}) in the current one,
    read under today's rule: a household member other than the 本人 appears with their place in the
    household only (their 本人の課題 was never chosen for them). The original stays in the history."""
    if not old or old.get("format") == FORMAT:
        return old
    names = [old.get("person", ""), *((row.get("氏名") or "") for row in old.get("household") or [])]
    redact = _Renderer(pseudonymised, [n for n in names if n and n != PSEUDONYM]).redact
    issues = []
    if old.get("issues"):
        issues.append({"label": "課題分類", "value": "、".join(old["issues"])})
    if old.get("risks"):
        issues.append({"label": "リスク", "value": "、".join(old["risks"])})
    for label in ("主訴", "見立て"):
        if (old.get("summary") or {}).get(label):
            issues.append({"label": label, "value": redact(old["summary"][label])})
    members = []
    for row in old.get("household") or []:
        subject = row.get("続柄") == "本人"
        rows = []
        if row.get("年齢") is not None:
            age = row["年齢"]
            rows.append(
                {"label": "年代", "value": f"{age // 10 * 10}歳代"}
                if pseudonymised
                else {"label": "年齢", "value": f"{age}歳"}
            )
        for role in filter(None, (row.get("役割") or "").split("、")):
            rows.append({"label": role, "value": "はい"})
        if subject and row.get("本人の課題"):
            rows.append({"label": "本人の課題", "value": redact(row["本人の課題"])})
        name = "" if pseudonymised else row.get("氏名", "")
        members.append({"title": f"{row.get('続柄', '')} {name}".strip(), "rows": rows})
    sections = []
    if issues:
        sections.append(
            {
                "category": "issues",
                "title": InformationCategory.ISSUES.label,
                "groups": [{"title": "支援ケース", "rows": issues}],
            }
        )
    if members:
        sections.append(
            {"category": "household", "title": InformationCategory.HOUSEHOLD.label, "groups": members}
        )
    return {
        "format": FORMAT,
        "case_number": "" if pseudonymised else old.get("case_number", ""),
        "person": PSEUDONYM if pseudonymised else old.get("person", ""),
        "pseudonymised": pseudonymised,
        "sections": sections,
    }
