"""The statistics page (/statistics/): the form and the report's tables, exactly as statistics_report
computes them for the reader. Figures are shown raw to authorised staff; suppression of small cells
applies where a report leaves the system (exports, the API)."""

from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from jusou.ja.wareki import fiscal_year
from jusou.models import Area
from jusou.reports.statistics import (
    BY_CHOICES,
    NO_POPULATION_MESSAGE,
    PERIOD_CHOICES,
    YEAR_MIN,
    StatisticsParams,
    can_read_statistics,
    statistics_agencies_for,
    statistics_report,
)


@require_GET
def statistics_page(request):
    if not can_read_statistics(request.user):
        raise PermissionDenied("統計を見る権限がありません。")
    errors: list[str] = []
    params = report = None
    status = 200
    try:
        params = StatisticsParams.from_query(request.GET)
        report = statistics_report(request.user, params)
    except ValidationError as error:
        errors = error.messages
    except PermissionDenied as error:
        errors, status = [str(error)], 403
    today = timezone.localdate()
    query = request.GET
    context = {
        "report": report,
        "params": params,
        "errors": errors,
        # what the form shows: the query as sent (so a mistake can be corrected), else the defaults
        "form": {
            "period": query.get("period") or "month",
            "month": query.get("month") or today.strftime("%Y-%m"),
            "fiscal_year": query.get("fiscal_year") or str(fiscal_year(today)),
            "date_from": query.get("date_from") or date(today.year, today.month, 1).isoformat(),
            "date_to": query.get("date_to") or today.isoformat(),
            "agency": query.get("agency", ""),
            "area": query.get("area", ""),
            "by": query.get("by", ""),
        },
        "period_choices": PERIOD_CHOICES,
        "by_choices": BY_CHOICES,
        # every 年度 the report accepts (StatisticsParams: from YEAR_MIN), newest first; a fixed ten-year
        # window stopped the picker at 2016 although older records (and the generator's 10 年度) reach back further
        "fiscal_years": range(fiscal_year(today) + 1, YEAR_MIN - 1, -1),
        "agencies": statistics_agencies_for(request.user).values_list("code", "name"),
        "areas": Area.objects.order_by("code").values_list("code", "name", "level"),
        "population_missing": settings.STATISTICS_POPULATION <= 0,
        "no_population_message": NO_POPULATION_MESSAGE,
        "query_string": params.query_string() if params else "",
    }
    return render(request, "jusou/statistics.html", context, status=status)
