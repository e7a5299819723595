"""多機関協働 in the synthetic municipality (`generate_municipality`): for the cases the cases part
referred and took up — 本人同意, 支援決定, 支援プラン versions with goals and 役割分担, the 重層的支援会議 that
approve, send back and evaluate them (ending 多機関協働 exactly when the case's history says), the
resource gaps they notice, the 本人同意-based grants (consent_access_sync) — and the 支援会議 with
their members, 守秘義務 pledges, frozen briefings and decisions. Registered from MeetingsConfig.ready.

At 900,000 people: about 20,000 plans, 1,500 重層的支援会議 and 1,500 支援会議.
"""

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from cases.models import Case, CaseStatus, HouseholdMember, Person
from devdata.generate.core import (
    GAP_CATEGORIES,
    TOKYO,
    GenerationContext,
    GrantWriter,
    history_row,
    next_slot,
    stamp,
)
from jusou.ja.wareki import ERA_ABBREVIATIONS, era_year
from jusou.models import AccessBasis, AgencyKind, ResourceGap, ResourceGapStatus
from meetings.briefings import from_v1
from meetings.models import (
    ActingBody,
    AgendaItem,
    AgendaKind,
    ConfidentialityPledge,
    Consent,
    DecisionKind,
    Evaluation,
    GoalEvaluation,
    MeetingBriefing,
    MeetingDecision,
    MeetingMember,
    NextStep,
    PlanConference,
    PlanGoal,
    PlanStatus,
    PlanTask,
    SupportDecision,
    SupportMeeting,
    SupportPlan,
    TaskStatus,
)
from meetings.services import PLEDGE_STATEMENT

SUPPORT_MEETINGS = 1500
BENCH_MEETING = "第{n}回 みどり市支援会議（性能試験用）"
K = AgencyKind
TASK_KINDS = {
    "8050": [K.DISABILITY_CONSULTATION, K.SOCIAL_WELFARE_COUNCIL, K.SELF_RELIANCE, K.MEDICAL],
    "young_carer": [K.CHILD_FAMILY, K.DISABILITY_CONSULTATION, K.MUNICIPAL_OFFICE, K.NPO_PRIVATE],
    "multi": [K.COMMUNITY_GENERAL_SUPPORT, K.CHILD_FAMILY, K.MUNICIPAL_OFFICE, K.SOCIAL_WELFARE_COUNCIL],
    "elderly": [K.COMMUNITY_GENERAL_SUPPORT, K.SOCIAL_WELFARE_COUNCIL, K.MEDICAL, K.COMMUNITY_GROUP],
    "working": [K.SELF_RELIANCE, K.MUNICIPAL_OFFICE, K.NPO_PRIVATE, K.SOCIAL_WELFARE_COUNCIL],
    "youth": [K.SELF_RELIANCE, K.NPO_PRIVATE, K.DISABILITY_CONSULTATION],
    "disability": [K.DISABILITY_CONSULTATION, K.MEDICAL, K.NPO_PRIVATE, K.MUNICIPAL_OFFICE],
    "single_parent": [K.CHILD_FAMILY, K.SELF_RELIANCE, K.MUNICIPAL_OFFICE],
    "family": [K.CHILD_FAMILY, K.SELF_RELIANCE, K.MUNICIPAL_OFFICE, K.NPO_PRIVATE],
}
ROLES = {
    K.COMMUNITY_GENERAL_SUPPORT: (
        "介護サービスの調整",
        "ケアマネジャーと連携し、在宅生活を支える",
        "月2回訪問",
    ),
    K.DISABILITY_CONSULTATION: (
        "本人への相談支援",
        "面談を通じた関係づくりと障害福祉サービスの調整",
        "月1回面談",
    ),
    K.CHILD_FAMILY: ("子どもと家庭への支援", "学校と連携して子どもの様子を見守り、保護者を支える", "随時"),
    K.SELF_RELIANCE: ("家計・就労の相談", "家計改善支援と就労準備支援", "月2回"),
    K.SOCIAL_WELFARE_COUNCIL: (
        "地域の見守りと居場所の紹介",
        "民生委員と連携した見守り、居場所への同行",
        "週1回",
    ),
    K.MUNICIPAL_OFFICE: ("制度の申請支援", "生活保護・手当等の申請と手続きの支援", "随時"),
    K.MEDICAL: ("受診・服薬の支援", "通院の継続と服薬管理の支援", "月1回"),
    K.NPO_PRIVATE: ("居場所・同行支援", "居場所への参加と外出の同行", "週1回"),
    K.COMMUNITY_GROUP: ("地域での見守り", "町会の見守り活動での声かけ", "随時"),
}
GOALS = {
    "care": "介護サービスを週2回利用する",
    "health": "通院を継続する",
    "isolation": "週1回、家の外の人と話す",
    "income": "家計の見通しを立てる",
    "debt": "債務整理の手続きを始める",
    "job_search": "就労体験に参加する",
    "hikikomori": "相談機関の面談に来所する",
    "8050": "親子それぞれに相談相手ができる",
    "childcare": "子育ての相談先ができる",
    "young_carer": "子どもが学校に通える日を増やす",
    "double_care": "介護と育児の負担を分け合う",
    "hoarding": "居室を片付け、安全に暮らす",
    "housing": "安定した住まいを確保する",
    "abuse": "安全な生活環境を確保する",
}
END_STEP = {"close": NextStep.CLOSE, "suspend": NextStep.SUSPEND, "return": NextStep.RETURN}
END_LABEL = {"close": "終結", "suspend": "中断", "return": "包括的相談支援へ戻す"}


