"""包括的相談支援 in the synthetic municipality (`generate_municipality`): people and households,
consultations, cases moved along the state machine, assessments, progress notes, the 担当 grants and
the reads of the last weeks. Registered from CasesConfig.ready; see devdata/generate/core.py.

At 900,000 people: about 200,000 people in 150,000 households, 500,000 consultations and 100,000
cases over 10 年度. Every case's history follows ALLOWED_TRANSITIONS with a CaseTransition row and a
historical row per move, and carries exactly the grants case_open / case_transition would give.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from cases.codes import seed_code_lists
from cases.models import (
    Assessment,
    Case,
    CaseStatus,
    CaseTransition,
    Code,
    Consultation,
    Household,
    HouseholdMember,
    NoteKind,
    Person,
    ProgressNote,
)
from devdata.generate.core import (
    CONSULTING_KINDS,
    TOKYO,
    GenerationContext,
    GrantWriter,
    history_row,
    next_slot,
    person_name,
    stamp,
)
from jusou.ja.text import normalize_for_search
from jusou.models import AccessBasis, AgencyKind, Notification, ReadLog

S = CaseStatus
HOUSEHOLDS = 150_000
CASES = 100_000
LINKED_CONSULTATIONS_PER_HOUSEHOLD = 1.6  # besides the consultation that opens a case
ANONYMOUS_CONSULTATIONS = 160_000
CHUNK = 5000

# --- Who lives in the city's households ------------------------------------------------------------

PROFILE_ISSUES = {
    "elderly": [
        ("care", 5),
        ("health", 5),
        ("isolation", 3),
        ("hoarding", 1),
        ("income", 2),
        ("community_relations", 1),
        ("housing", 1),
        ("abuse", 0.4),
    ],
    "8050": [("8050", 6), ("hikikomori", 4), ("care", 3), ("income", 3), ("isolation", 2), ("health", 2)],
    "working": [
        ("income", 5),
        ("debt", 3),
        ("job_search", 4),
        ("housing", 2),
        ("rent_loan", 2),
        ("tax_utilities", 2),
        ("work_trouble", 1),
        ("health", 2),
        ("no_food", 1),
        ("suicide_risk", 0.5),
    ],
    "youth": [("hikikomori", 5), ("job_search", 3), ("family_relations", 2), ("health", 2), ("isolation", 2)],
    "disability": [
        ("health", 5),
        ("job_search", 2),
        ("family_relations", 2),
        ("isolation", 2),
        ("income", 2),
    ],
    "single_parent": [
        ("childcare", 5),
        ("income", 4),
        ("housing", 2),
        ("job_search", 2),
        ("abuse", 1),
        ("double_care", 0.5),
    ],
    "family": [
        ("childcare", 4),
        ("family_relations", 3),
        ("hikikomori", 2),
        ("income", 2),
        ("abuse", 1),
        ("foreign_language", 0.5),
    ],
    "young_carer": [("young_carer", 6), ("health", 3), ("childcare", 2), ("hikikomori", 2), ("income", 1)],
    "multi": [("double_care", 5), ("care", 3), ("childcare", 3), ("income", 2), ("family_relations", 2)],
}
# Complex households are referred to 多機関協働 more often.
REFERRAL_CHANCE = {
    "8050": 0.45,
    "young_carer": 0.5,
    "multi": 0.4,
    "elderly": 0.1,
    "working": 0.11,
    "youth": 0.2,
    "disability": 0.15,
    "single_parent": 0.17,
    "family": 0.17,
}
SIZES = [(1, 0.80), (2, 0.12), (3, 0.04), (4, 0.025), (5, 0.01), (6, 0.005)]
PROFILES_BY_SIZE = {
    1: [("elderly", 0.5), ("working", 0.28), ("disability", 0.1), ("youth", 0.12)],
    2: [("elderly", 0.35), ("8050", 0.3), ("single_parent", 0.2), ("working", 0.15)],
    3: [("family", 0.5), ("young_carer", 0.2), ("8050", 0.15), ("multi", 0.15)],
}
CHILDREN = {"male": ["長男", "次男", "三男", "四男"], "female": ["長女", "次女", "三女", "四女"]}
CHANNELS = [
    ("phone", 40),
    ("visit_office", 30),
    ("home_visit", 15),
    ("email", 3),
    ("online", 2),
    ("document", 3),
    ("other", 2),
]
ROUTES = [
    ("self", 25),
    ("family", 20),
    ("neighbour", 6),
    ("minsei", 8),
    ("houkatsu", 6),
    ("disability_consultation", 3),
    ("child_family", 3),
    ("shakyo", 4),
    ("municipal", 8),
    ("hello_work", 2),
    ("medical", 5),
    ("school", 4),
    ("police", 1),
    ("lifeline", 1),
    ("support_meeting", 1),
    ("other", 3),
]
ROUTE_WHO = {
    "family": "家族",
    "neighbour": "近隣住民",
    "minsei": "民生委員",
    "medical": "医療ソーシャルワーカー",
    "school": "学校の担任",
    "police": "警察署生活安全課",
    "lifeline": "ガス会社の検針員",
}

SUMMARIES = {
    "health": ["通院が途切れがちで、服薬も管理できていない。", "持病が悪化し、日常生活に支障が出ている。"],
    "housing": ["家賃の滞納で退去を求められている。", "住まいが老朽化し、転居先を探している。"],
    "income": ["収入が減り、生活費が足りない。", "年金だけでは生活が苦しい。"],
    "rent_loan": ["住宅ローンの返済が難しくなった。", "家賃を3か月滞納している。"],
    "tax_utilities": ["税金と公共料金の滞納が続いている。", "電気・ガスが止まりそうだと話す。"],
    "debt": ["複数の借入があり、返済の見通しが立たない。", "カードローンの返済に追われている。"],
    "job_search": ["仕事を探しているが、なかなか決まらない。", "離職後、再就職の相談。"],
    "work_trouble": ["職場の人間関係で悩み、出勤できていない。", "雇止めにあい、今後が不安。"],
    "community_relations": ["近隣とのトラブルが続いている。", "町会の人とも疎遠になっている。"],
    "family_relations": ["家族間の関係がこじれ、会話がない。", "親子の衝突が増えている。"],
    "childcare": [
        "子育てに疲れ、相談相手がいない。",
        "子どもの発達が気になるが、どこに相談したらよいか分からない。",
    ],
    "care": [
        "親の介護が必要になったが、サービスを使っていない。",
        "介護の負担が大きく、介護者が疲れている。",
    ],
    "hikikomori": ["長年自宅にこもり、外出しない。", "不登校が続き、昼夜逆転している。"],
    "abuse": ["家族からの暴力が疑われる。", "配偶者からの暴言・暴力があると話す。"],
    "no_food": ["食べるものがなく、数日まともに食事をしていない。", "所持金が尽き、食料の支援を求めている。"],
    "8050": [
        "高齢の親と無職の子の二人暮らし。親の年金で生活している。",
        "80代の親が、50代の子の将来を心配している。",
    ],
    "young_carer": [
        "子どもが家族の世話のため学校を休みがち。",
        "中学生の子が、家事と家族のケアを担っている。",
    ],
    "double_care": ["子育てと親の介護が重なり、余裕がない。", "育児と介護の両方を一人で担っている。"],
    "isolation": ["頼れる人がおらず、孤立している。", "近所づきあいがなく、誰とも話さない日が続く。"],
    "hoarding": ["自宅にごみがたまり、異臭がする。", "片付けができず、生活空間がなくなっている。"],
    "suicide_risk": ["「消えてしまいたい」と話している。", "将来を悲観する発言がある。"],
    "foreign_language": ["日本語が不自由で、手続きが分からない。", "外国籍で、制度の案内が伝わりにくい。"],
    "other": ["困りごとがはっきりしないが、不安を訴えている。", "複数の困りごとについての相談。"],
}
ACTIONS = [
    "制度の説明と申請の案内",
    "関係機関の窓口を案内",
    "次回面談の日程を調整",
    "自宅訪問の日程を調整",
    "民生委員に見守りを依頼",
    "地域包括支援センターと情報共有",
    "生活福祉課に同行",
    "食料支援を手配",
]
NOTE_TEXT = {
    NoteKind.INTERVIEW: [
        "来所面談。{t}について話を聞いた。",
        "面談。前回からの変化を確認した。{t}が続いている。",
    ],
    NoteKind.PHONE: ["本人より電話。{t}について相談あり。", "家族に電話。最近の様子を聞いた。"],
    NoteKind.VISIT: [
        "自宅訪問。本人と玄関先で話せた。{t}について確認。",
        "訪問したが不在。手紙を置いてきた。",
    ],
    NoteKind.ACCOMPANY: ["窓口の手続きに同行した。", "受診に同行。医師から今後の見通しを聞いた。"],
    NoteKind.RECORD: [
        "関係機関と情報共有。{t}への対応を確認した。",
        "ケース会議の内容を記録。役割を確認した。",
    ],
}
NOTE_KINDS = [
    (NoteKind.INTERVIEW, 3),
    (NoteKind.PHONE, 4),
    (NoteKind.VISIT, 3),
    (NoteKind.ACCOMPANY, 1),
    (NoteKind.RECORD, 2),
]
REFERRAL_REASONS = [
    "介護・障害・就労の複数分野にまたがり、単独の機関では対応が難しいため",
    "世帯全体に複合的な課題があり、関係機関の役割分担が必要なため",
    "本人が支援を拒んでおり、複数機関での関わり方の検討が必要なため",
    "子ども・教育・障害の分野をまたぐ支援の調整が必要なため",
]
CLOSE_SINGLE = [
    ("goal_achieved", 45),
    ("person_wish", 12),
    ("other_system", 12),
    ("moved_away", 10),
    ("hospital_facility", 10),
    ("death", 8),
    ("lead_agency", 3),
]
CLOSE_MULTI = [
    ("goal_achieved", 40),
    ("lead_agency", 25),
    ("other_system", 12),
    ("moved_away", 8),
    ("hospital_facility", 9),
    ("death", 6),
]
SUSPEND = [("lost_contact", 50), ("refused", 35), ("whereabouts_unknown", 15)]


@dataclass(slots=True)
class HouseholdInfo:
    id: int
    main: int
    members: list
    since: datetime
    agency_id: int
    profile: str
    area: int  # 中圏域 index


@dataclass(slots=True)
class CaseInfo:
    """What later steps and apps need to know of a generated case."""

    id: int
    person: int
    household: int
    agency: int
    lead: int
    coordinator: int
    profile: str
    issues: list
    opened_at: datetime
    events: list  # (at, from, to, actor id, reason, code)
    status: str = S.RECEIVED
    referred_at: datetime | None = None
    coordinating_at: datetime | None = None
    end_slot: int | None = None  # the 重層的支援会議 that ended 多機関協働
    end_kind: str = ""  # close | suspend | return
    members: list = field(default_factory=list)

    @property
    def ended_at(self) -> datetime | None:
        return self.events[-1][0] if self.status in (S.CLOSED, S.SUSPENDED) else None

    def open_windows(self, anchor: datetime) -> list[tuple[datetime, datetime, str]]:
        """[(from, until, status)] of the case's states, the last one until the anchor."""
        windows, start, status = [], self.opened_at, S.RECEIVED
        for at, _, to, *_ in self.events:
            windows.append((start, at, status))
            start, status = at, to
        windows.append((start, anchor, status))
        return windows


