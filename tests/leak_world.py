"""A seeded world for the leak matrix (tests/test_leak_matrix.py): an 8050 household whose every
sensitive field holds a distinctive marker string, the records built on it by the real services, and
one persona for each way of standing towards it (README "Access").

The mother 山田 花子 has a case at the 地域包括 (agency A), under 住所秘匿; her son 山田 一郎 lives with
her and has no case of his own. The case is in 多機関協働 with a plan approved on the *mother's*
本人同意 (基本情報 + 支援プラン) naming the 障害相談 (agency B, which has a 役割分担); the *son's* own
本人同意 (基本情報 + 病歴・障害) names the 保健センター (agency C), which is in no plan. A 支援会議 holds a
briefing of the case (open window), a second one's window has closed."""

from dataclasses import dataclass, field
from datetime import date, timedelta

import time_machine
from django.utils import timezone

from cases import services as case_services
from cases.models import CaseStatus, CodeKind, HouseholdMember
from cases.tests.conftest import code, fresh
from community import services as community_services
from jusou.exports import jobs as export_jobs
from jusou.models import AgencyKind, Role, User
from jusou.notifications import services as core_services
from jusou.staff import services as staff_services
from jusou.tests.factories import AgencyFactory, AreaFactory, UserFactory, staff_user
from meetings import services as meeting_services
from outreach import services as outreach_services
from participation import services as participation_services

#: every marker, by name: one distinctive string per sensitive value of the world
MARKERS = {
    # who the records are about, and the case's number: not even that they exist leaves the basis
    "mother_name": "山田 花子",
    "son_name": "山田 一郎",
    # the mother (本人): 基本情報 (whereabouts under 住所秘匿, 宛名番号) and 病歴・障害 (備考)
    "mother_address": "秘密-母-住所-緑町",
    "mother_phone": "090-7001-0001",
    "mother_email": "mother-secret@example.jp",
    "mother_atena": "7000000001",
    "mother_notes": "秘密-母-健康",
    "mother_own_issues": "秘密-母-本人課題",  # her HouseholdMember row (病歴・障害 of the member)
    # the son (household member without a case): his own information
    "son_address": "秘密-長男-住所-青葉町",
    "son_phone": "090-7002-0002",
    "son_atena": "7000000002",
    "son_notes": "秘密-長男-備考",
    "son_own_issues": "秘密-長男-課題",
    # the household (世帯の状況)
    "household_address": "秘密-世帯-住所-桜町",
    # the consultation (課題・アセスメント)
    "consultation_summary": "秘密-主訴-介護と長男",
    "consultation_action": "秘密-対応-包括へ",
    "consultation_consulter": "秘密-相談者-民生",
    # the assessment (課題・アセスメント)
    "assessment_detail": "秘密-アセス-課題",
    "assessment_formulation": "秘密-見立て",
    "assessment_life_history": "秘密-生活歴",
    "assessment_risks": "秘密-リスク",
    # the case's 支援経過
    "note_content": "秘密-経過記録",
    # 支援プラン
    "plan_wishes": "秘密-プラン-意向",
    "plan_issues": "秘密-プラン-課題整理",
    "plan_long_term_goal": "秘密-プラン-長期目標",
    "plan_goal": "秘密-プラン-短期目標",
    "plan_task": "秘密-プラン-役割内容",
    # 参加支援プラン (支援プラン; 体調 is 病歴・障害)
    "participation_wishes": "秘密-参加-希望",
    "participation_strengths": "秘密-参加-得意",
    "participation_health": "秘密-参加-体調",
    "follow_up_content": "秘密-定着支援-様子",
    # 本人同意 records (what the consent is for: case information)
    "mother_consent_purpose": "秘密-母-同意目的",
    "son_consent_purpose": "秘密-長男-同意目的",
    # 重層的支援会議: the deliberation on the case's plan
    "agenda_notes": "秘密-協議内容",
    # 支援会議 (open window): minutes and a decision on the briefing
    "meeting_minutes": "秘密-支援会議-議事録",
    "meeting_decision": "秘密-支援会議-決定",
    # 支援会議 whose window has closed
    "closed_meeting_minutes": "秘密-終了会議-議事録",
    "closed_meeting_decision": "秘密-終了会議-決定",
    # アウトリーチ (not linked to a person)
    "outreach_background": "秘密-アウトリーチ-経緯",
    "outreach_location": "秘密-アウトリーチ-所在",
    "outreach_response": "秘密-アウトリーチ-反応",
}

