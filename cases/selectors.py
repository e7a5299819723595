"""Permission-aware reads for 包括的相談支援. Every view, search, count and export starts here.

A case is visible through a valid grant (jusou.access: 担当 by agency or person, and later 支援会議
and 本人同意) or, read-only, to a supervisor. People, households and consultations are visible
through a visible case, or because the user's agency registered or recorded them. Anything else
answers 404, exactly like a record that does not exist.
"""

from dataclasses import dataclass
from datetime import date, datetime, time

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone

from cases.models import (
    OPEN_STATUSES,
    Assessment,
    Case,
    CaseStatus,
    CaseTransition,
    Consultation,
    Household,
    HouseholdMember,
    Person,
    ProgressNote,
)
from cases.policy import apply_household_policy, apply_location_policy, mask_sensitive
from jusou.access import access_basis, visible_q
from jusou.models import AccessBasis, Role, User
from jusou.registry import consent_scope
from jusou.text import normalize_for_search


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
    candidates (see jusou.access.visible_q)."""
    if is_supervisor(user):
        return Case.objects.all()
    return Case.objects.filter(visible_q(user, Case, per_row=per_row))


def case_get_for_user(user: User, pk: int, *, for_change: bool = False) -> Case:
    """The case if the user may see it, else Http404 (same as a missing case). With `for_change`,
    a case the user may only read answers 403."""
    case = (
        cases_visible_to(user, per_row=True)
        .select_related(
            "person", "household", "owning_agency", "lead_worker", "close_reason", "suspend_reason"
        )
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404("支援ケースが見つかりません。")
    if for_change and not case_can_change(user, case):
        raise PermissionDenied("このケースを更新する権限がありません。")
    return case


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


def case_basis(user: User, case: Case) -> str:
    """The basis a read rests on, for the read log."""
    basis = access_basis(user, case)
    if basis is None and is_supervisor(user):
        return AccessBasis.SUPERVISOR
    return basis or ""


# The parts of a case record, named as the information categories a consent can open.
CASE_SECTIONS = ("basic", "household", "issues", "progress", "plan")


def case_read_scope(user: User, case: Case) -> tuple[str, set[str]]:
    """The basis of this read and the parts of the case it opens: everything, except that 本人同意
    as the only basis opens just the categories the person consented to share."""
    basis = case_basis(user, case)
    scope = consent_scope(user, case) if basis == AccessBasis.CONSENT else set(CASE_SECTIONS)
    return basis, scope


class OutsideConsent(PermissionDenied):
    code = "outside_consent"


def require_case_section(user: User, case: Case, section: str) -> None:
    """Refuse (403) a record that belongs to a part of the case the user's basis does not open: a
    plan, say, when their only basis is a 本人同意 that does not cover 支援プラン."""
    if section not in case_read_scope(user, case)[1]:
        raise OutsideConsent("本人同意の範囲に含まれない情報です。")


@dataclass
class CaseFilters:
    scope: str = "agency"  # mine | agency | all (supervisors)
    status: str = ""
    issue: int | None = None
    risk: bool = False
    worker: int | None = None
    overdue: bool = False
    q: str = ""


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
    return cases.prefetch_related("person", "owning_agency", "lead_worker").order_by("-opened_at", "-pk")


RISK_Q = Q(risk_abuse=True) | Q(risk_suicide=True) | Q(risk_life=True)


def cases_led_by(user: User) -> QuerySet[Case]:
    """The user's own open cases (主担当者), among those they may see: a case they are still named on
    but no longer hold a grant for (they moved to another agency, say) is not theirs to count."""
    return cases_visible_to(user).filter(lead_worker=user, status__in=OPEN_STATUSES)


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


def case_timeline(case: Case, *, limit: int | None = None) -> tuple[list[TimelineEntry], bool]:
    """Consultations, notes, assessments and transitions of the case, newest first (4 queries), and
    whether there are more: with `limit`, each source is read newest first up to `limit` rows, so a
    case with years of notes renders its latest ones in the same time as a new case."""

    def newest(rows):
        return rows[:limit] if limit else rows

    entries = []
    for c in newest(
        case.consultations.select_related("recorded_by", "channel").order_by("-received_at", "-pk")
    ):
        entries.append(TimelineEntry(c.received_at, "consultation", f"相談受付（{c.channel}）", c.summary,
                                     str(c.recorded_by), c))  # fmt: skip
    for n in newest(case.notes.select_related("author").order_by("-occurred_at", "-pk")):
        entries.append(TimelineEntry(n.occurred_at, "note", f"経過記録（{n.get_kind_display()}）", n.content,
                                     str(n.author), n))  # fmt: skip
    for a in newest(case.assessments.select_related("author").order_by("-created_at", "-pk")):
        entries.append(TimelineEntry(a.created_at, "assessment", f"アセスメント 第{a.version}版", a.formulation,
                                     str(a.author), a))  # fmt: skip
    for t in newest(case.transitions.select_related("actor").order_by("-at", "-pk")):
        title = f"状態変更: {t.get_from_status_display()} → {t.get_to_status_display()}"
        entries.append(TimelineEntry(t.at, "transition", title, t.reason, str(t.actor), t))
    entries.sort(key=lambda e: e.at, reverse=True)
    if limit and len(entries) > limit:
        return entries[:limit], True
    return entries, False


def case_latest_assessment(case: Case) -> Assessment | None:
    return case.assessments.select_related("author").prefetch_related("issues").order_by("-version").first()


def household_panel(user: User, household: Household | None) -> list[HouseholdMember]:
    """The household's current members, each with the cases of theirs that the user may see."""
    if household is None:
        return []
    visible = cases_visible_to(user).select_related("owning_agency")
    members = list(
        household.members.filter(left_on__isnull=True)
        .select_related("person")
        .prefetch_related(
            Prefetch("person__cases", queryset=visible, to_attr="visible_cases"),
            Prefetch("cares_for", queryset=HouseholdMember.objects.select_related("person")),
        )
        .order_by("pk")
    )
    apply_location_policy(user, [m.person for m in members], log=False)
    return members


