"""包括的相談支援 through the API: people, households, consultations, cases (with their transitions as
actions), assessments and progress notes. Aggregate counts are the statistics report's
(jusou.api.statistics).

Every read starts from the same selectors as the pages (a record outside the caller's basis answers
404), every write goes through the same services (403 where the caller may read but not write),
and whatever the lists and search results mask on the pages is masked here too.
"""

from django.db import transaction
from django.db.models import Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from cases import selectors, services
from cases.models import (
    LIVING_SITUATION_FIELDS,
    Assessment,
    CareLevel,
    Case,
    CaseHandover,
    CaseStatus,
    Code,
    CodeKind,
    Consultation,
    ConsultationOutcome,
    DisabilitySupportLevel,
    Employment,
    HandoverStatus,
    HealthInsurance,
    Household,
    Housing,
    NoteKind,
    Pension,
    Person,
    ProgressNote,
    PublicAssistance,
    Urgency,
)
from cases.policy import apply_household_policy, mask_sensitive
from jusou.api.base import (
    IF_MATCH_OPTIONAL,
    ApiViewSet,
    PolicySerializer,
    StrictSerializer,
    api_read_log,
    etag_of,
    expected_version,
    idempotent,
    require_if_match,
    url_pk,
    validated,
)
from jusou.api.errors import STALE_WRITE_RESPONSES, TRANSITION_RESPONSES, PreconditionFailed
from jusou.api.filters import IdFilter, StrictFilterBackend
from jusou.api.pagination import Cursor
from jusou.api.schema import ETAG, IDEMPOTENCY_KEY, IF_MATCH, REPLAYED
from jusou.models import Agency, ApiScope, User
from jusou.text import normalize_for_search


def code_field(kind, **kwargs):
    """A code-list entry by its stable code (DOMAIN.md §6), e.g. "phone"; only active entries."""
    return serializers.SlugRelatedField(
        slug_field="code", queryset=Code.objects.filter(kind=kind, is_active=True), **kwargs
    )


def agency_field(**kwargs):
    return serializers.SlugRelatedField(
        slug_field="code", queryset=Agency.objects.filter(is_active=True), **kwargs
    )


# --- People and households -------------------------------------------------------------------------


class PersonRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Person
        fields = ["id", "name", "kana"]


class PersonSerializer(PolicySerializer):
    attributes = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    registered_by_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    address_confidential = serializers.SerializerMethodField(help_text="住所秘匿の対象か")

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "kana",
            "birth_date",
            "birth_date_precision",
            "sex",
            "address",
            "phone",
            "email",
            "atena_number",
            "attributes",
            "notes",
            *LIVING_SITUATION_FIELDS,
            "registered_by_agency",
            "created_at",
            "address_confidential",
        ]

    def get_address_confidential(self, person) -> bool:
        return bool(getattr(person, "address_confidential", False))


class PersonWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    kana = serializers.CharField(max_length=100, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    birth_date_precision = serializers.ChoiceField(
        Person._meta.get_field("birth_date_precision").choices, required=False
    )
    sex = serializers.ChoiceField(Person._meta.get_field("sex").choices, required=False)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    atena_number = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="宛名番号（住民記録システムとの連携用）",
    )
    attributes = code_field(CodeKind.ATTRIBUTE, many=True, required=False)
    notes = serializers.CharField(required=False, allow_blank=True)
    # 相談受付・申込票 B票 (生活の状況); "" is 不明・未確認
    care_level = serializers.ChoiceField(
        CareLevel.choices, required=False, allow_blank=True, help_text="要介護度"
    )
    disability_support_level = serializers.ChoiceField(
        DisabilitySupportLevel.choices, required=False, allow_blank=True, help_text="障害支援区分"
    )
    handbook_physical = serializers.BooleanField(required=False, help_text="身体障害者手帳")
    handbook_intellectual = serializers.BooleanField(required=False, help_text="療育手帳")
    handbook_mental = serializers.BooleanField(required=False, help_text="精神障害者保健福祉手帳")
    public_assistance = serializers.ChoiceField(
        PublicAssistance.choices, required=False, allow_blank=True, help_text="生活保護"
    )
    health_insurance = serializers.ChoiceField(
        HealthInsurance.choices, required=False, allow_blank=True, help_text="健康保険"
    )
    pension = serializers.ChoiceField(Pension.choices, required=False, allow_blank=True, help_text="年金")
    employment = serializers.ChoiceField(
        Employment.choices, required=False, allow_blank=True, help_text="仕事"
    )
    housing = serializers.ChoiceField(Housing.choices, required=False, allow_blank=True, help_text="住居")


