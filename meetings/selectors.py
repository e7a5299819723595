"""Reads for 多機関協働, always through the cases selectors (same grants, same 404s)."""

from datetime import date, timedelta
from itertools import pairwise

from django.core.paginator import Paginator
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber, TruncMonth
from django.http import Http404
from django.utils import timezone

from cases.models import OPEN_STATUSES, Case, CaseStatus, CaseTransition, Consultation
from cases.policy import mask_sensitive
from cases.selectors import (
    case_decision,
    cases_led_by,
    cases_opening,
    cases_visible_to,
    is_supervisor,
    persons_visible_to,
    require_case_section,
)
from jusou.access.decision import AccessDecision
from jusou.access.grants import access_decision, visible_or_404, visible_q
from jusou.models import AccessBasis, Role, User
from meetings.models import (
    ConfidentialityPledge,
    Consent,
    MeetingMember,
    PlanConference,
    PlanStatus,
    PlanTask,
    SupportDecision,
    SupportMeeting,
    SupportPlan,
    TaskStatus,
)


def _inbox_cases(user: User, status: str = CaseStatus.REFERRED) -> QuerySet[Case]:
    referral = CaseTransition.objects.filter(case=OuterRef("pk"), to_status=CaseStatus.REFERRED).order_by(
        "-at"
    )
    # Cases waiting for a coordinator are few in the whole city (tens): each is checked and joined.
    # Those taken up run to thousands: the visible set is built once, and the related rows are
    # fetched for the page only, after the sort.
    few = status == CaseStatus.REFERRED
    cases = cases_visible_to(user, per_row=few).filter(status=status)
    related = ("person", "owning_agency", "lead_worker")
    cases = cases.select_related(*related) if few else cases.prefetch_related(*related)
    return cases.annotate(referred_at=Subquery(referral.values("at")[:1])).order_by("referred_at", "pk")


def inbox(user: User, status: str = CaseStatus.REFERRED) -> list[Case]:
    """Referred (or, with `status`, taken-up) cases the user may see, oldest referral first, with
    when and by whom they were referred. Rows carry no 要配慮個人情報."""
    return mask_sensitive(_inbox_cases(user, status))


def inbox_page(user: User, status: str, page_number, per_page: int = 50):
    """One page of the inbox list (the cases taken up run to thousands in a large city)."""
    page = Paginator(_inbox_cases(user, status), per_page).get_page(page_number)
    page.object_list = mask_sensitive(page.object_list)
    return page


def _given_by_people_covered(user: User, consents: QuerySet[Consent]) -> QuerySet[Consent]:
    """A consent is information about the person who gave it (DOMAIN.md §4): the user sees it when
    they have a basis for that person, the consent names their agency, or they took it."""
    if is_supervisor(user):
        return consents
    names_mine = Exists(
        Consent.recipients.through.objects.filter(consent=OuterRef("pk"), agency__in=user.agencies)
    )
    return consents.filter(
        Q(person__in=persons_visible_to(user).values("pk")) | Q(taken_by=user) | Q(names_mine)
    )


def consents_visible_to(user: User) -> QuerySet[Consent]:
    """Consents for lists: of a case whose decision opens 支援プラン (consents go with the plans), given
    by people the user is covered for (_given_by_people_covered)."""
    return _given_by_people_covered(
        user, Consent.objects.filter(case__in=cases_opening(user, "plan").values("pk"))
    )


def case_consents(user: User, case: Case) -> list[Consent]:
    """consents_visible_to for one case the user already sees (the case page): whether its decision
    opens 支援プラン is `case.decision`'s answer (what cases_opening works out for a whole list). Of the
    rule for the giver (_given_by_people_covered), the case's own 本人 is covered by this very case,
    and naming the user's agency or taken by them is read from the rows; only the few other givers
    left (household members) are probed, instead of building every person the user is covered for."""
    if not case_decision(user, case).covers("plan"):
        return []
    consents = list(
        Consent.objects.filter(case=case)
        .select_related("person", "taken_by", "withdrawal_received_by")
        .prefetch_related("recipients")
        .order_by("person_id", "-consented_on", "-pk")
    )
    if is_supervisor(user):
        return consents
    agencies = {agency.pk for agency in user.agencies}

    def shown(consent: Consent) -> bool:
        return (
            consent.person_id == case.person_id
            or consent.taken_by_id == user.pk
            or any(agency.pk in agencies for agency in consent.recipients.all())
        )

    unsure = {consent.person_id for consent in consents if not shown(consent)}
    covered = (
        set(persons_visible_to(user, per_row=True).filter(pk__in=unsure).values_list("pk", flat=True))
        if unsure
        else set()
    )
    return [consent for consent in consents if shown(consent) or consent.person_id in covered]


