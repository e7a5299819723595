"""Permission-aware reads for 包括的相談支援. Every view, search, count and export starts here.

A case is visible through a valid grant (jusou.access.grants: 担当 by agency or person, and later 支援会議
and 本人同意) or, read-only, to a supervisor. People, households and consultations are visible
through a visible case, or because the user's agency registered or recorded them. Anything else
answers 404, exactly like a record that does not exist.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone

from cases.models import (
    OPEN_STATUSES,
    Assessment,
    Case,
    CaseHandover,
    CaseStatus,
    Code,
    Consultation,
    HandoverStatus,
    Household,
    HouseholdMember,
    Person,
    ProgressNote,
)
from cases.policy import apply_household_policy, apply_location_policy, confidential_today, mask_sensitive
from jusou.access.decision import AccessDecision, combine, decide
from jusou.access.fieldpolicy import is_shared, project
from jusou.access.grants import access_decision, per_request, visible_or_404, visible_q
from jusou.audit.readlog import DUPLICATE_CHECK, duplicate_checks_within_hour, read_log
from jusou.ja.text import normalize_for_search
from jusou.models import AccessBasis, AccessGrant, ReadLog, Role, User
from jusou.registry import consent_cases_opening, consent_scope, person_consent_categories, person_consent_ids


def is_supervisor(user: User) -> bool:
    return user.has_role(Role.SUPERVISOR)


def coordinators() -> QuerySet[User]:
    """Staff currently working as 相談支援包括化推進員."""
    from jusou.models import StaffMembership

    return User.objects.filter(
        is_active=True,
        pk__in=StaffMembership.objects.active().filter(role=Role.COORDINATOR).values("user_id"),
    ).order_by("pk")


# --- Cases --------------------------------------------------------------------------------------


def cases_visible_to(user: User, *, per_row: bool = False) -> QuerySet[Case]:
    """The cases the user may see. `per_row` when the caller's other filters leave only a few
    candidates (see jusou.access.grants.visible_q)."""
    if is_supervisor(user):
        return Case.objects.all()
    return Case.objects.filter(visible_q(user, Case, per_row=per_row))


def case_get_for_user(user: User, pk: int, *, for_change: bool = False) -> Case:
    """The case if the user may see it, else Http404 (same as a missing case), with its access
    decision attached (`case.decision`) and the case and its 本人 projected through it. With
    `for_change`, a case the user may only read answers 403."""
    related = ("person", "household", "owning_agency", "lead_worker", "close_reason", "suspend_reason")
    case = visible_or_404(
        cases_visible_to(user, per_row=True).select_related(*related),
        user=user,
        pk=pk,
        message="支援ケースが見つかりません。",
    )
    if for_change and not case_can_change(user, case):
        raise PermissionDenied("このケースを更新する権限がありません。")
    decision = case_decision(user, case)
    project(case, decision)
    project(case.person, decision)
    if case.household is not None:
        project(case.household, decision)
    return case


def case_decision(user: User, case: Case) -> AccessDecision:
    """Why and how far `user` sees `case`: the strongest of their valid grants on it for the log, and
    what they open together — everything on 担当 or 緊急閲覧, on 本人同意 alone only the categories
    the person consented to share with the reader's agency; a supervisor by role. Computed once per
    case instance (`case.decision`)."""
    decision = getattr(case, "decision", None)
    if decision is not None:
        return decision
    decision = access_decision(user, case, consent_categories=lambda: consent_scope(user, case))
    if is_supervisor(user):
        decision = combine(decision, AccessDecision.supervisor())
    if decision is None:
        raise Http404("支援ケースが見つかりません。")
    case.decision = decision
    return decision


def case_can_change(user: User, case: Case) -> bool:
    """Supervisors read everything but change nothing; others need a valid 'change' grant."""
    return Case.objects.filter(pk=case.pk).filter(visible_q(user, Case, "change", per_row=True)).exists()


def case_page_can_change(request, case: Case) -> bool:
    """case_can_change asked once per request and case: the case page and each app's panel on it all
    need the answer (services ask case_can_change themselves, never this)."""
    memo = request.__dict__.setdefault("_case_can_change", {})
    if case.pk not in memo:
        memo[case.pk] = case_can_change(request.user, case)
    return memo[case.pk]


def _consent_only_case_ids(user: User) -> set[int]:
    """Cases the user holds on 本人同意 alone (no 担当 or 緊急閲覧 grant besides: jusou.access.decision.decide),
    in two queries whatever the number of cases."""
    case_grants = AccessGrant.objects.valid().filter(
        content_type=ContentType.objects.get_for_model(Case), permission="view"
    )
    # The user's and their agencies' consent grants as two index-only reads (an OR of the two would
    # read every grant row of the agency from the table).
    consent = case_grants.filter(basis=AccessBasis.CONSENT)
    candidates = set(
        consent.personal(user)
        .values_list("object_id", flat=True)
        .union(consent.filter(agency__in=user.agencies).values_list("object_id", flat=True))
    )
    if not candidates:
        return set()
    stronger = case_grants.held_by(user).filter(object_id__in=candidates).exclude(basis=AccessBasis.CONSENT)
    return candidates - set(stronger.values_list("object_id", flat=True))


def cases_opening(user: User, category: str, *, per_row: bool = False) -> QuerySet[Case]:
    """The cases the user may see whose decision opens `category` — case_decision for a whole list
    at once: everything visible, except the cases seen on 本人同意 alone whose valid consents do not
    name the category. `per_row` as for cases_visible_to."""
    visible = cases_visible_to(user, per_row=per_row)
    if is_supervisor(user):
        return visible
    consent_only = _consent_only_case_ids(user)
    if not consent_only:
        return visible
    return visible.exclude(pk__in=consent_only - consent_cases_opening(user, consent_only, category))


class OutsideConsent(PermissionDenied):
    code = "outside_consent"


def require_case_section(user: User, case: Case, section: str) -> AccessDecision:
    """Refuse (403) a record that belongs to a part of the case the user's decision does not open: a
    plan, say, when their only basis is a 本人同意 that does not cover 支援プラン. Returns the decision."""
    decision = case_decision(user, case)
    if not decision.covers(section):
        raise OutsideConsent("本人同意の範囲に含まれない情報です。")
    return decision


@dataclass
class CaseFilters:
    scope: str = "agency"  # mine | agency | all (supervisors)
    status: str = ""
    issue: int | None = None
    risk: bool = False
    worker: int | None = None
    overdue: bool = False
    q: str = ""

    SCOPES = {"mine": "担当", "agency": "所属機関", "all": "すべて"}

    def describe(self) -> str:
        """The filters in words, for the read log of the list (「ケース一覧（担当・支援中）」)."""
        parts = [self.SCOPES.get(self.scope, self.scope)]
        if self.status:
            parts.append(CaseStatus(self.status).label if self.status in CaseStatus.values else self.status)
        if self.issue:
            parts.append(
                f"課題分類: {Code.objects.filter(pk=self.issue).values_list('label', flat=True).first() or '—'}"
            )
        if self.risk:
            parts.append("リスクあり")
        if self.worker:
            worker = User.objects.filter(pk=self.worker).first()
            parts.append(f"担当者: {worker or '—'}")
        if self.overdue:
            parts.append("対応予定日超過")
        return "・".join(parts)


def case_list(user: User, filters: CaseFilters) -> QuerySet[Case]:
    """The case list, filtered, in a fixed number of queries whatever the page size."""
    cases = cases_visible_to(user)
    if filters.scope == "mine":
        cases = cases.filter(lead_worker=user)
    elif filters.scope == "agency" and not is_supervisor(user):
        cases = cases.filter(owning_agency__in=user.agencies)
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.issue:
        # EXISTS, not a join: a join through the M2M table would need DISTINCT over the whole list.
        cases = cases.filter(
            Exists(Case.issues.through.objects.filter(case=OuterRef("pk"), code=filters.issue))
        )
    if filters.risk:
        cases = cases.filter(Q(risk_abuse=True) | Q(risk_suicide=True) | Q(risk_life=True))
    if filters.worker:
        cases = cases.filter(lead_worker_id=filters.worker)
    if filters.overdue:
        cases = cases.filter(status__in=OPEN_STATUSES, next_follow_up_on__lt=timezone.localdate())
    if filters.q:
        key = normalize_for_search(filters.q)
        cases = cases.filter(Q(person__name_search__contains=key) | Q(person__kana_search__contains=key))
    # The related rows are fetched for the page only (three small IN queries), so the database sorts
    # the visible cases alone instead of joining every one of them (thousands for a coordinator) first.
    # The page's people come with whether 住所秘匿 is in force for them today (case_list_rows), read
    # in the same query instead of one more.
    people = Person.objects.annotate(**confidential_today())
    return cases.prefetch_related(
        Prefetch("person", queryset=people), "owning_agency", "lead_worker"
    ).order_by("-opened_at", "-pk")


RISK_Q = Q(risk_abuse=True) | Q(risk_suicide=True) | Q(risk_life=True)


def cases_led_by(user: User) -> QuerySet[Case]:
    """The user's own open cases (主担当者), among those they may see: a case they are still named on
    but no longer hold a grant for (they moved to another agency, say) is not theirs to count."""
    # A worker leads tens of cases, not the thousands their agency holds: they are found once per
    # request (each probed, per_row, rather than the agency's whole visible set built), and the
    # dashboard panels' counts and lists read those ids instead of checking the rule again each.
    ids = per_request(
        ("cases_led_by", user.pk),
        lambda: list(
            cases_visible_to(user, per_row=True)
            .filter(lead_worker=user, status__in=OPEN_STATUSES)
            .values_list("pk", flat=True)
        ),
    )
    return Case.objects.filter(pk__in=ids)


def case_counts_for_dashboard(user: User) -> dict[str, int]:
    """Counts for the worker's panel, from the same selector as the list (one query)."""
    today = timezone.localdate()
    return cases_led_by(user).aggregate(
        open=Count("pk"),
        follow_up_due=Count("pk", filter=Q(next_follow_up_on__lte=today)),
        risk=Count("pk", filter=RISK_Q),
    )


