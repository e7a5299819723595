"""アウトリーチ等を通じた継続的支援 in the statistics (DOMAIN.md §7), counted in the database for the
agency that carries the engagement (担当機関). One engagement is one person, identified or not."""

from django.db.models import Count, Q

from jusou.reports.statistics import StatisticsScope, count_table
from jusou.reports.tables import Ref, Row, Table, at_most
from outreach.models import ContactKind, HowKnown, OutreachContact, OutreachEngagement

SECTION = "アウトリーチ等を通じた継続的支援"
PEOPLE = "アウトリーチの対象者"


def outreach_statistics(scope: StatisticsScope) -> tuple[str, list[Table]]:
    engagements = OutreachEngagement.objects.filter(scope.agencies("owning_agency"))
    started = scope.during("started_at")
    people = engagements.aggregate(
        new=Count("pk", filter=started),
        continuing=Count(
            "pk",
            filter=Q(started_at__lt=scope.start) & (Q(ended_at__isnull=True) | Q(ended_at__gte=scope.start)),
        ),
        ended=Count("pk", filter=scope.during("ended_at")),
        connected=Count("pk", filter=scope.during("ended_at") & Q(connected_agency__isnull=False)),
    )
    how_known = {
        row["how_known"]: row["n"]
        for row in engagements.filter(started).order_by().values("how_known").annotate(n=Count("pk"))
    }
    contacts = OutreachContact.objects.filter(
        scope.during("contacted_at"), scope.agencies("engagement__owning_agency")
    )
    by_kind = {row["kind"]: row["n"] for row in contacts.order_by().values("kind").annotate(n=Count("pk"))}
    safety = contacts.filter(safety_confirmed=True).count()
    return SECTION, [
        Table(
            PEOPLE,
            ["人数"],
            [
                Row("新規", [people["new"]]),
                Row("継続（期間の初めに支援中）", [people["continuing"]]),
                Row("終了", [people["ended"]]),
                Row("うちつなぎ成立", [people["connected"]]),
            ],
            note="アウトリーチ1件を1人として数えます（本人が特定できていない方を含みます）。つなぎ成立は、つなぎ先機関を記録して終了した件数です。",
            relations=[at_most(["うちつなぎ成立"], "終了")],
        ),
        count_table(
            "把握経路別 新規の人数", "人数", HowKnown.choices, how_known, same_as=Ref("新規", table=PEOPLE)
        ),
        count_table(
            "接触の種類別 件数",
            "件数",
            ContactKind.choices,
            by_kind,
            extra=[Row("うち安否を確認できた", [safety])],
            relations=[at_most([-1], -2)],  # the うち row within the total above it
        ),
    ]
