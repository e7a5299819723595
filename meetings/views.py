from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from cases.forms import apply_service_errors
from cases.models import CaseStatus, Person
from cases.selectors import case_get_for_user
from jusou.models import Role
from jusou.views import post_action
from meetings import selectors, services
from meetings.forms import (
    CaseAcceptForm,
    CaseReturnForm,
    ConsentForm,
    ConsentWithdrawForm,
    SupportDecisionForm,
)


def _require_coordinator(request):
    if not request.user.has_role(Role.COORDINATOR):
        raise PermissionDenied("この画面は相談支援包括化推進員が使います。")


@require_GET
def inbox(request):
    """多機関協働の受付箱: referred cases waiting, and the cases taken up."""
    _require_coordinator(request)
    return render(
        request,
        "meetings/inbox.html",
        {
            "referred": selectors.inbox(request.user),
            "coordinating": selectors.inbox(request.user, CaseStatus.COORDINATING),
            "accept_form": CaseAcceptForm(),
            "return_form": CaseReturnForm(),
        },
    )


@require_POST
def case_accept(request, pk):
    case = case_get_for_user(request.user, pk, for_change=True)
    return post_action(
        request, CaseAcceptForm(request.POST),
        lambda data: services.case_accept(case=case, acting_user=request.user, reason=data["reason"]),
        f"{case.number} を多機関協働として受理しました。", case,
    )  # fmt: skip


@require_POST
def case_return(request, pk):
    case = case_get_for_user(request.user, pk, for_change=True)
    return post_action(
        request, CaseReturnForm(request.POST),
        lambda data: services.case_return(case=case, acting_user=request.user, reason=data["reason"]),
        f"{case.number} を主担当機関（{case.owning_agency}）へ戻しました。", "meetings:inbox",
    )  # fmt: skip


def consent_new(request, pk):
    case = case_get_for_user(request.user, pk, for_change=True)
    people = Person.objects.filter(pk__in=services.case_people(case)).order_by("pk")
    form = ConsentForm(request.POST or None, people=people, initial={"person": case.person_id})
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_record(case=case, acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"{form.cleaned_data['person'].name}さんの本人同意を記録しました。")
            return redirect(case)
    return render(request, "meetings/consent_form.html", {"case": case, "form": form})


@require_POST
def consent_withdraw(request, pk):
    consent = selectors.consent_get_for_user(request.user, pk)
    case = case_get_for_user(request.user, consent.case_id, for_change=True)
    return post_action(
        request, ConsentWithdrawForm(request.POST),
        lambda data: services.consent_withdraw(consent=consent, acting_user=request.user, **data),
        "本人同意の撤回を記録しました。この同意による情報共有は直ちに停止しました。", case,
    )  # fmt: skip


@require_POST
def decision_new(request, pk):
    case = case_get_for_user(request.user, pk, for_change=True)
    return post_action(
        request, SupportDecisionForm(request.POST),
        lambda data: services.support_decision_record(case=case, acting_user=request.user, **data),
        "支援決定を記録しました。", case,
    )  # fmt: skip