M = MARKERS
ALL = frozenset(MARKERS) | {"case_number"}
WHEREABOUTS = frozenset({"mother_address", "mother_phone", "mother_email", "household_address"})
OUTREACH = frozenset({"outreach_background", "outreach_location", "outreach_response"})
#: what the open meeting's briefing froze (sections 主訴・見立て, 世帯の構成 with 本人の課題, 課題, リスク)
SON_OWN = frozenset({"son_address", "son_phone", "son_atena", "son_notes", "son_own_issues"})


@dataclass
class LeakWorld:
    users: dict[str, User]
    records: dict[str, dict[str, int]] = field(default_factory=dict)  # model label -> name -> pk
    objects: dict[str, object] = field(default_factory=dict)

    def add(self, name, obj):
        label = obj._meta.label_lower
        self.records.setdefault(label, {})[name] = obj.pk
        self.objects[name] = obj
        return obj


def build() -> LeakWorld:
    """Seed the world through the services, as the staff would."""
    # Everything but the open 支援会議 was recorded three weeks ago: the closed meeting's two-week window
    # has been over since last week.
    real_now = timezone.now()
    with time_machine.travel(real_now - timedelta(days=21)):
        now_then = timezone.now()
        own = AgencyFactory(name="みどり中央地域包括支援センター")
        plan_agency = AgencyFactory(
            name="みどり障害者相談支援センター", kind=AgencyKind.DISABILITY_CONSULTATION
        )
        health = AgencyFactory(name="みどり市 保健センター", kind=AgencyKind.MUNICIPAL_OFFICE)
        npo = AgencyFactory(name="NPO法人みどりの家", kind=AgencyKind.NPO_PRIVATE)
        member_agency = AgencyFactory(name="みどり市 社会福祉協議会", kind=AgencyKind.NPO_PRIVATE)
        office = AgencyFactory(name="みどり市 福祉総合相談課", kind=AgencyKind.MUNICIPAL_OFFICE)
        other_office = AgencyFactory(name="みどり市 こども家庭課", kind=AgencyKind.MUNICIPAL_OFFICE)

        u = {
            "owner": staff_user(Role.WORKER, own, username="owner"),
            "colleague": staff_user(Role.WORKER, own, username="colleague"),
            "plan_agency_worker": staff_user(Role.WORKER, plan_agency, username="plan_worker"),
            "member_consent_recipient": staff_user(Role.WORKER, health, username="nurse"),
            "member_before_pledge": staff_user(Role.WORKER, member_agency, username="member_before"),
            "member_after_pledge": staff_user(Role.WORKER, member_agency, username="member_after"),
            "member_after_window": staff_user(Role.WORKER, member_agency, username="member_late"),
            "outsider": staff_user(Role.WORKER, npo, username="outsider"),
            "supervisor": staff_user(Role.SUPERVISOR, office, username="supervisor"),
            "host": staff_user(Role.COORDINATOR, office, username="host"),
        }
        external = UserFactory(username="minsei", last_name="民生", first_name="委員")
        staff_services.membership_grant(
            user=external, agency=None, role=Role.MEETING_MEMBER, acting_user=None
        )
        u["external_member"] = external
        owner = u["owner"]
        w = LeakWorld(users=u)
        w.agencies = {"own": own, "plan": plan_agency, "health": health, "npo": npo}

        mother = case_services.person_register(
            acting_user=owner,
            name="山田 花子",
            kana="やまだ はなこ",
            birth_date=date(1948, 5, 1),
            address=M["mother_address"],
            phone=M["mother_phone"],
            email=M["mother_email"],
            atena_number=M["mother_atena"],
            notes=M["mother_notes"],
        )
        son = case_services.person_register(
            acting_user=owner,
            name="山田 一郎",
            kana="やまだ いちろう",
            birth_date=date(1975, 1, 2),
            address=M["son_address"],
            phone=M["son_phone"],
            atena_number=M["son_atena"],
            notes=M["son_notes"],
        )
        household = case_services.household_register(
            acting_user=owner, name="山田さん世帯", address=M["household_address"]
        )
        case_services.household_member_add(
            acting_user=owner,
            household=household,
            person=mother,
            relationship="本人",
            own_issues=M["mother_own_issues"],
        )
        case_services.household_member_add(
            acting_user=owner,
            household=household,
            person=son,
            relationship="長男",
            is_main_carer=True,
            own_issues=M["son_own_issues"],
        )
        consultation = case_services.consultation_record(
            acting_user=owner,
            received_at=timezone.now() - timedelta(hours=2),
            channel=code(CodeKind.CHANNEL, "phone"),
            route=code(CodeKind.ROUTE, "family"),
            issues=[code(CodeKind.ISSUE, "care"), code(CodeKind.ISSUE, "8050")],
            main_issue=code(CodeKind.ISSUE, "care"),
            summary=M["consultation_summary"],
            action_taken=M["consultation_action"],
            consulter_name=M["consultation_consulter"],
            outcome="case",
            person=mother,
            household=household,
        )
        case = consultation.case
        w.add("mother", mother)
        w.add("son", son)
        w.add("household", household)
        w.add("consultation", consultation)
        w.add("case", case)
        for member in HouseholdMember.objects.filter(household=household):
            w.add("son_member" if member.person_id == son.pk else "mother_member", member)

        w.add(
            "assessment",
            case_services.assessment_record(
                case=case,
                acting_user=owner,
                issues=[code(CodeKind.ISSUE, "care")],
                issues_detail=M["assessment_detail"],
                formulation=M["assessment_formulation"],
                life_history=M["assessment_life_history"],
                risks=M["assessment_risks"],
            ),
        )
        w.add(
            "note",
            case_services.progress_note_add(
                case=case, acting_user=owner, kind="phone", content=M["note_content"]
            ),
        )
        case_services.case_transition(
            case=case, to_status=CaseStatus.REFERRED, acting_user=owner, reason="複合課題"
        )
        host = fresh(u["host"])
        # every coordinator in post at the referral takes the case up (担当); this one came later
        u["coordinator_without_basis"] = staff_user(Role.COORDINATOR, other_office, username="coord_other")
        meeting_services.case_accept(case=case, acting_user=host)
        case.refresh_from_db()

        plan = meeting_services.plan_create(
            case=case,
            acting_user=host,
            goals=[M["plan_goal"]],
            tasks=[
                {"agency": plan_agency, "role": "障害福祉サービスの調整", "content": M["plan_task"]},
                {"agency": own, "role": "母の介護サービス調整", "content": "ケアプランの見直し"},
            ],
            person_wishes=M["plan_wishes"],
            issues_summary=M["plan_issues"],
            long_term_goal=M["plan_long_term_goal"],
            review_on=timezone.localdate() + timedelta(days=90),
        )
        w.add("plan", plan)
        w.add("task", plan.tasks.get(agency=plan_agency))
        conference = meeting_services.conference_create(acting_user=host, held_at=timezone.now())
        w.add("conference", conference)
        w.add(
            "mother_consent",
            meeting_services.consent_record(
                case=case,
                person=mother,
                acting_user=host,
                consenting_party="self",
                consented_on=timezone.localdate(),
                method="written",
                recipients=[plan_agency, own],
                categories=["basic", "plan"],
                purpose=M["mother_consent_purpose"],
            ),
        )
        w.add(
            "son_consent",
            meeting_services.consent_record(
                case=case,
                person=son,
                acting_user=host,
                consenting_party="self",
                consented_on=timezone.localdate(),
                method="oral",
                recipients=[health],
                categories=["basic", "health"],
                purpose=M["son_consent_purpose"],
            ),
        )
        meeting_services.support_decision_record(case=case, acting_user=host, decided_on=timezone.localdate())
        w.add(
            "agenda_item",
            meeting_services.plan_approve(
                conference=conference, plan=plan, acting_user=host, notes=M["agenda_notes"]
            ),
        )

        w.add(
            "participation_plan",
            participation_services.plan_create(
                case=case,
                acting_user=owner,
                kinds=["work_trial"],
                wishes=M["participation_wishes"],
                strengths=M["participation_strengths"],
                health=M["participation_health"],
                goals="週1回の就労体験",
                review_on=timezone.localdate() + timedelta(days=60),
            ),
        )

        now_then = timezone.now()
        closed = meeting_services.meeting_convene(
            acting_user=host,
            held_at=now_then,
            access_from=now_then - timedelta(hours=1),
            access_until=now_then + timedelta(days=14),
            members=[u["member_after_window"]],
            title="支援会議（終了）",
        )
        closed_briefing = meeting_services.briefing_share(
            meeting=closed, case=case, acting_user=host, sections=["summary", "household", "issues", "risks"]
        )
        meeting_services.meeting_decision_record(
            briefing=closed_briefing, acting_user=host, kind="watch", text=M["closed_meeting_decision"]
        )
        meeting_services.meeting_minutes_update(
            meeting=closed, acting_user=host, minutes=M["closed_meeting_minutes"]
        )
        meeting_services.pledge_acknowledge(meeting=closed, acting_user=u["member_after_window"])
        w.add("closed_meeting", closed)
        w.add("closed_briefing", closed_briefing)

    # 支援会議: the open one (briefing frozen with every section) and one whose window has closed.
    now = real_now
    meeting = meeting_services.meeting_convene(
        acting_user=host,
        held_at=now,
        access_from=now - timedelta(hours=1),
        access_until=now + timedelta(days=14),
        members=[u["member_before_pledge"], u["member_after_pledge"], external],
    )
    briefing = meeting_services.briefing_share(
        meeting=meeting, case=case, acting_user=host, sections=["summary", "household", "issues", "risks"]
    )
    meeting_services.meeting_decision_record(
        briefing=briefing, acting_user=host, kind="direction", text=M["meeting_decision"]
    )
    meeting_services.meeting_minutes_update(meeting=meeting, acting_user=host, minutes=M["meeting_minutes"])
    for member in (u["member_after_pledge"], external):
        meeting_services.pledge_acknowledge(meeting=meeting, acting_user=member)
    w.add("meeting", meeting)
    w.add("briefing", briefing)
    engagement = outreach_services.engagement_start(
        acting_user=owner,
        provisional_name="公園の男性（50代）",
        how_known="neighbour",
        background=M["outreach_background"],
        purpose="situation",
        approximate_location=M["outreach_location"],
    )
    outreach_services.contact_record(
        engagement=engagement, acting_user=owner, kind="visit_met", response=M["outreach_response"]
    )
    w.add("engagement", engagement)

    # 参加支援: a host from the community register, a placement and its 定着支援 record (支援プラン)
    area = AreaFactory(code="leak-area", name="みどり中央圏域")
    resource = community_services.resource_save(
        acting_user=owner,
        name="みどりカフェ",
        kind="ibasho",
        area=area,
        accepts_participants=True,
        participation_kinds=["work_trial"],
    )
    w.add("resource", resource)
    proposal = participation_services.proposal_record(
        plan=w.objects["participation_plan"], host=resource, acting_user=owner
    )
    proposal = participation_services.proposal_answer(
        proposal=proposal, acting_user=owner, person_choice="wants", host_agreement="agreed"
    )
    w.add("proposal", proposal)
    placement = participation_services.placement_start(
        proposal=proposal, acting_user=owner, starts_on=timezone.localdate()
    )
    w.add("placement", placement)
    participation_services.follow_up_record(
        placement=placement,
        acting_user=owner,
        done_on=timezone.localdate(),
        with_whom="person",
        content=M["follow_up_content"],
    )
    w.add(
        "candidate",
        participation_services.candidate_record(
            acting_user=owner,
            name="みどり農園",
            kind="ibasho",
            area=area,
            approached_on=timezone.localdate(),
        ),
    )
    w.add(
        "gap",
        community_services.gap_record(
            acting_user=owner, category="居場所", description="若者の居場所が足りない"
        ),
    )
    for name, agency in w.agencies.items():
        w.add(f"agency_{name}", agency)
    w.add(
        "export",
        export_jobs.export_request(
            acting_user=fresh(u["supervisor"]), kind="statistics", params={}, fmt="csv"
        ),
    )

    # 主担当機関の移行: another person's case at the 地域包括, handed over to the 障害相談 and waiting for it
    # (its routes are walked; it carries none of the markers, which are the 山田 household's)
    other = case_services.person_register(acting_user=owner, name="川口 次郎", kana="かわぐち じろう")
    other_case = case_services.case_open(acting_user=owner, person=other)
    case_services.assessment_record(
        case=other_case,
        acting_user=owner,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="介護",
        formulation="見立て",
    )
    case_services.case_transition(case=other_case, to_status=CaseStatus.SUPPORTING, acting_user=owner)
    w.add(
        "handover",
        case_services.case_handover_start(
            case=other_case,
            acting_user=fresh(owner),
            to_agency=w.agencies["plan"],
            reason="障害福祉サービスへ",
        ),
    )

    # 住所秘匿 last, so that the records above were written as the staff knew them.
    case_services.address_confidentiality_set(person=mother, acting_user=owner, reason="DV等支援措置")

    w.markers = {**MARKERS, "case_number": case.number}
    w.add(
        "notification",
        core_services.notification_send(
            recipient=owner,
            title=f"{case.number} 次回対応予定日です",
            link=case.get_absolute_url(),
            kind="follow_up",
        ),
    )
    return w
