"""多機関協働 and 会議 in the statistics (DOMAIN.md §7), counted in the database. A case counts for the
agency that owns it (主担当機関); a meeting counts for a reader limited to some agencies when it
discussed at least one of their cases."""

from django.db.models import Count, Exists, OuterRef

from cases.models import Case, CaseStatus, CaseTransition, Code, CodeKind
from cases.statistics import CASES_AT_END, cases_by_status_at
from jusou.reports.statistics import StatisticsScope, count_table
from jusou.reports.tables import Ref, Row, Table, at_most, balances
from meetings.models import (
    AgendaItem,
    Evaluation,
    MeetingBriefing,
    PlanConference,
    SupportDecision,
    SupportMeeting,
    SupportPlan,
)

SECTION = "多機関協働"
MEETINGS_SECTION = "会議"
CASES = "多機関協働の対象ケース"
NEW, CONTINUING, CLOSED = "新規（受理）", "継続（期間の初めに多機関協働中）", "終結"
SUSPENDED, RETURNED = "中断", "主担当機関へ戻した"


def multi_agency_statistics(scope: StatisticsScope) -> tuple[str, list[Table]]:
    in_scope = scope.agencies("case__owning_agency")
    moves = {
        (row["from_status"], row["to_status"]): row["n"]
        for row in CaseTransition.objects.filter(scope.during("at"), in_scope)
        .order_by()
        .values("from_status", "to_status")
        .annotate(n=Count("pk"))
    }
    carried_over = cases_by_status_at(Case.objects.filter(scope.agencies("owning_agency")), scope.start).get(
        CaseStatus.COORDINATING, 0
    )
    closed_by_reason = {
        row["case__close_reason_id"]: row["n"]
        for row in CaseTransition.objects.filter(
            scope.during("at"), in_scope, from_status=CaseStatus.COORDINATING, to_status=CaseStatus.CLOSED
        )
        .order_by()
        .values("case__close_reason_id")
        .annotate(n=Count("pk"))
    }
    reasons = list(
        Code.objects.filter(kind=CodeKind.CLOSE_REASON).order_by("order", "code").values_list("pk", "label")
    )

    def moved(from_status, to_status):
        return moves.get((from_status, to_status), 0)

    # A plan is new when no earlier version of the case's plan had been approved; else a revision.
    earlier = SupportPlan.objects.filter(case=OuterRef("case"), approved_at__lt=OuterRef("approved_at"))
    plans = {
        row["revised"]: row["n"]
        for row in SupportPlan.objects.filter(scope.during("approved_at"), in_scope)
        .annotate(revised=Exists(earlier))
        .order_by()
        .values("revised")
        .annotate(n=Count("pk"))
    }
    evaluations = Evaluation.objects.filter(
        scope.during("evaluated_at"), scope.agencies("plan__case__owning_agency")
    )
    decisions = SupportDecision.objects.filter(scope.during_days("decided_on"), in_scope)
    counts = {"evaluations": evaluations.count(), "decisions": decisions.count()}
    return SECTION, [
        Table(
            CASES,
            ["件数"],
            [
                Row(
                    "つなぎ依頼",
                    [
                        moved(CaseStatus.ASSESSING, CaseStatus.REFERRED)
                        + moved(CaseStatus.SUPPORTING, CaseStatus.REFERRED)
                    ],
                ),
                Row(NEW, [moved(CaseStatus.REFERRED, CaseStatus.COORDINATING)]),
                Row(CONTINUING, [carried_over]),
                Row(CLOSED, [moved(CaseStatus.COORDINATING, CaseStatus.CLOSED)]),
                Row(SUSPENDED, [moved(CaseStatus.COORDINATING, CaseStatus.SUSPENDED)]),
                Row(RETURNED, [moved(CaseStatus.COORDINATING, CaseStatus.SUPPORTING)]),
            ],
            note="ケースの状態の変更記録から数えています（主担当機関で集計）。",
            # A case enters 多機関協働中 only when accepted and leaves it only by these three moves
            # (cases.models.ALLOWED_TRANSITIONS), so the cases in it at the end of the period, which the
            # 包括的相談支援 section shows, are its start plus what came in minus what went out.
            relations=[
                balances(
                    [Ref(CaseStatus.COORDINATING.label, table=CASES_AT_END), CLOSED, SUSPENDED, RETURNED],
                    [CONTINUING, NEW],
                )
            ],
        ),
        count_table(
            "多機関協働の終結理由別 件数", "件数", reasons, closed_by_reason, same_as=Ref(CLOSED, table=CASES)
        ),
        Table(
            "支援プラン・支援決定",
            ["件数"],
            [
                Row("プラン作成（新規）", [plans.get(False, 0)]),
                Row("プラン作成（見直し）", [plans.get(True, 0)]),
                Row("評価", [counts["evaluations"]]),
                Row("支援決定数", [counts["decisions"]]),
            ],
            note="プランは重層的支援会議で承認された日で数えます。同じケースで以前に承認されたプランがあれば見直しです。",
        ),
    ]


def meeting_statistics(scope: StatisticsScope) -> tuple[str, list[Table]]:
    briefings = MeetingBriefing.objects.filter(
        scope.during("meeting__held_at"), scope.agencies("case__owning_agency")
    )
    agenda = AgendaItem.objects.filter(
        scope.during("conference__held_at"), scope.agencies("case__owning_agency")
    )
    meetings = SupportMeeting.objects.filter(scope.during("held_at"))
    conferences = PlanConference.objects.filter(scope.during("held_at"))
    if scope.is_restricted:
        meetings = meetings.filter(pk__in=briefings.values("meeting_id"))
        conferences = conferences.filter(pk__in=agenda.values("conference_id"))
    discussed = briefings.aggregate(n=Count("pk"), cases=Count("case", distinct=True))
    # An agenda may take one case several times in a conference (協議 and 評価): count it once there.
    planned = {
        "n": agenda.order_by().values("conference_id", "case_id").distinct().count(),
        "cases": agenda.aggregate(cases=Count("case", distinct=True))["cases"],
    }
    return MEETINGS_SECTION, [
        Table(
            "支援会議・重層的支援会議",
            ["支援会議", "重層的支援会議"],
            [
                Row("開催回数", [meetings.count(), conferences.count()]),
                Row("検討したケース（延べ）", [discussed["n"], planned["n"]]),
                Row("検討したケース（実数）", [discussed["cases"], planned["cases"]]),
            ],
            relations=[at_most([Ref(2, column)], Ref(1, column)) for column in (0, 1)],
            note=(
                "機関で絞り込んだ集計では、その機関が主担当のケースを検討した会議だけを数えます。"
                if scope.is_restricted
                else "期間内に開催された会議を数えます。"
            ),
        )
    ]