def generate_cases(ctx: GenerationContext) -> None:
    seed_code_lists(Code)
    ctx.codes = {(c.kind, c.code): c for c in Code.objects.all()}
    gen = _CasesGenerator(ctx)
    with ctx.step("本人・世帯"):
        gen.households()
    with ctx.step("相談受付・支援ケース・担当の付与"):
        gen.cases()
        gen.anonymous_consultations()
    with ctx.step("アセスメント・支援経過記録"):
        gen.assessments_and_notes()
    gen.reads()
    ctx.store["cases"] = {
        "cases": gen.case_infos,
        "bench_case": gen.bench_case,
        "households": {h.id: h for h in gen.household_infos},
    }
    bench = gen.bench_case.id
    mine = [c for c in gen.case_infos if c.lead == ctx.bench_worker.pk]
    open_now = sum(c.status not in (S.CLOSED, S.SUSPENDED) for c in mine)
    agency = sum(c.agency == ctx.bench_agency.pk for c in gen.case_infos)
    ctx.fixtures += [
        (
            f"{ctx.bench_worker.username} の担当",
            f"進行中 {open_now}件・累計 {len(mine)}件（機関全体 {agency}件）",
        ),
        (
            "ケース（世帯6人・経過記録200件・プラン3版）",
            f"{_number(bench)} {reverse('cases:case_detail', args=[bench])}",
        ),
        ("そのケースの変更履歴（管理者）", reverse("audit_record_history", args=["cases.case", bench])),
    ]


def _number(pk: int) -> str:
    return f"C-{pk:06d}"


