"""主担当機関の移行 (/handovers/; a handover starts at /cases/{id}/handover/ or with 終結)."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from cases import selectors, services
from cases.api.common import agency_field
from cases.models import CaseHandover, HandoverStatus
from jusou.api.base import ApiViewSet, StrictSerializer, url_pk, validated
from jusou.api.errors import TRANSITION_RESPONSES
from jusou.api.pagination import Cursor
from jusou.models import ApiScope, User


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