def worker_dashboard(user: User, *, limit: int = 5) -> dict:
    """The worker's cases needing action: counts, and the first few of each as rows that carry no
    要配慮個人情報 (case number and name, like the case list). Three queries whatever the numbers."""
    mine = cases_led_by(user).select_related("person")
    today = timezone.localdate()
    return {
        "counts": case_counts_for_dashboard(user),
        "follow_up_due": mask_sensitive(
            mine.filter(next_follow_up_on__lte=today).order_by("next_follow_up_on", "pk")[:limit]
        ),
        "risk": mask_sensitive(mine.filter(RISK_Q).order_by("-opened_at", "-pk")[:limit]),
    }


def month_starts(months: int) -> list[date]:
    """The first day of each of the last `months` months, the current one last (Asia/Tokyo)."""
    today = timezone.localdate()
    index = today.year * 12 + today.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - months + 1, index + 1)]


def local_midnight(day: date):
    return timezone.make_aware(datetime.combine(day, time.min))


def consultation_trends(user: User, *, months: int = 12, top: int = 5) -> dict:
    """Consultations received per month over the last `months` months, by main 課題分類: the `top`
    most frequent categories and その他 for the rest (the code その他 included). One grouped
    query over what the user may see; the folding into top N happens on the grouped rows."""
    starts = month_starts(months)
    rows = (
        consultations_visible_to(user)
        .filter(received_at__gte=local_midnight(starts[0]))
        .annotate(month=TruncMonth("received_at"))
        .values("month", "main_issue__code", "main_issue__label", "main_issue__order")
        .annotate(n=Count("pk"))
        .order_by()
    )
    position = {(d.year, d.month): i for i, d in enumerate(starts)}
    by_issue: dict[str, list[int]] = {}
    labels: dict[str, tuple[int, str]] = {}
    for row in rows:
        month = row["month"]
        i = position.get((month.year, month.month))
        if i is None:
            continue
        code = row["main_issue__code"]
        labels[code] = (row["main_issue__order"], row["main_issue__label"])
        by_issue.setdefault(code, [0] * len(starts))[i] += row["n"]
    ranked = sorted(
        (code for code in by_issue if code != "other"), key=lambda c: (-sum(by_issue[c]), labels[c][0], c)
    )
    series = [(labels[code][1], by_issue[code]) for code in ranked[:top]]
    rest = [code for code in by_issue if code not in ranked[:top]]
    if rest:
        series.append(("その他", [sum(by_issue[c][i] for c in rest) for i in range(len(starts))]))
    return {
        "months": starts,
        "series": series,
        "totals": [sum(v[i] for _, v in series) for i in range(len(starts))],
    }