def consent_versions(consents: list[Consent]) -> list[Consent]:
    """The current version of each consent (as case_consents loaded them, recipients prefetched),
    each with `earlier`: its previous versions, newest first, each with `changes` — what the next
    version added, in words. No query."""
    from meetings.models import consent_changes

    chains: dict[int, list[Consent]] = {}
    for consent in consents:
        chains.setdefault(consent.original_id or consent.pk, []).append(consent)
    current = []
    for chain in chains.values():
        chain.sort(key=lambda c: c.version)
        for before, after in pairwise(chain):
            after.changes = consent_changes(
                before, list(after.recipients.all()), after.categories, after.expires_on
            )
        latest = chain[-1]
        latest.earlier = list(reversed(chain[:-1]))
        current.append(latest)
    order = {c.pk: i for i, c in enumerate(consents)}
    return sorted(current, key=lambda c: order[c.pk])


def case_decisions(case: Case) -> QuerySet[SupportDecision]:
    return SupportDecision.objects.filter(case=case).select_related("decided_by")


def consent_get_for_user(user: User, pk: int) -> Consent:
    """A consent through its case's decision (`consent.decision`, the case's)."""
    # Of any visible case: one outside 支援プラン is refused (403) by the callers, which know its case.
    consents = _given_by_people_covered(
        user, Consent.objects.filter(case__in=cases_visible_to(user).values("pk"))
    )
    consents = consents.select_related("case")
    consent = visible_or_404(consents, user=user, pk=pk, message="本人同意の記録が見つかりません。")
    consent.decision = case_decision(user, consent.case)
    return consent


def consent_document_get_for_user(user: User, pk: int) -> Consent:
    """The signed consent form (scan) is for those the consent names, the agency that owns the case, the
    staff member who took it, and 管理者 — not for everyone who may open the case (a plan agency the
    consent does not name, an emergency reader). Outside that it answers 404, like a missing one."""
    consent = consent_get_for_user(user, pk)
    agencies = {agency.pk for agency in user.agencies}
    allowed = (
        is_supervisor(user)
        or consent.taken_by_id == user.pk
        or consent.case.owning_agency_id in agencies
        or consent.recipients.filter(pk__in=agencies).exists()
    )
    if not allowed or not consent.document:
        raise Http404("同意書が見つかりません。")
    return consent


def case_plans(case: Case) -> list[SupportPlan]:
    return list(SupportPlan.objects.filter(case=case).order_by("-version"))


def plan_get_for_user(user: User, pk: int) -> SupportPlan:
    """A plan is readable exactly when its case is (same grants, same 404)."""
    plans = SupportPlan.objects.filter(case__in=cases_visible_to(user).values("pk"))
    plan = visible_or_404(
        plans.select_related("case__person", "case__owning_agency", "author"),
        user=user,
        pk=pk,
        message="支援プランが見つかりません。",
    )
    # a consent that does not cover 支援プラン opens no plan
    plan.decision = require_case_section(user, plan.case, "plan")
    return plan


def task_get_for_user(user: User, pk: int) -> PlanTask:
    """A 役割分担 through its plan's decision: missing and forbidden tasks take the same path."""
    tasks = PlanTask.objects.filter(plan__case__in=cases_visible_to(user).values("pk")).select_related(
        "plan", "agency"
    )
    task = visible_or_404(tasks, user=user, pk=pk, message="役割分担が見つかりません。")
    task.plan = plan_get_for_user(user, task.plan_id)
    return task


def plan_detail(plan: SupportPlan) -> dict:
    """The plan page's content, with the household's 続柄 (`relationships`) to name whom it concerns."""
    relationships = household_relationships(plan.case)
    evaluations = list(
        plan.evaluations.select_related(
            "item__conference", "evaluated_by", "next_lead_agency"
        ).prefetch_related("goal_results__goal")
    )
    return {
        "plan": plan,
        "relationships": relationships,
        # whom it concerns, by 続柄 only: a member's name and details follow their own basis
        "members": plan_member_relationships(plan, relationships),
        "goals": list(plan.goals.all()),
        "tasks": list(plan.tasks.select_related("agency")),
        "evaluations": evaluations,
        "agenda": list(plan.agenda_items.select_related("conference").order_by("conference__held_at", "pk")),
        "versions": list(SupportPlan.objects.filter(case_id=plan.case_id).order_by("-version")),
    }


