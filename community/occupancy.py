"""Places left at a host: capacity − the placements in force there.

Placements belong to 参加支援 (participation), which may import community but not the other way round
(STYLE.md §13). So participation registers, from its AppConfig.ready, the expression that counts a
resource's active placements; the register's pages, the matching and the statistics all annotate
through `with_places_left`, one rule in one place."""

from collections.abc import Callable

from django.db.models import Expression, IntegerField, QuerySet, Value

_active_placements: Callable[[str], Expression] | None = None


def register_active_placements(expression: Callable[[str], Expression]) -> None:
    """`expression(prefix)` counts the active placements of the resource at `prefix` ("" for the
    resource itself) as an aggregate over its rows."""
    global _active_placements
    _active_placements = expression


def active_placements(prefix: str = "") -> Expression:
    if _active_placements is None:
        return Value(0, output_field=IntegerField())
    return _active_placements(prefix)


def with_places_left(resources: QuerySet) -> QuerySet:
    """Each resource with `active_placements`; `CommunityResource.places_left` reads it."""
    return resources.annotate(active_placements=active_placements())