# --- People, households, consultations ---------------------------------------------------------


def persons_visible_to(user: User) -> QuerySet[Person]:
    if is_supervisor(user):
        return Person.objects.all()
    cases = cases_visible_to(user)
    agencies = user.agencies
    in_visible_case = Exists(cases.filter(person=OuterRef("pk")))
    in_visible_household = Exists(
        HouseholdMember.objects.filter(person=OuterRef("pk"), household__in=cases.values("household"))
    )
    consulted_here = Exists(Consultation.objects.filter(person=OuterRef("pk"), agency__in=agencies))
    return Person.objects.filter(
        Q(registered_by_agency__in=agencies) | in_visible_case | in_visible_household | consulted_here
    )


def person_get_for_user(user: User, pk: int, *, log: bool = True) -> Person:
    """The person, with their whereabouts masked under 住所秘匿 unless the user is assigned."""
    person = persons_visible_to(user).filter(pk=pk).first()
    if person is None:
        raise Http404("本人が見つかりません。")
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


def households_visible_to(user: User) -> QuerySet[Household]:
    if is_supervisor(user):
        return Household.objects.all()
    agencies = user.agencies
    in_visible_case = Exists(cases_visible_to(user).filter(household=OuterRef("pk")))
    consulted_here = Exists(Consultation.objects.filter(household=OuterRef("pk"), agency__in=agencies))
    return Household.objects.filter(Q(registered_by_agency__in=agencies) | in_visible_case | consulted_here)


def household_get_for_user(user: User, pk: int) -> Household:
    household = households_visible_to(user).filter(pk=pk).first()
    if household is None:
        raise Http404("世帯が見つかりません。")
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
    people = persons_visible_to(user).filter(Q(name_search__contains=key) | Q(kana_search__contains=key))
    current = HouseholdMember.objects.filter(left_on__isnull=True).select_related("household")
    results = list(
        people.prefetch_related(
            Prefetch("memberships", queryset=current, to_attr="current_memberships")
        ).order_by("kana_search", "name_search", "pk")[:limit]
    )
    # Search results and autocomplete carry neither whereabouts nor 要配慮個人情報.
    apply_location_policy(user, results, log=False)
    for person in results:
        mask_sensitive(person.current_memberships)
    return mask_sensitive(results)


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
    matches = list(Person.objects.filter(conditions).select_related("registered_by_agency")[:20])
    visible_ids = set(
        persons_visible_to(user).filter(pk__in=[p.pk for p in matches]).values_list("pk", flat=True)
    )
    visible = [p for p in matches if p.pk in visible_ids]
    hidden = [p for p in matches if p.pk not in visible_ids]
    return DuplicateCheck(visible, bool(hidden), hidden)


def person_confidentiality(person: Person):
    """The 住所秘匿 record in force for the person, if any."""
    from cases.models import AddressConfidentiality

    return (
        AddressConfidentiality.objects.in_force().filter(person_id=person.pk).select_related("set_by").first()
    )


def person_detail_context(user: User, person: Person) -> dict:
    cases = cases_visible_to(user).filter(person=person).select_related("owning_agency", "lead_worker")
    consultations = (
        consultations_visible_to(user).filter(person=person).select_related("agency", "main_issue")
    )
    memberships = person.memberships.select_related("household").order_by("-joined_on", "-pk")
    return {
        "person": person,
        "cases": list(cases),
        "consultations": list(consultations[:50]),
        "memberships": list(memberships),
        "attributes": list(person.attributes.all()),
    }


def case_notes(case: Case) -> QuerySet[ProgressNote]:
    return case.notes.select_related("author")


def case_transitions(case: Case) -> QuerySet[CaseTransition]:
    return case.transitions.select_related("actor")
