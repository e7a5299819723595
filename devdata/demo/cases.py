"""みどり市's households and cases for the demo. Every person here is invented.

Owned by intake_a's agency (みどり中央地域包括支援センター): an 8050 household, a ごみ屋敷 /
セルフネグレクト case, a DV case (the child is also known to member_c's agency), an anonymous
one-off call. Owned by intake_b's agency: a ヤングケアラー household, referred to 多機関協働.
`outsider` sees none of it.
"""

from datetime import date, timedelta

from django.utils import timezone

from cases import services
from cases.codes import seed_code_lists
from cases.models import AddressConfidentiality, Case, CaseStatus, Code, CodeKind, NoteKind, Person
from jusou.models import User

MARKER = "DEMO-0001"  # 宛名番号 of the first demo person: present means the demo is loaded


def _code(kind, code):
    return Code.objects.get(kind=kind, code=code)


def _issues(*codes):
    return [_code(CodeKind.ISSUE, c) for c in codes]


def _consult(user, *, days_ago, person, issues, summary, outcome, channel="phone", route="family", **extra):
    return services.consultation_record(
        acting_user=user,
        received_at=timezone.now() - timedelta(days=days_ago, hours=2),
        channel=_code(CodeKind.CHANNEL, channel),
        route=_code(CodeKind.ROUTE, route),
        issues=issues,
        main_issue=issues[0],
        summary=summary,
        outcome=outcome,
        person=person,
        household=extra.pop("household", None),
        **extra,
    )


def _assess(case, user, issues, formulation, **fields):
    return services.assessment_record(
        case=case,
        acting_user=user,
        issues=issues,
        issues_detail=fields.pop("detail", formulation),
        formulation=formulation,
        **fields,
    )


def load_cases_demo() -> None:
    seed_code_lists(Code)
    if not Person.objects.filter(atena_number=MARKER).exists():
        _load_households()
    _protect_dv_household()


def _update_case(case, user, **changes) -> None:
    """A change to a case as a worker makes it (cases.services.case_update, from the row as it is now):
    saving the instance a service returned earlier would record its stale state in the history."""
    case = Case.objects.get(pk=case.pk)
    fields = {
        name: getattr(case, name) for name in ("risk_abuse", "risk_suicide", "risk_life", "next_follow_up_on")
    }
    services.case_update(
        case=case,
        acting_user=user,
        expected_version=case.version,
        issues=list(case.issues.all()),
        **{**fields, **changes},
    )


def _protect_dv_household() -> None:
    """住所秘匿 for the DV victim and her son: only intake_a (assigned) sees where they are."""
    intake_a = User.objects.get(username="intake_a")
    for person in Person.objects.filter(name__in=["佐藤 美咲", "佐藤 蓮"]):
        if not AddressConfidentiality.objects.in_force().filter(person=person).exists():
            services.address_confidentiality_set(
                person=person,
                acting_user=intake_a,
                reason="DV等支援措置（住民票の閲覧制限）中。夫が所在を探している。",
            )