def case_status_counts(user: User) -> list[tuple[str, int]]:
    """Cases the user may see, by status, in the state machine's order (one grouped query)."""
    counts = dict(cases_visible_to(user).values_list("status").annotate(n=Count("pk")).order_by())
    return [(status.label, counts.get(status.value, 0)) for status in CaseStatus]


@dataclass
class TimelineEntry:
    at: object
    kind: str
    title: str
    body: str
    who: str
    obj: object


#: the case page shows this many of the newest timeline entries; 「すべて表示」 shows the rest
TIMELINE_PAGE = 50


def case_handovers(case: Case) -> list[CaseHandover]:
    """The case's handovers to a next lead agency, newest first, with who did what (one query): for the
    case page and its timeline, to whoever may open the case."""
    return list(
        case.handovers.select_related("from_agency", "to_agency", "requested_by", "decided_by").order_by(
            "-requested_at", "-pk"
        )
    )


def handover_get_for_user(user: User, pk) -> CaseHandover:
    """A handover through its case: missing and forbidden take the same path (404)."""
    handovers = CaseHandover.objects.filter(case__in=cases_visible_to(user).values("pk")).select_related(
        "case", "from_agency", "to_agency", "from_lead_worker", "requested_by", "decided_by"
    )
    return visible_or_404(handovers, user=user, pk=pk, message="引継ぎが見つかりません。")


def handovers_visible_to(user: User):
    return CaseHandover.objects.filter(case__in=cases_visible_to(user).values("pk"))


def handover_waiting_cases(user: User) -> QuerySet[Case]:
    """Cases handed over to one of the agencies the user takes cases for (相談員・推進員 there) and
    waiting for it to accept or decline, oldest first — among the cases the user may see (the
    agency's 担当 grant is their basis). Each carries `handed_at` and `handed_from` (the agency's name)."""
    agencies = [
        m.agency_id
        for m in user.active_memberships
        if m.agency_id and m.role in (Role.WORKER, Role.COORDINATOR)
    ]
    if not agencies:
        return Case.objects.none()
    pending = CaseHandover.objects.filter(status=HandoverStatus.PENDING, to_agency__in=agencies)
    # Most days nothing waits: one index probe, and the visibility condition is built only for the
    # few cases that do (each probed row by row).
    waiting_ids = list(pending.values_list("case_id", flat=True))
    if not waiting_ids:
        return Case.objects.none()
    waiting = pending.filter(case=OuterRef("pk"))
    return (
        cases_visible_to(user, per_row=True)
        .filter(pk__in=waiting_ids)
        .annotate(
            handed_at=Subquery(waiting.values("requested_at")[:1]),
            handed_from=Subquery(waiting.values("from_agency__name")[:1]),
        )
        .order_by("handed_at", "pk")
    )


