from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cases.selectors import case_can_change, case_get_for_user
from community.models import CommunityResource
from jusou.access import read_log
from jusou.forms import apply_service_errors
from jusou.models import ReadLog, Role
from jusou.views import post_action
from participation import selectors, services
from participation.forms import (
    AnswerForm,
    CandidateForm,
    FollowUpForm,
    JoinForm,
    MatchForm,
    PlacementForm,
    PlacementMoveForm,
    PlanForm,
)
from participation.models import HostCandidate, Placement, Proposal

STAFF = {Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR}


def plan_new(request, pk):
    case = case_get_for_user(request.user, pk, for_change=True)
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(case=case, acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "参加支援プランを作成しました。参加先の候補を探しましょう。")
            return redirect(plan)
    return render(request, "participation/plan_form.html", {"case": case, "form": form})


def plan_detail(request, pk):
    plan = selectors.plan_get_for_user(request.user, pk)
    read_log(
        user=request.user, action=ReadLog.Action.VIEW, obj=plan, detail=f"参加支援プラン {plan.case.number}"
    )
    can_change = case_can_change(request.user, plan.case)
    match_form = MatchForm(request.GET or None)
    matches = None
    if can_change and "match" in request.GET and match_form.is_valid():
        matches = services.match_hosts(
            plan, area=match_form.cleaned_data["area"], day=match_form.cleaned_data["day"]
        )
    return render(request, "participation/plan_detail.html", {
        "plan": plan, "can_change": can_change, "match_form": match_form, "matches": matches,
        "answer_form": AnswerForm(), "placement_form": PlacementForm(), "move_form": PlacementMoveForm(),
        "follow_up_form": FollowUpForm(), **selectors.plan_detail(plan),
    })  # fmt: skip


@require_POST
def propose(request, pk, host_pk):
    plan = selectors.plan_get_for_user(request.user, pk)
    host = get_object_or_404(CommunityResource, pk=host_pk)
    try:
        services.proposal_record(plan=plan, host=host, acting_user=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"{host.name} を提案しました。")
    return redirect(plan)


def _proposal(request, pk):
    proposal = get_object_or_404(Proposal.objects.select_related("plan", "host"), pk=pk)
    selectors.plan_get_for_user(request.user, proposal.plan_id)
    return proposal


@require_POST
def answer(request, pk):
    proposal = _proposal(request, pk)
    return post_action(request, AnswerForm(request.POST),
                       lambda data: services.proposal_answer(proposal=proposal, acting_user=request.user, **data),
                       "本人の選択と受け入れ先の了承を記録しました。", proposal.plan)  # fmt: skip


@require_POST
def placement_start(request, pk):
    proposal = _proposal(request, pk)
    return post_action(request, PlacementForm(request.POST),
                       lambda data: services.placement_start(proposal=proposal, acting_user=request.user, **data),
                       f"{proposal.host.name} を参加先に決めました（調整中）。", proposal.plan)  # fmt: skip


def _placement(request, pk):
    placement = get_object_or_404(Placement.objects.select_related("plan"), pk=pk)
    selectors.plan_get_for_user(request.user, placement.plan_id)
    return placement


@require_POST
def placement_move(request, pk):
    placement = _placement(request, pk)
    return post_action(request, PlacementMoveForm(request.POST),
                       lambda data: services.placement_move(placement=placement, acting_user=request.user, **data),
                       "参加先の状況を更新しました。", placement.plan)  # fmt: skip


@require_POST
def follow_up(request, pk):
    placement = _placement(request, pk)
    return post_action(request, FollowUpForm(request.POST),
                       lambda data: services.follow_up_record(placement=placement, acting_user=request.user, **data),
                       "定着支援の記録を追加しました。", placement.plan)  # fmt: skip


def development(request):
    """参加支援先の開拓: candidates approached, and the backlog of resource gaps."""
    if not request.user.roles & STAFF:
        raise PermissionDenied("この画面を使う権限がありません。")
    editor = bool(request.user.roles & {Role.WORKER, Role.COORDINATOR})
    form = CandidateForm(request.POST or None) if editor else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("登録は相談員または相談支援包括化推進員が行います。")
        if form.is_valid():
            services.candidate_record(acting_user=request.user, **form.cleaned_data)
            messages.success(request, "開拓の記録を追加しました。")
            return redirect("participation:development")
    return render(request, "participation/development.html",
                  {"form": form, "join_form": JoinForm() if editor else None, **selectors.development_backlog()})  # fmt: skip


@require_POST
def candidate_join(request, pk):
    candidate = get_object_or_404(HostCandidate, pk=pk)
    return post_action(request, JoinForm(request.POST),
                       lambda data: services.candidate_join(candidate=candidate, acting_user=request.user, **data),
                       f"{candidate.name} を地域資源（参加支援の受け入れ先）に登録しました。", "participation:development")  # fmt: skip
