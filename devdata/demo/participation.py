"""参加支援 in the みどり市 demo (fictional): the mother of the ヤングケアラー household volunteers at
a 子ども食堂, now 定着, with follow-ups on both sides; a host being developed."""

from datetime import timedelta

from django.utils import timezone

from cases.models import Case
from community.models import CommunityResource
from jusou.models import Area, User
from participation import services
from participation.models import ParticipationPlan


def load_participation_demo() -> None:
    case = Case.objects.filter(person__name="中村 由紀").first()
    if case is None or ParticipationPlan.objects.filter(case=case).exists():
        return
    worker = User.objects.get(username="intake_b")
    today = timezone.localdate()
    plan = services.plan_create(
        case=case,
        acting_user=worker,
        kinds=["volunteer", "ibasho"],
        wishes="体調の良い日に、誰かの役に立ちたい",
        strengths="料理、子どもの相手",
        weaknesses="朝が苦手、大人数の場",
        health="通院中。午後は安定している",
        mobility="徒歩・自転車",
        goals="週1回、家の外で役割を持つ",
        review_on=today + timedelta(days=60),
    )
    host = CommunityResource.objects.get(name="みどり中央子ども食堂")
    proposal = services.proposal_record(plan=plan, host=host, acting_user=worker)
    services.proposal_answer(
        proposal=proposal, acting_user=worker, person_choice="wants", host_agreement="agreed"
    )
    placement = services.placement_start(
        proposal=proposal,
        acting_user=worker,
        starts_on=today - timedelta(days=42),
        frequency="毎週水曜の午後",
        host_contact="代表の森さん",
    )
    services.placement_move(
        placement=placement, acting_user=worker, to_status="trial", reason="見学のあと体験開始"
    )
    services.follow_up_record(
        placement=placement,
        acting_user=worker,
        done_on=today - timedelta(days=28),
        with_whom="person",
        content="調理の下ごしらえを担当。「ありがとう」と言われてうれしかった",
    )
    services.follow_up_record(
        placement=placement,
        acting_user=worker,
        done_on=today - timedelta(days=14),
        with_whom="host",
        content="毎週来てくれて助かっている。無理のない範囲で続けてほしい",
    )
    services.placement_move(placement=placement, acting_user=worker, to_status="settled", reason="1か月継続")
    services.candidate_record(
        acting_user=worker,
        name="みどり商店街の八百屋",
        kind="work_experience",
        area=Area.objects.get(code="chuo"),
        approached_on=today - timedelta(days=7),
        note="店主が就労体験の受け入れに前向き。条件を相談中",
    )