def case_timeline(
    case: Case, *, limit: int | None = None, handovers: list[CaseHandover] | None = None
) -> tuple[list[TimelineEntry], bool]:
    """Consultations, notes, assessments, transitions and handovers of the case, newest first (5
    queries; 4 when the page passes the `handovers` it read), and whether there are more: with
    `limit`, each source is read newest first up to `limit` rows, so a case with years of notes
    renders its latest ones in the same time as a new case. Only what the case's decision
    (`case.decision`) opens: notes, transitions and handovers are 支援経過, consultations (主訴) and
    assessments (見立て) are 課題・アセスメント."""
    decision = case.decision

    def newest(rows):
        return rows[:limit] if limit else rows

    entries = []
    if decision.covers("issues"):
        consultations = case.consultations.select_related("recorded_by", "channel").order_by(
            "-received_at", "-pk"
        )
        for c in newest(consultations):
            entries.append(
                TimelineEntry(
                    c.received_at,
                    "consultation",
                    f"相談受付（{c.channel}）",
                    c.summary,
                    str(c.recorded_by),
                    c,
                )
            )
        for a in newest(case.assessments.select_related("author").order_by("-created_at", "-pk")):
            entries.append(
                TimelineEntry(
                    a.created_at,
                    "assessment",
                    f"アセスメント 第{a.version}版",
                    a.formulation,
                    str(a.author),
                    a,
                )
            )
    if decision.covers("progress"):
        for n in newest(case.notes.select_related("author").order_by("-occurred_at", "-pk")):
            entries.append(
                TimelineEntry(
                    n.occurred_at, "note", f"経過記録（{n.get_kind_display()}）", n.content, str(n.author), n
                )
            )
        for t in newest(case.transitions.select_related("actor").order_by("-at", "-pk")):
            title = f"状態変更: {t.get_from_status_display()} → {t.get_to_status_display()}"
            entries.append(TimelineEntry(t.at, "transition", title, t.reason, str(t.actor), t))
        for h in handovers if handovers is not None else case_handovers(case):
            moved = f"{h.from_agency} → {h.to_agency}"
            entries.append(
                TimelineEntry(
                    h.requested_at, "handover", f"主担当機関の移行: {moved}", h.reason, str(h.requested_by), h
                )
            )
            if h.decided_at is not None:
                entries.append(
                    TimelineEntry(
                        h.decided_at,
                        "handover",
                        f"引継ぎの{h.get_status_display()}: {moved}",
                        h.decline_reason,
                        str(h.decided_by),
                        h,
                    )
                )
    entries.sort(key=lambda e: e.at, reverse=True)
    if limit and len(entries) > limit:
        return entries[:limit], True
    return entries, False


def case_latest_assessment(case: Case) -> Assessment | None:
    return case.assessments.select_related("author").prefetch_related("issues").order_by("-version").first()


def household_panel(user: User, household: Household | None, decision: AccessDecision | None = None):
    """The household's current members, each with the cases of theirs that the user may see, and
    each projected on their *own* basis: a member the user has no basis for shows only their place
    in the household (氏名, 続柄, 同居, 主介護者・キーパーソン — the household's composition, part of the
    本人's 世帯の状況) and nothing of their own (age, contact, 課題, 備考). Nothing at all unless
    `decision` (the reader's decision on the case or household) opens 世帯の状況."""
    if household is None or (decision is not None and not decision.covers("household")):
        return []
    # The members' own cases only: probed row by row, not the user's whole visible set built.
    visible = cases_visible_to(user, per_row=True).select_related("owning_agency")
    members = list(
        household.members.filter(left_on__isnull=True)
        .select_related("person")
        .prefetch_related(
            Prefetch("person__cases", queryset=visible, to_attr="visible_cases"),
            Prefetch("cares_for", queryset=HouseholdMember.objects.select_related("person")),
        )
        .order_by("pk")
    )
    # Their visible cases were just read (the prefetch above): the decisions take them as they are.
    own_decisions = person_decisions(
        user,
        [m.person_id for m in members],
        visible_cases={m.person_id: [c.pk for c in m.person.visible_cases] for m in members},
    )
    composition_only = AccessDecision("", categories=frozenset({"household"}))
    for member in members:
        own = own_decisions.get(member.person_id, composition_only)
        member.covered = member.person_id in own_decisions
        project(member.person, own)
        project(member, combine(own, composition_only))
    apply_location_policy(user, [m.person for m in members], log=False)
    return members


# --- People, households, consultations ---------------------------------------------------------


def _emergency_case_ids(user: User):
    """Cases the user holds a valid 緊急閲覧 grant on (生命・身体の保護 covers the whole household)."""
    return (
        AccessGrant.objects.valid()
        .filter(content_type=ContentType.objects.get_for_model(Case), user=user, basis=AccessBasis.EMERGENCY)
        .values("object_id")
    )


def _person_bases(user: User, *, with_case: bool = True, per_row: bool = False) -> dict[str, Q]:
    """The ways a person is covered for `user`, each on the person's *own* basis (DOMAIN.md §4: a
    household member's information needs that member's basis, even inside a case the reader may
    open): their agency registered the person or received a consultation about them (担当); a case of
    the person's that the user may see; the person's own 本人同意 naming the user's agency; 緊急閲覧 on
    a case of the household the person lives in. `per_row` probes the person's cases row by row (for a
    query narrowed to a few people) instead of building the user's whole visible case set."""
    agencies = user.agencies
    bases = {
        "own_agency": Q(registered_by_agency__in=agencies)
        | Q(Exists(Consultation.objects.filter(person=OuterRef("pk"), agency__in=agencies))),
        "emergency": Q(
            Exists(
                HouseholdMember.objects.filter(
                    person=OuterRef("pk"),
                    left_on__isnull=True,
                    household__in=Case.objects.filter(pk__in=_emergency_case_ids(user)).values("household"),
                )
            )
        ),
    }
    if with_case:
        bases["case"] = Q(Exists(cases_visible_to(user, per_row=per_row).filter(person=OuterRef("pk"))))
    for i, person_ids in enumerate(person_consent_ids(user)):
        bases[f"consent{i}"] = Q(pk__in=person_ids)
    return bases


