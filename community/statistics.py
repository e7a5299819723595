"""地域づくり in the statistics (DOMAIN.md §7), counted in the database. Community records belong to no
agency and hold no personal data (readable by all staff), so they are narrowed by 圏域 only."""

from django.db.models import Count, IntegerField, Q, Sum, Value
from django.db.models.functions import Coalesce, Length, Replace

from community.models import (
    Activity,
    CommunityResource,
    CoordinatorActivity,
    CoordinatorActivityKind,
    Platform,
    ResourceKind,
)
from jusou.reports import Row, Table, at_most
from jusou.statistics import StatisticsScope, count_table

SECTION = "地域づくり"
SEPARATORS = ("、", ",", "，")
PLACES = "拠点数（地域資源・居場所）"


def organisations_named(field: str):
    """How many organisations a free-text 「参加団体」 names, counted in the database: the separators
    (「、」 or a comma) plus one, or 0 when the field is empty."""
    stripped = field
    for separator in SEPARATORS:
        stripped = Replace(stripped, Value(separator), Value(""))
    return Coalesce(
        Sum(Length(field) - Length(stripped) + 1, filter=~Q(**{field: ""}), output_field=IntegerField()), 0
    )


def community_statistics(scope: StatisticsScope) -> tuple[str, list[Table]]:
    places = CommunityResource.objects.filter(scope.areas("area"), is_active=True, created_at__lt=scope.end)
    by_kind = {row["kind"]: row["n"] for row in places.order_by().values("kind").annotate(n=Count("pk"))}
    sessions = Activity.objects.filter(scope.during_days("held_on"), scope.areas("resource__area")).aggregate(
        n=Count("pk"),
        places=Count("resource", distinct=True),
        visits=Coalesce(Sum("participant_visits"), 0),
        organisations=organisations_named("organisations"),
    )
    platforms = Platform.objects.filter(scope.during_days("held_on"), scope.areas("area")).aggregate(
        n=Count("pk"),
        participants=Coalesce(Sum("participants"), 0),
        organisations=organisations_named("organisations"),
    )
    coordinator = {
        row["kind"]: row["n"]
        for row in CoordinatorActivity.objects.filter(scope.during_days("done_on"), scope.areas("area"))
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
    }
    scope_note = (
        "地域づくりの記録は機関に属さないため、機関では絞り込まず、圏域でのみ絞り込んでいます。"
        if scope.agency_ids is not None
        else ""
    )
    return SECTION, [
        count_table(
            PLACES,
            "か所",
            ResourceKind.choices,
            by_kind,
            note="現在活動中で、期間の末日までに登録された地域資源を種別ごとに数えます。" + scope_note,
        ),
        Table(
            "活動・プラットフォーム",
            ["件数・人数"],
            [
                Row("開催回数", [sessions["n"]]),
                Row("開催のあった拠点数", [sessions["places"]]),
                Row("参加者数（延べ）", [sessions["visits"]]),
                Row("参加団体数（延べ）", [sessions["organisations"]]),
                Row("プラットフォーム開催回数", [platforms["n"]]),
                Row("プラットフォーム参加者数", [platforms["participants"]]),
                Row("プラットフォーム参加団体数（延べ）", [platforms["organisations"]]),
            ],
            note="参加団体数は、記録の「参加団体」欄に「、」区切りで書かれた団体名の延べ数です。"
            + scope_note,
            relations=[at_most(["開催のあった拠点数"], "開催回数")],
        ),
        count_table("コーディネーターの活動 種類別", "件数", CoordinatorActivityKind.choices, coordinator),
    ]
