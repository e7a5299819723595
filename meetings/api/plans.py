"""多機関協働 through the API: the coordinators' referral inbox (accept, return), 本人同意 (record,
withdraw), 支援プラン with goals and 役割分担 (each agency updates its own tasks), 支援会議 (社会福祉法
第106条の6: nothing before 守秘義務, only inside the access window) and 重層的支援会議.

Every read starts from the selectors the pages use (meetings.selectors, cases.selectors): a record
outside the caller's basis answers 404, a write outside it 403. Every write goes through the same
services as the pages. Machine clients may read with `meetings:read`; there is no write scope here,
so only staff write.
"""

from django.db import transaction
from django.db.models import Max, Prefetch
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from cases.api.common import PersonRefSerializer, agency_field
from cases.models import Case, CaseStatus, Person
from cases.selectors import case_decision, case_get_for_user, cases_opening, cases_visible_to
from jusou.api.auth import STAFF_ROLES, ApiAccess
from jusou.api.base import (
    IF_MATCH_OPTIONAL,
    ApiViewSet,
    PolicySerializer,
    StrictSerializer,
    etag_of,
    idempotent,
    require_if_match,
    url_pk,
    validated,
)
from jusou.api.errors import INVALID_TRANSITION, STALE_VERSION, TRANSITION_RESPONSES
from jusou.api.filters import IdFilter
from jusou.api.pagination import Cursor
from jusou.api.schema import ETAG, IDEMPOTENCY_KEY, REPLAYED
from jusou.models import ApiScope, Role, User
from meetings import briefings, selectors, services
from meetings.models import (
    ConfidentialityPledge,
    Consent,
    ConsentingParty,
    ConsentMethod,
    Evaluation,
    InformationCategory,
    MeetingBriefing,
    PlanConference,
    PlanStatus,
    PlanTask,
    SupportMeeting,
    SupportPlan,
    TaskStatus,
)

READ_ONLY = {"read": ApiScope.MEETINGS_READ}
MAX_ID = 10**18 - 1  # larger ids cannot exist (and would overflow the database integer)


class CoordinatorsOnly(BasePermission):
    """The inbox and the 重層的支援会議 pages are the 相談支援包括化推進員's (everyone else gets 403,
    a machine client too: it acts for an agency, never as a coordinator)."""

    def has_permission(self, request, view):
        if not request.user.has_role(Role.COORDINATOR):
            raise PermissionDenied("この API は相談支援包括化推進員が使います。", code="role_missing")
        return True


def _within_plan_scope(user: User, case: Case) -> None:
    """403 when the user's decision on the case does not open its consents and plans (本人同意 alone,
    without 支援プラン: the case page hides the panel then)."""
    if not case_decision(user, case).covers("plan"):
        raise PermissionDenied("本人同意の範囲に含まれない情報です。", code="outside_consent")


def _refuse_stale(request, locked) -> None:
    """If-Match is optional on these actions (as on the case transitions); when sent, a version older
    than the locked row's is refused (412)."""
    if request.headers.get("If-Match"):
        require_if_match(request, locked)


# --- The referral inbox ----------------------------------------------------------------------------------


class ReferralSerializer(PolicySerializer):
    person = PersonRefSerializer(read_only=True)
    owning_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    lead_worker = serializers.SlugRelatedField(slug_field="username", read_only=True)
    referred_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="つなぎ依頼の日時")

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "status",
            "person",
            "owning_agency",
            "lead_worker",
            "opened_at",
            "referred_at",
            "version",
        ]


# The two lists of the inbox page: referred cases, and those taken up.
INBOX_STATUSES = [(s.value, s.label) for s in (CaseStatus.REFERRED, CaseStatus.COORDINATING)]


class ReferralQuery(StrictSerializer):
    status = serializers.ChoiceField(
        INBOX_STATUSES,
        required=False,
        default=CaseStatus.REFERRED,
        help_text="referred（つなぎ依頼、既定）・coordinating（多機関協働中）",
    )


class ReferralAcceptSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, help_text="受理のメモ")


class ReferralReturnSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, help_text="主担当機関へ戻す理由")
    next_lead_agency = agency_field(
        required=False,
        allow_null=True,
        help_text="今の主担当機関ではなく別の機関が支援を続けるとき、その機関のコード（ケースはその機関へ引き継がれる）",
    )


class ReferralViewSet(ApiViewSet):
    """多機関協働の受付箱 (相談支援包括化推進員 only): referred cases, oldest first, or with
    `?status=coordinating` the cases taken up. Rows carry no 要配慮個人情報."""

    serializer_class = ReferralSerializer
    permission_classes = [ApiAccess, CoordinatorsOnly]
    pagination_class = None
    scopes = READ_ONLY

    model = Case

    def visible(self, user):
        return cases_visible_to(user)

    @extend_schema(parameters=[ReferralQuery], responses=ReferralSerializer(many=True))
    def list(self, request):
        status = validated(ReferralQuery, request.query_params.dict())["status"]
        rows = selectors.inbox(request.user, status)
        self.log_list(rows, detail=f"多機関協働の受付箱（{CaseStatus(status).label}）")
        return Response(ReferralSerializer(rows, many=True).data)

    def _move(self, request, pk, serializer, service):
        data = validated(serializer, request.data)
        case = case_get_for_user(request.user, url_pk(pk), for_change=True)
        with transaction.atomic():
            case = Case.objects.select_for_update().get(pk=case.pk)
            _refuse_stale(request, case)
            extra = {"next_lead_agency": data["next_lead_agency"]} if data.get("next_lead_agency") else {}
            case = service(case=case, acting_user=request.user, reason=data.get("reason", ""), **extra)
        return Response(ReferralSerializer(case).data, headers={"ETag": etag_of(case)})

    @extend_schema(
        request=ReferralAcceptSerializer,
        responses={200: ReferralSerializer, **TRANSITION_RESPONSES},
        parameters=[IF_MATCH_OPTIONAL, ETAG],
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """つなぎ依頼 → 多機関協働中 (services.case_accept, as on the inbox page)."""
        return self._move(request, pk, ReferralAcceptSerializer, services.case_accept)

    @extend_schema(
        request=ReferralReturnSerializer,
        responses={200: ReferralSerializer, **TRANSITION_RESPONSES},
        parameters=[IF_MATCH_OPTIONAL, ETAG],
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        """包括的相談支援へ戻す, with the reason: the owning agency leads again and the coordinators'
        担当 ends (a case with an approved plan goes back only through an evaluation)."""
        return self._move(request, pk, ReferralReturnSerializer, services.case_return)


# --- 本人同意 ----------------------------------------------------------------------------------------------

CONSENT_STATES = {
    "有効": "valid",
    "撤回": "withdrawn",
    "期限切れ": "expired",
    "開始前": "not_started",
    "変更済": "superseded",
}


class ConsentSerializer(serializers.ModelSerializer):
    person = PersonRefSerializer(read_only=True)
    taken_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    recipients = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    categories = serializers.ListField(child=serializers.ChoiceField(InformationCategory.choices))
    withdrawal_received_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    state = serializers.SerializerMethodField(
        help_text="valid（有効）・withdrawn（撤回）・expired（期限切れ）・not_started（開始前）・"
        "superseded（変更により新しい版に置き換わった。数えません）"
    )
    has_document = serializers.SerializerMethodField(
        help_text="署名された同意書が登録されているか（ファイルは画面から）"
    )

    class Meta:
        model = Consent
        fields = [
            "id",
            "case",
            "person",
            "consenting_party",
            "proxy_name",
            "proxy_relation",
            "consented_on",
            "method",
            "taken_by",
            "recipients",
            "categories",
            "purpose",
            "expires_on",
            "state",
            "has_document",
            "withdrawn_at",
            "withdrawal_method",
            "withdrawal_received_by",
            "withdrawal_note",
            "recorded_at",
            "version",
            "original",
            "superseded_at",
        ]
        extra_kwargs = {
            "original": {"help_text": "最初の版のID（最初の版なら null）"},
            "superseded_at": {"help_text": "変更により次の版に置き換わった日時"},
        }

    @extend_schema_field(serializers.ChoiceField(list(CONSENT_STATES.values())))
    def get_state(self, consent) -> str:
        return CONSENT_STATES[consent.state()]

    def get_has_document(self, consent) -> bool:
        return bool(consent.document)


class ConsentCreateSerializer(StrictSerializer):
    case = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="支援ケースのID")
    person = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="同意した本人（ケースの本人または世帯員）のID"
    )
    consenting_party = serializers.ChoiceField(ConsentingParty.choices)
    proxy_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    proxy_relation = serializers.CharField(max_length=50, required=False, allow_blank=True)
    consented_on = serializers.DateField()
    method = serializers.ChoiceField(ConsentMethod.choices)
    recipients = agency_field(many=True, allow_empty=False, help_text="情報を共有する機関のコード")
    categories = serializers.ListField(
        child=serializers.ChoiceField(InformationCategory.choices), allow_empty=False
    )
    purpose = serializers.CharField()
    expires_on = serializers.DateField(required=False, allow_null=True)

    def validate(self, data):
        if data["consenting_party"] == ConsentingParty.PROXY and not data.get("proxy_name", "").strip():
            raise serializers.ValidationError(
                {"proxy_name": "代理人が同意した場合は、代理人の氏名を入力してください。"},
                code="proxy_name_required",
            )
        return data


