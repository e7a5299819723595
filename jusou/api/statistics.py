"""GET /api/v1/statistics/report/: the statistics report (jusou.reports.statistics) as JSON, for the same
parameters as the page. The figures leave the system here, so small counts are suppressed
(settings.STATISTICS_SUPPRESS_BELOW): a cell of 1 or 2 must not identify a person (DOMAIN.md §7), and
neither may a total, a row or another table of the same response give one back (jusou.reports.tables.published,
the same rule as the xlsx/CSV exports)."""

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from jusou.api.auth import ApiAccess
from jusou.api.base import api_read_log
from jusou.api.filters import refuse_unknown_parameters
from jusou.models import ApiScope
from jusou.reports.statistics import BY_CHOICES, PERIOD_CHOICES, StatisticsParams, statistics_report
from jusou.reports.tables import (  # one rule for every way figures leave the system
    SUPPRESSED,
    Report,
    published,
)


def report_data(report: Report, params: StatisticsParams, threshold: int) -> dict:
    report = published(report, threshold)
    return {
        "title": report.title,
        "period_label": params.label,
        "date_from": report.date_from.isoformat(),
        "date_to": report.date_to.isoformat(),
        "coverage": report.coverage,
        "suppress_below": threshold,
        "sections": [
            {
                "name": name,
                "tables": [
                    {
                        "title": table.title,
                        "columns": table.columns,
                        "multiple_answers": table.multiple_answers,
                        "note": table.note,
                        "rows": [{"label": row.label, "values": row.values} for row in table.rows],
                    }
                    for table in tables
                ],
            }
            for name, tables in report.sections
        ],
        "generated_at": timezone.localtime().isoformat(),  # +09:00, as every other time the API gives
    }


@extend_schema_field(
    {
        "oneOf": [{"type": "number"}, {"type": "string", "enum": [SUPPRESSED]}],
        "nullable": True,
        "description": "件数（整数）・10万人あたり（小数）、少ない件数と合計などから逆算できる件数は「＊」、該当しない項目は null",
    }
)
class CellField(serializers.Field):
    def to_representation(self, value):
        return value


class StatisticsRowSerializer(serializers.Serializer):
    label = serializers.CharField()
    values = serializers.ListField(child=CellField())


class StatisticsTableSerializer(serializers.Serializer):
    title = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    multiple_answers = serializers.BooleanField(help_text="複数回答（各行の合計が総数を超えることがある）")
    note = serializers.CharField()
    rows = StatisticsRowSerializer(many=True)


class StatisticsSectionSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="事業")
    tables = StatisticsTableSerializer(many=True)


class StatisticsReportSerializer(serializers.Serializer):
    title = serializers.CharField()
    period_label = serializers.CharField(help_text="和暦の期間（例: 令和7年度）")
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    coverage = serializers.CharField(help_text="集計の対象（市全体・機関・圏域）")
    suppress_below = serializers.IntegerField(
        help_text="この数未満（0を除く）の件数は「＊」。合計・内訳・他の表から「＊」が逆算できるときは、その計算に使える件数も「＊」"
    )
    sections = StatisticsSectionSerializer(many=True)
    generated_at = serializers.DateTimeField()


#: the report's query parameters (as documented below): any other name answers 400, not this month's report
REPORT_PARAMETERS = ("period", "month", "fiscal_year", "date_from", "date_to", "agency", "area", "by")


class StatisticsReportView(APIView):
    """The statistics report: what the caller may count in aggregate (a 相談員 or a machine client:
    their agency's records; supervisors and coordinators: the municipality), small counts — and any
    figure that would give one back — as ＊."""

    permission_classes = [ApiAccess]
    scopes = {"read": ApiScope.STATISTICS_READ}

    @extend_schema(
        operation_id="statistics_report",
        tags=["statistics"],
        parameters=[
            OpenApiParameter(
                "period",
                str,
                enum=[value for value, _ in PERIOD_CHOICES],
                description="month（月）・fiscal（年度、4月〜翌3月）・range（期間）。省略時は今月",
            ),
            OpenApiParameter("month", str, description="period=month のとき YYYY-MM"),
            OpenApiParameter(
                "fiscal_year", OpenApiTypes.INT, description="period=fiscal のとき年度（西暦4桁）"
            ),
            OpenApiParameter(
                "date_from", OpenApiTypes.DATE, description="period=range のとき開始日（その日を含む）"
            ),
            OpenApiParameter(
                "date_to", OpenApiTypes.DATE, description="period=range のとき終了日（その日を含む）"
            ),
            OpenApiParameter("agency", str, description="機関コード（自分が集計できる範囲の中で絞り込む）"),
            OpenApiParameter("area", str, description="圏域コード（その下の圏域を含む）"),
            OpenApiParameter(
                "by",
                str,
                enum=[value for value, _ in BY_CHOICES if value],
                description="area: 中圏域別、agency: 機関別の内訳の表を加える",
            ),
        ],
        responses=StatisticsReportSerializer,
    )
    def get(self, request):
        refuse_unknown_parameters(request, REPORT_PARAMETERS)
        params = StatisticsParams.from_query(request.query_params)
        report = statistics_report(request.user, params)
        # Counts only, but a disclosure to another system all the same (個人情報保護法): logged.
        api_read_log(request, detail=f"統計 {params.label} {report.coverage}")
        return Response(report_data(report, params, settings.STATISTICS_SUPPRESS_BELOW))


# --- The retired consultation counts -----------------------------------------------------------------------

REPORT_PATH = "/api/v1/statistics/report/"
RETIRED_MESSAGE = (
    "このAPIは廃止しました。同じ集計は /api/v1/statistics/report/ の「包括的相談支援」にあります"
    "（集計の範囲と秘匿のルールは統計画面・出力と同じです）。"
)


class GoneSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="410")
    code = serializers.CharField(help_text="gone")
    message = serializers.CharField()
    errors = serializers.ListField(child=serializers.DictField(), help_text="常に空")
    replacement = serializers.CharField(help_text="代わりに使う API のパス")


class RetiredConsultationStatisticsView(APIView):
    """GET /api/v1/statistics/consultations/ answers 410 Gone. It counted by another rule than the
    report — the consultations and cases a caller may open (case access), all time, current statuses —
    so a coordinator got ＊ there and 8 in the report, and its small-cell rule could be undone with the
    report's totals. Its figures (件数, 実人数, by 経路, 手段, 課題, 対応区分, cases by status) are all in the
    report's 包括的相談支援 section, counted by one rule and suppressed once."""

    permission_classes = [ApiAccess]
    scopes = {"read": ApiScope.STATISTICS_READ}

    @extend_schema(
        operation_id="statistics_consultations_retired",
        tags=["statistics"],
        deprecated=True,
        description=(
            "廃止しました（常に 410 Gone）。相談の件数・実人数・経路・手段・課題・対応区分・ケースの状態別件数は "
            "GET /api/v1/statistics/report/ の「包括的相談支援」を使ってください。"
            "期間は period・month・fiscal_year・date_from・date_to で指定します。"
        ),
        responses={410: GoneSerializer},
    )
    def get(self, request):
        body = {
            "status": 410,
            "code": "gone",
            "message": RETIRED_MESSAGE,
            "errors": [],
            "replacement": REPORT_PATH,
        }
        return Response(body, status=410, headers={"Link": f'<{REPORT_PATH}>; rel="successor-version"'})
