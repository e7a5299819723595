"""Reads for 地域づくり. The register carries no personal case data and every staff member reads its
public fields; who may change a place (and so read its 内部メモ) is decided here, once, for the pages,
the API and the services alike.

圏域 roll up: a figure for a 圏域 counts its own records and those of every 圏域 below it (小圏域 →
中圏域 → 区市町村域); the lists a figure links to filter the same way, so the rows equal the figure."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from community.models import (
    Activity,
    CommunityResource,
    CoordinatorActivity,
    CoordinatorActivityKind,
    Platform,
    ResourceKind,
)
from community.occupancy import with_places_left
from jusou.access.grants import grants_held, visible_q
from jusou.ja.wareki import fiscal_year
from jusou.models import Area, ResourceGap, ResourceGapStatus, Role, User

#: who reads the register and its records (system administration and API clients are not programme work)
READERS = frozenset({Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR, Role.COMMUNITY_WELFARE})
#: who records 地域づくり work (sessions of their places, platforms, the coordinator log, gaps)
RECORDERS = frozenset({Role.WORKER, Role.COORDINATOR, Role.COMMUNITY_WELFARE})
#: who keeps the whole register, whatever agency runs a place
REGISTER_KEEPERS = frozenset({Role.COORDINATOR, Role.COMMUNITY_WELFARE})
OPEN_GAP_STATUSES = [ResourceGapStatus.NOTED, ResourceGapStatus.CONSIDERING]


def can_read(user: User) -> bool:
    return bool(user.roles & READERS)


def can_record(user: User) -> bool:
    return bool(user.roles & RECORDERS)


def keeps_whole_register(user: User) -> bool:
    return bool(user.roles & REGISTER_KEEPERS)


def resource_can_change(user: User, resource: CommunityResource) -> bool:
    """Edit, deactivate and read the 内部メモ of a place: the 相談支援包括化推進員 and 地域福祉担当 for
    every place; a 相談員 for the places their agency runs (the 担当 "change" grant to that agency,
    given when the place names it as 運営する機関). Supervisors read only."""
    if keeps_whole_register(user):
        return True
    if Role.WORKER not in user.roles or resource.operating_agency_id is None:
        return False
    return bool(grants_held(user, resource, "change"))


def gap_can_move(user: User) -> bool:
    """Move a resource gap along 把握 → 検討中 → 開発済: the keepers of the register, who run the 協議 on
    what the area lacks; a 相談員 notes a gap and may start a 開拓 from it, but does not decide its status."""
    return keeps_whole_register(user)


def gap_can_link(user: User, resource: CommunityResource) -> bool:
    """Name `resource` as answering a gap: the keepers for any place; a 相談員 for a place they may change
    (their agency runs it), as they would say so on that place's own page."""
    return keeps_whole_register(user) or resource_can_change(user, resource)


def changeable_ids(user: User, resources) -> set[int]:
    """Of `resources` (a page of rows), the ids the user may change: one query for the page."""
    ids = [r.pk for r in resources]
    if keeps_whole_register(user):
        return set(ids)
    if Role.WORKER not in user.roles or not ids:
        return set()
    return set(
        CommunityResource.objects.filter(
            visible_q(user, CommunityResource, "change"), pk__in=ids
        ).values_list("pk", flat=True)
    )


# --- 圏域 ---------------------------------------------------------------------------------------------


@dataclass
class AreaTree:
    """Every 圏域 once (one query), with each one's subtree."""

    areas: dict[int, Area]
    children: dict[int | None, list[Area]]

    @classmethod
    def load(cls) -> "AreaTree":
        areas = {a.pk: a for a in Area.objects.order_by("code")}
        children: dict[int | None, list[Area]] = {}
        for area in areas.values():
            children.setdefault(area.parent_id if area.parent_id in areas else None, []).append(area)
        return cls(areas, children)

    def subtree_ids(self, area_id: int) -> list[int]:
        out, stack = [], [area_id]
        while stack:
            current = stack.pop()
            if current in out:  # a loop in hand-edited data must not hang the page
                continue
            out.append(current)
            stack.extend(child.pk for child in self.children.get(current, []))
        return out

    def walk(self):
        """(area, depth) in hierarchy order."""

        def visit(parent_id, depth):
            for area in self.children.get(parent_id, []):
                yield area, depth
                yield from visit(area.pk, depth + 1)

        yield from visit(None, 0)

    def ancestors(self, area: Area) -> list[Area]:
        out, seen = [], set()
        while area.parent_id in self.areas and area.parent_id not in seen:
            seen.add(area.parent_id)
            area = self.areas[area.parent_id]
            out.insert(0, area)
        return out


def area_q(field_name: str, area_ids: list[int] | None) -> Q:
    return Q() if area_ids is None else Q(**{f"{field_name}__in": area_ids})


