"""支援プラン (/plans/) with their goals and 役割分担 (each agency updates its own tasks)."""

from django.db import transaction
from django.db.models import Max, Prefetch
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from cases.models import Person
from cases.selectors import cases_opening
from jusou.api.base import IF_MATCH_OPTIONAL, ApiViewSet, StrictSerializer, url_pk, validated
from jusou.api.errors import INVALID_TRANSITION, STALE_VERSION
from jusou.api.filters import IdFilter
from jusou.api.schema import ETAG
from jusou.models import Role
from meetings import selectors, services
from meetings.api.common import MAX_ID, READ_ONLY, refuse_stale
from meetings.models import Evaluation, PlanStatus, PlanTask, SupportPlan, TaskStatus


class PlanGoalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField()
    text = serializers.CharField()


class PlanTaskSerializer(serializers.ModelSerializer):
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    can_update = serializers.SerializerMethodField(help_text="呼び出し元がこの役割分担の状況を更新できるか")

    class Meta:
        model = PlanTask
        fields = [
            "id",
            "agency",
            "person_in_charge",
            "role",
            "content",
            "frequency",
            "starts_on",
            "ends_on",
            "status",
            "can_update",
        ]

    def get_can_update(self, task) -> bool:
        user = self.context.get("user")
        if user is None or task.plan.status != PlanStatus.APPROVED:
            return False
        return user.has_role(Role.COORDINATOR) or task.agency_id in {a.pk for a in user.agencies}


class PlanTaskDetailSerializer(PlanTaskSerializer):
    etag = serializers.SerializerMethodField(help_text="状況を更新するときに If-Match で送る版")

    class Meta(PlanTaskSerializer.Meta):
        fields = [*PlanTaskSerializer.Meta.fields, "etag"]

    def get_etag(self, task) -> str | None:
        return getattr(task, "etag", None)


class GoalEvaluationSerializer(serializers.Serializer):
    goal = serializers.IntegerField(source="goal_id")
    result = serializers.CharField()
    comment = serializers.CharField()


class PlanEvaluationSerializer(serializers.ModelSerializer):
    conference = serializers.IntegerField(source="item.conference_id")
    next_lead_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    evaluated_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    goal_results = GoalEvaluationSerializer(many=True)

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "conference",
            "person_change",
            "next_step",
            "next_lead_agency",
            "evaluated_by",
            "evaluated_at",
            "goal_results",
        ]


class SupportPlanSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.number", read_only=True)
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    goals = PlanGoalSerializer(many=True, read_only=True)
    tasks = PlanTaskSerializer(many=True, read_only=True)
    members = serializers.SerializerMethodField(
        help_text="プランの対象者（ケースの本人と、選んだ世帯員）の本人ID。氏名などは本人の API から、その人についての根拠で"
    )

    class Meta:
        model = SupportPlan
        fields = [
            "id",
            "case",
            "case_number",
            "version",
            "status",
            "person_wishes",
            "household_wishes",
            "issues_summary",
            "long_term_goal",
            "needs_participation",
            "needs_outreach",
            "review_on",
            "author",
            "created_at",
            "approved_at",
            "sent_back_reason",
            "members",
            "goals",
            "tasks",
        ]

    def get_members(self, plan) -> list[int]:
        others = sorted(p.pk for p in plan.members.all() if p.pk != plan.case.person_id)
        return [plan.case.person_id, *others]


class SupportPlanDetailSerializer(SupportPlanSerializer):
    """The plan page's content (meetings.selectors.plan_detail), loaded once and attached to the plan."""

    goals = PlanGoalSerializer(many=True, read_only=True, source="detail_goals")
    tasks = PlanTaskDetailSerializer(many=True, read_only=True, source="detail_tasks")
    evaluations = PlanEvaluationSerializer(many=True, read_only=True, source="detail_evaluations")

    class Meta(SupportPlanSerializer.Meta):
        fields = [*SupportPlanSerializer.Meta.fields, "evaluations"]


class PlanMembersSerializer(StrictSerializer):
    members = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        allow_empty=True,
        max_length=50,
        help_text="ケースの本人のほかに対象とする世帯員の本人ID（本人はいつも対象）",
    )


class PlanTaskStatusSerializer(StrictSerializer):
    status = serializers.ChoiceField(TaskStatus.choices)