#: the person bases person_decisions reads from a row of persons_visible_to(user, flags=True)
_FLAGS = ("basis_own_agency", "basis_emergency", "basis_consent")


def persons_visible_to(user: User, *, per_row: bool = False, flags: bool = False) -> QuerySet[Person]:
    """The people the user has a basis for (_person_bases). `per_row` when the caller's other filters
    leave only a few candidates (the same people, a query shaped for probing them one by one).
    `flags` also selects, for each row, which of the bases other than a case hold (_FLAGS), so that
    person_rows(user, …) decides on those rows without querying them again: the same conditions,
    read in the same query that tests them."""
    if is_supervisor(user):
        return Person.objects.all()
    bases = _person_bases(user, per_row=per_row)
    condition = None
    for basis in bases.values():
        condition = basis if condition is None else condition | basis
    people = Person.objects.filter(condition)
    return people.annotate(**_flag_columns(bases)) if flags else people


def _flag_columns(bases: dict[str, Q]) -> dict:
    """_FLAGS as annotations, from _person_bases."""
    consent = None
    for name, basis in bases.items():
        if name.startswith("consent"):
            consent = basis if consent is None else consent | basis
    columns = {
        "basis_own_agency": bases["own_agency"],
        "basis_emergency": bases["emergency"],
        "basis_consent": consent if consent is not None else Q(pk__in=[]),
    }
    return {name: ExpressionWrapper(q, output_field=BooleanField()) for name, q in columns.items()}


def person_decisions(user: User, person_ids, *, visible_cases=None, flags=None) -> dict[int, AccessDecision]:
    """Why and how far `user` sees each of these people, on each person's own bases only (see
    _person_bases): the strongest for the log, the union of what they open. Five queries whatever
    the number of people (a household panel of six costs what one person does). People the user has
    no basis for are absent. `visible_cases` ({person id: ids of their cases that
    cases_visible_to(user) returns}) when the caller has just read exactly those (the household
    panel's prefetch): they are not worked out again, only the grants on them read. `flags`
    ({person id: {flag: bool}} for every one of person_ids, _FLAGS) when the caller has just read the
    people with persons_visible_to(user, flags=True): the bases other than a case are not queried again."""
    ids = list(set(person_ids))
    if not ids:
        return {}
    decisions: dict[int, list] = {pk: [] for pk in ids}
    if is_supervisor(user):
        return {pk: AccessDecision.supervisor() for pk in ids}
    if flags is None:
        # The case basis is decided below from the grants on the people's own cases (basis and scope);
        # a flag for it would only build the user's whole visible case set for nothing.
        columns = _flag_columns(_person_bases(user, with_case=False))
        rows = Person.objects.filter(pk__in=ids).annotate(**columns).values("pk", *_FLAGS)
        flags = {pk: {name: False for name in _FLAGS} for pk in ids}
        flags.update({row["pk"]: row for row in rows})
    consented: set[int] = set()
    for pk in ids:
        row = flags[pk]
        if row["basis_own_agency"]:
            decisions[pk].append(AccessDecision.own_agency())
        if row["basis_emergency"]:
            decisions[pk].append(AccessDecision(AccessBasis.EMERGENCY))
        if row["basis_consent"]:
            consented.add(pk)
    # The same queries whether or not a basis is found, so that a page's cost does not depend on it.
    opened = person_consent_categories(user, ids)
    for pk in consented:
        decisions[pk].append(AccessDecision(AccessBasis.CONSENT, categories=frozenset(opened.get(pk, ()))))
    # These people's few cases probed row by row (not the user's whole visible set built), and the
    # grants on them read with each case's person in the same query.
    held = (
        AccessGrant.objects.valid()
        .held_by(user)
        .filter(content_type=ContentType.objects.get_for_model(Case), permission="view")
    )
    if visible_cases is None:
        # Each filter() clones what is built so far, so the cases' rule goes in last and in one call
        # (the same conditions; about 0.7 ms less CPU than chaining them).
        people_cases = Case.objects.filter(visible_q(user, Case, per_row=True), person_id__in=ids)
        grants = held.annotate(
            person_id=Subquery(Case.objects.filter(pk=OuterRef("object_id")).values("person_id")[:1])
        ).filter(object_id__in=people_cases.values("pk"))
        person_grants = [(grant, grant.person_id) for grant in grants]
    else:
        person_of = {
            case_id: person_id
            for person_id, case_ids in visible_cases.items()
            if person_id in decisions
            for case_id in case_ids
        }
        person_grants = [
            (grant, person_of[grant.object_id]) for grant in held.filter(object_id__in=list(person_of))
        ]
    by_case: dict[tuple[int, int], list] = {}
    for grant, person_id in person_grants:
        by_case.setdefault((grant.object_id, person_id), []).append(grant)
    for (_, person_id), case_grants in by_case.items():
        # A consent on the person's case is one of the person's own consents (opened above).
        decision = decide(case_grants, consent_categories=lambda pid=person_id: opened.get(pid, ()))
        decisions[person_id].append(decision)
    return {pk: combine(*found) for pk, found in decisions.items() if found}


