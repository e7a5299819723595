"""支援ケース (/cases/): the transitions as actions, 支援経過記録 and アセスメント."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from cases import selectors, services
from cases.api.common import PersonRefSerializer, agency_field, code_field
from cases.api.handovers import HandoverSerializer, HandoverStartSerializer
from cases.models import Assessment, Case, CaseStatus, Code, CodeKind, NoteKind, ProgressNote
from jusou.api.base import (
    IF_MATCH_OPTIONAL,
    ApiViewSet,
    PolicySerializer,
    StrictSerializer,
    api_read_log,
    etag_of,
    expected_version,
    idempotent,
    url_pk,
    validated,
)
from jusou.api.errors import STALE_WRITE_RESPONSES, TRANSITION_RESPONSES, PreconditionFailed
from jusou.api.pagination import Cursor
from jusou.api.schema import ETAG, IDEMPOTENCY_KEY, IF_MATCH, REPLAYED
from jusou.models import ApiScope, User


class CaseSerializer(PolicySerializer):
    person = PersonRefSerializer(read_only=True)
    owning_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    lead_worker = serializers.SlugRelatedField(slug_field="username", read_only=True)
    issues = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    close_reason = serializers.SlugRelatedField(slug_field="code", read_only=True)
    suspend_reason = serializers.SlugRelatedField(slug_field="code", read_only=True)
    allowed_transitions = serializers.SerializerMethodField(
        help_text="呼び出し元が行える状態変更（一覧では null）"
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "status",
            "person",
            "household",
            "owning_agency",
            "lead_worker",
            "issues",
            "risk_abuse",
            "risk_suicide",
            "risk_life",
            "next_follow_up_on",
            "close_reason",
            "suspend_reason",
            "opened_at",
            "closed_at",
            "version",
            "allowed_transitions",
        ]

    def get_allowed_transitions(self, case) -> list[str] | None:
        return getattr(case, "actions", None)


class CaseUpdateSerializer(StrictSerializer):
    risk_abuse = serializers.BooleanField(required=False)
    risk_suicide = serializers.BooleanField(required=False)
    risk_life = serializers.BooleanField(required=False)
    next_follow_up_on = serializers.DateField(required=False, allow_null=True)
    issues = code_field(CodeKind.ISSUE, many=True, required=False)
    lead_worker = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True), required=False
    )


class TransitionSerializer(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class CloseSerializer(TransitionSerializer):
    close_reason = code_field(CodeKind.CLOSE_REASON)
    next_lead_agency = agency_field(
        required=False,
        allow_null=True,
        help_text="引継ぎ先の主担当機関のコード（終結理由 lead_agency「主担当機関へ移行」では必須）。ケースはその機関へ引き継がれる",
    )


class SuspendSerializer(TransitionSerializer):
    suspend_reason = code_field(CodeKind.SUSPEND_REASON)


class CaseFilter(filters.FilterSet):
    """Parsed here, applied by selectors.case_list — the same filters as the case list page."""

    scope = filters.ChoiceFilter(
        choices=[("mine", "自分が主担当"), ("agency", "所属機関"), ("all", "見られるすべて")],
        method="noop",
        help_text="既定: all（見られるすべて）",
    )
    status = filters.ChoiceFilter(choices=CaseStatus.choices, method="noop")
    issue = filters.CharFilter(method="noop", help_text="課題分類のコード")
    risk = filters.BooleanFilter(method="noop")
    worker = filters.CharFilter(method="noop", help_text="主担当者のユーザー名")
    overdue = filters.BooleanFilter(method="noop")
    q = filters.CharFilter(method="noop", help_text="本人の氏名・ふりがな")

    class Meta:
        model = Case
        fields = []

    def noop(self, queryset, name, value):
        return queryset

    @property
    def qs(self):
        data = self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}
        issue = (
            Code.objects.filter(kind=CodeKind.ISSUE, code=data.get("issue")).first()
            if data.get("issue")
            else None
        )
        worker = User.objects.filter(username=data.get("worker")).first() if data.get("worker") else None
        return selectors.case_list(
            self.request.user,
            selectors.CaseFilters(
                scope=data.get("scope") or "all",
                status=data.get("status") or "",
                issue=issue.pk if issue else (-1 if data.get("issue") else None),
                risk=bool(data.get("risk")),
                worker=worker.pk if worker else (-1 if data.get("worker") else None),
                overdue=bool(data.get("overdue")),
                q=(data.get("q") or "")[:100],
            ),
        )


TRANSITIONS = {
    # action name: (target status, request serializer)
    "assess": (CaseStatus.ASSESSING, TransitionSerializer),
    "support": (CaseStatus.SUPPORTING, TransitionSerializer),
    "refer": (CaseStatus.REFERRED, TransitionSerializer),
    "close": (CaseStatus.CLOSED, CloseSerializer),
    "suspend": (CaseStatus.SUSPENDED, SuspendSerializer),
    "resume": (CaseStatus.SUPPORTING, TransitionSerializer),
}


class NoteSerializer(PolicySerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ProgressNote
        fields = ["id", "case", "occurred_at", "kind", "content", "author", "created_at"]
        read_only_fields = ["case", "author", "created_at"]


class NoteCreateSerializer(StrictSerializer):
    kind = serializers.ChoiceField(NoteKind.choices)
    content = serializers.CharField()
    occurred_at = serializers.DateTimeField(required=False)


class AssessmentSerializer(PolicySerializer):
    issues = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "case",
            "version",
            "person_wishes",
            "family_wishes",
            "issues",
            "issues_detail",
            "household_issues",
            "strengths",
            "life_history",
            "risks",
            "formulation",
            "involved_agencies",
            "author",
            "created_at",
        ]


class AssessmentCreateSerializer(StrictSerializer):
    issues = code_field(CodeKind.ISSUE, many=True, allow_empty=False)
    issues_detail = serializers.CharField()
    formulation = serializers.CharField()
    person_wishes = serializers.CharField(required=False, allow_blank=True)
    family_wishes = serializers.CharField(required=False, allow_blank=True)
    household_issues = serializers.CharField(required=False, allow_blank=True)
    strengths = serializers.CharField(required=False, allow_blank=True)
    life_history = serializers.CharField(required=False, allow_blank=True)
    risks = serializers.CharField(required=False, allow_blank=True)
    involved_agencies = serializers.CharField(required=False, allow_blank=True)


# A move: 409 invalid_transition when the case's state does not allow it (also for the loser of two
# concurrent moves), 412 stale_version when If-Match names an older version.
TRANSITION_SCHEMA = {200: CaseSerializer, **TRANSITION_RESPONSES}


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """支援ケース. Lists carry no 要配慮個人情報 (issues and risk flags are null); the detail shows what
    the caller's basis opens — under 本人同意 only the consented categories."""

    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    pagination_class = type("CaseCursor", (Cursor,), {"ordering": ("-opened_at", "-id")})
    scopes = {"read": ApiScope.CASES_READ, "write": ApiScope.CASES_WRITE}

    model = Case

    def visible(self, user):
        return selectors.cases_visible_to(user)

    def list(self, request):
        return self.list_response(
            self.filter_queryset(self.get_queryset()),
            lambda page: selectors.case_list_rows(request.user, page),
        )

    def _case(self, pk, *, for_change=False, section=None):
        case = selectors.case_get_for_user(self.request.user, url_pk(pk), for_change=for_change)
        if section is not None and not case.decision.covers(section):
            raise PermissionDenied("本人同意の範囲に含まれない情報です。", code="outside_consent")
        return case

    def _case_response(self, case, status=200):
        can_change = selectors.case_can_change(self.request.user, case)
        case.actions = case.allowed_transitions() if can_change else []
        return Response(CaseSerializer(case).data, status=status, headers={"ETag": etag_of(case)})

    @extend_schema(parameters=[ETAG])
    def retrieve(self, request, pk=None):
        case = self._case(pk)
        self.log_detail(case)
        return self._case_response(case)

    @extend_schema(
        request=CaseUpdateSerializer,
        responses={200: CaseSerializer, **STALE_WRITE_RESPONSES},
        parameters=[IF_MATCH, ETAG],
    )
    def partial_update(self, request, pk=None):
        """Change risk flags, issues, the follow-up date or the lead worker. If-Match must carry the
        ETag (the case's version) you read; an older one answers 412."""
        case = self._case(pk, for_change=True)
        version = expected_version(request)
        data = validated(CaseUpdateSerializer, request.data)
        current = {
            "risk_abuse": case.risk_abuse,
            "risk_suicide": case.risk_suicide,
            "risk_life": case.risk_life,
            "next_follow_up_on": case.next_follow_up_on,
            "issues": list(case.issues.all()),
        }
        if version != case.version:
            raise PreconditionFailed()
        case = services.case_update(
            case=case, acting_user=request.user, expected_version=version, **{**current, **data}
        )
        return self._case_response(selectors.case_get_for_user(request.user, case.pk))

    def _transition(self, request, pk, name):
        to_status, serializer = TRANSITIONS[name]
        case = self._case(pk, for_change=True)
        data = validated(serializer, request.data)
        version = expected_version(request) if request.headers.get("If-Match") else None
        if version is not None and version != case.version:
            raise PreconditionFailed()
        case = services.case_transition(
            case=case, to_status=to_status, acting_user=request.user, expected_version=version, **data
        )
        return self._case_response(selectors.case_get_for_user(request.user, case.pk))

    @extend_schema(
        request=TransitionSerializer, responses=TRANSITION_SCHEMA, parameters=[IF_MATCH_OPTIONAL, ETAG]
    )
    @action(detail=True, methods=["post"])
    def assess(self, request, pk=None):
        """受付 → アセスメント中."""
        return self._transition(request, pk, "assess")

    @extend_schema(
        request=TransitionSerializer, responses=TRANSITION_SCHEMA, parameters=[IF_MATCH_OPTIONAL, ETAG]
    )
    @action(detail=True, methods=["post"])
    def support(self, request, pk=None):
        """→ 支援中 (after an assessment)."""
        return self._transition(request, pk, "support")

    @extend_schema(
        request=TransitionSerializer, responses=TRANSITION_SCHEMA, parameters=[IF_MATCH_OPTIONAL, ETAG]
    )
    @action(detail=True, methods=["post"])
    def refer(self, request, pk=None):
        """多機関協働へのつなぎ: needs an assessment and the reason (what makes the case complex)."""
        return self._transition(request, pk, "refer")

    @extend_schema(request=CloseSerializer, responses=TRANSITION_SCHEMA, parameters=[IF_MATCH_OPTIONAL, ETAG])
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """終結, with a 終結理由 code."""
        return self._transition(request, pk, "close")

    @extend_schema(
        request=SuspendSerializer, responses=TRANSITION_SCHEMA, parameters=[IF_MATCH_OPTIONAL, ETAG]
    )
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        """中断, with a 中断理由 code."""
        return self._transition(request, pk, "suspend")

    @extend_schema(
        request=TransitionSerializer, responses=TRANSITION_SCHEMA, parameters=[IF_MATCH_OPTIONAL, ETAG]
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """中断 → 支援中, with the reason for resuming."""
        return self._transition(request, pk, "resume")

    @extend_schema(
        request=HandoverStartSerializer,
        responses={201: HandoverSerializer, **TRANSITION_RESPONSES},
        parameters=[IF_MATCH_OPTIONAL],
    )
    @action(detail=True, methods=["post"])
    def handover(self, request, pk=None):
        """主担当機関の移行 of a 支援中 or 終結 case (again, after a decline): the case moves to the agency
        now and waits for it to accept; the previous 担当 keep read-only access for HANDOVER_READ_DAYS."""
        case = self._case(pk, for_change=True)
        data = validated(HandoverStartSerializer, request.data)
        version = expected_version(request) if request.headers.get("If-Match") else None
        if version is not None and version != case.version:
            raise PreconditionFailed()
        handover = services.case_handover_start(case=case, acting_user=request.user, **data)
        return Response(HandoverSerializer(handover).data, status=201)

    @extend_schema(methods=["GET"], responses=NoteSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=NoteCreateSerializer,
        responses={201: NoteSerializer},
        parameters=[IDEMPOTENCY_KEY, REPLAYED],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=Cursor, filter_backends=[])
    def notes(self, request, pk=None):
        """支援経過記録 of the case (newest first), or add one."""
        if request.method == "POST":
            return self._note_add(request, pk)
        case = self._case(pk, section="progress")
        page = self.paginate_queryset(selectors.case_notes(case).order_by("-id"))
        api_read_log(request, obj=case, detail=f"支援経過記録 {len(page)}件")
        return self.get_paginated_response(NoteSerializer(page, many=True).data)

    @idempotent
    def _note_add(self, request, pk):
        case = self._case(pk, for_change=True)
        data = validated(NoteCreateSerializer, request.data)
        note = services.progress_note_add(case=case, acting_user=request.user, **data)
        return Response(NoteSerializer(note).data, status=201)

    @extend_schema(methods=["GET"], responses=AssessmentSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=AssessmentCreateSerializer,
        responses={201: AssessmentSerializer},
        parameters=[IDEMPOTENCY_KEY, REPLAYED],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def assessments(self, request, pk=None):
        """Every version of the assessment (newest first), or record a new version."""
        if request.method == "POST":
            return self._assessment_add(request, pk)
        case = self._case(pk, section="issues")
        rows = list(case.assessments.select_related("author").prefetch_related("issues").order_by("-version"))
        api_read_log(request, obj=case, detail=f"アセスメント {len(rows)}版")
        return Response(AssessmentSerializer(rows, many=True).data)

    @idempotent
    def _assessment_add(self, request, pk):
        case = self._case(pk, for_change=True)
        data = validated(AssessmentCreateSerializer, request.data)
        assessment = services.assessment_record(case=case, acting_user=request.user, **data)
        return Response(AssessmentSerializer(assessment).data, status=201)