class _CasesGenerator:
    def __init__(self, ctx: GenerationContext):
        self.ctx = ctx
        self.rng = ctx.rng
        self.household_infos: list[HouseholdInfo] = []
        self.case_infos: list[CaseInfo] = []
        self.atena = 0
        self.consulting = [a for a in ctx.agencies if a.kind in CONSULTING_KINDS]
        self.grants = GrantWriter(ctx)
        self.middle_index = {area.pk: i for i, area in enumerate(ctx.areas_middle)}

    def code(self, kind: str, code: str) -> Code:
        return self.ctx.codes[(kind, code)]

    def worker(self, agency_id: int):
        return self.rng.choice(self.ctx.workers[agency_id])

    def at_office_hours(self, at: datetime, floor: datetime | None = None) -> datetime:
        """The same day, at a time in office hours; never before `floor`, never at or after the anchor."""
        local = at.astimezone(TOKYO)
        local = local.replace(
            hour=self.rng.randint(9, 17), minute=self.rng.randint(0, 59), second=self.rng.randint(0, 59)
        )
        if floor is not None and local <= floor:
            local = floor + timedelta(minutes=self.rng.randint(5, 90))
        if local >= self.ctx.anchor:
            local = self.ctx.anchor - timedelta(minutes=self.rng.randint(60, 600))
        return local

    # --- People and households -----------------------------------------------------------------------

    def home_agency(self, profile: str, area: int) -> int:
        kinds = self.ctx.agencies_by_kind
        rng = self.rng
        centre = kinds[AgencyKind.COMMUNITY_GENERAL_SUPPORT][
            area % len(kinds[AgencyKind.COMMUNITY_GENERAL_SUPPORT])
        ]
        if profile in ("elderly", "8050") or (profile == "multi" and rng.random() < 0.5):
            return centre.pk
        if profile == "disability":
            return rng.choice(kinds[AgencyKind.DISABILITY_CONSULTATION]).pk
        if profile in ("single_parent", "family", "young_carer", "multi"):
            if rng.random() < 0.7:
                return rng.choice(kinds[AgencyKind.CHILD_FAMILY]).pk
            return rng.choice(kinds[AgencyKind.SELF_RELIANCE]).pk
        pool = [
            (AgencyKind.SELF_RELIANCE, 5),
            (AgencyKind.SOCIAL_WELFARE_COUNCIL, 2),
            (AgencyKind.MUNICIPAL_OFFICE, 3),
        ]
        return rng.choice(kinds[self.ctx.pick(pool)]).pk

    def member_specs(self, size: int, profile: str) -> list[dict]:
        """Who lives together: relationship to the 本人, sex, age, roles in the household."""
        rng = self.rng

        def person(rel, sex, age, **extra):
            return {"rel": rel, "sex": sex, "age": max(0, age), **extra}

        main_sex = rng.choice(["male", "female"])
        other = "female" if main_sex == "male" else "male"
        spouse = "妻" if main_sex == "male" else "夫"
        if profile == "elderly":
            age = rng.randint(65, 96)
            out = [person("本人", main_sex, age)]
            if size == 2:
                out.append(person(spouse, other, age + rng.randint(-5, 5), is_main_carer=True))
            return out
        if profile == "8050":
            age = rng.randint(76, 93)
            out = [person("本人", main_sex, age)]
            if size >= 3:
                out.append(person(spouse, other, age + rng.randint(-4, 4)))
            for i in range(size - len(out)):
                sex = rng.choice(["male", "female"])
                carer = i == 0
                out.append(
                    person(
                        CHILDREN[sex][i % 4],
                        sex,
                        age - rng.randint(26, 34),
                        is_main_carer=carer,
                        is_key_person=carer,
                        own_issues="長年ひきこもりの状態" if carer else "",
                    )
                )
            return out
        if profile in ("working", "disability", "youth"):
            age = rng.randint(18, 29) if profile == "youth" else rng.randint(20, 64)
            out = [person("本人", main_sex, age)]
            if size == 2:
                out.append(person(spouse, other, age + rng.randint(-5, 5)))
            return out
        if profile == "single_parent":
            age = rng.randint(24, 50)
            out = [person("本人", main_sex, age)]
            for i in range(size - 1):
                sex = rng.choice(["male", "female"])
                out.append(person(CHILDREN[sex][i % 4], sex, rng.randint(0, min(17, age - 18))))
            return out
        # family, young_carer, multi: parents, children (and a grandparent)
        age = rng.randint(32, 55)
        out = [
            person("本人", main_sex, age, own_issues="精神疾患で通院中" if profile == "young_carer" else "")
        ]
        if size >= 3 and profile != "young_carer":
            out.append(person(spouse, other, age + rng.randint(-5, 5), is_main_carer=profile == "multi"))
        if profile == "multi" and len(out) < size:
            grand_sex = rng.choice(["male", "female"])
            out.append(
                person(
                    "母" if grand_sex == "female" else "父",
                    grand_sex,
                    age + rng.randint(25, 35),
                    own_issues="要介護2、認知症の症状がある",
                )
            )
        children = {"male": 0, "female": 0}
        while len(out) < size:
            sex = rng.choice(["male", "female"])
            first = children["male"] + children["female"] == 0
            carer = profile == "young_carer" and first
            out.append(
                person(
                    CHILDREN[sex][children[sex] % 4],
                    sex,
                    rng.randint(10, 17) if carer else rng.randint(0, 20),
                    is_main_carer=carer,
                    own_issues="欠席が増えている" if carer else "",
                )
            )
            children[sex] += 1
        return out

    def households(self) -> None:
        ctx, _rng = self.ctx, self.rng
        total = ctx.n(HOUSEHOLDS, minimum=20)
        specs = []
        for _i in range(total):
            size = ctx.pick(SIZES)
            profile = ctx.pick(PROFILES_BY_SIZE[min(size, 3)])
            specs.append((size, profile, False))
        # The benchmark household: six people (grandmother, parents, three children) at the benchmark
        # agency, in its 中圏域, with 子育て and 介護 at once (ダブルケア).
        specs[total // 2] = (6, "multi", True)
        for start in range(0, total, CHUNK):
            self._household_chunk(specs[start : start + CHUNK])
            if start and (start // CHUNK) % 5 == 0:
                ctx.progress("世帯", start, total)

    def _household_chunk(self, specs) -> None:
        ctx, rng = self.ctx, self.rng
        span = (ctx.anchor - timedelta(days=2) - ctx.start).total_seconds()
        people, households, plans = [], [], []
        today = ctx.today
        for size, profile, bench in specs:
            area_index = rng.randrange(len(ctx.areas_small))
            small = ctx.areas_small[area_index]
            middle = self.middle_index[small.parent_id]
            if bench:
                middle = self.middle_index[ctx.bench_agency.area_id]
                small = next(a for a in ctx.areas_small if a.parent_id == ctx.bench_agency.area_id)
            agency_id = ctx.bench_agency.pk if bench else self.home_agency(profile, middle)
            since = ctx.start + timedelta(seconds=span * rng.random() ** 0.85)
            if bench:  # before the benchmark case opens (bench_timeline)
                slot = ctx.conference_slots[max(0, len(ctx.conference_slots) - 9)][0]
                since = min(ctx.anchor - timedelta(days=1300), slot - timedelta(days=170))
            since = self.at_office_hours(since)
            registrar = ctx.bench_worker if bench else self.worker(agency_id)
            district = small.name.replace("町会", "").replace("小学校区", "")
            address = (
                f"みどり市{district[:2]}{rng.randint(1, 5)}丁目{rng.randint(1, 30)}-{rng.randint(1, 20)}"
            )
            family = rng.choice(ctx.family_names)
            members = self.member_specs(size, profile)
            household = stamp(
                Household(
                    name=f"{family[0]}さん世帯",
                    address=address,
                    registered_by_agency_id=agency_id,
                    created_at=since,
                ),
                at=since,
                user=registrar,
            )
            households.append(household)
            first = len(people)
            for spec in members:
                age = spec["age"]
                born_year = today.year - age
                birth = date(born_year, rng.randint(1, 12), rng.randint(1, 28))
                if birth > today:
                    birth = date(born_year - 1, birth.month, birth.day)
                precision = ctx.pick([("exact", 95), ("year", 3), ("unknown", 2)])
                name, kana = person_name(ctx, spec["sex"], born_year, family=family)
                self.atena += 1
                person = Person(
                    name=name,
                    kana=kana,
                    name_search=normalize_for_search(name),
                    kana_search=normalize_for_search(kana),
                    birth_date=None
                    if precision == "unknown"
                    else (date(born_year, 1, 1) if precision == "year" else birth),
                    birth_date_precision=precision,
                    sex=spec["sex"],
                    address=address,
                    phone=f"080-0000-{rng.randint(0, 9999):04d}" if rng.random() < 0.5 else "",
                    atena_number=f"G{self.atena:09d}" if rng.random() < 0.7 else None,
                    registered_by_agency_id=agency_id,
                    created_at=since,
                )
                spec["attributes"] = self.attributes(profile, age, spec["rel"] == "本人")
                people.append(stamp(person, at=since, user=registrar, reason=""))
            plans.append((household, first, members, since, agency_id, profile, middle, registrar, bench))
        people, person_histories = ctx.create_tracked(Person, people, label="本人・対象者")
        attribute_pairs = []
        for _, first, members, *_ in plans:
            for offset, spec in enumerate(members):
                attribute_pairs += [(people[first + offset].pk, code.pk) for code in spec["attributes"]]
        ctx.m2m(Person, "attributes", attribute_pairs, person_histories)
        households = ctx.create(Household, households, label="世帯")
        member_rows, _carers = [], []
        for household, first, members, since, agency_id, profile, middle, registrar, bench in plans:
            ids = []
            for offset, spec in enumerate(members):
                person = people[first + offset]
                ids.append(person.pk)
                member_rows.append(
                    stamp(
                        HouseholdMember(
                            household_id=household.pk,
                            person_id=person.pk,
                            relationship=spec["rel"],
                            is_main_carer=spec.get("is_main_carer", False),
                            is_key_person=spec.get("is_key_person", False),
                            own_issues=spec.get("own_issues", ""),
                            joined_on=since.astimezone(TOKYO).date(),
                        ),
                        at=since,
                        user=registrar,
                    )
                )
            info = HouseholdInfo(household.pk, ids[0], ids, since, agency_id, profile, middle)
            self.household_infos.append(info)
            if bench:
                self.bench_household = info
        member_rows, member_histories = ctx.create_tracked(HouseholdMember, member_rows, label="世帯員")
        # 主介護者 → the 本人 they care for (介護・世話をしている相手).
        main_of = {}
        for row in member_rows:
            if row.relationship == "本人":
                main_of[row.household_id] = row.pk
        cares = [
            (row.pk, main_of[row.household_id])
            for row in member_rows
            if row.is_main_carer and row.relationship != "本人"
        ]
        carer_ids = {a for a, _ in cares}
        ctx.m2m(
            HouseholdMember, "cares_for", cares, [(mid, h) for mid, h in member_histories if mid in carer_ids]
        )

    def attributes(self, profile: str, age: int, main: bool) -> list[Code]:
        rng, out = self.rng, []
        if age >= 65:
            out.append(self.code("attribute", "elderly"))
        if age < 18:
            out.append(self.code("attribute", "child"))
        if profile == "disability" or rng.random() < 0.04:
            sub = self.ctx.pick(
                [
                    ("disability_physical", 3),
                    ("disability_intellectual", 2),
                    ("disability_mental", 4),
                    ("disability_developmental", 2),
                    ("intractable_disease", 1),
                ]
            )
            out.append(self.code("attribute", sub))
        if main and profile in ("working", "single_parent", "youth") and rng.random() < 0.4:
            out.append(self.code("attribute", "poverty"))
        return out

    # --- Cases and their consultations ---------------------------------------------------------------

    def cases(self) -> None:
        ctx, rng = self.ctx, self.rng
        total_cases = ctx.n(CASES, minimum=10)
        households = self.household_infos
        # How many cases each household has over the 10 年度 (most none or one, some two).
        two = total_cases // 12
        weights = [rng.random() for _ in households]
        order = sorted(range(len(households)), key=lambda i: weights[i])
        counts = [0] * len(households)
        for rank, index in enumerate(order):
            if rank < two:
                counts[index] = 2
            elif rank < total_cases - two:
                counts[index] = 1
        bench_index = households.index(self.bench_household)
        counts[bench_index] = 1
        showcase = self.showcase_plan()
        for index, household in enumerate(households):
            if household.id in showcase:
                counts[index] = max(1, counts[index])
        for start in range(0, len(households), CHUNK):
            chunk = [(h, counts[start + i]) for i, h in enumerate(households[start : start + CHUNK])]
            self._case_chunk(chunk, showcase)
            if start and (start // CHUNK) % 5 == 0:
                ctx.progress("世帯（相談・ケース）", start, len(households))
        self.grants.flush()

    def showcase_plan(self) -> dict:
        """Cases of the benchmark agency forced into each status in the last weeks, so that the
        benchmark worker's list (and a tiny test run) shows every state, and the coordinators' inbox
        is not empty."""
        agency = self.ctx.bench_agency.pk
        candidates = [
            h for h in self.household_infos if h.agency_id == agency and h is not self.bench_household
        ]
        statuses = (
            [S.RECEIVED, S.ASSESSING, S.SUPPORTING, S.CLOSED, S.SUSPENDED]
            + [S.REFERRED] * 4
            + [S.COORDINATING] * 6
        )
        return {h.id: status for h, status in zip(candidates[-len(statuses) :], statuses, strict=False)}

    def issues_for(self, profile: str) -> list[str]:
        weighted = PROFILE_ISSUES[profile]
        count = self.ctx.pick([(1, 4), (2, 4), (3, 2)])
        chosen = []
        while len(chosen) < count:
            code = self.ctx.pick(weighted)
            if code not in chosen:
                chosen.append(code)
            elif len(chosen) >= len(weighted):
                break
        if self.rng.random() < 0.03:
            chosen.append("other")
        return chosen

    def timeline(self, case: CaseInfo, multi: bool, forced: str | None) -> None:
        """Move the case along ALLOWED_TRANSITIONS from its opening until today."""
        ctx, rng = self.ctx, self.rng
        lead, coord = case.lead, case.coordinator
        events = case.events
        anchor = ctx.anchor

        def move(at, to, actor, reason="", code=None) -> bool:
            previous = events[-1][0] if events else case.opened_at
            if at >= anchor:
                return False  # not yet: the case is still in its current state today
            at = self.at_office_hours(at, floor=previous)
            if at >= anchor or at <= previous:
                return False
            events.append((at, case.status, to, actor, reason, code))
            case.status = to
            return True

        def lognormal(median_days, sigma=0.9):
            return timedelta(days=median_days * pow(2.718281828, rng.gauss(0, sigma)))

        def single_tail(t):
            end = t + lognormal(240)
            if rng.random() < 0.88:
                move(end, S.CLOSED, lead, "", ("close_reason", ctx.pick(CLOSE_SINGLE)))
                return
            if not move(end, S.SUSPENDED, lead, "", ("suspend_reason", ctx.pick(SUSPEND))):
                return
            if rng.random() < 0.25 and move(
                end + timedelta(days=rng.uniform(30, 300)), S.SUPPORTING, lead, "支援再開: 本人と連絡が取れた"
            ):
                move(
                    events[-1][0] + lognormal(120),
                    S.CLOSED,
                    lead,
                    "",
                    ("close_reason", ctx.pick(CLOSE_SINGLE)),
                )

        if forced is not None:
            return self.forced_timeline(case, forced, move)
        if rng.random() < 0.07:  # a one-off: closed straight from 受付
            move(
                case.opened_at + timedelta(days=rng.uniform(0, 10)),
                S.CLOSED,
                lead,
                "相談のみで終了",
                ("close_reason", ctx.pick([("person_wish", 3), ("other_system", 2), ("goal_achieved", 3)])),
            )
            return
        if not move(
            case.opened_at + timedelta(days=rng.uniform(0.5, 21)), S.ASSESSING, lead, "アセスメント記録"
        ):
            return
        t = events[-1][0]
        if not multi:
            r = rng.random()
            if r < 0.05:
                move(
                    t + timedelta(days=rng.uniform(7, 60)),
                    S.CLOSED,
                    lead,
                    "",
                    ("close_reason", ctx.pick(CLOSE_SINGLE)),
                )
                return
            if r < 0.08:
                move(
                    t + timedelta(days=rng.uniform(7, 60)),
                    S.SUSPENDED,
                    lead,
                    "",
                    ("suspend_reason", ctx.pick(SUSPEND)),
                )
                return
            if move(t + timedelta(days=rng.uniform(2, 30)), S.SUPPORTING, lead, "支援方針決定"):
                single_tail(events[-1][0])
            return
        if rng.random() < 0.4:
            if not move(t + timedelta(days=rng.uniform(2, 30)), S.SUPPORTING, lead, "支援方針決定"):
                return
            t = events[-1][0] + timedelta(days=rng.uniform(20, 200))
        else:
            t = t + timedelta(days=rng.uniform(7, 60))
        if not move(t, S.REFERRED, lead, rng.choice(REFERRAL_REASONS)):
            return
        case.referred_at = events[-1][0]
        if not move(
            case.referred_at + timedelta(days=rng.uniform(1, 21)),
            S.COORDINATING,
            coord,
            "多機関協働として受理",
        ):
            return
        case.coordinating_at = events[-1][0]
        slot = next_slot(ctx, case.coordinating_at + lognormal(420, 0.6))
        if slot is None:
            return
        held_at, title = ctx.conference_slots[slot]
        case.end_slot = slot
        case.end_kind = ctx.pick([("close", 55), ("suspend", 10), ("return", 35)])
        if case.end_kind == "close":
            ok = self.move_at(
                case, held_at, S.CLOSED, coord, f"{title}で終結", ("close_reason", ctx.pick(CLOSE_MULTI))
            )
        elif case.end_kind == "suspend":
            ok = self.move_at(
                case, held_at, S.SUSPENDED, coord, f"{title}で中断", ("suspend_reason", ctx.pick(SUSPEND))
            )
        else:
            ok = self.move_at(
                case, held_at, S.SUPPORTING, coord, f"{title}の評価により主担当機関が支援を継続"
            )
            if ok:
                single_tail(held_at)
        if not ok:
            case.end_slot, case.end_kind = None, ""

    def move_at(self, case, at, to, actor, reason, code=None) -> bool:
        """A move at an exact moment (a 重層的支援会議)."""
        if at >= self.ctx.anchor or at <= case.events[-1][0]:
            return False
        case.events.append((at, case.status, to, actor, reason, code))
        case.status = to
        return True

    def forced_timeline(self, case: CaseInfo, target: str, move) -> None:
        _ctx, rng = self.ctx, self.rng
        lead, coord = case.lead, case.coordinator
        if target == S.RECEIVED:
            return
        move(case.opened_at + timedelta(days=1), S.ASSESSING, lead, "アセスメント記録")
        t = case.events[-1][0]
        if target in (S.ASSESSING,):
            return
        if target in (S.SUPPORTING, S.CLOSED, S.SUSPENDED):
            move(t + timedelta(days=2), S.SUPPORTING, lead, "支援方針決定")
            t = case.events[-1][0]
            if target == S.CLOSED:
                move(t + timedelta(days=3), S.CLOSED, lead, "", ("close_reason", "goal_achieved"))
            elif target == S.SUSPENDED:
                move(t + timedelta(days=3), S.SUSPENDED, lead, "", ("suspend_reason", "lost_contact"))
            return
        move(t + timedelta(days=2), S.REFERRED, lead, rng.choice(REFERRAL_REASONS))
        case.referred_at = case.events[-1][0]
        if target == S.COORDINATING:
            move(case.referred_at + timedelta(days=2), S.COORDINATING, coord, "多機関協働として受理")
            case.coordinating_at = case.events[-1][0]

    def bench_timeline(self, case: CaseInfo) -> None:
        """The benchmark case: supported by its agency, referred, and in 多機関協働 for about two years
        (long enough for three plan versions); a coordinating case stays open."""
        ctx = self.ctx
        slots = ctx.conference_slots
        first_slot = max(0, len(slots) - 9)
        coordinating = min(slots[first_slot][0] - timedelta(days=30), ctx.anchor - timedelta(days=700))
        case.opened_at = coordinating - timedelta(days=120)
        for offset, to, actor, reason in [
            (0.9, S.ASSESSING, case.lead, "アセスメント記録"),
            (20, S.SUPPORTING, case.lead, "支援方針決定"),
            (100, S.REFERRED, case.lead, REFERRAL_REASONS[1]),
            (120, S.COORDINATING, case.coordinator, "多機関協働として受理"),
        ]:
            at = self.at_office_hours(case.opened_at + timedelta(days=offset))
            case.events.append((at, case.status, to, actor, reason, None))
            case.status = to
        case.referred_at, case.coordinating_at = case.events[2][0], case.events[3][0]

    def _case_chunk(self, chunk, showcase) -> None:
        ctx, rng = self.ctx, self.rng
        anchor = ctx.anchor
        cases, infos = [], []
        consultations = []
        for household, count in chunk:
            bench = household is self.bench_household
            forced = showcase.get(household.id)
            starts = []
            if count:
                starts.append(household.since)
            if count == 2:
                second = household.since + timedelta(days=rng.uniform(180, 1800))
                if second < anchor - timedelta(days=3):
                    starts.append(self.at_office_hours(second))
            for number, opened in enumerate(starts):
                agency = household.agency_id
                showcase_case = forced is not None and number == 0
                lead = ctx.bench_worker if bench or showcase_case else self.worker(agency)
                coordinator = ctx.bench_coordinator if bench else rng.choice(ctx.coordinators)
                person = household.main
                if number == 1 and len(household.members) > 1 and rng.random() < 0.5:
                    person = household.members[1]
                issues = self.issues_for(household.profile)
                if bench:
                    issues = ["double_care", "care", "childcare", "income"]
                info = CaseInfo(
                    0,
                    person,
                    household.id,
                    agency,
                    lead.pk,
                    coordinator.pk,
                    household.profile,
                    issues,
                    opened,
                    [],
                    members=household.members,
                )
                if bench:
                    self.bench_timeline(info)
                elif showcase_case:
                    info.opened_at = self.at_office_hours(anchor - timedelta(days=rng.uniform(8, 20)))
                    self.timeline(info, True, forced)
                else:
                    multi = rng.random() < REFERRAL_CHANCE[household.profile] + (
                        0.2 if {"abuse", "hoarding"} & set(issues) else 0
                    )
                    self.timeline(info, multi, None)
                infos.append(info)
                cases.append(self.case_row(info))
            # Consultations that opened no case: advice, or passed on to another agency.
            linked = self.poisson(LINKED_CONSULTATIONS_PER_HOUSEHOLD)
            for _ in range(linked):
                at = ctx.moment(household.since, anchor - timedelta(hours=1))
                agency = household.agency_id if rng.random() < 0.8 else rng.choice(self.consulting).pk
                person = household.main if rng.random() < 0.8 else rng.choice(household.members)
                consultations.append(
                    self.consultation(agency, at, person, household.id, household.profile, None)
                )
        saved = ctx.create_plain(Case, cases, label="支援ケース")
        for info, case in zip(infos, saved, strict=True):
            info.id = case.pk
        self.case_history(infos, saved)
        transitions = []
        for info in infos:
            for at, before, after, actor, reason, _ in info.events:
                transitions.append(
                    CaseTransition(
                        case_id=info.id,
                        from_status=before,
                        to_status=after,
                        actor_id=actor,
                        reason=reason,
                        at=at,
                    )
                )
            self.case_grants(info)
            opening = self.consultation(
                info.agency,
                info.opened_at - timedelta(minutes=rng.randint(5, 50)),
                info.person,
                info.household,
                info.profile,
                info,
            )
            consultations.append(opening)
        ctx.create_plain(CaseTransition, transitions, label="状態の変更")
        self.referral_notifications(infos)
        self.save_consultations(consultations)
        self.case_infos += infos

    def poisson(self, mean: float) -> int:
        # Knuth; small means only.
        limit, k, p = pow(2.718281828, -mean), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    def case_row(self, info: CaseInfo) -> Case:
        status = info.status
        last = info.events[-1] if info.events else None
        close = suspend = None
        if status == S.CLOSED:
            close = self.code(*last[5]).pk
        if status == S.SUSPENDED:
            suspend = self.code(*last[5]).pk
        follow_up = None
        if status in (S.ASSESSING, S.SUPPORTING, S.COORDINATING):
            follow_up = self.ctx.today + timedelta(days=self.rng.randint(-20, 45))
        return Case(
            person_id=info.person,
            household_id=info.household,
            owning_agency_id=info.agency,
            lead_worker_id=info.lead,
            status=status,
            risk_abuse="abuse" in info.issues,
            risk_suicide="suicide_risk" in info.issues,
            risk_life=("hoarding" in info.issues and self.rng.random() < 0.3) or self.rng.random() < 0.01,
            next_follow_up_on=follow_up,
            close_reason_id=close,
            suspend_reason_id=suspend,
            opened_at=info.opened_at,
            closed_at=info.ended_at,
            version=1 + len(info.events),
        )

    def case_history(self, infos: list[CaseInfo], cases: list[Case]) -> None:
        """'+' at the opening (受付), then one '~' per move, each with the state after it — what
        case_open and case_transition write — all carrying the case's 課題分類."""
        rows, owners = [], []
        for info, case in zip(infos, cases, strict=True):
            state = {
                "status": S.RECEIVED,
                "close_reason_id": None,
                "suspend_reason_id": None,
                "closed_at": None,
                "version": 1,
                "next_follow_up_on": None,
            }
            rows.append(history_row(case, at=info.opened_at, user_id=info.lead, reason="ケース開始", **state))
            owners.append(case.pk)
            for at, before, after, actor, reason, code in info.events:
                state["status"] = after
                state["version"] += 1
                if after in (S.CLOSED, S.SUSPENDED):
                    state["closed_at"] = at
                    state["close_reason_id" if after == S.CLOSED else "suspend_reason_id"] = self.code(
                        *code
                    ).pk
                elif before == S.SUSPENDED:
                    state["closed_at"] = state["suspend_reason_id"] = None
                label = f"{S(before).label}→{S(after).label}"
                rows.append(
                    history_row(
                        case,
                        at=at,
                        user_id=actor,
                        reason=f"{label}: {reason}".strip(": ")[:100],
                        kind="~",
                        **state,
                    )
                )
                owners.append(case.pk)
            rows[-1].next_follow_up_on = case.next_follow_up_on  # the latest row is the case as it is now
        rows = self.ctx.create_history(rows)
        pairs = [(info.id, self.code("issue", code).pk) for info in infos for code in info.issues]
        self.ctx.m2m(Case, "issues", pairs, list(zip(owners, rows, strict=True)))

    def case_grants(self, info: CaseInfo) -> None:
        """case_open: the owning agency and the lead worker, view and change (担当). case_transition to
        つなぎ依頼: every coordinator, view and change (担当); back to 主担当機関: those grants revoked."""
        add = self.grants.add
        add(
            Case,
            info.id,
            agency_id=info.agency,
            basis=AccessBasis.ASSIGNMENT,
            permissions=("view", "change"),
            granted_by=info.lead,
            starts_at=info.opened_at,
            reason="主担当機関",
        )
        add(
            Case,
            info.id,
            user_id=info.lead,
            basis=AccessBasis.ASSIGNMENT,
            permissions=("view", "change"),
            granted_by=info.lead,
            starts_at=info.opened_at,
            reason="主担当者",
        )
        if info.referred_at is None:
            return
        referral = next(e for e in info.events if e[2] == S.REFERRED)
        back = next(
            (e for e in info.events if e[1] in (S.REFERRED, S.COORDINATING) and e[2] == S.SUPPORTING), None
        )
        for coordinator in self.ctx.coordinators:
            add(
                Case,
                info.id,
                user_id=coordinator.pk,
                basis=AccessBasis.ASSIGNMENT,
                permissions=("view", "change"),
                granted_by=referral[3],
                starts_at=referral[0],
                reason=f"多機関協働へのつなぎ: {referral[4]}",
                revoked_at=back[0] if back else None,
                revoked_by=back[3] if back else None,
                revoke_reason="主担当機関へ戻した" if back else "",
            )

    def referral_notifications(self, infos: list[CaseInfo]) -> None:
        """_referral_open tells every coordinator; the ones before the last weeks have been read."""
        rows = []
        agencies = {a.pk: a.name for a in self.ctx.agencies}
        for info in infos:
            if info.referred_at is None:
                continue
            for coordinator in self.ctx.coordinators:
                read = None
                if info.status != S.REFERRED:
                    read = info.referred_at + timedelta(hours=self.rng.uniform(1, 72))
                    read = min(read, self.ctx.anchor - timedelta(minutes=1))
                rows.append(
                    Notification(
                        recipient_id=coordinator.pk,
                        kind="referral",
                        link=f"/cases/{info.id}/",
                        title=f"多機関協働へのつなぎ依頼（{_number(info.id)}、{agencies[info.agency]}）",
                        created_at=info.referred_at,
                        delivered_at=info.referred_at,
                        read_at=read,
                    )
                )
        self.ctx.create_plain(Notification, rows, label="お知らせ")

    def consultation(self, agency, at, person, household, profile, case: CaseInfo | None) -> Consultation:
        ctx, rng = self.ctx, self.rng
        issues = (
            case.issues if case else self.issues_for(profile if person else rng.choice(list(PROFILE_ISSUES)))
        )
        route = ctx.pick(ROUTES)
        channel = ctx.pick(CHANNELS)
        main = issues[0]
        if case is not None:
            outcome = "multi_agency" if case.referred_at and rng.random() < 0.15 else "case"
        else:
            outcome = ctx.pick(
                [("advice", 65), ("referred_elsewhere", 35)]
                if person
                else [("advice", 80), ("referred_elsewhere", 20)]
            )
        referred_to = rng.choice(self.consulting).pk if outcome == "referred_elsewhere" else None
        recorder = self.ctx.users[case.lead] if case else self.worker(agency)
        who = ROUTE_WHO.get(route, "" if route == "self" else "関係機関の担当者")
        summary = f"{self.code('route', route).label}より。{rng.choice(SUMMARIES[main])}"
        if len(issues) > 1:
            summary += rng.choice(SUMMARIES[issues[1]])
        row = Consultation(
            agency_id=agency,
            received_at=at,
            recorded_by_id=recorder.pk,
            channel_id=self.code("channel", channel).pk,
            route_id=self.code("route", route).pk,
            first_noticed_by_id=self.code("route", ctx.pick(ROUTES)).pk if rng.random() < 0.3 else None,
            consulter_name=who,
            person_id=person,
            household_id=household,
            main_issue_id=self.code("issue", main).pk,
            urgency=ctx.pick([("normal", 85), ("soon", 12), ("urgent", 3)]),
            summary=summary,
            action_taken=rng.choice(ACTIONS),
            outcome=outcome,
            referred_to_id=referred_to,
            case_id=case.id if case else None,
        )
        row._issues = issues
        return stamp(row, at=at, user=recorder)

    def save_consultations(self, rows: list[Consultation]) -> None:
        rows, histories = self.ctx.create_tracked(Consultation, rows, label="相談受付")
        pairs = [(row.pk, self.code("issue", code).pk) for row in rows for code in row._issues]
        self.ctx.m2m(Consultation, "issues", pairs, histories)

    def anonymous_consultations(self) -> None:
        ctx = self.ctx
        total = ctx.n(ANONYMOUS_CONSULTATIONS, minimum=10)
        end = ctx.anchor - timedelta(hours=1)
        for start in range(0, total, CHUNK):
            rows = []
            for _ in range(min(CHUNK, total - start)):
                agency = self.rng.choice(self.consulting).pk
                rows.append(self.consultation(agency, ctx.moment(ctx.start, end), None, None, "", None))
            self.save_consultations(rows)
            if start and (start // CHUNK) % 10 == 0:
                ctx.progress("匿名・一回きりの相談", start, total)

    # --- Assessments and progress notes ------------------------------------------------------------

    def assessments_and_notes(self) -> None:
        ctx, rng = self.ctx, self.rng
        anchor = ctx.anchor
        assessments, notes = [], []
        total = len(self.case_infos)
        for done, info in enumerate(self.case_infos, start=1):
            assessed = next((e for e in info.events if e[2] == S.ASSESSING), None)
            if assessed is not None:
                assessments.append(self.assessment(info, 1, assessed[0], info.lead))
                end = info.ended_at or anchor
                if (end - assessed[0]).days > 200 and rng.random() < 0.25:
                    at = self.at_office_hours(
                        assessed[0] + timedelta(days=rng.uniform(90, 180)), floor=assessed[0]
                    )
                    if at < end:
                        assessments.append(self.assessment(info, 2, at, info.lead))
                notes += self.notes(info, assessed[0], end)
            if len(notes) >= 50_000 or done == total:
                self.save_assessments(assessments)
                ctx.create(ProgressNote, notes, label="支援経過記録")
                assessments, notes = [], []
                ctx.progress("ケース（アセスメント・経過記録）", done, total)

    def assessment(self, info: CaseInfo, version: int, at: datetime, author: int) -> Assessment:
        rng = self.rng
        labels = [self.code("issue", c).label for c in info.issues]
        row = Assessment(
            case_id=info.id,
            version=version,
            person_wishes=rng.choice(
                [
                    "住み慣れた家で暮らし続けたい",
                    "生活を立て直したい",
                    "家族に迷惑をかけたくない",
                    "仕事を見つけたい",
                    "子どもと安心して暮らしたい",
                ]
            ),
            family_wishes=rng.choice(["", "（家族）できる範囲で支えたい", "（家族）これ以上は支えきれない"]),
            issues_detail="、".join(labels) + "の課題がある。",
            household_issues=rng.choice(
                ["", "世帯の収入が不安定。", "家族の中に支援を必要とする人が複数いる。"]
            ),
            strengths=rng.choice(["", "本人に改善の意欲がある", "近くに協力的な親族がいる"]),
            life_history="",
            risks="生命の危険に注意" if "suicide_risk" in info.issues else "",
            formulation=f"{labels[0]}を中心に、世帯全体の状況を踏まえた支援が必要。",
            author_id=author,
            created_at=at,
        )
        row._issues = info.issues
        return stamp(row, at=at, user=self.ctx.users[author], reason=f"アセスメント第{version}版")

    def save_assessments(self, rows: list[Assessment]) -> None:
        rows, histories = self.ctx.create_tracked(Assessment, rows, label="アセスメント")
        pairs = [(row.pk, self.code("issue", code).pk) for row in rows for code in row._issues]
        self.ctx.m2m(Assessment, "issues", pairs, histories)

    def notes(self, info: CaseInfo, start: datetime, end: datetime) -> list[ProgressNote]:
        rng = self.rng
        days = max(1.0, (end - start).total_seconds() / 86400)
        count = 200 if info is self.bench_info else min(24, max(1, round(days / 45 * rng.uniform(0.5, 1.5))))
        coordinating = [
            (a, b) for a, b, status in info.open_windows(self.ctx.anchor) if status == S.COORDINATING
        ]
        topic = self.code("issue", info.issues[0]).label
        out = []
        for _ in range(count):
            at = self.at_office_hours(
                start + timedelta(seconds=rng.random() * (end - start).total_seconds()), floor=start
            )
            if at >= end:
                at = end - timedelta(minutes=rng.randint(1, 120))
            author = info.lead
            if any(a <= at < b for a, b in coordinating) and rng.random() < 0.4:
                author = info.coordinator
            kind = self.ctx.pick(NOTE_KINDS)
            content = rng.choice(NOTE_TEXT[kind]).format(t=topic)
            out.append(
                stamp(
                    ProgressNote(
                        case_id=info.id,
                        occurred_at=at,
                        kind=kind,
                        content=content,
                        author_id=author,
                        created_at=at + timedelta(minutes=rng.randint(5, 240)),
                    ),
                    at=at,
                    user=self.ctx.users[author],
                )
            )
        return out

    @property
    def bench_info(self) -> CaseInfo | None:
        if not hasattr(self, "_bench_info"):
            self._bench_info = next(
                (c for c in self.case_infos if c.household == self.bench_household.id), None
            )
        return self._bench_info

    @property
    def bench_case(self) -> CaseInfo:
        return self.bench_info

    # --- Reads of the last weeks (the access log) --------------------------------------------------

    def reads(self) -> None:
        """Staff opening their cases over the last 60 days (the benchmark worker more, over 90), and
        supervisors looking into some: the read log the supervisors' access-log view pages through."""
        ctx, rng = self.ctx, self.rng
        case_type = ContentType.objects.get_for_model(Case).pk
        recent = ctx.anchor - timedelta(days=400)
        by_agency: dict[int, list[int]] = {}
        by_lead: dict[int, list[int]] = {}
        for info in self.case_infos:
            if info.ended_at is None or info.ended_at > recent:
                by_agency.setdefault(info.agency, []).append(info.id)
                by_lead.setdefault(info.lead, []).append(info.id)
        multi = [
            c.id for c in self.case_infos if c.referred_at and (c.ended_at is None or c.ended_at > recent)
        ]
        readers = []
        for agency_id, workers in ctx.workers.items():
            for worker in workers:
                if agency_id in by_agency:
                    per_day = 25 if worker == ctx.bench_worker else 8
                    days = 90 if worker == ctx.bench_worker else 60
                    readers.append(
                        (
                            worker.pk,
                            days,
                            per_day,
                            by_lead.get(worker.pk) or by_agency[agency_id],
                            by_agency[agency_id],
                            AccessBasis.ASSIGNMENT,
                        )
                    )
        for coordinator in ctx.coordinators:
            if multi:
                readers.append((coordinator.pk, 60, 10, multi, multi, AccessBasis.ASSIGNMENT))
        all_recent = [c for ids in by_agency.values() for c in ids]
        for supervisor in ctx.supervisors:
            if all_recent:
                readers.append((supervisor.pk, 60, 3, all_recent, all_recent, AccessBasis.SUPERVISOR))
        for user_id, days, per_day, own, agency_cases, basis in readers:
            for back in range(days, 0, -1):
                day = ctx.anchor - timedelta(days=back)
                if day.astimezone(TOKYO).weekday() >= 5:
                    continue
                for _ in range(max(0, round(rng.gauss(per_day, per_day / 4)))):
                    at = self.at_office_hours(day)
                    case_id = rng.choice(own if rng.random() < 0.7 else agency_cases)
                    ctx.read_logs.append((at, user_id, ReadLog.Action.VIEW, case_type, case_id, basis, ""))
                if rng.random() < 0.3:
                    query = rng.choice(ctx.family_names)[0]
                    ctx.read_logs.append(
                        (
                            self.at_office_hours(day),
                            user_id,
                            ReadLog.Action.SEARCH,
                            None,
                            None,
                            "",
                            f"ケース検索: {query}",
                        )
                    )
