from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cases.selectors import case_can_change, case_get_for_user
from community import selectors as community_selectors
from community.models import CommunityResource
from jusou import versions
from jusou.audit.readlog import read_log
from jusou.forms import apply_service_errors
from jusou.models import ReadLog, ResourceGap
from jusou.views import post_action
from participation import selectors, services
from participation.forms import (
    AnswerForm,
    CandidateEditForm,
    CandidateForm,
    CandidateMoveForm,
    FollowUpForm,
    JoinForm,
    MatchForm,
    PlacementForm,
    PlacementMoveForm,
    PlanForm,
)
from participation.models import CandidateOutcome, HostCandidate, Placement, Proposal


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
    return render(
        request,
        "participation/plan_detail.html",
        {
            "plan": plan,
            "can_change": can_change,
            "match_form": match_form,
            "matches": matches,
            "answer_form": AnswerForm(),
            "placement_form": PlacementForm(),
            "move_form": PlacementMoveForm(),
            "follow_up_form": FollowUpForm(),
            **selectors.plan_detail(plan),
        },
    )


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
    return post_action(
        request,
        AnswerForm(request.POST),
        lambda data: services.proposal_answer(proposal=proposal, acting_user=request.user, **data),
        "本人の選択と受け入れ先の了承を記録しました。",
        proposal.plan,
    )


@require_POST
def placement_start(request, pk):
    proposal = _proposal(request, pk)
    return post_action(
        request,
        PlacementForm(request.POST),
        lambda data: services.placement_start(proposal=proposal, acting_user=request.user, **data),
        f"{proposal.host.name} を参加先に決めました（調整中）。",
        proposal.plan,
        title=f"参加先に決める（{proposal.host.name}）",
    )


def _placement(request, pk):
    placement = get_object_or_404(Placement.objects.select_related("plan"), pk=pk)
    selectors.plan_get_for_user(request.user, placement.plan_id)
    return placement


@require_POST
def placement_move(request, pk):
    placement = _placement(request, pk)
    return post_action(
        request,
        PlacementMoveForm(request.POST),
        lambda data: services.placement_move(placement=placement, acting_user=request.user, **data),
        "参加先の状況を更新しました。",
        placement.plan,
    )


@require_POST
def follow_up(request, pk):
    placement = _placement(request, pk)
    return post_action(
        request,
        FollowUpForm(request.POST),
        lambda data: services.follow_up_record(placement=placement, acting_user=request.user, **data),
        "定着支援の記録を追加しました。",
        placement.plan,
        title="定着支援の記録",
    )


def _development_gap(request):
    """The gap a 開拓 is opened from (?gap= on the page, a hidden field in the form)."""
    value = request.POST.get("gap") or request.GET.get("gap") or ""
    return (
        ResourceGap.objects.select_related("area").filter(pk=int(value)).first() if value.isdigit() else None
    )


def development(request):
    """参加支援先の開拓: candidates approached (complete records, every status and back, joining the
    register), and the backlog of resource gaps each of which can open a 開拓."""
    if not community_selectors.can_read(request.user):
        raise PermissionDenied("この画面を使う権限がありません。")
    editor = community_selectors.can_record(request.user)
    closes_gaps = community_selectors.gap_can_move(request.user)
    gap = _development_gap(request)
    initial = (
        {"area": gap.area_id, "note": f"きっかけ: {gap.category}（{gap.source_label}）"} if gap else None
    )
    form = CandidateForm(request.POST or None, initial=initial, prefix="new") if editor else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("開拓の記録は相談員・相談支援包括化推進員・地域福祉担当が行います。")
        if form.is_valid():
            try:
                services.candidate_record(acting_user=request.user, gap=gap, **form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, "開拓の記録を追加しました。")
                return redirect("participation:development")
    backlog = selectors.development_backlog()
    area_choices = None
    candidates = []
    versions.attach(HostCandidate, backlog["candidates"])
    for candidate in backlog["candidates"]:
        forms = {}
        if editor and not candidate.resource_id and selectors.candidate_can_change(request.user, candidate):
            forms = {
                "edit": CandidateEditForm(
                    instance=candidate,
                    prefix=f"edit-{candidate.pk}",
                    initial={"version": candidate.form_version},
                ),
                "move": CandidateMoveForm(prefix=f"move-{candidate.pk}"),
                "join": JoinForm(candidate=candidate, closes_gaps=closes_gaps)
                if candidate.outcome != "declined"
                else None,
            }
            # each candidate's forms offer the same 圏域: read them once for the page, not once per form
            area_choices = area_choices or list(forms["edit"].fields["area"].choices)
            for each in (forms["edit"], forms["join"]):
                if each is not None:
                    each.fields["area"].choices = area_choices
            forms["move"].fields["to_outcome"].choices = [
                (value, label)
                for value, label in CandidateOutcome.choices
                if value in candidate.allowed_outcomes()
            ]
        candidates.append((candidate, forms))
    return render(
        request,
        "participation/development.html",
        {"form": form, "gap": gap, "candidates": candidates, "gaps": backlog["gaps"], "editor": editor},
    )


def _candidate(pk):
    return get_object_or_404(HostCandidate.objects.select_related("gap__area"), pk=pk)


@require_POST
def candidate_edit(request, pk):
    candidate = _candidate(pk)
    return post_action(
        request,
        CandidateEditForm(request.POST, instance=candidate, prefix=f"edit-{pk}"),
        lambda data: services.candidate_update(
            candidate=HostCandidate(pk=pk),
            acting_user=request.user,
            expected_version=data["version"],
            **{k: v for k, v in data.items() if k != "version"},
        ),
        f"{candidate.name} の記録を更新しました。",
        "participation:development",
        record=candidate,
        title=f"開拓の記録の更新（{candidate.name}）",
    )


@require_POST
def candidate_move(request, pk):
    candidate = _candidate(pk)
    return post_action(
        request,
        CandidateMoveForm(request.POST, prefix=f"move-{pk}"),
        lambda data: services.candidate_move(candidate=candidate, acting_user=request.user, **data),
        f"{candidate.name} の結果を更新しました。",
        "participation:development",
        title=f"開拓の結果の更新（{candidate.name}）",
    )


@require_POST
def candidate_join(request, pk):
    candidate = _candidate(pk)
    name = candidate.name
    return post_action(
        request,
        JoinForm(
            request.POST, candidate=candidate, closes_gaps=community_selectors.gap_can_move(request.user)
        ),
        lambda data: services.candidate_join(
            candidate=HostCandidate(pk=pk), acting_user=request.user, **data
        ),
        lambda data: (
            f"{data.get('name') or name} を地域資源（参加支援の受け入れ先）に登録しました。"
            + ("きっかけの不足する社会資源を「開発済」にしました。" if data.get("close_gap") else "")
        ),
        "participation:development",
        title=f"{name} を地域資源（参加支援の受け入れ先）に登録",
    )
