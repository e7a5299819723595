"""本人・対象者 (/people/)."""

from django.db import transaction
from django.db.models import Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from cases import selectors, services
from cases.api.common import code_field
from cases.models import (
    LIVING_SITUATION_FIELDS,
    CareLevel,
    CodeKind,
    DisabilitySupportLevel,
    Employment,
    HealthInsurance,
    Housing,
    Pension,
    Person,
    PublicAssistance,
)
from jusou.api.base import (
    ApiViewSet,
    PolicySerializer,
    StrictSerializer,
    etag_of,
    idempotent,
    require_if_match,
    url_pk,
    validated,
)
from jusou.api.errors import STALE_WRITE_RESPONSES
from jusou.api.filters import StrictFilterBackend
from jusou.api.schema import ETAG, IDEMPOTENCY_KEY, IF_MATCH, REPLAYED
from jusou.ja.text import normalize_for_search
from jusou.models import ApiScope


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