@dataclass
class Version:
    number: int
    created_at: datetime
    approved_slot: int | None = None
    sent_back_slot: int | None = None
    superseded_slot: int | None = None
    ended_slot: int | None = None
    evaluations: list = field(default_factory=list)  # (slot, next step)

    @property
    def status(self) -> str:
        if self.sent_back_slot is not None:
            return PlanStatus.SENT_BACK
        if self.superseded_slot is not None:
            return PlanStatus.SUPERSEDED
        if self.ended_slot is not None:
            return PlanStatus.ENDED
        return PlanStatus.APPROVED if self.approved_slot is not None else PlanStatus.DRAFT


@dataclass
class CasePlans:
    case: object  # devdata.generate.cases.CaseInfo
    agencies: list
    versions: list = field(default_factory=list)
    consent_on: object = None
    decision_on: object = None
    expires_on: object = None


def generate_meetings(ctx: GenerationContext) -> None:
    gen = _MeetingsGenerator(ctx)
    with ctx.step("本人同意・支援決定・支援プラン・重層的支援会議"):
        gen.schedule_all()
        gen.conferences()
        gen.consents_and_decisions()
        gen.plans()
        gen.grants.flush()
    with ctx.step("支援会議・守秘義務の確認・資料"):
        gen.support_meetings()
        gen.grants.flush()


