"""地域づくり in the statistics (DOMAIN.md §7), counted in the database. Community records belong to no
agency and hold no personal data (readable by all staff), so they are narrowed by 圏域 only (the 圏域
filter takes the 圏域 below it too). The figures are those of the 圏域 pages (community.selectors
.area_figures): places by kind, hosts for 参加支援 with places left, sessions and participants, platforms,
coordinator activity by kind, open gaps by status; with 「圏域ごと」 a table per 中圏域 (its 小圏域 rolled in)."""

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
from community.occupancy import with_places_left
from community.selectors import OPEN_GAP_STATUSES, AreaTree
from jusou.models import AreaLevel, ResourceGap, ResourceGapStatus
from jusou.reports.statistics import StatisticsScope, count_table
from jusou.reports.tables import Row, Table, at_most

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
    hosts = list(
        with_places_left(places.filter(accepts_participants=True)).values("capacity", "active_placements")
    )
    limited = [h for h in hosts if h["capacity"] is not None]
    gaps = {
        row["status"]: row["n"]
        for row in ResourceGap.objects.filter(
            scope.areas("area"), status__in=OPEN_GAP_STATUSES, recorded_at__lt=scope.end
        )
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
    }
    sessions = Activity.objects.filter(scope.during_days("held_on"), scope.areas("resource__area")).aggregate(
        n=Count("pk"),
        places=Count("resource", distinct=True),
        people=Coalesce(Sum("participants"), 0),
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
    tables = [
        count_table(
            PLACES,
            "か所",
            ResourceKind.choices,
            by_kind,
            note="現在活動中で、期間の末日までに登録された地域資源を種別ごとに数えます。" + scope_note,
        ),
        Table(
            "参加支援の受け入れ（現在）",
            ["か所・人"],
            [
                Row("受け入れる拠点", [len(hosts)]),
                Row("うち受け入れ停止（上限0）", [sum(1 for h in limited if h["capacity"] == 0)]),
                Row("うち満員", [sum(1 for h in limited if 0 < h["capacity"] <= h["active_placements"])]),
                Row(
                    "残りの受け入れ枠（人）",
                    [sum(max(h["capacity"] - h["active_placements"], 0) for h in limited)],
                ),
            ],
            note="残りの受け入れ枠は、上限のある拠点の「上限 − 参加中の人数」の合計です（上限なしの拠点は含みません）。"
            + scope_note,
            relations=[at_most(["うち受け入れ停止（上限0）", "うち満員"], "受け入れる拠点")],
        ),
        Table(
            "活動・プラットフォーム",
            ["件数・人数"],
            [
                Row("開催回数", [sessions["n"]]),
                Row("開催のあった拠点数", [sessions["places"]]),
                Row("参加者数（実人数の合計）", [sessions["people"]]),
                Row("参加者数（延べ）", [sessions["visits"]]),
                Row("参加団体数（延べ）", [sessions["organisations"]]),
                Row("プラットフォーム開催回数", [platforms["n"]]),
                Row("プラットフォーム参加者数", [platforms["participants"]]),
                Row("プラットフォーム参加団体数（延べ）", [platforms["organisations"]]),
            ],
            note="参加団体数は、記録の「参加団体」欄に「、」区切りで書かれた団体名の延べ数です。"
            + scope_note,
            relations=[
                at_most(["開催のあった拠点数"], "開催回数"),
                at_most(["参加者数（実人数の合計）"], "参加者数（延べ）"),
            ],
        ),
        count_table("コーディネーターの活動 種類別", "件数", CoordinatorActivityKind.choices, coordinator),
        count_table(
            "未開発の不足する社会資源 状況別",
            "件数",
            [(status, ResourceGapStatus(status).label) for status in OPEN_GAP_STATUSES],
            gaps,
            note="期間の末日までに把握され、まだ開発済になっていない不足です（現在の状況）。",
        ),
    ]
    if scope.by == "area":
        tables.append(_by_middle_area(scope))
    return SECTION, tables


def _by_middle_area(scope: StatisticsScope) -> Table:
    """The same figures per 中圏域, each with its 小圏域 (grouped queries, folded up the tree in Python)."""
    tree = AreaTree.load()
    middle = [a for a, _ in tree.walk() if a.level == AreaLevel.MIDDLE]
    if scope.area_ids is not None:
        middle = [a for a in middle if a.pk in scope.area_ids or set(tree.subtree_ids(a.pk)) & scope.area_ids]
    column_of = {i: a.pk for a in middle for i in tree.subtree_ids(a.pk)}

    def grouped(queryset, field_name, **aggregates):
        """{name: {column: n}} for each aggregate, from one grouped query."""
        out: dict[str, dict[int, int]] = {name: {} for name in aggregates}
        for row in queryset.order_by().values(field_name).annotate(**aggregates):
            key = column_of.get(row[field_name])
            if key is not None:
                for name in aggregates:
                    out[name][key] = out[name].get(key, 0) + row[name]
        return out

    places = grouped(
        CommunityResource.objects.filter(scope.areas("area"), is_active=True, created_at__lt=scope.end),
        "area_id",
        n=Count("pk"),
        hosts=Count("pk", filter=Q(accepts_participants=True)),
    )
    sessions = grouped(
        Activity.objects.filter(scope.during_days("held_on"), scope.areas("resource__area")),
        "resource__area_id",
        n=Count("pk"),
        visits=Coalesce(Sum("participant_visits"), 0),
    )
    platforms = grouped(
        Platform.objects.filter(scope.during_days("held_on"), scope.areas("area")), "area_id", n=Count("pk")
    )
    coordinator = grouped(
        CoordinatorActivity.objects.filter(scope.during_days("done_on"), scope.areas("area")),
        "area_id",
        n=Count("pk"),
    )
    gaps = grouped(
        ResourceGap.objects.filter(
            scope.areas("area"), status__in=OPEN_GAP_STATUSES, recorded_at__lt=scope.end
        ),
        "area_id",
        n=Count("pk"),
    )
    figures = [
        ("拠点数", places["n"]),
        ("参加支援を受け入れる拠点", places["hosts"]),
        ("開催回数", sessions["n"]),
        ("参加者数（延べ）", sessions["visits"]),
        ("プラットフォーム開催回数", platforms["n"]),
        ("コーディネーターの活動", coordinator["n"]),
        ("未開発の不足する社会資源", gaps["n"]),
    ]
    return Table(
        "地域づくり 中圏域別（小圏域を含む）",
        [a.name for a in middle],
        [Row(label, [counts.get(a.pk, 0) for a in middle]) for label, counts in figures],
        note="各中圏域の数には、その下の小圏域の記録を含みます。",
    )
