"""アウトリーチ in the synthetic municipality (`generate_municipality`): engagements with people who
will not come in — some before any case, some later linked to one — their contact logs, the slow
move from 未接触 to 信頼関係 and つなぎ, and the 担当 grants engagement_start gives. Registered from
OutreachConfig.ready; see devdata/generate/core.py.

At 900,000 people: about 5,000 engagements and 50,000 contacts over 10 年度.
"""

from datetime import timedelta

from devdata.generate.core import TOKYO, GenerationContext, GrantWriter, history_row, stamp
from jusou.models import AccessBasis, AgencyKind
from outreach.models import NO_CONTACT_KINDS, ContactKind, OutreachContact, OutreachEngagement, Stage
from outreach.services import COORDINATION_REASON

ENGAGEMENTS = 5000
CONTACTS_PER_ENGAGEMENT = 10
AGE_BANDS = ["20代", "30代", "40代", "50代", "60代", "70代", "80代"]
BACKGROUND = [
    "民生委員より。長く姿を見かけず、郵便物がたまっている。声をかけても応答がない。",
    "近隣住民より。庭にごみが積まれ、異臭がする。本人は支援を拒んでいる。",
    "家族より。息子が20年近く自室から出てこない。家族以外とは話さない。",
    "ガス会社より。料金の滞納が続き、訪問しても応答がない。",
    "支援会議で、関係づくりから始める方針となった。",
    "学校より。不登校が続き、家庭訪問にも応じない。",
]
EARLY = [
    (ContactKind.VISIT_ABSENT, 5),
    (ContactKind.LETTER, 3),
    (ContactKind.VISIT_REFUSED, 2),
    (ContactKind.INFORMATION, 2),
    (ContactKind.FAMILY, 1),
]
LATER = [
    (ContactKind.VISIT_MET, 5),
    (ContactKind.PHONE, 3),
    (ContactKind.ACCOMPANY, 1),
    (ContactKind.MESSAGE, 1),
    (ContactKind.VISIT_ABSENT, 2),
    (ContactKind.FAMILY, 1),
    (ContactKind.WATCH_REQUEST, 1),
]
RESPONSES = {
    ContactKind.VISIT_MET: "玄関先で少し話せた。表情は落ち着いていた。",
    ContactKind.VISIT_ABSENT: "応答なし。郵便受けに手紙を入れた。",
    ContactKind.VISIT_REFUSED: "「構わないでくれ」と言われた。声に張りはある。",
    ContactKind.LETTER: "相談窓口の案内を手紙で届けた。",
    ContactKind.PHONE: "電話で短く話せた。体調は変わりないとのこと。",
    ContactKind.MESSAGE: "メッセージに短い返信があった。",
    ContactKind.ACCOMPANY: "受診に同行した。帰りに次の予定を一緒に決めた。",
    ContactKind.FAMILY: "家族と面談し、家での様子を聞いた。",
    ContactKind.INFORMATION: "民生委員から最近の様子を聞いた。",
    ContactKind.WATCH_REQUEST: "新聞販売店に見守りを依頼した。",
}
END_NOTES = [
    "本人が市外へ転居した",
    "家族が支援を断った",
    "本人の拒否が強く、見守りに切り替えた",
    "入院により終了",
]


def generate_outreach(ctx: GenerationContext) -> None:
    with ctx.step("アウトリーチ・接触記録"):
        _OutreachGenerator(ctx).run()


