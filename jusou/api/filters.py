"""The API's list filters (settings.REST_FRAMEWORK DEFAULT_FILTER_BACKENDS): django-filter, strict.

django-filter on its own answers a bad date or choice with 400, but quietly ignores what it cannot
read as a filter: an unknown parameter (`?stauts=closed`), a boolean that is neither true nor false
(`?risk=yes`), an ordering field the list does not offer, a page size that is not a number. Each of
those returned the whole unfiltered list — to a caller who believes it asked for a part of it. Here
each answers 400 with the parameter named, in the API's error body (jusou.api.errors).
"""

import re
from datetime import date

from django import forms
from django_filters import filters as django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.filters import OrderingFilter

BOOLEAN_VALUES = {"true", "false", "1", "0"}
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # what the schema says (format: date); not 12/01/26
MAX_ID = 10**18 - 1  # as jusou.api.base.url_pk: larger ids cannot exist (and overflow SQLite's integer)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A record by its id: a whole number from 1 to MAX_ID, else 400 naming the parameter (django-filter's
    NumberFilter takes `1.5` and answers a 20-digit number with a database error)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


def unknown_parameters_error(request, allowed) -> ValidationError | None:
    unknown = sorted(set(request.query_params) - set(allowed))
    if not unknown:
        return None
    return ValidationError(
        {
            name: [
                ErrorDetail("この一覧では使えない条件です（綴りを確認してください）。", code="unknown_field")
            ]
            for name in unknown
        }
    )


def refuse_unknown_parameters(request, allowed) -> None:
    """For views that read their query themselves (statistics): unknown names answer 400."""
    error = unknown_parameters_error(request, allowed)
    if error is not None:
        raise error


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        errors = {}
        allowed = set(filterset.filters) if filterset is not None else set()
        paginator = getattr(view, "paginator", None)
        for attribute in ("cursor_query_param", "page_size_query_param", "page_query_param"):
            if getattr(paginator, attribute, None):
                allowed.add(getattr(paginator, attribute))
        orderable = any(issubclass(b, OrderingFilter) for b in getattr(view, "filter_backends", ()))
        if orderable:
            allowed.add(OrderingFilter.ordering_param)
            errors.update(self._ordering_errors(request, view))
        unknown = unknown_parameters_error(request, allowed)
        if unknown is not None:
            errors.update(unknown.detail)
        if filterset is not None:
            errors.update(self._boolean_errors(request, filterset))
            errors.update(self._date_errors(request, filterset))
        errors.update(self._page_size_errors(request, paginator))
        if errors:
            raise ValidationError(dict(sorted(errors.items())))
        return super().filter_queryset(request, queryset, view)

    @staticmethod
    def _boolean_errors(request, filterset):
        # django-filter reads anything but true/false as "no filter": refuse it instead — an empty value
        # too (`?risk=`), which is neither, and which the schema (type boolean) does not allow.
        return {
            name: [ErrorDetail("true または false を指定してください。", code="invalid")]
            for name, flt in filterset.filters.items()
            if isinstance(flt, django_filters.BooleanFilter)
            and name in request.query_params
            and request.query_params.get(name).strip().lower() not in BOOLEAN_VALUES
        }

    @staticmethod
    def _date_errors(request, filterset):
        # Django's date field also reads 12/01/26 and "Dec 1 2026": the API takes ISO 8601 dates only.
        def iso(value):
            try:
                return bool(ISO_DATE.fullmatch(value)) and bool(date.fromisoformat(value))
            except ValueError:
                return False

        return {
            name: [ErrorDetail("日付は YYYY-MM-DD の形で指定してください。", code="invalid")]
            for name, flt in filterset.filters.items()
            if isinstance(flt, django_filters.DateFilter)
            and request.query_params.get(name, "").strip()
            and not iso(request.query_params.get(name).strip())
        }

    @staticmethod
    def _ordering_errors(request, view):
        param = request.query_params.get(OrderingFilter.ordering_param)
        if param is None:
            return {}
        offered = set(getattr(view, "ordering_fields", None) or ())
        wrong = [
            term for term in (t.strip() for t in param.split(",")) if term.removeprefix("-") not in offered
        ]
        if not wrong:
            return {}
        choices = "、".join(sorted(offered))
        message = f"並べ替えに使える項目は {choices} です（降順は先頭に -）。"
        return {OrderingFilter.ordering_param: [ErrorDetail(message, code="invalid_choice")]}

    @staticmethod
    def _page_size_errors(request, paginator):
        name = getattr(paginator, "page_size_query_param", None)
        value = request.query_params.get(name) if name else None
        if value is None or (value.isascii() and value.isdigit() and int(value) >= 1):
            return {}
        maximum = getattr(paginator, "max_page_size", None)
        message = (
            f"1 から {maximum} までの整数を指定してください。"
            if maximum
            else "1 以上の整数を指定してください。"
        )
        return {name: [ErrorDetail(message, code="invalid")]}