def parse_area(value) -> Area | None:
    text = str(value or "")
    return Area.objects.filter(pk=int(text)).first() if text.isdigit() else None


def subtree_of(area: Area | None) -> list[int] | None:
    return None if area is None else AreaTree.load().subtree_ids(area.pk)


# --- the register ------------------------------------------------------------------------------------

ROOM_CHOICES = [("open", "受け入れの余裕あり"), ("full", "満員"), ("stopped", "受け入れ停止")]


@dataclass
class ResourceFilters:
    kind: str = ""
    area: Area | None = None
    accepting: bool = False
    room: str = ""
    active_only: bool = True
    q: str = ""
    area_ids: list[int] | None = field(default=None, repr=False)


def resources(filters: ResourceFilters) -> QuerySet[CommunityResource]:
    """The register as filtered, each row with its places left (community.occupancy)."""
    rows = with_places_left(CommunityResource.objects.select_related("area", "operating_agency"))
    if filters.active_only:
        rows = rows.filter(is_active=True)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.area is not None:
        ids = filters.area_ids if filters.area_ids is not None else subtree_of(filters.area)
        rows = rows.filter(area_id__in=ids)
    if filters.accepting or filters.room:
        rows = rows.filter(accepts_participants=True)
    if filters.room == "stopped":
        rows = rows.filter(capacity=0)
    elif filters.room == "full":
        rows = rows.filter(capacity__gt=0, capacity__lte=F("active_placements"))
    elif filters.room == "open":
        rows = rows.filter(Q(capacity__isnull=True) | Q(capacity__gt=F("active_placements")))
    if filters.q:
        rows = rows.filter(Q(name__icontains=filters.q) | Q(operator__icontains=filters.q))
    return rows.order_by("area__code", "kind", "name", "pk")


def resource_get(pk: int) -> CommunityResource | None:
    return (
        with_places_left(
            CommunityResource.objects.select_related("area", "operating_agency").prefetch_related(
                Prefetch("gaps_answered", ResourceGap.objects.select_related("area"))
            )
        )
        .filter(pk=pk)
        .first()
    )


# --- records in a period -----------------------------------------------------------------------------


@dataclass
class Period:
    date_from: date
    date_to: date

    @classmethod
    def from_query(cls, query) -> "Period":
        """`from`/`to` (ISO dates); by default the current 年度 up to today."""
        today = timezone.localdate()
        default_from = date(fiscal_year(today), 4, 1)
        return cls(_date(query.get("from"), default_from), _date(query.get("to"), today))

    def q(self, field_name: str) -> Q:
        return Q(**{f"{field_name}__gte": self.date_from, f"{field_name}__lte": self.date_to})

    @property
    def query(self) -> str:
        return f"from={self.date_from.isoformat()}&to={self.date_to.isoformat()}"


def _date(value, default: date) -> date:
    try:
        return date.fromisoformat(str(value)) if value else default
    except ValueError:
        return default


def activities(area_ids: list[int] | None, period: Period) -> QuerySet[Activity]:
    return (
        Activity.objects.filter(area_q("resource__area", area_ids), period.q("held_on"))
        .select_related("resource__area", "recorded_by")
        .order_by("-held_on", "-pk")
    )


def platforms(area_ids: list[int] | None, period: Period | None = None) -> QuerySet[Platform]:
    rows = Platform.objects.filter(area_q("area", area_ids)).select_related("area", "recorded_by")
    if period is not None:
        rows = rows.filter(period.q("held_on"))
    return rows.order_by("-held_on", "-pk")


def coordinator_log(
    area_ids: list[int] | None, period: Period | None = None, kind: str = ""
) -> QuerySet[CoordinatorActivity]:
    rows = CoordinatorActivity.objects.filter(area_q("area", area_ids)).select_related("area", "recorded_by")
    if period is not None:
        rows = rows.filter(period.q("done_on"))
    if kind:
        rows = rows.filter(kind=kind)
    return rows.order_by("-done_on", "-pk")


def gaps(status: str = "", area_ids: list[int] | None = None) -> QuerySet[ResourceGap]:
    rows = ResourceGap.objects.filter(area_q("area", area_ids)).select_related("area")
    rows = rows.prefetch_related("developed_resources")
    if status == "open":
        rows = rows.filter(status__in=OPEN_GAP_STATUSES)
    elif status:
        rows = rows.filter(status=status)
    return rows.order_by("status", "area__code", "category", "-recorded_at", "-pk")


