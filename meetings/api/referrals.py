"""多機関協働の受付箱 (/referrals/): referred cases, accepted or returned by the coordinators."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from cases.api.common import PersonRefSerializer, agency_field
from cases.models import Case, CaseStatus
from cases.selectors import case_get_for_user, cases_visible_to
from jusou.api.auth import ApiAccess
from jusou.api.base import (
    IF_MATCH_OPTIONAL,
    ApiViewSet,
    PolicySerializer,
    StrictSerializer,
    etag_of,
    url_pk,
    validated,
)
from jusou.api.errors import TRANSITION_RESPONSES
from jusou.api.schema import ETAG
from meetings import selectors, services
from meetings.api.common import READ_ONLY, CoordinatorsOnly, refuse_stale


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
            refuse_stale(request, case)
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
