"""The meetings app's panel on the case page (registered in MeetingsConfig.ready)."""

from cases.selectors import case_page_can_change
from jusou.models import Role
from meetings import selectors
from meetings.forms import ConsentWithdrawForm, SupportDecisionForm


def case_panel(request, case):
    """本人同意 and 支援決定, for everyone who may see the case; forms for those who may change it."""
    can_change = case_page_can_change(request, case)
    coordinator = request.user.has_role(Role.COORDINATOR)
    return {
        "consents": selectors.consent_versions(selectors.case_consents(request.user, case)),
        "plans": selectors.case_plans(case),
        "can_plan": can_change and coordinator and case.status == "coordinating",
        "decisions": list(selectors.case_decisions(case)),
        "can_change": can_change,
        "withdraw_form": ConsentWithdrawForm() if can_change else None,
        "decision_form": SupportDecisionForm()
        if can_change and coordinator and case.status == "coordinating"
        else None,
    }


# --- Dashboard panels (registered in MeetingsConfig.ready) --------------------------------------


def worker_dashboard(request):
    """The worker's own cases whose plan review or consent expiry is near (the cases app can't know)."""
    return selectors.worker_dashboard(request.user)


def coordinator_dashboard(request):
    return selectors.coordinator_dashboard(request.user)


def supervisor_dashboard(request):
    """Time from intake to the first plan's approval: median days per month, as a line."""
    from jusou.reports import charts

    data = charts.city_wide("plan_lead_times", lambda: selectors.plan_lead_times(request.user))
    months = data["months"]
    return {
        "lead_time_chart": charts.line_chart(
            chart_id="chart-plan-lead-time",
            title="相談受付から支援プラン承認までの日数（中央値）",
            description=f"{charts.month_name(months[0])}から{charts.month_name(months[-1])}まで、月ごとに、"
            "その月に初めて支援プランが承認されたケースについて、最初の相談受付から承認までの日数の中央値を示す折れ線グラフ。"
            "承認のなかった月は線が途切れます。",
            labels=[charts.month_name(d) for d in months],
            axis_labels=charts.month_axis_labels(months),
            values=data["medians"],
        ),
        "lead_time_table": charts.data_table(
            caption="相談受付から支援プラン承認までの日数（月別の中央値）",
            header="承認月",
            columns=["中央値（日）", "承認したケース数"],
            rows=[
                (charts.month_name(d), [data["medians"][i], data["counts"][i]]) for i, d in enumerate(months)
            ],
        ),
    }


def waiting_dashboard(request):
    """What waits on the user: pledges to give, their agency's 役割分担, handovers to accept."""
    return selectors.waiting_dashboard(request.user)