class PlanFilter(filters.FilterSet):
    case = IdFilter()
    status = filters.ChoiceFilter(choices=PlanStatus.choices)

    class Meta:
        model = SupportPlan
        fields = ["case", "status"]


def _task_etags(tasks) -> None:
    """Each task's version (its latest history row, as jusou.api.base.etag_of), in one query."""
    latest = dict(
        PlanTask.history.filter(id__in=[t.pk for t in tasks])
        .values("id")
        .annotate(h=Max("history_id"))
        .values_list("id", "h")
    )
    for task in tasks:
        task.etag = f'"h{latest.get(task.pk) or 0}"'


class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """支援プラン (every version) of the cases the caller may see, with the short-term goals and the
    役割分担. A plan agency reads it on 本人同意 while the plan is in force and the consent covers it;
    each agency updates the status of its own tasks."""

    serializer_class = SupportPlanSerializer
    filterset_class = PlanFilter
    scopes = READ_ONLY

    model = SupportPlan

    def visible(self, user):
        return (
            SupportPlan.objects.filter(case__in=cases_opening(user, "plan").values("pk"))
            .select_related("case", "author")
            .prefetch_related(
                "goals", "members", Prefetch("tasks", PlanTask.objects.select_related("agency", "plan"))
            )
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "user": self.request.user}

    def list(self, request):
        return self.list_response(self.filter_queryset(self.get_queryset()))

    def _plan(self, pk) -> SupportPlan:
        return selectors.plan_get_for_user(self.request.user, url_pk(pk))

    @extend_schema(responses=SupportPlanDetailSerializer)
    def retrieve(self, request, pk=None):
        plan = self._plan(pk)
        self.log_detail(plan, plan.case.decision)
        detail = selectors.plan_detail(plan)
        for task in detail["tasks"]:
            task.plan = plan
        _task_etags(detail["tasks"])
        plan.detail_goals, plan.detail_tasks = detail["goals"], detail["tasks"]
        plan.detail_evaluations = detail["evaluations"]
        return Response(SupportPlanDetailSerializer(plan, context={"user": request.user}).data)

    @extend_schema(
        request=PlanMembersSerializer, responses={200: SupportPlanSerializer, 409: INVALID_TRANSITION}
    )
    @action(detail=True, methods=["post"])
    def members(self, request, pk=None):
        """Whom a plan in preparation (作成中) concerns besides the case's 本人 (services.plan_members_set):
        each must be a current member of the case's household (400 `not_in_household`); approval then
        needs each one's own consent. Only coordinators who may change the case."""
        plan = self._plan(pk)
        data = validated(PlanMembersSerializer, request.data)
        people = list(Person.objects.filter(pk__in=data["members"]))
        if len(people) != len(set(data["members"])):
            raise serializers.ValidationError(
                {"members": "このケースの世帯員から選んでください。"}, code="not_in_household"
            )
        services.plan_members_set(plan=plan, acting_user=request.user, members=people)
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(SupportPlanSerializer(plan, context={"user": request.user}).data)

    @extend_schema(
        request=PlanTaskStatusSerializer,
        responses={200: PlanTaskDetailSerializer, 412: STALE_VERSION},
        parameters=[OpenApiParameter("task_id", int, OpenApiParameter.PATH), IF_MATCH_OPTIONAL, ETAG],
    )
    @action(detail=True, methods=["post"], url_path=r"tasks/(?P<task_id>[^/.]+)/status")
    def task_status(self, request, pk=None, task_id=None):
        """Update the status of one 役割分担 (services.task_update_status: the agency's own tasks, or any
        for a coordinator; only in an approved plan). With If-Match, a task changed since it was read
        is refused (412)."""
        plan = self._plan(pk)
        task = get_object_or_404(
            PlanTask.objects.select_related("agency", "plan"), plan=plan, pk=url_pk(task_id)
        )
        data = validated(PlanTaskStatusSerializer, request.data)
        with transaction.atomic():
            refuse_stale(request, PlanTask.objects.select_for_update().get(pk=task.pk))
            task = services.task_update_status(task=task, acting_user=request.user, status=data["status"])
        task = PlanTask.objects.select_related("agency", "plan").get(pk=task.pk)
        _task_etags([task])
        return Response(
            PlanTaskDetailSerializer(task, context={"user": request.user}).data, headers={"ETag": task.etag}
        )