def household_relationships(case: Case) -> dict[int, str]:
    """Each current household member's 続柄 (the case's 本人 is 「本人」), in one query."""
    from cases.models import HouseholdMember

    relationships = {}
    if case.household_id:
        relationships = dict(
            HouseholdMember.objects.filter(household_id=case.household_id, left_on__isnull=True)
            .order_by("person_id", "-pk")
            .values_list("person_id", "relationship")
        )
    relationships[case.person_id] = "本人"
    return relationships


def plan_member_relationships(plan: SupportPlan, relationships: dict[int, str]) -> list[str]:
    """「本人」 and the 続柄 of each household member the plan concerns."""
    others = sorted(p.pk for p in plan.members.all() if p.pk != plan.case.person_id)
    return ["本人", *(relationships.get(pk) or "世帯員" for pk in others)]


def conferences_for(user: User) -> QuerySet[PlanConference]:
    """The 重層的支援会議 records of the municipality, for its coordinators (their 所掌事務): the meeting
    itself — date, host, agencies — not the cases on its agenda (conference_items_for)."""
    if not user.has_role(Role.COORDINATOR):
        return PlanConference.objects.none()
    return PlanConference.objects.select_related("host").order_by("-held_at")


def conference_get_for_user(user: User, pk: int) -> PlanConference:
    conference = conferences_for(user).filter(pk=pk).first()
    if conference is None:
        raise Http404("重層的支援会議が見つかりません。")
    conference.decision = AccessDecision.own_agency(note="重層的支援会議（所掌事務）")
    return conference


def conference_items_for(user: User, conference: PlanConference) -> list:
    """The agenda items of cases the user may see; of the others nothing is shown, not even that
    they exist (case number and decision notes are case information)."""
    return list(
        conference.items.filter(case__in=cases_visible_to(user).values("pk"))
        .select_related("case__person", "plan", "decided_by")
        .prefetch_related("resource_gaps")
        .order_by("pk")
    )


def conference_open_plans(user: User) -> dict:
    """Plans a conference can take up: drafts to approve, approved ones to evaluate — of cases the
    user may see."""
    visible = cases_visible_to(user).values("pk")
    plans = (
        SupportPlan.objects.filter(case__in=visible).select_related("case__person").prefetch_related("goals")
    )
    return {
        "drafts": list(plans.filter(status=PlanStatus.DRAFT).order_by("case_id")),
        "approved": list(plans.filter(status=PlanStatus.APPROVED).order_by("review_on")),
    }


# --- 支援会議 ----------------------------------------------------------------------------------


def meetings_visible_to(user: User) -> QuerySet[SupportMeeting]:
    """Meetings the user hosts, or is a member of with the access window open *and* 守秘義務
    acknowledged. Everyone else — a colleague of a member included — sees none of it."""
    pledged = ConfidentialityPledge.objects.filter(meeting=OuterRef("pk"), user=user)
    return SupportMeeting.objects.filter(visible_q(user, SupportMeeting)).filter(
        Q(host=user) | Q(Exists(pledged))
    )


def meeting_awaiting_pledge(user: User, pk: int) -> SupportMeeting | None:
    """A meeting whose window is open for this member but whose 守秘義務 is not yet acknowledged."""
    return (
        SupportMeeting.objects.filter(visible_q(user, SupportMeeting))
        .filter(pk=pk)
        .exclude(host=user)
        .select_related("host")
        .first()
    )


def meeting_get_for_user(user: User, pk: int) -> SupportMeeting:
    """The meeting with its decision: the host on 担当, a member on 支援会議 (社会福祉法 第106条の6)."""
    meeting = visible_or_404(
        meetings_visible_to(user).select_related("host"),
        user=user,
        pk=pk,
        message="支援会議が見つかりません。",
    )
    meeting.decision = access_decision(user, meeting) or AccessDecision(AccessBasis.SUPPORT_MEETING)
    return meeting


