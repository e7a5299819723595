"""Reads for 地域づくり: the register is readable by all staff and carries no personal case data."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from community.models import CommunityResource
from jusou.models import Area, ResourceGap


@dataclass
class ResourceFilters:
    kind: str = ""
    area: int | None = None
    accepting: bool = False
    active_only: bool = True
    q: str = ""


def resources(filters: ResourceFilters) -> QuerySet[CommunityResource]:
    rows = CommunityResource.objects.select_related("area")
    if filters.active_only:
        rows = rows.filter(is_active=True)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.area:
        rows = rows.filter(Q(area_id=filters.area) | Q(area__parent_id=filters.area))
    if filters.accepting:
        rows = rows.filter(accepts_participants=True)
    if filters.q:
        rows = rows.filter(Q(name__icontains=filters.q) | Q(operator__icontains=filters.q))
    return rows.order_by("area__code", "kind", "name")


def area_overview() -> list[dict]:
    """Each 圏域 in hierarchy order with its active resources counted by kind (2 queries)."""
    areas = list(Area.objects.select_related("parent").order_by("code"))
    counts: dict[int, dict[str, int]] = {}
    for row in (
        CommunityResource.objects.filter(is_active=True).values("area_id", "kind").annotate(n=Count("pk"))
    ):
        counts.setdefault(row["area_id"], {})[row["kind"]] = row["n"]
    children: dict[int | None, list[Area]] = {}
    for area in areas:
        children.setdefault(area.parent_id, []).append(area)
    out = []

    def walk(parent_id, depth):
        for area in children.get(parent_id, []):
            by_kind = counts.get(area.pk, {})
            out.append({"area": area, "depth": depth, "by_kind": by_kind, "total": sum(by_kind.values())})
            walk(area.pk, depth + 1)

    walk(None, 0)
    return out


def gaps(status: str = "") -> QuerySet[ResourceGap]:
    rows = ResourceGap.objects.select_related("area").prefetch_related("developed_resources")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("status", "area__code", "category", "-recorded_at")
