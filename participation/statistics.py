"""参加支援 in the statistics (DOMAIN.md §7), counted in the database. People follow their case's agency
(主担当機関); hosts (協力事業者, 地域資源) belong to no agency and are counted by 圏域 only.

When a placement became 定着 or ended is not a column: it is the date of the first history row
(django-simple-history) with that status, which every status change through the services writes."""

from django.db.models import Count, Exists, OuterRef, Q

from community.models import CommunityResource
from community.statistics import PLACES
from jusou.reports.statistics import StatisticsScope
from jusou.reports.tables import Ref, Relation, Row, Table, at_most
from participation.models import (
    CandidateOutcome,
    HostAgreement,
    HostCandidate,
    ParticipationPlan,
    PersonChoice,
    Placement,
    PlacementStatus,
    Proposal,
)

SECTION = "参加支援"
PROPOSED, WANTS = "参加先の提案（マッチング）", "うち本人が希望"
AGREED, MATCHED = "うち受け入れ先が了承", "うち本人の希望と受け入れ先の了承がそろったもの"


def _reached(status: str):
    """History rows recording the first time a placement reached `status`."""
    history = Placement.history.model
    earlier = history.objects.filter(
        id=OuterRef("id"), status=status, history_date__lt=OuterRef("history_date")
    )
    return history.objects.filter(status=status).exclude(Exists(earlier))


def participation_statistics(scope: StatisticsScope) -> tuple[str, list[Table]]:
    in_scope = scope.agencies("case__owning_agency")
    plans = ParticipationPlan.objects.filter(in_scope)
    earlier_plan = plans.filter(case__person=OuterRef("case__person"), created_at__lt=scope.start)
    ended_before = _reached(PlacementStatus.ENDED).filter(id=OuterRef("pk"), history_date__lt=scope.start)
    going_on = Placement.objects.filter(plan=OuterRef("pk"), starts_on__lt=scope.date_from).exclude(
        Exists(ended_before)
    )
    new_people = plans.filter(scope.during("created_at")).exclude(Exists(earlier_plan))
    people = {
        "new": new_people.aggregate(n=Count("case__person", distinct=True))["n"],
        "continuing": plans.filter(created_at__lt=scope.start)
        .filter(Exists(going_on))
        .aggregate(n=Count("case__person", distinct=True))["n"],
    }

    proposals = Proposal.objects.filter(
        scope.during("proposed_at"), scope.agencies("plan__case__owning_agency")
    )
    wants, agreed = Q(person_choice=PersonChoice.WANTS), Q(host_agreement=HostAgreement.AGREED)
    matches = proposals.aggregate(
        n=Count("pk"),
        wants=Count("pk", filter=wants),
        agreed=Count("pk", filter=agreed),
        matched=Count("pk", filter=wants & agreed),
    )
    placement_scope = scope.agencies("plan__case__owning_agency")
    started = Placement.objects.filter(scope.during_days("starts_on"), placement_scope).count()
    settled = _reached(PlacementStatus.SETTLED).filter(scope.during("history_date"), placement_scope).count()
    ended = _reached(PlacementStatus.ENDED).filter(scope.during("history_date"), placement_scope).count()

    hosts = CommunityResource.objects.filter(scope.areas("area"), is_active=True, created_at__lt=scope.end)
    host_counts = hosts.aggregate(
        partners=Count("pk", filter=Q(is_partner=True)),
        accepting=Count("pk", filter=Q(accepts_participants=True)),
    )
    candidates = HostCandidate.objects.filter(scope.areas("area")).aggregate(
        approached=Count("pk", filter=scope.during_days("approached_on")),
        developed=Count(
            "pk",
            filter=Q(outcome=CandidateOutcome.ACCEPTED, resource__isnull=False)
            & scope.during("resource__created_at"),
        ),
    )
    hosts_note = "協力事業者・受け入れ先は機関に属さないため、圏域でのみ絞り込みます。現在活動中で、期間の末日までに登録されたものを数えます。"
    return SECTION, [
        Table(
            "参加支援の対象者",
            ["人数"],
            [Row("新規", [people["new"]]), Row("継続（期間の初めに参加先で活動中）", [people["continuing"]])],
            note="新規は期間内に初めて参加支援プランを作成した本人、継続はそれより前にプランがあり、期間の初めに終了していない参加先があった本人です。",
        ),
        Table(
            "マッチング・参加先",
            ["件数"],
            [
                Row(PROPOSED, [matches["n"]]),
                Row(WANTS, [matches["wants"]]),
                Row(AGREED, [matches["agreed"]]),
                Row(MATCHED, [matches["matched"]]),
                Row("参加開始", [started]),
                Row("定着", [settled]),
                Row("参加先の終了", [ended]),
            ],
            note="提案は期間内に行ったものを、現在の回答で数えます。定着・終了は、その状況になった日（変更履歴）で数えます。",
            # 希望 and 了承 are two subsets of the proposals; そろった is where they meet.
            relations=[
                at_most([WANTS], PROPOSED),
                at_most([AGREED], PROPOSED),
                at_most([MATCHED], WANTS),
                at_most([MATCHED], AGREED),
                Relation((Ref(WANTS), Ref(AGREED)), (Ref(PROPOSED), Ref(MATCHED)), at_most=True),
            ],
        ),
        Table(
            "協力事業者・参加支援先の開拓",
            ["件数"],
            [
                Row("協力事業者数", [host_counts["partners"]]),
                Row("参加支援の受け入れ先", [host_counts["accepting"]]),
                Row("開拓の打診", [candidates["approached"]]),
                Row("新たに開拓した受け入れ先", [candidates["developed"]]),
            ],
            note=hosts_note + "新たに開拓した受け入れ先は、開拓先が地域資源に登録された日で数えます。",
            # the same resources as 地域づくり's 拠点数 (active, registered by the end, in the 圏域)
            relations=[
                at_most(["協力事業者数"], Ref("合計", table=PLACES)),
                at_most(["参加支援の受け入れ先"], Ref("合計", table=PLACES)),
            ],
        ),
    ]
