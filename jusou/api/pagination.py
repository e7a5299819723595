"""Kept apart from jusou.api.base: DRF reads DEFAULT_PAGINATION_CLASS while its generics load."""

from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    """Cursor pagination: stable under inserts and fast at any depth (no OFFSET)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-pk"


__all__ = ["Cursor"]
