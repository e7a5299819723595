"""The cases app's dashboard panels (registered in CasesConfig.ready)."""

from django.conf import settings

from cases import selectors
from jusou.reports import charts


def worker(request):
    return selectors.worker_dashboard(request.user)


def supervisor(request):
    """Trends for supervisors: consultations per month by main 課題分類, and cases by status."""
    trends = charts.city_wide("consultation_trends", lambda: selectors.consultation_trends(request.user))
    labels = charts.month_axis_labels(trends["months"])
    period = f"{charts.month_name(trends['months'][0])}から{charts.month_name(trends['months'][-1])}"
    statuses = charts.city_wide("case_status_counts", lambda: selectors.case_status_counts(request.user))
    status_labels, status_values = [label for label, _ in statuses], [n for _, n in statuses]
    return {
        "refreshed_every": settings.DASHBOARD_FIGURES_SECONDS // 60,
        "consultations_chart": charts.stacked_bar_chart(
            chart_id="chart-consultations",
            title="月別の相談受付件数（主な課題分類別）",
            description=f"{period}の12か月の相談受付件数を、主な課題分類の上位5分類とその他に分けて積み上げた棒グラフ。"
            f"合計{sum(trends['totals'])}件。",
            labels=[charts.month_name(d) for d in trends["months"]],
            axis_labels=labels,
            series=trends["series"],
        ),
        "consultations_table": charts.data_table(
            caption="月別の相談受付件数（主な課題分類別）",
            header="月",
            columns=[name for name, _ in trends["series"]] + ["合計"],
            rows=[
                (charts.month_name(d), [values[i] for _, values in trends["series"]] + [trends["totals"][i]])
                for i, d in enumerate(trends["months"])
            ],
        ),
        "status_chart": charts.bar_chart(
            chart_id="chart-case-status",
            title="状態別の支援ケース数",
            description=f"現在の支援ケースを状態別に数えた横棒グラフ。合計{sum(status_values)}件。",
            labels=status_labels,
            values=status_values,
        ),
        "status_table": charts.data_table(
            caption="状態別の支援ケース数",
            header="状態",
            columns=["件数"],
            rows=[(label, [n]) for label, n in statuses],
        ),
    }
