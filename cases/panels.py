"""The cases app's dashboard panels (registered in CasesConfig.ready)."""

from cases.models import CaseStatus
from cases.selectors import case_counts_for_dashboard, cases_visible_to


def worker(request):
    return {"counts": case_counts_for_dashboard(request.user)}


def coordinator(request):
    return {"referred_count": cases_visible_to(request.user).filter(status=CaseStatus.REFERRED).count()}
