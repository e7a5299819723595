"""参加支援 in the synthetic municipality (`generate_municipality`): participation plans for people in
support, hosts proposed from the community register (with the person's choice and the host's
agreement), placements moving 調整中 → 体験中 → 定着 → 終了 within each host's capacity, follow-ups
with both sides, and hosts being developed (参加支援先の開拓). Registered from
ParticipationConfig.ready after community; see devdata/generate/core.py.

At 900,000 people: about 3,000 plans.
"""

from datetime import timedelta

from cases.models import CaseStatus
from community.models import CommunityResource, ParticipationKind, ResourceKind
from devdata.generate.core import TOKYO, GenerationContext, history_row, stamp
from participation.models import (
    CandidateOutcome,
    FollowUp,
    HostCandidate,
    ParticipationPlan,
    Placement,
    PlacementStatus,
    Proposal,
)

PLANS = 3000
CANDIDATES = 200
OPEN = {CaseStatus.SUPPORTING, CaseStatus.COORDINATING, CaseStatus.ASSESSING}


def generate_participation(ctx: GenerationContext) -> None:
    with ctx.step("参加支援（プラン・提案・参加先・定着支援・開拓）"):
        _ParticipationGenerator(ctx).run()


class _ParticipationGenerator:
    def __init__(self, ctx: GenerationContext):
        self.ctx, self.rng = ctx, ctx.rng
        self.hosts = ctx.store.get("community", {}).get("hosts", [])

    def day(self, at):
        return at.astimezone(TOKYO).date()

    def run(self) -> None:
        if self.hosts:
            self.plans()
        self.candidates()

    def windows(self) -> list:
        """(case, from, until): a stretch of at least 60 days in which the case was open (in support)."""
        out = []
        for case in self.ctx.store["cases"]["cases"]:
            for start, until, status in case.open_windows(self.ctx.anchor):
                if status in OPEN and (until - start).days >= 60:
                    out.append((case, start, until))
        return out

    def plans(self) -> None:
        ctx, rng = self.ctx, self.rng
        windows = self.windows()
        if not windows:
            return
        total = min(len(windows), max(5, ctx.n(PLANS)))
        chosen = rng.sample(windows, total)
        active: dict[int, int] = {}  # host id -> placements in force today (capacity)
        plans, proposals, placements = [], [], []
        for case, start, until in chosen:
            created = ctx.moment(start + timedelta(days=7), min(until, ctx.anchor) - timedelta(days=30))
            author = case.lead
            kinds = rng.sample(ParticipationKind.values, rng.randint(1, 2))
            plan = ParticipationPlan(
                case_id=case.id,
                wishes=rng.choice(
                    [
                        "体調の良い日に、誰かの役に立ちたい",
                        "少しずつ外に出られるようになりたい",
                        "働く練習をしたい",
                        "同じ悩みの人と話したい",
                    ]
                ),
                strengths=rng.choice(["料理", "パソコン", "庭仕事", "子どもの相手", ""]),
                weaknesses=rng.choice(["朝が苦手", "大人数の場", ""]),
                health=rng.choice(["通院中。午後は安定している", "", "腰痛がある"]),
                mobility=rng.choice(["徒歩", "自転車", "バス"]),
                kinds=kinds,
                goals="週1回、家の外で役割を持つ",
                review_on=self.day(created + timedelta(days=90)),
                created_by_id=author,
                created_at=created,
            )
            plans.append(stamp(plan, at=created, user=ctx.users[author], reason="参加支援プランの作成"))
            matching = [h for h in self.hosts if set(kinds) & set(h.participation_kinds)] or self.hosts
            offered = rng.sample(matching, min(len(matching), rng.randint(1, 3)))
            placed = False
            for host in offered:
                at = min(created + timedelta(days=rng.uniform(3, 20)), ctx.anchor - timedelta(hours=2))
                wants = rng.random() < 0.6
                agreed = rng.random() < 0.85
                proposal = Proposal(
                    host_id=host.pk,
                    proposed_by_id=author,
                    proposed_at=at,
                    person_choice="wants" if wants else "declines",
                    host_agreement="agreed" if agreed else "refused",
                )
                proposals.append(
                    (plan, stamp(proposal, at=at, user=ctx.users[author], reason="参加先の提案"))
                )
                room = host.capacity is None or active.get(host.pk, 0) < host.capacity
                if wants and agreed and not placed:
                    placed = True
                    course = self.course(at, until)
                    if course[-1][1] != PlacementStatus.ENDED and not room:
                        course = [
                            *course[:1],
                            (
                                course[0][0] + timedelta(days=7),
                                PlacementStatus.ENDED,
                                "受け入れ枠の都合で見送り",
                            ),
                        ]
                    if course[-1][1] != PlacementStatus.ENDED:
                        active[host.pk] = active.get(host.pk, 0) + 1
                    placements.append((plan, host, course, author))
        plans = ctx.create(ParticipationPlan, plans, label="参加支援プラン")
        for plan, proposal in proposals:
            proposal.plan_id = plan.pk
        ctx.create(Proposal, [p for _, p in proposals], label="参加先の提案")
        self.placements(placements)

    def course(self, proposed, until) -> list:
        """[(at, status, reason)]: 調整中 from the proposal, then 体験中, 定着 — or 終了 — while time allows."""
        rng, anchor = self.rng, self.ctx.anchor
        start = proposed + timedelta(days=rng.uniform(3, 14))
        steps = [(start, PlacementStatus.ARRANGING, "参加先の決定（調整中）")]
        at = start + timedelta(days=rng.uniform(7, 21))
        if at < anchor:
            steps.append((at, PlacementStatus.TRIAL, "見学のあと体験開始"))
            at += timedelta(days=rng.uniform(21, 90))
            if at < anchor and rng.random() < 0.7:
                steps.append((at, PlacementStatus.SETTLED, "継続して参加"))
                at += timedelta(days=rng.uniform(60, 720))
            if at < anchor and (at > until or rng.random() < 0.5):
                steps.append(
                    (
                        at,
                        PlacementStatus.ENDED,
                        rng.choice(
                            ["一般就労へ移行", "本人の体調不良", "ケースの終結に伴い終了", "本人の希望で終了"]
                        ),
                    )
                )
        return [(min(s, anchor - timedelta(hours=1)), status, reason) for s, status, reason in steps]

    def placements(self, placements) -> None:
        ctx, rng = self.ctx, self.rng
        rows = []
        for plan, host, course, author in placements:
            first, last = course[0], course[-1]
            row = Placement(
                plan_id=plan.pk,
                host_id=host.pk,
                starts_on=self.day(first[0]),
                status=last[1],
                frequency=rng.choice(["週1回", "週2回", "月2回"]),
                host_contact=f"代表の{rng.choice(ctx.family_names)[0]}さん",
                end_reason=last[2] if last[1] == PlacementStatus.ENDED else "",
            )
            row._course, row._author = course, author
            rows.append(row)
        rows = ctx.create_plain(Placement, rows, label="参加先")
        history, follow_ups = [], []
        for row in rows:
            for index, (at, status, reason) in enumerate(row._course):
                history.append(
                    history_row(
                        row,
                        at=at,
                        user_id=row._author,
                        reason=reason,
                        kind="~" if index else "+",
                        status=status,
                        end_reason=reason if status == PlacementStatus.ENDED else "",
                    )
                )
            start, end = (
                row._course[0][0],
                row._course[-1][0] if row.status == PlacementStatus.ENDED else ctx.anchor,
            )
            at = start + timedelta(days=14)
            for _ in range(8):  # 定着支援 with both sides, about monthly at first
                if at >= end:
                    break
                with_whom = "person" if rng.random() < 0.6 else "host"
                follow_ups.append(
                    stamp(
                        FollowUp(
                            placement_id=row.pk,
                            done_on=self.day(at),
                            with_whom=with_whom,
                            content="参加の様子を確認した。無理なく続けられている"
                            if with_whom == "person"
                            else "受け入れ先から、来てくれて助かっているとの声",
                            recorded_by_id=row._author,
                        ),
                        at=at,
                        user=ctx.users[row._author],
                    )
                )
                at += timedelta(days=rng.uniform(25, 60))
        ctx.create_history(history)
        ctx.create(FollowUp, follow_ups, label="定着支援の記録")

    def candidates(self) -> None:
        """参加支援先の開拓: places approached; those that accepted joined the register (candidate_join)."""
        ctx, rng = self.ctx, self.rng
        staff = [u for users in ctx.workers.values() for u in users]
        rows, joined = [], []
        for _ in range(ctx.n(CANDIDATES, minimum=3)):
            at = ctx.moment(ctx.start, ctx.anchor - timedelta(days=1))
            user = rng.choice(staff)
            area = rng.choice(ctx.areas_middle)
            kind = ctx.pick(
                [
                    (ResourceKind.WORK_EXPERIENCE, 4),
                    (ResourceKind.NPO, 2),
                    (ResourceKind.IBASHO, 2),
                    (ResourceKind.OTHER, 1),
                ]
            )
            outcome = CandidateOutcome.NEGOTIATING
            if (ctx.anchor - at).days > 60:
                outcome = ctx.pick(
                    [
                        (CandidateOutcome.ACCEPTED, 5),
                        (CandidateOutcome.DECLINED, 2),
                        (CandidateOutcome.NEGOTIATING, 1),
                    ]
                )
            name = f"{area.name[:2]}{rng.choice(['商店街の八百屋', 'パン工房', '農園', '福祉作業所', '書店', 'カフェ'])}"
            days = sorted(rng.sample(range(6), rng.randint(1, 3)))
            complete = {
                "operator": f"{name}（店主）",
                "days": days,
                "schedule": "・".join("月火水木金土"[d] for d in days) + "曜 午前",
                "contact": f"{area.name[:2]}商店会 事務局",
                "participation_kinds": [ParticipationKind.WORK_TRIAL],
                "acceptance_conditions": "事前に見学してください",
                "capacity": rng.randint(1, 3),
            }
            candidate = HostCandidate(
                name=name,
                kind=kind,
                area_id=area.pk,
                approached_by_id=user.pk,
                approached_on=self.day(at),
                outcome=outcome,
                note="店主が受け入れに前向き"
                if outcome != CandidateOutcome.DECLINED
                else "人手が足りず見送り",
                **complete,
            )
            candidate._at, candidate._user = at, user
            rows.append(candidate)
            if outcome == CandidateOutcome.ACCEPTED:
                joined_at = min(at + timedelta(days=30), ctx.anchor - timedelta(hours=3))
                # candidate_join: the register gets every field the candidate holds
                resource = CommunityResource(
                    name=name,
                    kind=kind,
                    area_id=area.pk,
                    accepts_participants=True,
                    is_partner=True,
                    created_at=joined_at,
                    **complete,
                )
                joined.append(
                    (candidate, stamp(resource, at=joined_at, user=user, reason="参加支援先の開拓から登録"))
                )
        resources = ctx.create(CommunityResource, [r for _, r in joined], label="地域資源・居場所")
        for (candidate, _), resource in zip(joined, resources, strict=True):
            candidate.resource_id = resource.pk
        rows = ctx.create_plain(HostCandidate, rows, label="参加支援先の開拓")
        history = []
        for row in rows:
            history.append(
                history_row(
                    row,
                    at=row._at,
                    user_id=row._user.pk,
                    reason="開拓の記録",
                    outcome=CandidateOutcome.NEGOTIATING,
                    resource_id=None,
                )
            )
            if row.outcome != CandidateOutcome.NEGOTIATING:
                at = min(row._at + timedelta(days=30), ctx.anchor - timedelta(hours=2))
                history.append(
                    history_row(
                        row,
                        at=at,
                        user_id=row._user.pk,
                        kind="~",
                        reason="地域資源に登録" if row.resource_id else "受け入れ不可",
                    )
                )
        ctx.create_history(history)
