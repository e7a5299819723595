"""The meetings app's panel on the case page (registered in MeetingsConfig.ready)."""

from cases.selectors import case_can_change
from jusou.models import Role
from meetings import selectors
from meetings.forms import ConsentWithdrawForm, SupportDecisionForm


def case_panel(request, case):
    """本人同意 and 支援決定, for everyone who may see the case; forms for those who may change it."""
    can_change = case_can_change(request.user, case)
    coordinator = request.user.has_role(Role.COORDINATOR)
    return {
        "consents": selectors.case_consents(case),
        "plans": selectors.case_plans(case),
        "can_plan": can_change and coordinator and case.status == "coordinating",
        "decisions": list(selectors.case_decisions(case)),
        "can_change": can_change,
        "withdraw_form": ConsentWithdrawForm() if can_change else None,
        "decision_form": SupportDecisionForm()
        if can_change and coordinator and case.status == "coordinating"
        else None,
    }
