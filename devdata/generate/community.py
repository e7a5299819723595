"""地域づくり in the synthetic municipality (`generate_municipality`): the register of local resources
and places in every 圏域 (some of them hosts for 参加支援, some born of a gap a 重層的支援会議 noticed),
their sessions, the platforms where local actors meet, coordinators' activity, and gaps noticed in
地域づくり itself. No personal data. Registered from CommunityConfig.ready; see devdata/generate/core.py.

At 900,000 people: about 2,000 resources.
"""

from datetime import timedelta

from community.models import (
    Activity,
    CommunityResource,
    CoordinatorActivity,
    CoordinatorActivityKind,
    ParticipationKind,
    Platform,
    ResourceKind,
)
from devdata.generate.core import GAP_CATEGORIES, TOKYO, GenerationContext, history_row, stamp
from jusou.models import ResourceGap, ResourceGapStatus

RESOURCES = 2000
PLATFORMS = 300
COORDINATOR_ACTIVITIES = 3000
COMMUNITY_GAPS = 300
KINDS = [
    (ResourceKind.IBASHO, 12),
    (ResourceKind.SALON, 18),
    (ResourceKind.KODOMO_SHOKUDO, 8),
    (ResourceKind.KAYOI, 20),
    (ResourceKind.ACTIVITY_CENTER, 3),
    (ResourceKind.CHILDCARE_PLAZA, 5),
    (ResourceKind.DEMENTIA_CAFE, 5),
    (ResourceKind.WORK_EXPERIENCE, 8),
    (ResourceKind.NPO, 8),
    (ResourceKind.NEIGHBOURHOOD, 10),
    (ResourceKind.OTHER, 3),
]
# What a host of each kind can offer a participant (参加支援先種別).
OFFERS = {
    ResourceKind.IBASHO: [ParticipationKind.IBASHO, ParticipationKind.VOLUNTEER],
    ResourceKind.SALON: [ParticipationKind.IBASHO, ParticipationKind.HOBBY],
    ResourceKind.KODOMO_SHOKUDO: [
        ParticipationKind.VOLUNTEER,
        ParticipationKind.IBASHO,
        ParticipationKind.LEARNING,
    ],
    ResourceKind.KAYOI: [ParticipationKind.VOLUNTEER, ParticipationKind.HOBBY],
    ResourceKind.ACTIVITY_CENTER: [ParticipationKind.INTERMEDIATE_WORK, ParticipationKind.IBASHO],
    ResourceKind.CHILDCARE_PLAZA: [ParticipationKind.VOLUNTEER],
    ResourceKind.DEMENTIA_CAFE: [ParticipationKind.VOLUNTEER],
    ResourceKind.WORK_EXPERIENCE: [
        ParticipationKind.WORK_TRIAL,
        ParticipationKind.AGRICULTURE,
        ParticipationKind.INTERMEDIATE_WORK,
    ],
    ResourceKind.NPO: [
        ParticipationKind.VOLUNTEER,
        ParticipationKind.PUBLIC_INTEREST,
        ParticipationKind.HOUSING,
    ],
    ResourceKind.NEIGHBOURHOOD: [ParticipationKind.VOLUNTEER],
    ResourceKind.OTHER: [ParticipationKind.HOBBY, ParticipationKind.LEARNING],
}
NAMES = {
    ResourceKind.IBASHO: "居場所「{w}」",
    ResourceKind.SALON: "ふれあいサロン{w}",
    ResourceKind.KODOMO_SHOKUDO: "子ども食堂{w}",
    ResourceKind.KAYOI: "通いの場「{w}体操」",
    ResourceKind.ACTIVITY_CENTER: "地域活動支援センター{w}",
    ResourceKind.CHILDCARE_PLAZA: "子育てひろば{w}",
    ResourceKind.DEMENTIA_CAFE: "オレンジカフェ{w}",
    ResourceKind.WORK_EXPERIENCE: "{w}農園・商店（就労体験）",
    ResourceKind.NPO: "NPO法人{w}の会",
    ResourceKind.NEIGHBOURHOOD: "{w}町会",
    ResourceKind.OTHER: "{w}サークル",
}
WORDS = [
    "ひだまり",
    "さくら",
    "わかば",
    "ひまわり",
    "なかよし",
    "いきいき",
    "ほっと",
    "そよかぜ",
    "こもれび",
    "たんぽぽ",
    "みどり",
    "あおぞら",
    "ふれあい",
    "にこにこ",
    "のびのび",
    "つばさ",
    "かがやき",
    "ゆうゆう",
    "あさひ",
    "ことり",
]
SESSION_KINDS = {
    ResourceKind.IBASHO,
    ResourceKind.SALON,
    ResourceKind.KODOMO_SHOKUDO,
    ResourceKind.KAYOI,
    ResourceKind.DEMENTIA_CAFE,
    ResourceKind.CHILDCARE_PLAZA,
}