def _load_households() -> None:
    intake_a = User.objects.get(username="intake_a")
    intake_b = User.objects.get(username="intake_b")
    member_c = User.objects.get(username="member_c")

    # --- 8050: 山本さん世帯 (みどり中央地域包括支援センター) ---
    toshiko = services.person_register(
        acting_user=intake_a,
        name="山本 トシ子",
        kana="やまもと としこ",
        birth_date=date(1944, 3, 12),
        sex="female",
        address="みどり市中央一丁目3-8",
        phone="0120-000-101",
        atena_number=MARKER,
        attributes=[_code(CodeKind.ATTRIBUTE, "elderly")],
    )
    makoto = services.person_register(
        acting_user=intake_a,
        name="山本 誠",
        kana="やまもと まこと",
        birth_date=date(1974, 8, 20),
        sex="male",
        address="みどり市中央一丁目3-8",
        atena_number="DEMO-0002",
    )
    yamamoto = services.household_register(
        acting_user=intake_a, name="山本さん世帯", address="みどり市中央一丁目3-8"
    )
    mother = services.household_member_add(
        acting_user=intake_a,
        household=yamamoto,
        person=toshiko,
        relationship="本人",
        own_issues="要介護2、物忘れが進んでいる",
    )
    son = services.household_member_add(
        acting_user=intake_a,
        household=yamamoto,
        person=makoto,
        relationship="長男",
        is_main_carer=True,
        is_key_person=True,
        own_issues="20年以上ひきこもり、就労経験なし",
    )
    son.cares_for.add(mother)
    c = _consult(
        intake_a,
        days_ago=40,
        person=toshiko,
        household=yamamoto,
        route="minsei",
        issues=_issues("8050", "care", "hikikomori", "income"),
        outcome="case",
        summary="民生委員より。母の年金で二人暮らし。母の介護が必要になっているが長男が外部との接触を拒む。",
        action_taken="訪問日程を調整",
        first_noticed_by=_code(CodeKind.ROUTE, "minsei"),
    )
    case = c.case
    _assess(
        case,
        intake_a,
        _issues("8050", "care", "hikikomori", "income"),
        "母の介護負担と長男の社会的孤立が重なる8050の典型。長男は母のことを大切に思っており、母の介護を入口に関係づくりが可能。",
        person_wishes="住み慣れた家で暮らしたい",
        family_wishes="（長男）母の世話は自分がする",
        household_issues="年金収入のみで、母の入院等があると生活が立ち行かなくなる",
        strengths="長男は家事ができる",
    )
    services.case_transition(
        case=case, to_status=CaseStatus.SUPPORTING, acting_user=intake_a, reason="支援方針決定"
    )
    services.progress_note_add(
        case=case,
        acting_user=intake_a,
        kind=NoteKind.VISIT,
        occurred_at=timezone.now() - timedelta(days=20),
        content="自宅訪問。長男は玄関先で短時間応対。母のデイサービス利用について説明した。",
    )
    services.progress_note_add(
        case=case,
        acting_user=intake_a,
        kind=NoteKind.PHONE,
        occurred_at=timezone.now() - timedelta(days=5),
        content="長男より電話。母の通院の付き添いについて相談あり。",
    )
    _update_case(case, intake_a, next_follow_up_on=timezone.localdate() - timedelta(days=1))

    # --- ごみ屋敷・セルフネグレクト: 木村さん (みどり中央地域包括支援センター) ---
    kimura = services.person_register(
        acting_user=intake_a,
        name="木村 勇",
        kana="きむら いさむ",
        birth_date=date(1951, 1, 1),
        birth_date_precision="year",
        sex="male",
        address="みどり市中央二丁目（詳細不明）",
    )
    c = _consult(
        intake_a,
        days_ago=3,
        person=kimura,
        route="neighbour",
        channel="visit_office",
        issues=_issues("hoarding", "isolation", "health"),
        outcome="case",
        urgency="soon",
        summary="近隣住民より。庭と玄関にごみが積み上がり異臭。本人の姿を最近見ない。",
        action_taken="民生委員に状況確認を依頼",
    )
    _update_case(c.case, intake_a, risk_life=True)

    # --- DV: 佐藤さん (みどり中央地域包括支援センター); the child is known to member_c's agency ---
    misaki = services.person_register(
        acting_user=intake_a,
        name="佐藤 美咲",
        kana="さとう みさき",
        birth_date=date(1990, 6, 3),
        sex="female",
        address="みどり市東三丁目5-2 みどりハイツ201（避難先）",
        phone="090-0000-0303",
        email="misaki@example.jp",
    )
    ren = services.person_register(
        acting_user=intake_a,
        name="佐藤 蓮",
        kana="さとう れん",
        birth_date=date(2019, 9, 15),
        sex="male",
    )
    sato = services.household_register(
        acting_user=intake_a, name="佐藤さん世帯", address="みどり市東三丁目5-2 みどりハイツ201（避難先）"
    )
    services.household_member_add(acting_user=intake_a, household=sato, person=misaki, relationship="本人")
    services.household_member_add(acting_user=intake_a, household=sato, person=ren, relationship="長男")
    c = _consult(
        intake_a,
        days_ago=10,
        person=misaki,
        household=sato,
        route="self",
        channel="visit_office",
        issues=_issues("abuse", "housing", "income"),
        outcome="case",
        urgency="urgent",
        summary="夫からの暴力を避けて子どもと避難中。住まいと生活費の相談。",
    )
    _assess(
        c.case,
        intake_a,
        _issues("abuse", "housing", "income"),
        "身体的DVからの避難直後。安全確保を最優先に、住まい・生活費・子どもの保育を並行して調整する。",
        risks="夫が居場所を探している可能性",
    )
    _consult(
        member_c,
        days_ago=8,
        person=ren,
        route="school",
        channel="phone",
        issues=_issues("childcare"),
        outcome="advice",
        summary="保育園より。新しく入園した園児の様子について相談。",
    )

    # --- ヤングケアラー: 中村さん世帯 (みどり障害者相談支援センター), referred to 多機関協働 ---
    yuki = services.person_register(
        acting_user=intake_b,
        name="中村 由紀",
        kana="なかむら ゆき",
        birth_date=date(1984, 11, 2),
        sex="female",
        attributes=[_code(CodeKind.ATTRIBUTE, "disability_mental")],
    )
    sakura = services.person_register(
        acting_user=intake_b,
        name="中村 さくら",
        kana="なかむら さくら",
        birth_date=date(2012, 5, 1),
        sex="female",
    )
    nakamura = services.household_register(acting_user=intake_b, name="中村さん世帯")
    yuki_m = services.household_member_add(
        acting_user=intake_b,
        household=nakamura,
        person=yuki,
        relationship="本人",
        own_issues="精神疾患で通院中",
    )
    sakura_m = services.household_member_add(
        acting_user=intake_b,
        household=nakamura,
        person=sakura,
        relationship="長女",
        is_main_carer=True,
        own_issues="中学2年。欠席が増えている",
    )
    sakura_m.cares_for.add(yuki_m)
    c = _consult(
        intake_b,
        days_ago=25,
        person=yuki,
        household=nakamura,
        route="school",
        issues=_issues("young_carer", "health", "hikikomori"),
        outcome="case",
        summary="中学校より。長女が母の世話のため欠席がちで、家事の大半を担っている。",
    )
    _assess(
        c.case,
        intake_b,
        _issues("young_carer", "health"),
        "母の障害福祉サービスの利用が少なく、長女が主なケアを担っている。学校・子ども家庭支援センターとの連携が必要。",
    )
    services.case_transition(
        case=c.case,
        to_status=CaseStatus.REFERRED,
        acting_user=intake_b,
        reason="障害・子ども・教育の複数分野にまたがり、単独の機関では対応が難しいため",
    )

    # --- 匿名の一回きりの相談 (情報提供・助言で終了) ---
    _consult(
        intake_a,
        days_ago=1,
        person=None,
        route="neighbour",
        channel="phone",
        issues=_issues("care"),
        outcome="advice",
        summary="匿名。近所の高齢者の見守りサービスについて問い合わせ。",
        action_taken="地域の見守りネットワークと介護保険の相談窓口を案内",
    )
