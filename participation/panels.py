from cases.selectors import case_page_can_change
from participation.selectors import case_plans


def case_panel(request, case):
    return {
        "participation_plans": case_plans(case),
        "can_add": case.is_open and case_page_can_change(request, case),
    }