class _OutreachGenerator:
    def __init__(self, ctx: GenerationContext):
        self.ctx, self.rng = ctx, ctx.rng
        self.grants = GrantWriter(ctx)

    def time_of_day(self, at, floor):
        local = at.astimezone(TOKYO).replace(hour=self.rng.randint(9, 18), minute=self.rng.randint(0, 59))
        return max(local, floor + timedelta(minutes=20))

    def run(self) -> None:
        ctx, rng = self.ctx, self.rng
        total = max(10, ctx.n(ENGAGEMENTS))
        cases = ctx.store["cases"]["cases"]
        # People who do not come in: ひきこもり, ごみ屋敷, 孤立, 8050.
        withdrawn = [c for c in cases if {"hikikomori", "hoarding", "isolation", "8050"} & set(c.issues)]
        agencies = [
            a
            for a in ctx.agencies
            if a.kind
            in (
                AgencyKind.COMMUNITY_GENERAL_SUPPORT,
                AgencyKind.SOCIAL_WELFARE_COUNCIL,
                AgencyKind.SELF_RELIANCE,
                AgencyKind.DISABILITY_CONSULTATION,
            )
        ]
        span = (ctx.anchor - timedelta(days=3) - ctx.start).total_seconds()
        engagements, plans = [], []
        for _ in range(total):
            case = rng.choice(withdrawn) if withdrawn and rng.random() < 0.5 else None
            if case is not None:
                agency, lead = case.agency, ctx.users[case.lead]
                started = case.opened_at - timedelta(days=rng.uniform(-30, 120))
                started = max(ctx.start, min(started, ctx.anchor - timedelta(days=3)))
            else:
                agency = rng.choice(agencies).pk
                lead = rng.choice(ctx.workers[agency])
                started = ctx.start + timedelta(seconds=span * rng.random())
            started = self.time_of_day(started, started - timedelta(hours=1))
            if started >= ctx.anchor:
                started = ctx.anchor - timedelta(days=2)
            contacts = self.contacts(started)
            stage, changes, ended, connected, note = self.course(started, contacts)
            age = rng.choice(AGE_BANDS)
            family = rng.choice(ctx.family_names)[0]
            engagement = OutreachEngagement(
                provisional_name=f"{family}さん（{age}{rng.choice(['男性', '女性'])}）",
                approximate_location=f"{rng.choice(ctx.areas_small).name}付近",
                person_id=case.person if case else None,
                case_id=case.id if case and case.opened_at <= (ended or ctx.anchor) else None,
                how_known=ctx.pick(
                    [
                        ("neighbour", 3),
                        ("minsei", 4),
                        ("support_meeting", 1),
                        ("agency", 2),
                        ("family", 2),
                        ("lifeline", 1),
                        ("other", 1),
                    ]
                ),
                background=rng.choice(BACKGROUND),
                purpose=ctx.pick([("relationship", 5), ("situation", 3), ("connection", 2)]),
                plan_frequency=rng.choice(["週1回", "2週に1回", "月1回"]),
                plan_visitors=f"{lead.last_name}、民生委員",
                stage=stage,
                owning_agency_id=agency,
                lead_worker_id=lead.pk,
                started_at=started,
                ended_at=ended,
                next_contact_on=None
                if ended
                else (contacts[-1][0] if contacts else started).astimezone(TOKYO).date()
                + timedelta(days=rng.randint(7, 21)),
                connected_agency_id=connected,
                end_note=note,
            )
            if engagement.case_id is None:
                engagement.person_id = engagement.person_id if case and rng.random() < 0.5 else None
            engagements.append(engagement)
            plans.append((lead, contacts, changes))
        engagements = ctx.create_plain(OutreachEngagement, engagements, label="アウトリーチ")
        history, rows = [], []
        for engagement, (lead, contacts, changes) in zip(engagements, plans, strict=True):
            # engagement_start, then contact_record (each saves the engagement), stage_set, engagement_end.
            history.append(
                history_row(
                    engagement,
                    at=engagement.started_at,
                    user_id=lead.pk,
                    reason="アウトリーチ開始",
                    stage=Stage.NOT_CONTACTED,
                    ended_at=None,
                    connected_agency_id=None,
                    end_note="",
                    person_id=None,
                    case_id=None,
                )
            )
            for at, stage, reason in changes:
                ending = reason.startswith(("つなぎ", "終了"))
                history.append(
                    history_row(
                        engagement,
                        at=at,
                        user_id=lead.pk,
                        reason=reason,
                        kind="~",
                        stage=stage,
                        ended_at=engagement.ended_at if ending else None,
                        end_note=engagement.end_note if ending else "",
                        connected_agency_id=engagement.connected_agency_id if ending else None,
                    )
                )
            for at, kind in contacts:
                met = kind not in NO_CONTACT_KINDS and kind != ContactKind.INFORMATION
                rows.append(
                    stamp(
                        OutreachContact(
                            engagement_id=engagement.pk,
                            contacted_at=at,
                            kind=kind,
                            met_whom="本人" if met else "",
                            response=RESPONSES[kind],
                            safety_confirmed=True if met else (None if self.rng.random() < 0.7 else False),
                            next_planned_on=(at + timedelta(days=14)).astimezone(TOKYO).date(),
                            recorded_by_id=lead.pk,
                        ),
                        at=at,
                        user=lead,
                    )
                )
            # engagement_start: the owning agency and the lead (担当), and each coordinator.
            for grantee in (
                {"agency_id": engagement.owning_agency_id, "reason": "担当"},
                {"user_id": lead.pk, "reason": "担当"},
                *(
                    {"user_id": c.pk, "reason": COORDINATION_REASON}
                    for c in ctx.coordinators
                    if c.pk != lead.pk
                ),
            ):
                self.grants.add(
                    OutreachEngagement,
                    engagement.pk,
                    basis=AccessBasis.ASSIGNMENT,
                    permissions=("view", "change"),
                    granted_by=lead.pk,
                    starts_at=engagement.started_at,
                    **grantee,
                )
        ctx.create_history(history)
        ctx.create(OutreachContact, rows, label="接触記録")
        self.grants.flush()

    def contacts(self, started) -> list:
        rng = self.rng
        count = max(1, round(rng.expovariate(1 / CONTACTS_PER_ENGAGEMENT)))
        out, at = [], started
        for number in range(count):
            at = self.time_of_day(at + timedelta(days=rng.uniform(5, 30)), at)
            if at >= self.ctx.anchor:
                break
            out.append((at, self.ctx.pick(EARLY if number < 3 else LATER)))
        return out

    def course(self, started, contacts):
        """The stage over time (contact_record moves 未接触 → 接触; the worker sets 対話 and 信頼関係),
        one history change per contact, and maybe the end."""
        rng, stage, changes = self.rng, Stage.NOT_CONTACTED, []
        for index, (at, kind) in enumerate(contacts):
            if (
                stage == Stage.NOT_CONTACTED
                and kind not in NO_CONTACT_KINDS
                and kind != ContactKind.INFORMATION
            ):
                stage = Stage.CONTACTED
            changes.append((at, stage, "接触記録"))
            if stage == Stage.CONTACTED and index >= 4 and rng.random() < 0.3:
                stage = Stage.DIALOGUE
                changes.append((at + timedelta(minutes=30), stage, "段階: 対話"))
            elif stage == Stage.DIALOGUE and index >= 7 and rng.random() < 0.3:
                stage = Stage.TRUST
                changes.append((at + timedelta(minutes=30), stage, "段階: 信頼関係"))
        last = contacts[-1][0] if contacts else started
        ended = connected = None
        note = ""
        if (self.ctx.anchor - last).days > 60 and rng.random() < 0.85:
            ended = self.time_of_day(last + timedelta(days=rng.uniform(7, 50)), last)
            if stage in (Stage.DIALOGUE, Stage.TRUST, Stage.CONTACTED) and rng.random() < 0.6:
                connected = rng.choice([a.pk for a in self.ctx.agencies])
                stage = Stage.CONNECTED
                changes.append((ended, stage, "つなぎ成立"))
            else:
                note = rng.choice(END_NOTES)
                changes.append((ended, stage, f"終了: {note}"))
        return stage, changes, ended, connected, note