def resource_choices_for_gaps(user: User | None) -> list[tuple[int, str]]:
    """The picker for 開発済 and for linking: each active resource `user` may name (gap_can_link; every
    one for None, to parse a POST the service then judges) with the gaps it already answers (two queries)."""
    rows = CommunityResource.objects.filter(is_active=True)
    if user is not None and not keeps_whole_register(user):
        rows = (
            rows.filter(visible_q(user, CommunityResource, "change"))
            if Role.WORKER in user.roles
            else rows.none()
        )
    rows = rows.select_related("area").prefetch_related("gaps_answered")
    out = []
    for resource in rows.order_by("area__code", "name", "pk"):
        answered = "、".join(gap.category for gap in resource.gaps_answered.all())
        label = f"{resource.name}（{resource.area.name}）"
        out.append((resource.pk, f"{label} — すでに応えている不足: {answered}" if answered else label))
    return out


# --- figures per 圏域 ----------------------------------------------------------------------------------


def area_figures(area: Area | None, period: Period, tree: AreaTree | None = None) -> dict:
    """The figures of one 圏域 (with everything below it), or of the whole city when `area` is None.
    Each list a figure links to is the same query with the same filters (bounded: 7 queries)."""
    tree = tree or AreaTree.load()
    ids = None if area is None else tree.subtree_ids(area.pk)
    places = CommunityResource.objects.filter(area_q("area", ids), is_active=True)
    by_kind = {r["kind"]: r["n"] for r in places.order_by().values("kind").annotate(n=Count("pk"))}
    hosts = list(
        with_places_left(places.filter(accepts_participants=True)).values("capacity", "active_placements")
    )
    sessions = Activity.objects.filter(area_q("resource__area", ids), period.q("held_on")).aggregate(
        n=Count("pk"), people=Coalesce(Sum("participants"), 0), visits=Coalesce(Sum("participant_visits"), 0)
    )
    platform = platforms(ids, period).aggregate(n=Count("pk"), people=Coalesce(Sum("participants"), 0))
    log = {
        r["kind"]: r["n"]
        for r in coordinator_log(ids, period).order_by().values("kind").annotate(n=Count("pk"))
    }
    gap_counts = {
        r["status"]: r["n"]
        for r in ResourceGap.objects.filter(area_q("area", ids))
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
    }
    limited = [h for h in hosts if h["capacity"] is not None]
    return {
        "places": sum(by_kind.values()),
        "by_kind": [(kind, label, by_kind.get(kind, 0)) for kind, label in ResourceKind.choices],
        "hosts": len(hosts),
        "hosts_open": sum(
            1 for h in hosts if h["capacity"] is None or h["capacity"] > h["active_placements"]
        ),
        "hosts_full": sum(1 for h in limited if 0 < h["capacity"] <= h["active_placements"]),
        "hosts_stopped": sum(1 for h in limited if h["capacity"] == 0),
        "hosts_unlimited": len(hosts) - len(limited),
        "places_left": sum(max(h["capacity"] - h["active_placements"], 0) for h in limited),
        "sessions": sessions["n"],
        "session_people": sessions["people"],
        "session_visits": sessions["visits"],
        "platforms": platform["n"],
        "platform_people": platform["people"],
        "coordinator": [(kind, label, log.get(kind, 0)) for kind, label in CoordinatorActivityKind.choices],
        "coordinator_total": sum(log.values()),
        "gaps": [(s, ResourceGapStatus(s).label, gap_counts.get(s, 0)) for s in OPEN_GAP_STATUSES],
        "gaps_open": sum(gap_counts.get(s, 0) for s in OPEN_GAP_STATUSES),
    }


def area_tree_rows(period: Period, tree: AreaTree | None = None) -> list[dict]:
    """Every 圏域 in hierarchy order with its rolled-up places, hosts, sessions and open gaps (4 grouped
    queries, summed over each subtree in Python)."""
    tree = tree or AreaTree.load()

    def grouped(queryset, field_name):
        return {r[field_name]: r["n"] for r in queryset.order_by().values(field_name).annotate(n=Count("pk"))}

    places = grouped(CommunityResource.objects.filter(is_active=True), "area_id")
    hosts = grouped(CommunityResource.objects.filter(is_active=True, accepts_participants=True), "area_id")
    sessions = grouped(Activity.objects.filter(period.q("held_on")), "resource__area_id")
    open_gaps = grouped(ResourceGap.objects.filter(status__in=OPEN_GAP_STATUSES), "area_id")
    rows = []
    for area, depth in tree.walk():
        ids = tree.subtree_ids(area.pk)
        rows.append(
            {
                "area": area,
                "depth": depth,
                "places": sum(places.get(i, 0) for i in ids),
                "hosts": sum(hosts.get(i, 0) for i in ids),
                "sessions": sum(sessions.get(i, 0) for i in ids),
                "gaps_open": sum(open_gaps.get(i, 0) for i in ids),
            }
        )
    return rows