def person_decision(user: User, person: Person) -> AccessDecision:
    if getattr(person, "decision", None) is not None:
        return person.decision
    decision = person_decisions(user, [person.pk]).get(person.pk)
    if decision is None:
        raise Http404("本人が見つかりません。")
    return decision


def person_to_link(user: User, pk: int) -> Person:
    """A person the user may attach a record to (the one chosen at intake, in an API push): only that
    they may see them, one query — nothing of theirs is rendered, so no decision is needed."""
    return visible_or_404(persons_visible_to(user), user=user, pk=pk, message="本人が見つかりません。")


def person_get_for_user(user: User, pk: int, *, log: bool = True) -> Person:
    """The person, projected through the user's decision on them (`person.decision`), with their
    whereabouts masked under 住所秘匿 unless the user is assigned."""
    # The decision is the visibility test (the same bases as persons_visible_to), made before the row
    # is read: a missing and a forbidden id cost the same.
    decision = person_decisions(user, [pk]).get(pk)
    people = Person.objects.all() if decision is not None else Person.objects.none()
    person = visible_or_404(people, user=user, pk=pk, message="本人が見つかりません。")
    project(person, decision)
    return apply_location_policy(user, [person], log=log)[0]


def person_can_change(user: User, person: Person) -> bool:
    """Staff of the registering agency, or anyone who may change one of the person's cases or a
    case of their household. Supervisors read only."""
    if not user.roles & {Role.WORKER, Role.COORDINATOR}:
        return False
    if person.registered_by_agency_id in {a.pk for a in user.agencies}:
        return True
    writable = Case.objects.filter(visible_q(user, Case, "change"))
    households = person.memberships.filter(left_on__isnull=True).values("household")
    return writable.filter(Q(person=person) | Q(household__in=households)).exists()


def household_can_change(user: User, household: Household) -> bool:
    if not user.roles & {Role.WORKER, Role.COORDINATOR}:
        return False
    if household.registered_by_agency_id in {a.pk for a in user.agencies}:
        return True
    return Case.objects.filter(visible_q(user, Case, "change")).filter(household=household).exists()


def _household_bases(user: User) -> dict[str, Q]:
    agencies = user.agencies
    return {
        "own_agency": Q(registered_by_agency__in=agencies)
        | Q(Exists(Consultation.objects.filter(household=OuterRef("pk"), agency__in=agencies))),
        "case": Q(Exists(cases_visible_to(user).filter(household=OuterRef("pk")))),
    }


def households_visible_to(user: User) -> QuerySet[Household]:
    if is_supervisor(user):
        return Household.objects.all()
    bases = _household_bases(user)
    return Household.objects.filter(bases["own_agency"] | bases["case"])


def household_decision(user: User, household: Household) -> AccessDecision:
    """The household record is the 世帯の状況 of the cases it holds: the agency that registered it or
    received a consultation about it (担当), else what the user's decisions on its cases open."""
    decisions = [AccessDecision.supervisor()] if is_supervisor(user) else []
    own = Household.objects.filter(pk=household.pk).filter(_household_bases(user)["own_agency"]).exists()
    if own:
        decisions.append(AccessDecision.own_agency())
    else:
        decisions += [
            case_decision(user, case) for case in cases_visible_to(user).filter(household=household)
        ]
    decision = combine(*decisions)
    if decision is None:
        raise Http404("世帯が見つかりません。")
    return decision


def household_get_for_user(user: User, pk: int) -> Household:
    """The household, projected through the user's decision on it (`household.decision`)."""
    household = visible_or_404(
        households_visible_to(user), user=user, pk=pk, message="世帯が見つかりません。"
    )
    project(household, household_decision(user, household))
    return apply_household_policy(user, [household])[0]


def _consultation_bases(user: User) -> tuple[Q, Q]:
    """The two ways a consultation is visible to staff: their agency received it, or it belongs to a
    case they may see."""
    return Q(agency__in=user.agencies), Q(case__in=cases_visible_to(user).values("pk"))


def consultations_visible_to(user: User) -> QuerySet[Consultation]:
    if is_supervisor(user):
        return Consultation.objects.all()
    received_here, of_visible_case = _consultation_bases(user)
    return Consultation.objects.filter(received_here | of_visible_case)


def consultation_decision(user: User, consultation: Consultation) -> AccessDecision:
    """A consultation the user's agency received is its own record (担当, whole); one seen only as
    part of a case is seen as far as the user's decision on that case goes."""
    decisions = [AccessDecision.supervisor()] if is_supervisor(user) else []
    if consultation.agency_id in {agency.pk for agency in user.agencies}:
        decisions.append(AccessDecision.own_agency())
    elif consultation.case_id:
        case = cases_visible_to(user, per_row=True).filter(pk=consultation.case_id).first()
        if case is not None:
            decisions.append(case_decision(user, case))
    decision = combine(*decisions)
    if decision is None:
        raise Http404("相談受付が見つかりません。")
    return decision


def consultation_get_for_user(user: User, pk: int) -> Consultation:
    """One consultation, projected through the user's decision on it (`consultation.decision`)."""
    consultation = visible_or_404(
        consultations_visible_to(user)
        .select_related(
            "agency",
            "recorded_by",
            "channel",
            "route",
            "first_noticed_by",
            "main_issue",
            "referred_to",
            "person",
        )
        .prefetch_related("issues"),
        user=user,
        pk=pk,
        message="相談受付が見つかりません。",
    )
    decision = consultation_decision(user, consultation)
    project(consultation, decision)
    if consultation.person is not None:
        project(consultation.person, decision)
    return consultation