def meetings_awaiting_pledge(user: User) -> QuerySet[SupportMeeting]:
    """Meetings whose window is open for this member but whose 守秘義務 is not yet acknowledged: the
    list shows their date and host only, with the way to the pledge — not the title, which hosts
    sometimes write as the household's name (「田中さん世帯」), and nothing of the agenda."""
    # Only a member can give the pledge: their unpledged invitations are one index probe, and the
    # visibility condition (the window, the grant) is built only when there are some.
    invited = list(
        MeetingMember.objects.filter(user=user, meeting__access_until__gt=timezone.now())
        .exclude(meeting__host=user)
        .exclude(Exists(ConfidentialityPledge.objects.filter(meeting=OuterRef("meeting"), user=user)))
        .values_list("meeting_id", flat=True)
    )
    if not invited:
        return SupportMeeting.objects.none()
    return (
        SupportMeeting.objects.filter(visible_q(user, SupportMeeting), pk__in=invited)
        .select_related("host")
        .order_by("-held_at", "-pk")
    )


def meeting_list_page(user: User, page_number, per_page: int = 20):
    """One page of the meetings the user hosts or attends (with 守秘義務 acknowledged), newest first:
    a coordinator of a large city hosts hundreds over the years."""
    meetings = meetings_visible_to(user).select_related("host").order_by("-held_at", "-pk")
    return Paginator(meetings, per_page).get_page(page_number)


def meeting_window_changes(meeting: SupportMeeting) -> list:
    """The changes of the access window, newest first, with who made them and why (the history rows
    meetings.services.meeting_window_change writes)."""
    rows = meeting.history.filter(history_change_reason__startswith="閲覧期間の変更").select_related(
        "history_user"
    )
    return list(rows.order_by("-history_date", "-history_id"))


def meeting_detail(meeting: SupportMeeting) -> dict:
    return {
        "meeting": meeting,
        "briefings": list(meeting.briefings.prefetch_related("decisions").order_by("pk")),
        # Each member shown with their agencies: the memberships of all of them in one query, not one each.
        "members": list(
            meeting.members.select_related("user")
            .prefetch_related(User.prefetch_active_memberships("user__memberships"))
            .order_by("pk")
        ),
        "pledged_user_ids": set(meeting.pledges.values_list("user_id", flat=True)),
    }


def consent_categories_for(user: User, case: Case) -> set[str]:
    """The information categories that valid consents of the case's person open to the user's
    agencies (registered as the consent scope provider for the case page)."""
    consents = Consent.objects.valid().filter(
        case=case, person_id=case.person_id, recipients__in=user.agencies
    )
    return {
        category for categories in consents.values_list("categories", flat=True) for category in categories
    }


def consent_cases_opening(user: User, case_ids, category: str) -> set[int]:
    """Of `case_ids`, those whose person's valid consents on the case open `category` to the user's
    agencies (consent_categories_for for many cases in one query)."""
    return {
        case_id
        for case_id, categories in Consent.objects.valid()
        .filter(case_id__in=case_ids, person_id=F("case__person_id"), recipients__in=user.agencies)
        .values_list("case_id", "categories")
        if category in categories
    }


def consented_person_ids(user: User):
    """People whose own valid consent names one of the user's agencies (registered as the person
    consent provider: a household member's own basis)."""
    return Consent.objects.valid().filter(recipients__in=user.agencies).values("person_id")


def person_consent_categories_for(user: User, person_ids) -> dict[int, set[str]]:
    """For each of `person_ids`, what their own valid consents open to the user's agencies (one query)."""
    consents = Consent.objects.valid().filter(person_id__in=list(person_ids), recipients__in=user.agencies)
    opened: dict[int, set[str]] = {}
    for person_id, categories in consents.values_list("person_id", "categories"):
        opened.setdefault(person_id, set()).update(categories)
    return opened


# --- Dashboards and reminders -----------------------------------------------------------------

#: a plan's review shows on its worker's dashboard this many days ahead
REVIEW_AHEAD_DAYS = 14
#: a consent's expiry shows (and is reminded of) this many days ahead
CONSENT_AHEAD_DAYS = 30
#: the coordinators' dashboard lists meetings this far ahead
MEETINGS_AHEAD_DAYS = 30


