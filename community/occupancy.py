"""Places left at a host: capacity − the placements in force there.

Placements belong to 参加支援 (participation), which may import community but not the other way round
(STYLE.md §13). So participation declares, among its AppConfig's contributions, the expression that
counts a resource's active placements (ActivePlacements); the register's pages, the matching and the statistics all annotate
through `with_places_left`, one rule in one place."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Expression, IntegerField, QuerySet, Value

from jusou.registry import contributed


@dataclass(frozen=True)
class ActivePlacements:
    """`expression(prefix)` counts the active placements of the resource at `prefix` ("" for the
    resource itself) as an aggregate over its rows."""

    expression: Callable[[str], Expression]


def active_placements(prefix: str = "") -> Expression:
    declared = contributed(ActivePlacements)
    if not declared:
        return Value(0, output_field=IntegerField())
    return declared[0].expression(prefix)


def with_places_left(resources: QuerySet) -> QuerySet:
    """Each resource with `active_placements`; `CommunityResource.places_left` reads it."""
    return resources.annotate(active_placements=active_placements())