class ConsentAmendSerializer(StrictSerializer):
    consented_on = serializers.DateField(help_text="変更に同意した日")
    method = serializers.ChoiceField(ConsentMethod.choices)
    recipients = agency_field(
        many=True, allow_empty=False, help_text="変更後の共有先の機関コード（今の共有先をすべて含めること）"
    )
    categories = serializers.ListField(
        child=serializers.ChoiceField(InformationCategory.choices),
        allow_empty=False,
        help_text="変更後の範囲（今の範囲をすべて含めること）",
    )
    expires_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="変更後の有効期限（延ばすことだけができます。null は期限なし）",
    )


class ConsentWithdrawSerializer(StrictSerializer):
    method = serializers.ChoiceField(ConsentMethod.choices, help_text="撤回の方法")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, help_text="撤回の内容")


class ConsentFilter(filters.FilterSet):
    case = IdFilter()
    person = IdFilter()
    valid = filters.BooleanFilter(
        method="in_force", help_text="今日有効な同意だけ（false: 撤回・期限切れ・開始前）"
    )

    class Meta:
        model = Consent
        fields = ["case", "person", "valid"]

    def in_force(self, queryset, name, value):
        valid = Consent.objects.valid().values("pk")
        return queryset.filter(pk__in=valid) if value else queryset.exclude(pk__in=valid)


def _consent_rows():
    return Consent.objects.select_related("person", "taken_by", "withdrawal_received_by").prefetch_related(
        "recipients"
    )


class ConsentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """本人同意 of the cases the caller may see (within 本人同意, only when the person consented to
    share the plan: the case page shows the consents with the plans). Recording one here carries no
    signed form; upload the scan on the consent page."""

    serializer_class = ConsentSerializer
    filterset_class = ConsentFilter
    scopes = READ_ONLY

    model = Consent

    def visible(self, user):
        return _consent_rows().filter(pk__in=selectors.consents_visible_to(user).values("pk"))

    def list(self, request):
        return self.list_response(self.filter_queryset(self.get_queryset()))

    def _consent(self, pk) -> Consent:
        consent = selectors.consent_get_for_user(self.request.user, url_pk(pk))
        _within_plan_scope(self.request.user, consent.case)
        return consent

    def retrieve(self, request, pk=None):
        consent = self._consent(pk)
        self.log_detail(consent, consent.case.decision)
        return Response(ConsentSerializer(_consent_rows().get(pk=consent.pk)).data)

    @extend_schema(
        request=ConsentCreateSerializer,
        responses={201: ConsentSerializer},
        parameters=[IDEMPOTENCY_KEY, REPLAYED],
    )
    @idempotent
    def create(self, request):
        """Record a person's consent, as on the consent page (each household member separately), without
        the scanned form. Only those who may change the case (403 for readers, 404 for others)."""
        data = validated(ConsentCreateSerializer, request.data)
        case = case_get_for_user(request.user, data.pop("case"), for_change=True)
        person = Person.objects.filter(pk=data.pop("person"), pk__in=services.case_people(case)).first()
        if person is None:
            raise serializers.ValidationError(
                {"person": "このケースの本人または世帯員を選んでください。"}, code="not_in_household"
            )
        consent = services.consent_record(case=case, person=person, acting_user=request.user, **data)
        return Response(ConsentSerializer(_consent_rows().get(pk=consent.pk)).data, status=201)

    @extend_schema(
        request=ConsentAmendSerializer,
        responses={201: ConsentSerializer, 409: INVALID_TRANSITION},
        parameters=[IDEMPOTENCY_KEY, REPLAYED],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def amend(self, request, pk=None):
        """変更 (services.consent_amend, as on the consent page): a new version with more agencies or
        categories, or a later expiry, linked to the first; the old one is kept and no longer counts.
        Without the scanned form: where the municipality requires it for 書面 (CONSENT_SCAN_REQUIRED),
        a written amendment is refused here (`document_required`) and recorded on the page."""
        consent = self._consent(pk)
        case_get_for_user(request.user, consent.case_id, for_change=True)
        data = validated(ConsentAmendSerializer, request.data)
        new = services.consent_amend(consent=consent, acting_user=request.user, **data)
        return Response(ConsentSerializer(_consent_rows().get(pk=new.pk)).data, status=201)

    @extend_schema(
        request=ConsentWithdrawSerializer, responses={200: ConsentSerializer, 409: INVALID_TRANSITION}
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """撤回: sharing on this consent stops at once (本人同意-based access no other valid consent
        covers is revoked in the same transaction)."""
        consent = self._consent(pk)
        case_get_for_user(request.user, consent.case_id, for_change=True)
        data = validated(ConsentWithdrawSerializer, request.data)
        services.consent_withdraw(consent=consent, acting_user=request.user, **data)
        return Response(ConsentSerializer(_consent_rows().get(pk=consent.pk)).data)


# --- 支援プラン ----------------------------------------------------------------------------------------


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
            _refuse_stale(request, PlanTask.objects.select_for_update().get(pk=task.pk))
            task = services.task_update_status(task=task, acting_user=request.user, status=data["status"])
        task = PlanTask.objects.select_related("agency", "plan").get(pk=task.pk)
        _task_etags([task])
        return Response(
            PlanTaskDetailSerializer(task, context={"user": request.user}).data, headers={"ETag": task.etag}
        )


# --- 支援会議 (社会福祉法 第106条の6) ------------------------------------------------------------------


class SupportMeetingSerializer(serializers.ModelSerializer):
    host = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = SupportMeeting
        fields = [
            "id",
            "title",
            "held_at",
            "acting_body",
            "host",
            "access_from",
            "access_until",
            "created_at",
        ]


class MeetingDecisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    text = serializers.CharField()
    recorded_at = serializers.DateTimeField()


class BriefingRowSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.CharField()


class BriefingGroupSerializer(serializers.Serializer):
    title = serializers.CharField(help_text="本人・支援ケース・相談受付・アセスメント・世帯員（続柄）など")
    rows = BriefingRowSerializer(many=True)


class BriefingSectionSerializer(serializers.Serializer):
    category = serializers.CharField(help_text="情報の範囲（basic・household・issues・health・progress）")
    title = serializers.CharField()
    groups = BriefingGroupSerializer(many=True)


class BriefingContentSerializer(serializers.Serializer):
    """One frozen rendering of a briefing (meetings.briefings): only the items the host chose."""

    case_number = serializers.CharField(help_text="ケース番号（仮名化されていれば空）")
    person = serializers.CharField(help_text="本人の氏名（仮名化されていれば「本人（仮名）」）")
    pseudonymised = serializers.BooleanField(default=False)
    sections = BriefingSectionSerializer(many=True, default=list)

    def to_representation(self, content):
        return super().to_representation({"case_number": "", "person": "", **(content or {})})


class MeetingBriefingSerializer(serializers.ModelSerializer):
    audience = serializers.ChoiceField(
        [("staff", "職員の構成員"), ("external", "外部の構成員")], help_text="呼び出し元に共有された版"
    )
    sections = BriefingContentSerializer(
        source="content", help_text="共有した時点のまま凍結された資料のうち、呼び出し元に共有された版"
    )
    external_sections = BriefingContentSerializer(
        source="external_content",
        allow_null=True,
        help_text="外部の構成員に共有された版（主催者にだけ返します。ほかの呼び出し元には null）",
    )
    decisions = MeetingDecisionSerializer(many=True)

    class Meta:
        model = MeetingBriefing
        fields = [
            "id",
            "audience",
            "sections",
            "external_sections",
            "pseudonymised",
            "shared_at",
            "decisions",
        ]


class SupportMeetingMemberSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    name = serializers.CharField(source="user.get_full_name")
    pledged = serializers.BooleanField(help_text="守秘義務を確認済みか")


class SupportMeetingDetailSerializer(SupportMeetingSerializer):
    """The meeting page's content (meetings.selectors.meeting_detail), attached to the meeting."""

    is_host = serializers.BooleanField(help_text="呼び出し元が主催者か")
    members = SupportMeetingMemberSerializer(many=True, source="detail_members")
    briefings = MeetingBriefingSerializer(many=True, source="detail_briefings")

    class Meta(SupportMeetingSerializer.Meta):
        fields = [*SupportMeetingSerializer.Meta.fields, "minutes", "is_host", "members", "briefings"]


class MeetingAwaitingPledgeSerializer(serializers.Serializer):
    """A meeting before the pledge: its date and host — not its title (it may name the household)."""

    id = serializers.IntegerField()
    held_at = serializers.DateTimeField()
    host = serializers.CharField(source="host.get_full_name", help_text="主催者の氏名")


class MeetingWindowSerializer(StrictSerializer):
    access_from = serializers.DateTimeField(help_text="閲覧期間（開始）")
    access_until = serializers.DateTimeField(help_text="閲覧期間（終了）")
    reason = serializers.CharField(max_length=300, help_text="変更の理由（変更の記録に残ります）")


def _api_time(value):
    # As a serializer's DateTimeField gives it (+09:00); a bare datetime in a Response would be UTC.
    return serializers.DateTimeField().to_representation(value)


class ConfidentialityPledgeSerializer(serializers.Serializer):
    meeting = MeetingAwaitingPledgeSerializer()
    statement = serializers.CharField(help_text="確認する文言")
    acknowledged_at = serializers.DateTimeField(allow_null=True, help_text="確認した日時（未確認なら null）")


class SupportMeetingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """支援会議 the caller hosts, or is a member of with 守秘義務 acknowledged and the access window
    open. Before the pledge a member sees only the meeting's date and host (awaiting-pledge, and the
    pledge itself) — not its title; after the window, nothing. Each member reads the rendering frozen
    for their kind (an external member the pseudonymised one, unless the host chose otherwise). The briefings are frozen as shared: never the live case."""

    serializer_class = SupportMeetingSerializer
    # External members (民生委員 …) hold a meeting-only account and use these endpoints only.
    staff_roles = STAFF_ROLES | {Role.MEETING_MEMBER}
    scopes = READ_ONLY
    pagination_class = type("MeetingCursor", (Cursor,), {"ordering": ("-held_at", "-id")})

    model = SupportMeeting

    def visible(self, user):
        return selectors.meetings_visible_to(user).select_related("host")

    def list(self, request):
        return self.list_response(self.filter_queryset(self.get_queryset()))

    @extend_schema(responses=SupportMeetingDetailSerializer)
    def retrieve(self, request, pk=None):
        meeting = selectors.meeting_get_for_user(request.user, url_pk(pk))
        is_host = meeting.host_id == request.user.pk
        self.log_detail(meeting)
        detail = selectors.meeting_detail(meeting)
        for member in detail["members"]:
            member.pledged = member.user_id in detail["pledged_user_ids"]
        meeting.is_host = is_host
        briefings.attach_contents(detail["briefings"], meeting, request.user)
        meeting.detail_members, meeting.detail_briefings = detail["members"], detail["briefings"]
        return Response(SupportMeetingDetailSerializer(meeting).data)

    @extend_schema(request=MeetingWindowSerializer, responses=SupportMeetingSerializer)
    @action(detail=True, methods=["post"])
    def window(self, request, pk=None):
        """The host shortens or extends the access window, with the reason (services.meeting_window_change,
        as on the meeting page): 403 for a member, 404 for anyone else."""
        meeting = selectors.meeting_get_for_user(request.user, url_pk(pk))
        data = validated(MeetingWindowSerializer, request.data)
        meeting = services.meeting_window_change(meeting=meeting, acting_user=request.user, **data)
        return Response(SupportMeetingSerializer(meeting).data)

    @extend_schema(responses=MeetingAwaitingPledgeSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="awaiting-pledge", pagination_class=None)
    def awaiting_pledge(self, request):
        """Meetings whose window is open for the caller but whose 守秘義務 is not yet acknowledged: date
        and host only, as on the meeting list page."""
        rows = selectors.meetings_awaiting_pledge(request.user)
        return Response(MeetingAwaitingPledgeSerializer(rows, many=True).data)

    @extend_schema(methods=["GET"], responses=ConfidentialityPledgeSerializer)
    @extend_schema(methods=["POST"], request=None, responses=ConfidentialityPledgeSerializer)
    @action(detail=True, methods=["get", "post"])
    def pledge(self, request, pk=None):
        """守秘義務の確認 (社会福祉法 第106条の6第5項): GET shows the statement, POST acknowledges it
        (timestamped, once per member and meeting). The only part of a meeting a member reaches before
        acknowledging; 404 for anyone who is not a member inside the window."""
        meeting = selectors.meeting_awaiting_pledge(request.user, url_pk(pk))
        if meeting is None:
            raise NotFound()
        if request.method == "POST":
            services.pledge_acknowledge(meeting=meeting, acting_user=request.user)
        pledge = ConfidentialityPledge.objects.filter(meeting=meeting, user=request.user).first()
        return Response(
            {
                "meeting": MeetingAwaitingPledgeSerializer(meeting).data,
                "statement": pledge.statement if pledge else services.PLEDGE_STATEMENT,
                "acknowledged_at": _api_time(pledge.acknowledged_at) if pledge else None,
            }
        )


# --- 重層的支援会議 ----------------------------------------------------------------------------------------


class AgendaResourceGapSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField()


class AgendaItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="plan（プランの適切性）・evaluation・closure・resources")
    case = serializers.IntegerField(source="case_id")
    case_number = serializers.CharField(source="case.number")
    plan = serializers.IntegerField(source="plan_id")
    plan_version = serializers.IntegerField(source="plan.version")
    outcome = serializers.CharField()
    notes = serializers.CharField()
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    resource_gaps = AgendaResourceGapSerializer(many=True, source="resource_gaps.all")


class PlanConferenceSerializer(serializers.ModelSerializer):
    host = serializers.SlugRelatedField(slug_field="username", read_only=True)
    agencies = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = PlanConference
        fields = ["id", "title", "held_at", "host", "agencies", "created_at"]


class PlanConferenceDetailSerializer(PlanConferenceSerializer):
    items = AgendaItemSerializer(many=True, source="detail_items", help_text="議題と結果（氏名は含みません）")

    class Meta(PlanConferenceSerializer.Meta):
        fields = [*PlanConferenceSerializer.Meta.fields, "minutes", "items"]


class PlanApproveSerializer(StrictSerializer):
    plan = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="協議する支援プラン（作成中）のID"
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="", help_text="協議内容")