def consultation_page(user: User, page_number, per_page: int):
    """One page of the consultation list, newest first. The rows come from the date index, tested
    against the visibility rule; the total is counted as two index-driven id sets united (received
    here, of a visible case), which the database does without testing every consultation of the
    city against the OR."""
    consultations = (
        consultations_visible_to(user)
        .select_related("agency", "person", "channel", "main_issue", "recorded_by", "case")
        .order_by("-received_at", "-pk")
    )
    paginator = Paginator(consultations, per_page)
    if not is_supervisor(user):
        ids = [
            Consultation.objects.filter(basis).order_by().values("pk") for basis in _consultation_bases(user)
        ]
        paginator.count = ids[0].union(ids[1]).count()
    page = paginator.get_page(page_number)
    page.object_list = consultation_list_rows(user, page.object_list)
    return page


def person_search(user: User, query: str, *, limit: int = 20) -> list[Person]:
    """People the user may see whose name or ふりがな contains the query, in any script or width."""
    key = normalize_for_search(query)
    if not key:
        return []
    people = persons_visible_to(user, flags=True).filter(
        Q(name_search__contains=key) | Q(kana_search__contains=key)
    )
    current = HouseholdMember.objects.filter(left_on__isnull=True).select_related("household")
    results = list(
        people.prefetch_related(
            Prefetch("memberships", queryset=current, to_attr="current_memberships")
        ).order_by("kana_search", "name_search", "pk")[:limit]
    )
    # Search results and autocomplete carry neither whereabouts nor 要配慮個人情報, and each person only
    # what the user's decision on them opens.
    person_rows(user, results)
    for person in results:
        mask_sensitive(person.current_memberships)
    return results


def case_number_pk(text: str) -> int | None:
    """The case a typed ケース番号 names: 「C-000005」, 「c5」, 「５」, 「Ｃ－０００００５」 … → 5; None if it is
    not one. (Whether the user may see it is the selector's question, not this one's.)"""
    folded = unicodedata.normalize("NFKC", text or "").strip().upper()
    folded = re.sub(r"[\s\-‐−ー－]", "", folded)
    match = re.fullmatch(r"C?0*(\d{1,12})", folded)
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def person_number_pk(text: str) -> int | None:
    """The person a typed 登録番号 (「P-000123」, Person.number) names, else None."""
    folded = re.sub(r"[\s\-‐−ー－]", "", unicodedata.normalize("NFKC", text or "").strip().upper())
    match = re.fullmatch(r"P0*(\d{1,12})", folded)
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def case_pick(user: User, query: str, *, limit: int = 10) -> list[Case]:
    """Cases for a picker: by ケース番号 (C-000005, 5) or by the 本人's name or ふりがな (any script or
    width), among the cases the user may see only — as list rows (no 要配慮個人情報)."""
    number = case_number_pk(query)
    cases = cases_visible_to(user)
    if number is not None:
        cases = cases.filter(pk=number)
    else:
        key = normalize_for_search(query)
        if not key:
            return []
        cases = cases.filter(Q(person__name_search__contains=key) | Q(person__kana_search__contains=key))
    people = Person.objects.annotate(**confidential_today())
    rows = cases.prefetch_related(Prefetch("person", queryset=people), "owning_agency").order_by(
        "-opened_at", "-pk"
    )
    return case_list_rows(user, rows[:limit])


def person_pick(user: User, query: str, *, limit: int = 10) -> list[Person]:
    """People for a picker: by 登録番号 (P-000123) or name/ふりがな, among those the user may see."""
    number = person_number_pk(query)
    if number is None:
        return person_search(user, query, limit=limit)
    return person_rows(user, persons_visible_to(user, flags=True).filter(pk=number))


def person_rows(user: User, people) -> list[Person]:
    """People as list rows (search results, the API's list): each projected through the user's own
    decision on that person (five queries for the page), no 要配慮個人情報, no 住所秘匿 whereabouts."""
    rows = list(people)
    flags = None
    if rows and all(hasattr(person, _FLAGS[0]) for person in rows):
        # read with persons_visible_to(user, flags=True): the bases come with the rows
        flags = {person.pk: {name: getattr(person, name) for name in _FLAGS} for person in rows}
    decisions = person_decisions(user, [person.pk for person in rows], flags=flags)
    for person in rows:
        project(person, decisions[person.pk])
    apply_location_policy(user, rows, log=False)
    return mask_sensitive(rows)


def case_list_rows(user: User, cases) -> list[Case]:
    """A page of the case list, as rows: no 要配慮個人情報, no whereabouts."""
    rows = mask_sensitive(cases)
    apply_location_policy(user, [case.person for case in rows], log=False)
    return rows


def consultation_list_rows(user: User, consultations) -> list[Consultation]:
    rows = mask_sensitive(consultations)
    apply_location_policy(user, [c.person for c in rows if c.person_id], log=False)
    return rows


@dataclass
class DuplicateCheck:
    visible: list[Person]
    known_elsewhere: bool
    hidden: list[Person]


