"""相談受付 (/consultations/), as on the 相談受付 page: the person, the household and its duplicate check."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from cases import selectors, services
from cases.api.common import agency_field, code_field
from cases.api.people import PersonWriteSerializer
from cases.models import CodeKind, Consultation, ConsultationOutcome, Urgency
from jusou.api.base import ApiViewSet, PolicySerializer, StrictSerializer, idempotent, url_pk, validated
from jusou.api.filters import IdFilter, StrictFilterBackend
from jusou.api.schema import IDEMPOTENCY_KEY, REPLAYED
from jusou.models import ApiScope


class ConsultationSerializer(PolicySerializer):
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    route = serializers.SlugRelatedField(slug_field="code", read_only=True)
    first_noticed_by = serializers.SlugRelatedField(slug_field="code", read_only=True)
    issues = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    main_issue = serializers.SlugRelatedField(slug_field="code", read_only=True)
    referred_to = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Consultation
        fields = [
            "id",
            "agency",
            "received_at",
            "recorded_by",
            "channel",
            "route",
            "first_noticed_by",
            "consulter_name",
            "person",
            "household",
            "issues",
            "main_issue",
            "urgency",
            "summary",
            "action_taken",
            "outcome",
            "referred_to",
            "case",
        ]


class NewPersonSerializer(PersonWriteSerializer):
    pass


class IntakeMemberSerializer(StrictSerializer):
    """A household member the consultation concerns: an existing person (`person`) or a new one
    (`new_person`), and their place in the household."""

    person = serializers.IntegerField(required=False, allow_null=True, help_text="既に登録されている方のID")
    new_person = NewPersonSerializer(required=False, allow_null=True, help_text="新しく登録する方")
    relationship = serializers.CharField(max_length=30, help_text="本人から見た続柄（例: 長男）")
    lives_together = serializers.BooleanField(required=False, default=True)
    is_main_carer = serializers.BooleanField(required=False, default=False)
    own_issues = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def validate(self, data):
        if bool(data.get("person")) == bool(data.get("new_person")):
            raise serializers.ValidationError(
                "person か new_person のどちらか一方を指定してください。", code="person_conflict"
            )
        return data


class ConsultationCreateSerializer(StrictSerializer):
    received_at = serializers.DateTimeField()
    channel = code_field(CodeKind.CHANNEL)
    route = code_field(CodeKind.ROUTE)
    first_noticed_by = code_field(CodeKind.ROUTE, required=False, allow_null=True)
    consulter_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    issues = code_field(CodeKind.ISSUE, many=True, allow_empty=False)
    main_issue = code_field(CodeKind.ISSUE)
    urgency = serializers.ChoiceField(Urgency.choices, required=False)
    summary = serializers.CharField()
    action_taken = serializers.CharField(required=False, allow_blank=True)
    outcome = serializers.ChoiceField(ConsultationOutcome.choices)
    referred_to = agency_field(required=False, allow_null=True)
    person = serializers.IntegerField(required=False, allow_null=True, help_text="既に登録されている本人のID")
    new_person = NewPersonSerializer(required=False, allow_null=True, help_text="新しく登録する本人")
    duplicate_confirmed = serializers.BooleanField(
        required=False, default=False, help_text="重複の可能性を確認したうえで新しい本人として登録する"
    )
    household_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    relationship = serializers.CharField(max_length=30, required=False, allow_blank=True)
    members = IntakeMemberSerializer(
        many=True, required=False, help_text="この相談に関わる世帯員（本人以外）"
    )
    risk_abuse = serializers.BooleanField(required=False, default=False, help_text="開くケースのリスク: 虐待")
    risk_suicide = serializers.BooleanField(required=False, default=False, help_text="自殺リスク")
    risk_life = serializers.BooleanField(required=False, default=False, help_text="生命の危険")

    def validate(self, data):
        if data.get("person") and data.get("new_person"):
            raise serializers.ValidationError(
                "person と new_person はどちらか一方だけを指定してください。", code="person_conflict"
            )
        return data


class DuplicateSuspectedError(serializers.Serializer):
    """The API's error body (jusou.api.errors); with code `duplicate_suspected` also the candidates.
    Other conflicts here (an Idempotency-Key reused with another request) carry the plain body."""

    status = serializers.IntegerField()
    code = serializers.CharField(help_text="duplicate_suspected・idempotency_key_reused など")
    message = serializers.CharField()
    errors = serializers.ListField(child=serializers.DictField(), help_text="常に空")
    candidates = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="呼び出し元が見られる候補の本人ID"
    )
    known_elsewhere = serializers.BooleanField(
        required=False, help_text="呼び出し元が見られない機関で把握されている可能性"
    )
    member_candidates = serializers.DictField(
        child=serializers.ListField(child=serializers.IntegerField()),
        required=False,
        help_text="世帯員（members の添字）ごとの、呼び出し元が見られる候補の本人ID",
    )


class ConsultationFilter(filters.FilterSet):
    received_from = filters.DateFilter(field_name="received_at", lookup_expr="date__gte")
    received_to = filters.DateFilter(field_name="received_at", lookup_expr="date__lte")
    outcome = filters.ChoiceFilter(choices=ConsultationOutcome.choices)
    person = IdFilter()

    class Meta:
        model = Consultation
        fields = ["received_from", "received_to", "outcome", "person"]


class ConsultationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """相談受付. A 福祉総合システム pushes new consultations (and referrals) here, with an Idempotency-Key."""

    serializer_class = ConsultationSerializer
    filterset_class = ConsultationFilter
    filter_backends = [StrictFilterBackend, OrderingFilter]
    ordering_fields = ["received_at", "id"]
    ordering = ["-received_at", "-id"]
    scopes = {"read": ApiScope.CONSULTATIONS_READ, "write": ApiScope.CONSULTATIONS_WRITE}

    model = Consultation

    def visible(self, user):
        return selectors.consultations_visible_to(user).select_related(
            "agency",
            "recorded_by",
            "channel",
            "route",
            "first_noticed_by",
            "main_issue",
            "referred_to",
            "person",
        )

    def list(self, request):
        return self.list_response(
            self.filter_queryset(self.get_queryset()),
            lambda page: selectors.consultation_list_rows(request.user, page),
        )

    def retrieve(self, request, pk=None):
        consultation = selectors.consultation_get_for_user(request.user, url_pk(pk))
        self.log_detail(consultation)
        return Response(ConsultationSerializer(consultation).data)

    @extend_schema(
        request=ConsultationCreateSerializer,
        responses={201: ConsultationSerializer, 409: DuplicateSuspectedError},
        parameters=[IDEMPOTENCY_KEY, REPLAYED],
    )
    @idempotent
    def create(self, request):
        """Record a consultation, as on the 相談受付 page: an existing person (`person`), a new one
        (`new_person`: refused with 409 `duplicate_suspected` while they may already be known, until
        resent with `duplicate_confirmed`), or nobody (anonymous)."""
        data = validated(ConsultationCreateSerializer, request.data)
        person_id, new_person = data.pop("person", None), data.pop("new_person", None)
        person = selectors.person_to_link(request.user, person_id) if person_id else None
        # A member outside the caller's basis is not found, exactly like a missing id (404).
        members = [
            services.IntakeMember(
                relationship=m["relationship"],
                new_person=m.get("new_person"),
                lives_together=m["lives_together"],
                is_main_carer=m["is_main_carer"],
                own_issues=m["own_issues"],
                person=selectors.person_to_link(request.user, m["person"]) if m.get("person") else None,
            )
            for m in data.pop("members", [])
        ]
        risks = {flag: data.pop(flag) for flag in services.RISK_FLAGS}
        try:
            consultation = services.intake_record(
                acting_user=request.user,
                person=person,
                new_person=new_person,
                duplicate_confirmed=data.pop("duplicate_confirmed"),
                household_name=data.pop("household_name", ""),
                relationship=data.pop("relationship", "") or "本人",
                members=members,
                risks=risks,
                **data,
            )
        except services.DuplicateSuspected as suspected:
            subject = suspected.checks.get("")
            return Response(
                {
                    "status": 409,
                    "code": "duplicate_suspected",
                    "message": " ".join(suspected.messages),
                    "candidates": [p.pk for p in subject.visible] if subject else [],
                    "known_elsewhere": any(c.known_elsewhere for c in suspected.checks.values()),
                    "errors": [],
                    "member_candidates": {
                        target.removeprefix("members."): [p.pk for p in check.visible]
                        for target, check in suspected.checks.items()
                        if target
                    },
                },
                status=409,
            )
        return Response(ConsultationSerializer(consultation).data, status=201)
