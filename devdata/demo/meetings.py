"""多機関協働 in the みどり市 demo (fictional): the 山本さん世帯 (8050) case taken up, with consent
covering みどり障害者相談支援センター and an approved plan; a 支援会議 with member_c as a member
discussing the 中村さん世帯 (ヤングケアラー) case, which still waits in the inbox."""

from datetime import timedelta

from django.utils import timezone

from cases.models import Case, CaseStatus
from cases.selectors import case_get_for_user
from jusou.models import Agency, Area, User
from meetings import services
from meetings.models import SupportMeeting

MEETING_TITLE = "第1回 みどり市支援会議"


def load_meetings_demo() -> None:
    if SupportMeeting.objects.filter(title=MEETING_TITLE).exists():
        return
    coord = User.objects.get(username="coord")
    intake_a = User.objects.get(username="intake_a")
    member_c = User.objects.get(username="member_c")
    houkatsu = Agency.objects.get(code="chuo-houkatsu")
    shogai = Agency.objects.get(code="shogai-soudan")

    # 8050: referred, taken up, consent, 支援決定, plan approved at the 重層的支援会議.
    from cases import services as case_services

    yamamoto = Case.objects.get(person__name="山本 トシ子")
    if yamamoto.status == CaseStatus.SUPPORTING:
        case_services.case_transition(
            case=yamamoto,
            to_status=CaseStatus.REFERRED,
            acting_user=intake_a,
            reason="長男のひきこもりへの支援が必要で、障害分野との連携が欠かせないため",
        )
    coord = User.objects.get(pk=coord.pk)
    yamamoto = case_get_for_user(coord, yamamoto.pk)
    yamamoto = services.case_accept(case=yamamoto, acting_user=coord, reason="8050世帯として多機関協働で対応")
    today = timezone.localdate()
    services.consent_record(
        case=yamamoto,
        person=yamamoto.person,
        acting_user=coord,
        consenting_party="self",
        consented_on=today,
        method="written",
        recipients=[houkatsu, shogai],
        categories=["basic", "household", "issues", "plan", "progress"],
        purpose="重層的支援会議での支援プランの協議と、関係機関による支援の実施のため",
        expires_on=today + timedelta(days=365),
    )
    services.support_decision_record(
        case=yamamoto, acting_user=coord, decided_on=today, decision_number="R8-001"
    )
    plan = services.plan_create(
        case=yamamoto,
        acting_user=coord,
        goals=["母がデイサービスを週2回利用する", "長男が障害者相談支援センターの面談に来所する"],
        tasks=[
            {
                "agency": houkatsu,
                "role": "母の介護サービスの調整",
                "content": "ケアマネジャーと連携しデイサービス利用を支援",
                "frequency": "月2回訪問",
                "person_in_charge": "青木",
            },
            {
                "agency": shogai,
                "role": "長男への相談支援",
                "content": "母の介護の相談を入口に、長男との関係づくり",
                "frequency": "月1回",
                "person_in_charge": "井上",
            },
        ],
        person_wishes="住み慣れた家で長男と暮らしたい",
        household_wishes="（長男）母の世話を続けたい",
        issues_summary="母の介護負担と長男の社会的孤立",
        long_term_goal="母子が地域とつながり安心して暮らせる",
        needs_participation=True,
        review_on=today + timedelta(days=90),
    )
    conference = services.conference_create(
        acting_user=coord,
        held_at=timezone.now() - timedelta(hours=3),
        title="第1回 重層的支援会議",
        agencies=[houkatsu, shogai],
    )
    services.plan_approve(conference=conference, plan=plan, acting_user=coord, notes="役割分担と目標は適切")
    services.resource_gap_record(
        conference=conference,
        plan=plan,
        acting_user=coord,
        category="居場所",
        area=Area.objects.get(code="chuo"),
        description="中高年のひきこもり当事者が通える居場所が中央圏域にない",
    )

    # 支援会議 with member_c: the ヤングケアラー case, shared without consent under 守秘義務.
    now = timezone.now()
    meeting = services.meeting_convene(
        acting_user=coord,
        held_at=now + timedelta(days=2),
        title=MEETING_TITLE,
        acting_body="child_protection",
        access_from=now - timedelta(hours=1),
        access_until=now + timedelta(days=30),
        members=[member_c, intake_a],
    )
    nakamura = case_get_for_user(coord, Case.objects.get(person__name="中村 由紀").pk)
    services.briefing_share(
        meeting=meeting, case=nakamura, acting_user=coord, categories=["household", "issues"]
    )
