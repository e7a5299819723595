"""本人同意 (/consents/): record, amend, withdraw."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from cases.api.common import PersonRefSerializer, agency_field
from cases.models import Case, Person
from cases.selectors import case_decision, case_get_for_user
from jusou.api.base import ApiViewSet, StrictSerializer, idempotent, url_pk, validated
from jusou.api.errors import INVALID_TRANSITION
from jusou.api.filters import IdFilter
from jusou.api.schema import IDEMPOTENCY_KEY, REPLAYED
from jusou.models import User
from meetings import selectors, services
from meetings.api.common import MAX_ID, READ_ONLY
from meetings.models import Consent, ConsentingParty, ConsentMethod, InformationCategory


def _within_plan_scope(user: User, case: Case) -> None:
    """403 when the user's decision on the case does not open its consents and plans (本人同意 alone,
    without 支援プラン: the case page hides the panel then)."""
    if not case_decision(user, case).covers("plan"):
        raise PermissionDenied("本人同意の範囲に含まれない情報です。", code="outside_consent")


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