def generate_community(ctx: GenerationContext) -> None:
    with ctx.step("地域資源・開催記録・プラットフォーム"):
        _CommunityGenerator(ctx).run()


class _CommunityGenerator:
    def __init__(self, ctx: GenerationContext):
        self.ctx, self.rng = ctx, ctx.rng
        self.staff = [u for users in ctx.workers.values() for u in users] + ctx.coordinators

    def run(self) -> None:
        gaps = self.own_gaps = self.community_gaps()
        developed = [
            g for g in self.ctx.store.get("gaps", []) + gaps if g.status == ResourceGapStatus.DEVELOPED
        ]
        resources = self.resources(developed)
        self.activities(resources)
        self.platforms_and_coordinators()
        self.ctx.store["community"] = {
            "hosts": [r for r in resources if r.accepts_participants and r.is_active]
        }

    def community_gaps(self) -> list:
        """Gaps noticed in 地域づくり itself (gap_record), some of them since developed."""
        ctx, rng = self.ctx, self.rng
        rows = []
        for _ in range(ctx.n(COMMUNITY_GAPS, minimum=3)):
            at = ctx.moment(ctx.start, ctx.anchor - timedelta(days=1))
            category, description = rng.choice(GAP_CATEGORIES)
            age = (ctx.anchor - at).days
            status = ctx.pick(
                [
                    (ResourceGapStatus.DEVELOPED, 2),
                    (ResourceGapStatus.CONSIDERING, 1),
                    (ResourceGapStatus.NOTED, 1),
                ]
                if age > 365
                else [(ResourceGapStatus.NOTED, 1)]
            )
            user = rng.choice(self.staff)
            rows.append(
                ResourceGap(
                    category=category,
                    area=rng.choice(ctx.areas_middle),
                    description=description,
                    status=status,
                    source_label="地域づくり",
                    recorded_by_id=user.pk,
                    recorded_at=at,
                )
            )
        rows = ctx.create_plain(ResourceGap, rows, label="不足する社会資源")
        ctx.create_history(
            [
                history_row(
                    gap,
                    at=gap.recorded_at,
                    user_id=gap.recorded_by_id,
                    reason="地域づくりで把握",
                    status=ResourceGapStatus.NOTED,
                )
                for gap in rows
            ]
        )
        return rows

    def resources(self, developed: list) -> list:
        ctx, rng = self.ctx, self.rng
        total = max(len(developed) + 10, ctx.n(RESOURCES))
        rows = []
        for index in range(total):
            gap = developed[index] if index < len(developed) else None
            kind = ResourceKind.IBASHO if gap else ctx.pick(KINDS)
            area = rng.choice(ctx.areas_small) if rng.random() < 0.7 else rng.choice(ctx.areas_middle)
            district = area.name[:2]
            name = NAMES[kind].format(
                w=rng.choice(WORDS) if kind not in (ResourceKind.NEIGHBOURHOOD,) else district
            )
            name = f"{district}{name}" if kind != ResourceKind.NEIGHBOURHOOD else name
            accepts = gap is not None or rng.random() < 0.25
            days = (
                sorted(rng.sample(range(7), rng.randint(1, 3))) if kind != ResourceKind.NEIGHBOURHOOD else []
            )
            created = ctx.moment(
                gap.recorded_at + timedelta(days=60) if gap else ctx.start, ctx.anchor - timedelta(days=1)
            )
            user = rng.choice(self.staff)
            resource = CommunityResource(
                name=name,
                kind=kind,
                area_id=area.pk,
                operator=rng.choice(
                    [
                        f"{district}町会",
                        "みどり市社会福祉協議会",
                        f"NPO法人{rng.choice(WORDS)}",
                        "社会福祉法人みどり会",
                        "有志の会",
                    ]
                ),
                target=rng.choice(["どなたでも", "高齢者", "子どもと保護者", "中高生", "障害のある方"]),
                schedule=(
                    "・".join("月火水木金土日"[d] for d in days)
                    + "曜 "
                    + rng.choice(["10時〜12時", "13時〜16時", "17時〜19時"])
                )
                if days
                else "随時",
                days=days,
                contact=f"みどり市{district} 連絡先は担当者まで",
                public_description=f"{name}は、地域の誰もが立ち寄れる場です。",
                internal_notes=rng.choice(
                    ["", "代表者が高齢で、後継者を探している", "参加者が増え、会場が手狭"]
                ),
                accepts_participants=accepts,
                participation_kinds=rng.sample(OFFERS[kind], min(len(OFFERS[kind]), rng.randint(1, 2)))
                if accepts
                else [],
                acceptance_conditions="事前に見学してください" if accepts else "",
                capacity=rng.randint(1, 5) if accepts else None,
                is_partner=accepts and rng.random() < 0.6,
                is_active=gap is not None or rng.random() < 0.9,
                created_at=created,
            )
            resource._answers = gap
            rows.append(stamp(resource, at=created, user=user, reason="地域資源の登録"))
        answers = [row._answers for row in rows]
        rows = ctx.create(CommunityResource, rows, label="地域資源・居場所")
        # gap_advance: each developed gap is answered by the resource made for it (the many-to-many link)
        link = CommunityResource.gaps_answered.through
        made = {gap.pk: row for row, gap in zip(rows, answers, strict=True) if gap is not None}
        link.objects.bulk_create(
            [link(communityresource_id=row.pk, resourcegap_id=gap_pk) for gap_pk, row in made.items()],
            batch_size=1000,
        )
        self.gap_history(developed, made)
        return rows

    def gap_history(self, developed: list, made: dict) -> None:
        """gap_advance: 把握 → 検討中 → 開発済 (naming the new resource); the gaps were created as they are
        now, so their earlier states are written as history."""
        ctx = self.ctx
        rows = []
        gaps = [
            g for g in self.ctx.store.get("gaps", []) + self.own_gaps if g.status != ResourceGapStatus.NOTED
        ]
        for gap in gaps:
            user = gap.recorded_by_id
            considering = gap.recorded_at + timedelta(days=30)
            rows.append(
                history_row(
                    gap,
                    at=considering,
                    user_id=user,
                    reason="検討中",
                    kind="~",
                    status=ResourceGapStatus.CONSIDERING,
                )
            )
            if gap.status == ResourceGapStatus.DEVELOPED and gap.pk in made:
                rows.append(
                    history_row(
                        gap, at=made[gap.pk].created_at, user_id=user, reason="居場所を開設", kind="~"
                    )
                )
        ctx.create_history(rows)

    def activities(self, resources: list) -> None:
        """Monthly sessions over the last year for the places that hold them (activity_record)."""
        ctx, rng = self.ctx, self.rng
        rows = []
        for resource in resources:
            if resource.kind not in SESSION_KINDS or not resource.is_active:
                continue
            user = rng.choice(self.staff)
            for month in range(12):
                held = ctx.anchor - timedelta(days=30 * month + rng.randint(1, 25))
                if held < resource.created_at:
                    break
                people = rng.randint(5, 40)
                rows.append(
                    stamp(
                        Activity(
                            resource_id=resource.pk,
                            held_on=held.astimezone(TOKYO).date(),
                            participants=people,
                            participant_visits=people + rng.randint(0, 15),
                            recorded_by_id=user.pk,
                            organisations=rng.choice(["", "民生委員", "町会", "小学校PTA、民生委員"]),
                            local_issues=rng.choice(
                                ["", "", "一人で来る中学生が増えている", "送迎の担い手が足りない"]
                            ),
                        ),
                        at=held + timedelta(hours=3),
                        user=user,
                    )
                )
        ctx.create(Activity, rows, label="開催記録")

    def platforms_and_coordinators(self) -> None:
        ctx, rng = self.ctx, self.rng
        platforms, activities = [], []
        for _ in range(ctx.n(PLATFORMS, minimum=3)):
            at = ctx.moment(ctx.start, ctx.anchor - timedelta(days=1))
            area = rng.choice(ctx.areas_middle)
            user = rng.choice(self.staff)
            platforms.append(
                stamp(
                    Platform(
                        held_on=at.astimezone(TOKYO).date(),
                        name=f"{area.name} 地域づくり会議",
                        area_id=area.pk,
                        participants=rng.randint(10, 40),
                        organisations="町会、民生委員、社協、包括、商店会",
                        outcomes=rng.choice(
                            [
                                "居場所づくりを検討することになった",
                                "見守りの担い手を募ることになった",
                                "子ども食堂の連携を始めた",
                            ]
                        ),
                        recorded_by_id=user.pk,
                    ),
                    at=at,
                    user=user,
                )
            )
        for _ in range(ctx.n(COORDINATOR_ACTIVITIES, minimum=5)):
            at = ctx.moment(ctx.start, ctx.anchor - timedelta(days=1))
            user = rng.choice(self.staff)
            kind = ctx.pick([(k, 1) for k in CoordinatorActivityKind.values])
            activities.append(
                stamp(
                    CoordinatorActivity(
                        done_on=at.astimezone(TOKYO).date(),
                        area_id=rng.choice(ctx.areas_middle).pk,
                        kind=kind,
                        content=rng.choice(
                            [
                                "地域の集いに参加し、困りごとを聞いた",
                                "子ども食堂と農園をつないだ",
                                "新しい居場所の立ち上げを支援した",
                            ]
                        ),
                        recorded_by_id=user.pk,
                    ),
                    at=at,
                    user=user,
                )
            )
        ctx.create(Platform, platforms, label="プラットフォーム")
        ctx.create(CoordinatorActivity, activities, label="コーディネーターの活動記録")