def person_duplicates(
    user: User, *, name: str, kana: str = "", birth_date: date | None = None, atena_number: str | None = None
) -> DuplicateCheck:
    """People who may be the one being registered: same 宛名番号, or same name/ふりがな and birth date.

    `visible` are shown to pick from; of the others the user learns only that they exist
    (`known_elsewhere`), never who, where or why. `hidden` is for notifying the coordinators.

    Any agency may ask (an NPO as well as the person's own), and each check asks whether a person is
    known, so it is logged as a search about them: one row for the check, whatever it found (the
    question asked), and one naming each person it matched. Beyond DUPLICATE_CHECK_LIMIT checks in an
    hour it answers as if nobody matched — nothing to pick, nothing known elsewhere — and the
    supervisors are told (jusou.audit.readlog._flag_unusual); the coordinators still hear of a hidden match,
    which tells the user nothing. The limit counts checks, not what they found.
    """
    conditions = Q()
    if atena_number:
        conditions |= Q(atena_number=atena_number.strip())
    if birth_date:
        names = Q(name_search=normalize_for_search(name))
        if kana:
            names |= Q(kana_search=normalize_for_search(kana))
        conditions |= names & Q(birth_date=birth_date)
    if not conditions:
        return DuplicateCheck([], False, [])
    over_limit = duplicate_checks_within_hour(user) >= settings.DUPLICATE_CHECK_LIMIT
    matches = list(Person.objects.filter(conditions).select_related("registered_by_agency")[:20])
    visible_ids = set(
        persons_visible_to(user).filter(pk__in=[p.pk for p in matches]).values_list("pk", flat=True)
    )
    visible = [p for p in matches if p.pk in visible_ids]
    hidden = [p for p in matches if p.pk not in visible_ids]
    asked = "・".join(
        part
        for part in (
            f"{name} {birth_date.isoformat()}" if birth_date else "",
            "宛名番号" if atena_number else "",
        )
        if part
    )
    withheld = "（上限超過のため該当なしと回答）" if over_limit else ""
    read_log(
        user=user,
        action=ReadLog.Action.SEARCH,
        model=Person,
        detail=f"{DUPLICATE_CHECK}: {asked}（{len(matches)}件該当）{withheld}",
    )
    for person in matches:
        found = "候補として表示" if person.pk in visible_ids else "他機関で把握の可能性"
        read_log(
            user=user,
            action=ReadLog.Action.SEARCH,
            model=Person,
            object_id=person.pk,
            detail=f"{DUPLICATE_CHECK}: {found}{withheld}",
        )
    if over_limit:
        return DuplicateCheck([], False, hidden)
    return DuplicateCheck(visible, bool(hidden), hidden)


def person_confidentiality(person: Person, user: User | None = None):
    """The 住所秘匿 record in force for the person, if any. Who set it tells which agency supports the
    person (a DV victim's, say): `shows_setter` only for the lead worker of a case of the person and
    管理者; everyone else learns only that it applies."""
    from cases.models import AddressConfidentiality

    record = (
        AddressConfidentiality.objects.in_force().filter(person_id=person.pk).select_related("set_by").first()
    )
    if record is not None:
        record.shows_setter = user is not None and (
            is_supervisor(user) or Case.objects.filter(person_id=person.pk, lead_worker=user).exists()
        )
    return record


def person_detail_context(user: User, person: Person) -> dict:
    cases = cases_visible_to(user).filter(person=person).select_related("owning_agency", "lead_worker")
    consultations = (
        consultations_visible_to(user).filter(person=person).select_related("agency", "main_issue")
    )
    memberships = person.memberships.select_related("household").order_by("-joined_on", "-pk")
    own = {agency.pk for agency in user.agencies}
    rows = list(consultations[:50])
    # Another agency's consultation is seen through the user's decision on the person.
    if not person.decision.covers("issues"):
        mask_sensitive([c for c in rows if c.agency_id not in own])
    return {
        "person": person,
        "cases": list(cases),
        "consultations": rows,
        "memberships": list(memberships) if person.decision.covers("household") else [],
        "attributes": list(person.attributes.all()) if is_shared(person, "attributes") else None,
    }


def note_get_for_user(user: User, pk: int, *, for_change: bool = False) -> ProgressNote:
    """A progress note through its case's decision: one query decides for a missing note and a note of
    a case the user may not see alike (same 404, same path), then the case is fetched as for its page."""
    notes = ProgressNote.objects.filter(case__in=cases_visible_to(user).values("pk")).select_related("author")
    note = visible_or_404(notes, user=user, pk=pk, message="経過記録が見つかりません。")
    note.case = case_get_for_user(user, note.case_id, for_change=for_change)
    project(note, note.case.decision)
    return note


def household_member_get_for_user(user: User, pk: int) -> HouseholdMember:
    """A household membership through its household's decision (same 404 for missing and forbidden)."""
    members = HouseholdMember.objects.filter(household__in=households_visible_to(user).values("pk"))
    member = visible_or_404(
        members.select_related("person"), user=user, pk=pk, message="世帯員が見つかりません。"
    )
    member.household = household_get_for_user(user, member.household_id)
    return member


def emergency_accesses_for_review() -> QuerySet:
    """緊急閲覧 for the supervisors' review, paged: every unreviewed one first, then the most recently
    reviewed (NULLs sort last on PostgreSQL and first on SQLite: the order says where they go, so an
    unreviewed use never drops behind a hundred reviewed ones)."""
    from cases.models import EmergencyAccess

    return EmergencyAccess.objects.select_related("case", "user", "reviewed_by").order_by(
        F("reviewed_at").desc(nulls_first=True), "-opened_at", "-pk"
    )


def case_notes(case: Case) -> QuerySet[ProgressNote]:
    return case.notes.select_related("author")
