"""Kept apart from jusou.api.base: DRF reads DEFAULT_PAGINATION_CLASS while its generics load."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    """Cursor pagination: stable under inserts and fast at any depth (no OFFSET)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-pk"

    def get_page_size(self, request):
        """The page size asked for, refused (400) unless it is a whole number within 1 … max_page_size:
        a typo must not silently give a page of another size."""
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not (value.isascii() and value.isdigit() and 1 <= int(value) <= self.max_page_size):
            raise ValidationError(
                {self.page_size_query_param: [f"1 から {self.max_page_size} までの整数で指定してください。"]},
                code="invalid",
            )
        return int(value)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
        return parameters


__all__ = ["Cursor"]