def consents_expiring(on: date | None = None, within: int = CONSENT_AHEAD_DAYS) -> QuerySet[Consent]:
    """Consents in force on `on` (today) that end within `within` days (the day itself included),
    on open cases, and not already followed by a renewal: a later valid consent of the same person
    on the same case that runs longer (or has no end)."""
    day = on or timezone.localdate()
    renewed = (
        Consent.objects.valid(day)
        .filter(case=OuterRef("case"), person=OuterRef("person"))
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gt=OuterRef("expires_on")))
    )
    return (
        Consent.objects.valid(day)
        .filter(expires_on__isnull=False, expires_on__lte=day + timedelta(days=within))
        .filter(case__status__in=OPEN_STATUSES)
        .exclude(Exists(renewed))
    )


def worker_dashboard(user: User, *, limit: int = 5) -> dict:
    """For the worker's dashboard, among their own open cases (cases.selectors.cases_led_by, so the
    access model decides what is counted): approved plans whose review is due within
    REVIEW_AHEAD_DAYS or past, and consents ending within CONSENT_AHEAD_DAYS. Rows are case number
    and name only. Two queries whatever the numbers (each list counted beside its rows)."""
    today = timezone.localdate()
    approved = SupportPlan.objects.filter(case=OuterRef("pk"), status=PlanStatus.APPROVED)
    expiring = consents_expiring(today).filter(case=OuterRef("pk")).order_by("expires_on")
    mine = cases_led_by(user).select_related("person")
    review = (
        mine.annotate(review_on=Subquery(approved.values("review_on")[:1]))
        .filter(review_on__lte=today + timedelta(days=REVIEW_AHEAD_DAYS))
        .order_by("review_on", "pk")
    )
    consent = (
        mine.annotate(consent_expires_on=Subquery(expiring.values("expires_on")[:1]))
        .filter(consent_expires_on__isnull=False)
        .order_by("consent_expires_on", "pk")
    )
    review_count, review = _counted(review, limit)
    consent_count, consent = _counted(consent, limit)
    return {
        "today": today,
        "review_count": review_count,
        "review": mask_sensitive(review),
        "consent_count": consent_count,
        "consent": mask_sensitive(consent),
    }


def tasks_for_my_agencies(user: User) -> QuerySet[PlanTask]:
    """役割分担 of approved plans given to an agency the user works for as 相談員・推進員, not yet done
    or stopped, on cases whose decision opens 支援プラン to the user (nothing they have no basis for),
    ending soonest first."""
    agencies = [
        m.agency_id
        for m in user.active_memberships
        if m.agency_id and m.role in (Role.WORKER, Role.COORDINATOR)
    ]
    if not agencies:
        return PlanTask.objects.none()
    tasks = PlanTask.objects.filter(plan__status=PlanStatus.APPROVED, agency_id__in=agencies).exclude(
        status__in=[TaskStatus.DONE, TaskStatus.STOPPED]
    )
    # The agency's open tasks are on tens of cases: those are probed (per_row), not the user's whole
    # visible set built.
    opening = cases_opening(user, "plan", per_row=True).filter(pk__in=tasks.values("plan__case_id"))
    return tasks.filter(plan__case__in=opening.values("pk")).order_by(F("ends_on").asc(nulls_last=True), "pk")


def _counted(queryset, limit: int) -> tuple[int, list]:
    """The first `limit` rows and how many there are in all, in one query (a window count over the
    whole set beside each row)."""
    rows = list(queryset.annotate(total=Window(Count("pk")))[:limit])
    return (rows[0].total if rows else 0), rows


def waiting_dashboard(user: User, *, limit: int = 5) -> dict:
    """What waits on the user: 支援会議 whose 守秘義務 they have not yet given (date and host only, the
    list's rule), 役割分担 given to their agency (tasks_for_my_agencies), and cases handed over to
    their agency to accept or decline (cases.selectors.handover_waiting_cases) — each counted and the
    first few listed, from the selectors, one query each (and the consent check of tasks_for_my_agencies)."""
    from cases.selectors import handover_waiting_cases

    pledge_count, pledges = _counted(meetings_awaiting_pledge(user), limit)
    takes_cases = bool({Role.WORKER, Role.COORDINATOR} & user.roles)
    task_count, tasks, handover_count, handovers = 0, [], 0, []
    if takes_cases:
        task_count, tasks = _counted(
            tasks_for_my_agencies(user).select_related("agency", "plan__case__person"), limit
        )
        handover_count, handovers = _counted(handover_waiting_cases(user).select_related("person"), limit)
    return {
        "pledge_count": pledge_count,
        "pledges": pledges,
        "task_count": task_count,
        "tasks": tasks,
        # the cases of the tasks listed: read like any list of cases (jusou.views._log_dashboard)
        "task_cases": mask_sensitive({task.plan.case.pk: task.plan.case for task in tasks}.values()),
        "handover_count": handover_count,
        "handovers": mask_sensitive(handovers),
        "takes_cases": takes_cases,
    }