class _MeetingsGenerator:
    def __init__(self, ctx: GenerationContext):
        self.ctx, self.rng = ctx, ctx.rng
        data = ctx.store["cases"]
        self.bench = data["bench_case"]
        self.multi = [c for c in data["cases"] if c.coordinating_at is not None]
        self.referred = sorted(
            (c for c in data["cases"] if c.referred_at is not None), key=lambda c: c.referred_at
        )
        self.slots = ctx.conference_slots
        self.grants = GrantWriter(ctx)
        self.schedules: list[CasePlans] = []
        self.case_type = ContentType.objects.get_for_model(Case)

    def at(self, slot: int) -> datetime:
        return self.slots[slot][0]

    def day_time(self, at: datetime, floor: datetime) -> datetime:
        local = at.astimezone(TOKYO).replace(hour=self.rng.randint(9, 17), minute=self.rng.randint(0, 59))
        local = max(local, floor + timedelta(minutes=30))
        return min(local, self.ctx.anchor - timedelta(minutes=self.rng.randint(30, 300)))

    # --- The schedule: which plan versions are approved and evaluated at which 重層的支援会議 -----------------

    def task_agencies(self, case) -> list:
        by_kind = self.ctx.agencies_by_kind
        chosen = [case.agency]
        kinds = list(TASK_KINDS[case.profile])
        self.rng.shuffle(kinds)
        for kind in kinds[: self.rng.randint(1, 3)]:
            pool = [a.pk for a in by_kind.get(kind, []) if a.pk not in chosen]
            if pool:
                chosen.append(self.rng.choice(pool))
        return chosen

    def schedule_all(self) -> None:
        for case in self.multi:
            self.schedules.append(self.schedule(case))

    def schedule(self, case) -> CasePlans:
        ctx, rng = self.ctx, self.rng
        bench = case is self.bench
        plans = CasePlans(case, self.task_agencies(case))
        limit = case.end_slot if case.end_slot is not None else len(self.slots)
        open_case = case.status == CaseStatus.COORDINATING
        first = case.coordinating_at + timedelta(days=25 if bench else rng.uniform(20, 60))
        slot = next_slot(ctx, first)
        if slot is None or slot >= limit:
            created = case.coordinating_at + timedelta(days=rng.uniform(10, 40))
            if open_case and created < ctx.anchor:
                plans.versions.append(Version(1, self.day_time(created, case.coordinating_at)))
            return plans
        created = self.day_time(self.at(slot) - timedelta(days=rng.uniform(3, 14)), case.coordinating_at)
        if not bench and rng.random() < 0.05:
            again = next_slot(ctx, self.at(slot) + timedelta(days=14))
            plans.versions.append(Version(1, created, sent_back_slot=slot))
            redo = self.day_time(self.at(slot) + timedelta(days=2), self.at(slot))
            if again is None or again >= limit:
                if open_case:
                    plans.versions.append(Version(2, redo))
                self.consent_and_decision(plans, slot)
                return plans
            created, slot = redo, again
        version = Version(len(plans.versions) + 1, created, approved_slot=slot)
        plans.versions.append(version)
        self.consent_and_decision(plans, slot)
        last, revisions = slot, 0
        while True:
            evaluated = next_slot(
                ctx, self.at(last) + timedelta(days=180 if bench else rng.uniform(120, 180))
            )
            if evaluated is None or evaluated >= limit:
                break
            step = NextStep.REVISE if (revisions < 2 if bench else rng.random() < 0.2) else NextStep.CONTINUE
            approve = None
            if step == NextStep.REVISE:
                approve = evaluated + 1 if bench else next_slot(ctx, self.at(evaluated) + timedelta(days=14))
                if approve is None or approve >= limit:
                    step = NextStep.CONTINUE
            version.evaluations.append((evaluated, step))
            if step == NextStep.REVISE:
                revisions += 1
                version.superseded_slot = approve
                created = self.day_time(self.at(evaluated) + timedelta(days=1), self.at(evaluated))
                version = Version(version.number + 1, created, approved_slot=approve)
                plans.versions.append(version)
                last = approve
            else:
                last = evaluated
        if case.end_slot is not None:
            version.evaluations.append((case.end_slot, END_STEP[case.end_kind]))
            version.ended_slot = case.end_slot
        return plans

    def consent_and_decision(self, plans: CasePlans, slot: int) -> None:
        """The person's consent and the 支援決定 come before the plan's first 協議."""
        coordinating = plans.case.coordinating_at.astimezone(TOKYO).date()
        day = self.at(slot).astimezone(TOKYO).date()
        plans.consent_on = max(coordinating, day - timedelta(days=self.rng.randint(5, 25)))
        plans.decision_on = min(day, plans.consent_on + timedelta(days=self.rng.randint(0, 10)))

    # --- Writing --------------------------------------------------------------------------------------

    def conferences(self) -> None:
        ctx, rng = self.ctx, self.rng
        office = ctx.agencies_by_kind[K.MUNICIPAL_OFFICE][0].pk
        discussed: dict[int, set] = {}
        for plans in self.schedules:
            for version in plans.versions:
                for slot in [version.approved_slot, version.sent_back_slot] + [
                    s for s, _ in version.evaluations
                ]:
                    if slot is not None:
                        discussed.setdefault(slot, set()).update(plans.agencies)
        rows = []
        for held_at, title in self.slots:
            host = rng.choice(ctx.coordinators)
            row = PlanConference(
                held_at=held_at,
                title=title,
                host_id=host.pk,
                created_at=held_at - timedelta(days=7),
                minutes=f"{title}。プランの協議・評価と、地域に不足する社会資源について話し合った。",
            )
            rows.append(stamp(row, at=row.created_at, user=host))
        rows, histories = ctx.create_tracked(PlanConference, rows, label="重層的支援会議")
        self.conference_ids = [row.pk for row in rows]
        self.conference_hosts = [row.host_id for row in rows]
        pairs = []
        for slot, row in enumerate(rows):
            agencies = sorted(discussed.get(slot, set()) | {office})
            pairs += [(row.pk, agency) for agency in agencies]
        ctx.m2m(PlanConference, "agencies", pairs, histories)

    def consents_and_decisions(self) -> None:
        ctx, rng = self.ctx, self.rng
        households = ctx.store["cases"]["households"]
        consents, decisions, withdrawals = [], [], []
        for plans in self.schedules:
            if plans.consent_on is None:
                continue
            case = plans.case
            coordinator = ctx.users[case.coordinator]
            at = datetime.combine(plans.consent_on, time(10, rng.randint(0, 59)), tzinfo=TOKYO)
            end = self.at(case.end_slot) if case.end_slot is not None else None
            if end is None and rng.random() < 0.3:  # some consents of open cases run out in the coming months
                plans.expires_on = ctx.today + timedelta(days=rng.randint(10, 400))
            proxy = rng.random() < 0.1
            categories = ["basic", "household", "issues", "progress", "plan"] + (
                ["health"] if rng.random() < 0.5 else []
            )
            others = [m for m in households[case.household].members if m != case.person]
            people = [case.person] + (others[:1] if rng.random() < 0.2 else [])  # 世帯員 consent separately
            for person in people:
                consent = Consent(
                    case_id=case.id,
                    person_id=person,
                    consenting_party="proxy" if proxy else "self",
                    proxy_name="成年後見人 " + rng.choice(ctx.family_names)[0] if proxy else "",
                    proxy_relation="成年後見人" if proxy else "",
                    consented_on=plans.consent_on,
                    taken_by_id=coordinator.pk,
                    method="written" if rng.random() < 0.85 else "oral",
                    categories=categories,
                    purpose="重層的支援会議での支援プランの協議と、関係機関による支援の実施のため",
                    expires_on=plans.expires_on,
                    recorded_at=at,
                )
                consent._recipients = plans.agencies
                if end is not None and rng.random() < 0.03:
                    withdrawals.append(
                        (consent, self.day_time(end + timedelta(days=rng.uniform(5, 60)), end), case.lead)
                    )
                consents.append(stamp(consent, at=at, user=coordinator, reason="本人同意の記録"))
            decision = SupportDecision(
                case_id=case.id,
                decided_on=plans.decision_on,
                decided_by_id=coordinator.pk,
                decision_number=_decision_number(plans.decision_on, len(decisions) + 1),
                recorded_at=datetime.combine(plans.decision_on, time(16), tzinfo=TOKYO),
            )
            decisions.append(stamp(decision, at=decision.recorded_at, user=coordinator, reason="支援決定"))
        saved, histories = ctx.create_tracked(Consent, consents, label="本人同意")
        ctx.m2m(Consent, "recipients", [(c.pk, a) for c in saved for a in c._recipients], histories)
        # consent_withdraw, after the case ended: the row changes, a '~' history row says so.
        later = []
        for consent, at, by in withdrawals:
            consent.withdrawn_at, consent.withdrawal_method, consent.withdrawal_received_by_id = (
                at,
                "oral",
                by,
            )
            consent.withdrawal_note = "支援終了後、本人から撤回の申し出"
            later.append(history_row(consent, at=at, user_id=by, reason="同意の撤回（口頭）", kind="~"))
        if withdrawals:
            fields = ["withdrawn_at", "withdrawal_method", "withdrawal_received_by", "withdrawal_note"]
            Consent.objects.bulk_update([c for c, _, _ in withdrawals], fields, batch_size=1000)
            ctx.create_history(later)
        ctx.create(SupportDecision, decisions, label="支援決定")

    def plans(self) -> None:
        ctx, rng = self.ctx, self.rng
        agency_names = {a.pk: a for a in ctx.agencies}
        plans, owners = [], []
        for schedule in self.schedules:
            case = schedule.case
            for version in schedule.versions:
                review = (
                    self.at(version.approved_slot)
                    if version.approved_slot is not None
                    else version.created_at
                )
                issues = case.issues
                labels = "、".join(ctx.codes[("issue", code)].label for code in issues)
                plan = SupportPlan(
                    case_id=case.id,
                    version=version.number,
                    status=version.status,
                    person_wishes=rng.choice(
                        [
                            "住み慣れた家で暮らし続けたい",
                            "家族に負担をかけずに暮らしたい",
                            "働いて自立したい",
                            "子どもと安心して暮らしたい",
                        ]
                    ),
                    household_wishes=rng.choice(
                        ["", "（家族）できる範囲で支えたい", "（家族）本人の気持ちを大切にしてほしい"]
                    ),
                    issues_summary=f"{labels}の課題が世帯の中で重なっている",
                    long_term_goal="世帯が地域とつながり、安心して暮らせる",
                    needs_participation=rng.random() < 0.3,
                    needs_outreach="hikikomori" in issues or rng.random() < 0.1,
                    review_on=(review + timedelta(days=180)).astimezone(TOKYO).date(),
                    author_id=case.coordinator,
                    created_at=version.created_at,
                    approved_at=self.at(version.approved_slot) if version.approved_slot is not None else None,
                    sent_back_reason="役割分担を見直すこと" if version.sent_back_slot is not None else "",
                )
                plans.append(plan)
                owners.append((schedule, version))
        plans = ctx.create_plain(SupportPlan, plans, label="支援プラン")
        history, goals, tasks, items = [], [], [], []
        for plan, (schedule, version) in zip(plans, owners, strict=True):
            version.pk = plan.pk
            case = schedule.case
            coordinator = case.coordinator
            history.append(
                history_row(
                    plan,
                    at=version.created_at,
                    user_id=coordinator,
                    reason=f"支援プラン第{version.number}版の作成",
                    status=PlanStatus.DRAFT,
                    approved_at=None,
                    sent_back_reason="",
                )
            )
            if version.sent_back_slot is not None:
                history.append(
                    history_row(
                        plan,
                        at=self.at(version.sent_back_slot),
                        user_id=coordinator,
                        reason="差し戻し",
                        kind="~",
                        status=PlanStatus.SENT_BACK,
                        approved_at=None,
                    )
                )
                items.append(
                    self.item(
                        version.sent_back_slot,
                        case,
                        plan.pk,
                        AgendaKind.PLAN,
                        "sent_back",
                        "役割分担を見直すこと",
                    )
                )
            if version.approved_slot is not None:
                title = self.slots[version.approved_slot][1]
                history.append(
                    history_row(
                        plan,
                        at=self.at(version.approved_slot),
                        user_id=coordinator,
                        reason=f"{title}で承認",
                        kind="~",
                        status=PlanStatus.APPROVED,
                    )
                )
                items.append(
                    self.item(
                        version.approved_slot,
                        case,
                        plan.pk,
                        AgendaKind.PLAN,
                        "approved",
                        "役割分担と目標は適切",
                    )
                )
            for slot in (version.superseded_slot, version.ended_slot):
                if slot is not None:
                    status = PlanStatus.SUPERSEDED if slot == version.superseded_slot else PlanStatus.ENDED
                    reason = "改訂版の承認" if status == PlanStatus.SUPERSEDED else END_LABEL[case.end_kind]
                    history.append(
                        history_row(
                            plan,
                            at=self.at(slot),
                            user_id=coordinator,
                            reason=reason,
                            kind="~",
                            status=status,
                        )
                    )
            texts = [GOALS.get(code, "生活の困りごとが一つ減る") for code in case.issues][:3] or [
                "生活の困りごとが一つ減る"
            ]
            version.goals = [PlanGoal(plan_id=plan.pk, order=i, text=text) for i, text in enumerate(texts)]
            goals += version.goals
            final = {
                PlanStatus.APPROVED: TaskStatus.IN_PROGRESS,
                PlanStatus.SUPERSEDED: TaskStatus.DONE,
                PlanStatus.ENDED: TaskStatus.DONE,
            }.get(plan.status, TaskStatus.NOT_STARTED)
            for agency in schedule.agencies:
                role, content, frequency = ROLES[agency_names[agency].kind]
                worker = ctx.workers.get(agency)
                task = PlanTask(
                    plan_id=plan.pk,
                    agency_id=agency,
                    role=role,
                    content=content,
                    frequency=frequency,
                    person_in_charge=rng.choice(worker).last_name if worker else "",
                    starts_on=plan.approved_at.astimezone(TOKYO).date() if plan.approved_at else None,
                    status=final,
                )
                # plan_create writes the task 未着手; task_update_status moves it once the plan is in force.
                task._created, task._author = version.created_at, coordinator
                done = version.superseded_slot if version.superseded_slot is not None else version.ended_slot
                task._moved = self.at(done) if final == TaskStatus.DONE else plan.approved_at
                tasks.append(task)
        ctx.create_history(history)
        ctx.create_plain(PlanGoal, goals, label="短期目標")
        tasks = ctx.create_plain(PlanTask, tasks, label="役割分担")
        task_history = []
        for task in tasks:
            task_history.append(
                history_row(task, at=task._created, user_id=task._author, status=TaskStatus.NOT_STARTED)
            )
            if task.status != TaskStatus.NOT_STARTED:
                task_history.append(
                    history_row(task, at=task._moved, user_id=task._author, reason="状況の更新", kind="~")
                )
        ctx.create_history(task_history)
        evaluations = []
        for schedule in self.schedules:
            for version in schedule.versions:
                for slot, step in version.evaluations:
                    kind = (
                        AgendaKind.CLOSURE
                        if step in (NextStep.CLOSE, NextStep.SUSPEND)
                        else AgendaKind.EVALUATION
                    )
                    item = self.item(
                        slot, schedule.case, version.pk, kind, step, "目標ごとに達成状況を確認した"
                    )
                    items.append(item)
                    evaluations.append((item, schedule, version, slot, step))
        items = ctx.create(AgendaItem, items, label="議題")
        rows = []
        for item, schedule, version, slot, step in evaluations:
            case = schedule.case
            lead = None
            if step == NextStep.CLOSE and rng.random() < 0.3:
                lead = case.agency
            row = Evaluation(
                plan_id=version.pk,
                item_id=item.pk,
                next_step=step,
                next_lead_agency_id=lead,
                person_change=rng.choice(
                    [
                        "本人が相談に来所できるようになった",
                        "世帯の生活が安定してきた",
                        "大きな変化はないが、関係は続いている",
                        "家族の負担が軽くなった",
                    ]
                ),
                evaluated_by_id=case.coordinator,
                evaluated_at=self.at(slot),
            )
            rows.append(stamp(row, at=self.at(slot), user=ctx.users[case.coordinator]))
        rows = ctx.create(Evaluation, rows, label="評価")
        results = []
        for evaluation, (_, _, version, _, _) in zip(rows, evaluations, strict=True):
            for goal in version.goals:
                result = self.ctx.pick([("achieved", 3), ("partly", 4), ("not", 2)])
                results.append(GoalEvaluation(evaluation_id=evaluation.pk, goal_id=goal.pk, result=result))
        ctx.create_plain(GoalEvaluation, results, label="目標ごとの評価")
        self.resource_gaps(items)
        self.consent_grants()

    def item(self, slot, case, plan_id, kind, outcome, notes) -> AgendaItem:
        at = self.at(slot)
        row = AgendaItem(
            conference_id=self.conference_ids[slot],
            case_id=case.id,
            plan_id=plan_id,
            kind=kind,
            outcome=outcome,
            notes=notes,
            decided_by_id=case.coordinator,
            decided_at=at,
        )
        return stamp(row, at=at, user=self.ctx.users[case.coordinator])

    def resource_gaps(self, items: list[AgendaItem]) -> None:
        """社会資源の充足状況の把握と開発: some 協議 notice a missing resource (an agenda item of its own and a
        gap in the shared register, naming the meeting, not the person)."""
        ctx, rng = self.ctx, self.rng
        chosen = [
            item
            for item in items
            if item.kind == AgendaKind.PLAN and item.outcome == "approved" and rng.random() < 0.07
        ]
        resource_items = [
            self.item(
                self.slot_of[item.conference_id],
                _CaseRef(item.case_id, item.decided_by_id),
                item.plan_id,
                AgendaKind.RESOURCES,
                "",
                "",
            )
            for item in chosen
        ]
        resource_items = ctx.create(AgendaItem, resource_items, label="議題")
        item_type = ContentType.objects.get_for_model(AgendaItem).pk
        gaps = []
        for item in resource_items:
            slot = self.slot_of[item.conference_id]
            held_at, title = self.slots[slot]
            category, description = rng.choice(GAP_CATEGORIES)
            age = (ctx.anchor - held_at).days
            status = ResourceGapStatus.NOTED
            if age > 365:
                status = ctx.pick(
                    [
                        (ResourceGapStatus.DEVELOPED, 3),
                        (ResourceGapStatus.CONSIDERING, 2),
                        (ResourceGapStatus.NOTED, 2),
                    ]
                )
            elif age > 90:
                status = ctx.pick([(ResourceGapStatus.CONSIDERING, 1), (ResourceGapStatus.NOTED, 2)])
            gap = ResourceGap(
                category=category,
                description=description,
                status=status,
                area=rng.choice(ctx.areas_middle),
                source_type_id=item_type,
                source_id=item.pk,
                source_label=f"{title}（{held_at:%Y-%m-%d}）",
                recorded_by_id=item.decided_by_id,
                recorded_at=held_at,
            )
            gaps.append(gap)
        gaps = ctx.create_plain(ResourceGap, gaps, label="不足する社会資源")
        # As resource_gap_record wrote them (把握); community writes how they moved on since.
        ctx.create_history(
            [
                history_row(
                    gap,
                    at=gap.recorded_at,
                    user_id=gap.recorded_by_id,
                    reason="重層的支援会議で把握",
                    status=ResourceGapStatus.NOTED,
                )
                for gap in gaps
            ]
        )
        ctx.store.setdefault("gaps", []).extend(gaps)

    @property
    def slot_of(self) -> dict:
        if not hasattr(self, "_slot_of"):
            self._slot_of = {pk: slot for slot, pk in enumerate(self.conference_ids)}
        return self._slot_of

    def consent_grants(self) -> None:
        """consent_access_sync at each approval: every agency of the approved plan's 役割分担 may read the
        case while a valid consent names it; the grant ends with the plan (終結・中断・返却)."""
        for schedule in self.schedules:
            approved = [v for v in schedule.versions if v.approved_slot is not None]
            if not approved:
                continue
            case = schedule.case
            first = approved[0]
            last = approved[-1]
            ended = last.ended_slot
            ends_at = None
            if schedule.expires_on is not None:  # meetings.services._coverage_end
                ends_at = datetime.combine(schedule.expires_on + timedelta(days=1), time.min, tzinfo=TOKYO)
            for agency in schedule.agencies:
                self.grants.add(
                    Case,
                    case.id,
                    agency_id=agency,
                    basis=AccessBasis.CONSENT,
                    granted_by=case.coordinator,
                    starts_at=self.at(first.approved_slot),
                    ends_at=ends_at,
                    reason=f"支援プラン第{first.number}版の役割分担（本人同意の範囲内）",
                    revoked_at=self.at(ended) if ended is not None else None,
                    revoked_by=case.coordinator if ended is not None else None,
                    revoke_reason=f"支援プランの終了（{END_LABEL[case.end_kind]}）"
                    if ended is not None
                    else "",
                )

    # --- 支援会議 (社会福祉法 第106条の6) ------------------------------------------------------------

    def support_meetings(self) -> None:
        ctx, rng = self.ctx, self.rng
        count = max(12, ctx.n(SUPPORT_MEETINGS))
        span = (ctx.anchor - timedelta(days=40) - ctx.start).total_seconds()
        staff = [u for users in ctx.workers.values() for u in users]
        bodies = [
            (ActingBody.NONE, 4),
            (ActingBody.COMMUNITY_CARE, 2),
            (ActingBody.CHILD_PROTECTION, 2),
            (ActingBody.SUPPORT_COORDINATION, 1),
            (ActingBody.SELF_RELIANCE, 1),
        ]
        plans = []
        for number in range(1, count):
            held = ctx.start + timedelta(days=60, seconds=span * number / count)
            held = self.day_time(held, held - timedelta(days=1)).replace(hour=10, minute=0, second=0)
            host = rng.choice(ctx.coordinators)
            members = rng.sample(staff, min(len(staff), rng.randint(3, 6))) + rng.sample(
                ctx.meeting_members, 1
            )
            plans.append(
                (
                    held,
                    host,
                    [m for m in members if m.pk != host.pk],
                    self.briefing_cases(held, rng.randint(3, 8)),
                    False,
                )
            )
        # The benchmark meeting: convened now, ten cases on the agenda, every member has pledged.
        bench_cases = self.bench_briefing_cases(10)
        bench_members = [ctx.bench_worker, ctx.bench_member, *[u for u in staff if u != ctx.bench_worker][:4]]
        plans.append(
            (
                ctx.anchor + timedelta(days=2, hours=10),
                ctx.bench_coordinator,
                bench_members,
                bench_cases,
                True,
            )
        )
        names = self.people_details([c for *_, cases, _ in plans for c in cases])
        meetings, memberships, pledges, briefings = [], [], [], []
        for number, (held, host, _, _, bench) in enumerate(plans, start=1):
            convened = held - timedelta(days=10)
            access_from, access_until = held - timedelta(days=7), held + timedelta(days=30)
            title = BENCH_MEETING.format(n=number) if bench else f"第{number}回 みどり市支援会議"
            meeting = SupportMeeting(
                held_at=held,
                title=title,
                acting_body=ctx.pick(bodies),
                host_id=host.pk,
                access_from=access_from,
                access_until=access_until,
                created_at=convened,
                minutes="" if held > ctx.anchor else "各ケースの支援の方向性と役割分担を確認した。",
            )
            meetings.append(stamp(meeting, at=convened, user=host, reason="支援会議の招集"))
        meetings = ctx.create(SupportMeeting, meetings, label="支援会議")
        for meeting, (_, host, members, cases, bench) in zip(meetings, plans, strict=True):
            self.grants.add(
                SupportMeeting,
                meeting.pk,
                user_id=host.pk,
                basis=AccessBasis.ASSIGNMENT,
                permissions=("view", "change"),
                granted_by=host.pk,
                starts_at=meeting.created_at,
                reason="主催",
            )
            for member in members:
                memberships.append(
                    MeetingMember(
                        meeting_id=meeting.pk,
                        user_id=member.pk,
                        added_by_id=host.pk,
                        added_at=meeting.created_at,
                    )
                )
                self.grants.add(
                    SupportMeeting,
                    meeting.pk,
                    user_id=member.pk,
                    basis=AccessBasis.SUPPORT_MEETING,
                    granted_by=host.pk,
                    starts_at=meeting.access_from,
                    ends_at=meeting.access_until,
                    granted_at=meeting.created_at,
                    reason="社会福祉法第106条の6 支援会議の構成員",
                )
                if bench or rng.random() < 0.9:
                    start = meeting.access_from
                    pledged = min(
                        start + timedelta(hours=rng.uniform(1, 140)), ctx.anchor - timedelta(hours=1)
                    )
                    pledges.append(
                        ConfidentialityPledge(
                            meeting_id=meeting.pk,
                            user_id=member.pk,
                            acknowledged_at=pledged,
                            statement=PLEDGE_STATEMENT,
                        )
                    )
            for case in cases:
                pseudonymised = not bench and rng.random() < 0.3
                content = self.briefing_content(case, names)
                briefing = MeetingBriefing(
                    meeting_id=meeting.pk,
                    case_id=case.id,
                    pseudonymised=pseudonymised,
                    sections=from_v1(content, pseudonymised=pseudonymised),
                    external_sections=from_v1(content, pseudonymised=True),
                    choice={"categories": ["household", "issues"], "members": {}},
                    shared_by_id=host.pk,
                    shared_at=min(meeting.created_at + timedelta(days=1), ctx.anchor - timedelta(hours=2)),
                )
                briefings.append(
                    stamp(
                        briefing,
                        at=briefing.shared_at,
                        user=host,
                        reason="支援会議への情報共有（本人同意なし・守秘義務）",
                    )
                )
        ctx.create_plain(MeetingMember, memberships, label="支援会議の構成員")
        ctx.create_plain(ConfidentialityPledge, pledges, label="守秘義務の確認")
        briefings = ctx.create(MeetingBriefing, briefings, label="支援会議の資料")
        decisions = []
        hosts = {m.pk: m.host_id for m in meetings}
        held_at = {m.pk: m.held_at for m in meetings}
        for briefing in briefings:
            if held_at[briefing.meeting_id] > ctx.anchor:
                continue  # not held yet
            for _ in range(rng.randint(1, 2)):
                kind = ctx.pick(
                    [
                        (DecisionKind.DIRECTION, 4),
                        (DecisionKind.ROLES, 3),
                        (DecisionKind.WATCH, 2),
                        (DecisionKind.OUTREACH, 1),
                    ]
                )
                text = {
                    DecisionKind.DIRECTION: "多機関協働で支援の方向性を検討する",
                    DecisionKind.ROLES: "関係機関の役割分担を確認した",
                    DecisionKind.WATCH: "民生委員と地域包括で見守りを続ける",
                    DecisionKind.OUTREACH: "アウトリーチで関係づくりを始める",
                }[kind]
                at = held_at[briefing.meeting_id] + timedelta(hours=1)
                decisions.append(
                    stamp(
                        MeetingDecision(
                            briefing_id=briefing.pk,
                            kind=kind,
                            text=text,
                            recorded_by_id=hosts[briefing.meeting_id],
                            recorded_at=at,
                        ),
                        at=at,
                        user=ctx.users[hosts[briefing.meeting_id]],
                    )
                )
        ctx.create(MeetingDecision, decisions, label="支援会議の決定")
        bench_meeting = meetings[-1]
        url = reverse("meetings:meeting_detail", args=[bench_meeting.pk])
        ctx.fixtures.append(
            ("支援会議（議題10件、構成員は守秘義務確認済み）", f"{bench_meeting.title} {url}")
        )
        ctx.store["meetings"] = {"bench_meeting": bench_meeting.pk}
        plan = next(
            v
            for s in self.schedules
            if s.case is self.bench
            for v in s.versions
            if v.status == PlanStatus.APPROVED
        )
        referred = sum(c.status == CaseStatus.REFERRED for c in self.referred)
        ctx.fixtures += [
            ("そのケースの支援プラン（第3版、承認済み）", reverse("meetings:plan_detail", args=[plan.pk])),
            ("多機関協働の受付箱（つなぎ依頼）", f"{referred}件 {reverse('meetings:inbox')}"),
        ]

    def briefing_cases(self, held: datetime, count: int) -> list:
        """Cases the host may see at the meeting (referred to 多機関協働 and not yet back with their agency)."""
        keys = self._referred_keys
        start, stop = bisect_left(keys, held - timedelta(days=540)), bisect_right(keys, held)
        chosen = []
        for _ in range(count * 6):
            if stop <= start or len(chosen) >= count:
                break
            case = self.referred[self.rng.randrange(start, stop)]
            back = case.events[-1][0] if case.end_kind == "return" else None
            ended = case.ended_at
            if case in chosen or (back and back <= held) or (ended and ended <= held):
                continue
            chosen.append(case)
        return chosen

    @property
    def _referred_keys(self) -> list:
        if not hasattr(self, "_keys"):
            self._keys = [c.referred_at for c in self.referred]
        return self._keys

    def bench_briefing_cases(self, count: int) -> list:
        """Ten cases the benchmark coordinator may see now: open ones first, then the most recent that
        ended in 多機関協働 (the coordinators' grants stay with a case closed there)."""
        visible = [c for c in self.referred if c.end_kind != "return" and not _returned(c)]
        visible.sort(
            key=lambda c: (
                c.status not in (CaseStatus.REFERRED, CaseStatus.COORDINATING),
                -c.referred_at.timestamp(),
            )
        )
        return visible[:count]

    def people_details(self, cases: list) -> dict:
        ids = sorted({c.person for c in cases})
        households = sorted({c.household for c in cases})
        names = {}
        for start in range(0, len(ids), 5000):
            names.update(
                dict(Person.objects.filter(pk__in=ids[start : start + 5000]).values_list("pk", "name"))
            )
        members: dict[int, list] = {}
        for start in range(0, len(households), 5000):
            rows = HouseholdMember.objects.filter(
                household_id__in=households[start : start + 5000], left_on__isnull=True
            )
            for row in rows.values_list(
                "household_id",
                "relationship",
                "person__name",
                "person__birth_date",
                "own_issues",
                "is_main_carer",
                "is_key_person",
            ).order_by("pk"):
                members.setdefault(row[0], []).append(row[1:])
        return {"names": names, "members": members}

    def briefing_content(self, case, details: dict) -> dict:
        """A briefing in the first format's shape (meetings.briefings.from_v1 renders it as the host's
        choice of 世帯の状況 and 課題 would: each member with their place in the household, only the
        本人 with their 本人の課題): never whereabouts."""
        from devdata.generate.cases import SUMMARIES

        today = self.ctx.today
        content = {"case_number": f"C-{case.id:06d}", "person": details["names"].get(case.person, "")}
        content["summary"] = {
            "主訴": SUMMARIES[case.issues[0]][0],
            "見立て": "世帯全体の状況を踏まえた支援が必要。",
        }
        household = []
        for relationship, name, born, own_issues, carer, key in details["members"].get(case.household, []):
            age = (
                None
                if born is None
                else today.year - born.year - ((today.month, today.day) < (born.month, born.day))
            )
            roles = "、".join(x for x, on in (("主介護者", carer), ("キーパーソン", key)) if on)
            household.append(
                {"続柄": relationship, "年齢": age, "氏名": name, "役割": roles, "本人の課題": own_issues}
            )
        content["household"] = household
        content["issues"] = [self.ctx.codes[("issue", code)].label for code in case.issues]
        return content


@dataclass
class _CaseRef:
    id: int
    coordinator: int


def _returned(case) -> bool:
    return any(
        e[1] in (CaseStatus.REFERRED, CaseStatus.COORDINATING) and e[2] == CaseStatus.SUPPORTING
        for e in case.events
    )


def _decision_number(day, number: int) -> str:
    """決定番号 like R7-00012 (令和7年) or H31-00003 (平成31年): the era of the day (jusou.ja.wareki)."""
    name, year = era_year(day)
    return f"{ERA_ABBREVIATIONS[name]}{year}-{number:05d}"