class PersonUpdateSerializer(PersonWriteSerializer):
    name = serializers.CharField(max_length=100, required=False)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="変更の理由")


class PersonFilter(filters.FilterSet):
    q = filters.CharFilter(
        method="search", help_text="氏名・ふりがな（漢字・ひらがな・カタカナ・半角を区別しない）"
    )
    atena_number = filters.CharFilter()
    birth_date = filters.DateFilter()

    class Meta:
        model = Person
        fields = ["q", "atena_number", "birth_date"]

    def search(self, queryset, name, value):
        key = normalize_for_search(value)
        return (
            queryset.filter(Q(name_search__contains=key) | Q(kana_search__contains=key)) if key else queryset
        )


class PersonViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """本人・対象者. Lists carry no 要配慮個人情報; whereabouts under 住所秘匿 show only to the staff
    personally assigned to the person's case."""

    serializer_class = PersonSerializer
    filterset_class = PersonFilter
    filter_backends = [StrictFilterBackend, OrderingFilter]
    ordering_fields = ["id", "kana_search", "created_at"]
    ordering = ["id"]
    scopes = {"read": ApiScope.PEOPLE_READ, "write": ApiScope.PEOPLE_WRITE}

    model = Person

    def visible(self, user):
        return selectors.persons_visible_to(user).select_related("registered_by_agency")

    def list(self, request):
        return self.list_response(
            self.filter_queryset(self.get_queryset()), lambda page: selectors.person_rows(request.user, page)
        )

    @extend_schema(parameters=[ETAG])
    def retrieve(self, request, pk=None):
        person = selectors.person_get_for_user(request.user, url_pk(pk))
        self.log_detail(person)
        return Response(PersonSerializer(person).data, headers={"ETag": etag_of(person)})

    @extend_schema(
        request=PersonWriteSerializer,
        responses={201: PersonSerializer},
        parameters=[IDEMPOTENCY_KEY, ETAG, REPLAYED],
    )
    @idempotent
    def create(self, request):
        """Register a person for the caller's agency (no duplicate check here: consultations do it)."""
        data = validated(PersonWriteSerializer, request.data)
        person = services.person_register(acting_user=request.user, **data)
        return Response(PersonSerializer(person).data, status=201, headers={"ETag": etag_of(person)})

    @extend_schema(
        request=PersonUpdateSerializer,
        responses={200: PersonSerializer, **STALE_WRITE_RESPONSES},
        parameters=[IF_MATCH, ETAG],
    )
    def partial_update(self, request, pk=None):
        """Correct a person's details or link their 宛名番号. Send the ETag you read as If-Match."""
        data = validated(PersonUpdateSerializer, request.data)
        person = selectors.person_get_for_user(request.user, url_pk(pk), log=False)
        with transaction.atomic():
            locked = Person.objects.select_for_update().get(pk=person.pk)
            require_if_match(request, locked)
            attributes = data.pop("attributes", None)
            reason = data.pop("reason", "")
            services.person_update(
                person=locked,
                acting_user=request.user,
                reason=reason or "API による更新",
                attributes=attributes,
                **data,
            )
        person = selectors.person_get_for_user(request.user, person.pk, log=False)
        return Response(PersonSerializer(person).data, headers={"ETag": etag_of(person)})


class MemberSerializer(serializers.Serializer):
    person = PersonRefSerializer()
    relationship = serializers.CharField()
    lives_together = serializers.BooleanField()
    is_main_carer = serializers.BooleanField()
    is_key_person = serializers.BooleanField()
    joined_on = serializers.DateField()
    left_on = serializers.DateField(allow_null=True)


class HouseholdSerializer(PolicySerializer):
    registered_by_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    members = serializers.SerializerMethodField()

    class Meta:
        model = Household
        fields = ["id", "name", "address", "notes", "registered_by_agency", "created_at", "members"]

    def get_members(self, household) -> list[dict]:
        members = getattr(household, "current_members", None)
        return [] if members is None else MemberSerializer(members, many=True).data


class HouseholdViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """世帯 with their current members (the address masked when it would reveal a 住所秘匿 member)."""

    serializer_class = HouseholdSerializer
    scopes = {"read": ApiScope.PEOPLE_READ}

    model = Household

    def visible(self, user):
        return selectors.households_visible_to(user).select_related("registered_by_agency")

    def list(self, request):
        def rows(page):
            return mask_sensitive(apply_household_policy(request.user, page))

        return self.list_response(self.filter_queryset(self.get_queryset()), rows)

    def retrieve(self, request, pk=None):
        household = selectors.household_get_for_user(request.user, url_pk(pk))
        household.current_members = selectors.household_panel(request.user, household, household.decision)
        self.log_detail(household)
        return Response(HouseholdSerializer(household).data)


# --- Consultations ---------------------------------------------------------------------------------


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


# --- Cases -------------------------------------------------------------------------------------------


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


class HandoverSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.number", read_only=True)
    from_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    to_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CaseHandover
        fields = [
            "id",
            "case",
            "case_number",
            "status",
            "from_agency",
            "to_agency",
            "reason",
            "requested_by",
            "requested_at",
            "read_until",
            "decided_by",
            "decided_at",
            "decline_reason",
        ]


class HandoverStartSerializer(StrictSerializer):
    to_agency = agency_field(help_text="引継ぎ先の主担当機関のコード")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


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


# --- 主担当機関の移行 -------------------------------------------------------------------------------


class HandoverAcceptSerializer(StrictSerializer):
    lead_worker = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="引継ぎ先の機関の主担当者（省略: 受け入れる本人）",
    )


class HandoverDeclineSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000, help_text="辞退の理由（引継ぎ元に伝わる）")


class HandoverFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=HandoverStatus.choices)
    waiting = filters.BooleanFilter(method="for_my_agencies", help_text="true: 所属機関が受入れ待ちのもの")

    class Meta:
        model = CaseHandover
        fields = []

    def for_my_agencies(self, queryset, name, value):
        if value:
            agencies = [
                m.agency_id
                for m in self.request.user.active_memberships
                if m.agency_id and m.role in services.HANDOVER_TAKERS
            ]
            return queryset.filter(status=HandoverStatus.PENDING, to_agency_id__in=agencies)
        return queryset


class HandoverViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """主担当機関の移行: handovers of the cases the caller may see (newest first); the receiving agency's
    相談員・推進員 accept (naming the 主担当者) or decline (with the reason: the case goes back). Starting
    one: POST /cases/{id}/handover/, or 終結 with next_lead_agency."""

    serializer_class = HandoverSerializer
    filterset_class = HandoverFilter
    pagination_class = type("HandoverCursor", (Cursor,), {"ordering": ("-requested_at", "-id")})
    scopes = {"read": ApiScope.CASES_READ, "write": ApiScope.CASES_WRITE}
    model = CaseHandover

    def visible(self, user):
        return selectors.handovers_visible_to(user).select_related(
            "case", "from_agency", "to_agency", "requested_by", "decided_by"
        )

    def list(self, request):
        return self.list_response(self.filter_queryset(self.get_queryset()))

    def retrieve(self, request, pk=None):
        handover = selectors.handover_get_for_user(request.user, url_pk(pk))
        self.log_detail(handover.case, decision=selectors.case_decision(request.user, handover.case))
        return Response(HandoverSerializer(handover).data)

    @extend_schema(
        request=HandoverAcceptSerializer, responses={200: HandoverSerializer, **TRANSITION_RESPONSES}
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """受入れ: the caller's agency becomes the case's lead; the 主担当者 is named (default: the caller)."""
        handover = selectors.handover_get_for_user(request.user, url_pk(pk))
        data = validated(HandoverAcceptSerializer, request.data)
        handover = services.case_handover_accept(
            handover=handover, acting_user=request.user, lead_worker=data.get("lead_worker")
        )
        return Response(HandoverSerializer(handover).data)

    @extend_schema(
        request=HandoverDeclineSerializer, responses={200: HandoverSerializer, **TRANSITION_RESPONSES}
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """辞退, with the reason: the case goes back to those who held it before."""
        handover = selectors.handover_get_for_user(request.user, url_pk(pk))
        data = validated(HandoverDeclineSerializer, request.data)
        handover = services.case_handover_decline(
            handover=handover, acting_user=request.user, reason=data["reason"]
        )
        return Response(HandoverSerializer(handover).data)