def coordinator_dashboard(user: User, *, limit: int = 5) -> dict:
    """For the coordinators' dashboard: the inbox (count and the longest waiting), 支援会議 and
    重層的支援会議 in the next MEETINGS_AHEAD_DAYS days, and overdue 役割分担 of approved plans
    (past their end date, neither done nor stopped) counted per agency. Everything from the
    selectors; a constant number of queries."""
    now = timezone.now()
    today = timezone.localdate()
    until = now + timedelta(days=MEETINGS_AHEAD_DAYS)
    inbox_count, oldest = _counted(_inbox_cases(user), limit)
    oldest = mask_sensitive(oldest)
    for case in oldest:
        case.days_waiting = (
            (today - timezone.localtime(case.referred_at).date()).days if case.referred_at else None
        )
    overdue = (
        PlanTask.objects.filter(
            plan__status=PlanStatus.APPROVED,
            plan__case__in=cases_visible_to(user).values("pk"),
            ends_on__lt=today,
        )
        .exclude(status__in=[TaskStatus.DONE, TaskStatus.STOPPED])
        .values("agency_id", "agency__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "agency__name")
    )
    overdue = list(overdue)
    return {
        "inbox_count": inbox_count,
        "oldest": oldest,
        "meetings": list(
            meetings_visible_to(user)
            .filter(held_at__gte=now, held_at__lt=until)
            .order_by("held_at", "pk")[:limit]
        ),
        "conferences": list(
            conferences_for(user)
            .filter(held_at__gte=now, held_at__lt=until)
            .order_by("held_at", "pk")[:limit]
        ),
        "overdue_tasks": overdue,
        "overdue_task_count": sum(row["n"] for row in overdue),
    }


def plan_lead_times(user: User, *, months: int = 12) -> dict:
    """For supervisors: per month of approval, the median number of days from intake (the case's
    first consultation, else its opening) to the approval of its first plan, over the cases the
    user may see. The database picks each month's middle row(s) with window functions; at most
    two rows a month come back."""
    from cases.selectors import local_midnight, month_starts

    starts = month_starts(months)
    first_received = Consultation.objects.filter(case=OuterRef("case")).order_by("received_at")
    earlier = SupportPlan.objects.filter(case=OuterRef("case"), approved_at__lt=OuterRef("approved_at"))
    month = TruncMonth("approved_at")
    middle = (
        SupportPlan.objects.filter(
            case__in=cases_visible_to(user).values("pk"), approved_at__gte=local_midnight(starts[0])
        )
        .exclude(Exists(earlier))
        .annotate(
            month=month,
            lead=ExpressionWrapper(
                F("approved_at")
                - Coalesce(Subquery(first_received.values("received_at")[:1]), F("case__opened_at")),
                output_field=DurationField(),
            ),
        )
        .annotate(
            rank=Window(RowNumber(), partition_by=[month], order_by=[F("lead").asc(), F("pk").asc()]),
            size=Window(Count("pk"), partition_by=[month]),
        )
        .filter(rank__gte=(F("size") + 1) / 2, rank__lte=(F("size") + 2) / 2)
        .values_list("month", "lead", "size")
    )
    position = {(d.year, d.month): i for i, d in enumerate(starts)}
    picked: dict[int, list] = {}
    sizes = [0] * len(starts)
    for approved_month, lead, size in middle:
        i = position.get((approved_month.year, approved_month.month))
        if i is not None:
            picked.setdefault(i, []).append(lead)
            sizes[i] = size
    medians = [
        round(sum(picked[i], timedelta()).total_seconds() / len(picked[i]) / 86400, 1)
        if i in picked
        else None
        for i in range(len(starts))
    ]
    return {"months": starts, "medians": medians, "counts": sizes}