class ConsentGapSerializer(serializers.Serializer):
    person = serializers.IntegerField(source="person.pk", help_text="対象者の本人ID")
    relationship = serializers.CharField(help_text="続柄（ケースの本人は「本人」）")
    has_consent = serializers.BooleanField(help_text="有効な本人同意が1件でもあるか")
    missing_agencies = serializers.SerializerMethodField(
        help_text="同意の共有先に含まれていないプランの機関のコード"
    )
    consent_form = serializers.SerializerMethodField(help_text="この人の同意を記録（または変更）する画面")

    def get_missing_agencies(self, gap) -> list[str]:
        return [agency.code for agency in gap.missing]

    def get_consent_form(self, gap) -> str:
        from django.urls import reverse

        if gap.current_id is not None:
            return reverse("meetings:consent_amend", args=[gap.current_id])
        return reverse("meetings:consent_new", args=[self.context["case"].pk]) + f"?person={gap.person.pk}"


class ConsentMissingSerializer(serializers.Serializer):
    """409 `consent_missing`: the error body, and `missing` per person."""

    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    errors = serializers.ListField(child=serializers.DictField())
    missing = ConsentGapSerializer(many=True)


class ConferenceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """重層的支援会議 records (相談支援包括化推進員 only, as the pages): attending agencies, minutes, and
    each agenda item with its outcome."""

    serializer_class = PlanConferenceSerializer
    permission_classes = [ApiAccess, CoordinatorsOnly]
    scopes = READ_ONLY
    pagination_class = type("ConferenceCursor", (Cursor,), {"ordering": ("-held_at", "-id")})

    model = PlanConference

    def visible(self, user):
        return selectors.conferences_for(user).prefetch_related("agencies")

    def list(self, request):
        return self.list_response(self.filter_queryset(self.get_queryset()))

    @extend_schema(responses=PlanConferenceDetailSerializer)
    def retrieve(self, request, pk=None):
        conference = selectors.conference_get_for_user(request.user, url_pk(pk))
        self.log_detail(conference)
        conference.detail_items = selectors.conference_items_for(request.user, conference)
        return Response(PlanConferenceDetailSerializer(conference).data)

    @extend_schema(
        request=PlanApproveSerializer,
        responses={200: AgendaItemSerializer, 409: ConsentMissingSerializer, **TRANSITION_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """プランの適切性の協議 → 承認 (services.plan_approve, as on the conference page). Refused with 409
        `consent_missing` when a person the plan concerns has no valid consent on the case naming every
        plan agency: `missing` lists each such person (ID and 続柄, no name), the agencies left out and
        the page where their consent is recorded or amended."""
        conference = selectors.conference_get_for_user(request.user, url_pk(pk))
        data = validated(PlanApproveSerializer, request.data)
        plan = selectors.plan_get_for_user(request.user, data["plan"])
        try:
            item = services.plan_approve(
                conference=conference, plan=plan, acting_user=request.user, notes=data["notes"]
            )
        except services.ConsentMissing as refusal:
            body = {
                "status": 409,
                "code": "consent_missing",
                "message": "対象者の本人同意が、プランのすべての機関を共有先に含んでいません。",
                "errors": [
                    {"field": "members", "code": "consent_missing", "message": gap.message}
                    for gap in refusal.gaps
                ],
                "missing": ConsentGapSerializer(refusal.gaps, many=True, context={"case": plan.case}).data,
            }
            return Response(body, status=409)
        item = conference.items.select_related("case", "plan", "decided_by").get(pk=item.pk)
        return Response(AgendaItemSerializer(item).data)
