"""アウトリーチ through the API: engagements (read) and their contacts, which staff may log from a
phone during a visit (with an Idempotency-Key, so that a retry on a weak connection logs one contact).

Reads start from outreach's selectors, as the pages do: the owning agency and the lead worker (担当
grants), coordinators and supervisors by role; anyone else gets 404. Lists carry no 要配慮個人情報
(background and end note are masked), and whereabouts under 住所秘匿 show only to the assigned.
Machine clients read within `outreach:read`; logging a contact is staff work.
"""

from django.core.exceptions import PermissionDenied
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from jusou.access.fieldpolicy import mask_sensitive
from jusou.api.auth import api_client_of
from jusou.api.base import (
    ApiViewSet,
    PolicySerializer,
    StrictSerializer,
    api_read_log,
    idempotent,
    url_pk,
)
from jusou.api.filters import IdFilter
from jusou.api.pagination import Cursor
from jusou.api.schema import IDEMPOTENCY_KEY, REPLAYED
from jusou.models import ApiScope
from outreach import selectors, services
from outreach.models import ContactKind, OutreachContact, OutreachEngagement, Stage


class EngagementSerializer(PolicySerializer):
    number = serializers.CharField(read_only=True)
    owning_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    lead_worker = serializers.SlugRelatedField(slug_field="username", read_only=True)
    connected_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    can_record_contact = serializers.SerializerMethodField(
        help_text="呼び出し元が接触記録を追加できるか（一覧では null）"
    )

    class Meta:
        model = OutreachEngagement
        fields = [
            "id",
            "number",
            "provisional_name",
            "approximate_location",
            "person",
            "case",
            "how_known",
            "background",
            "purpose",
            "plan_frequency",
            "plan_visitors",
            "meeting_decision",
            "stage",
            "owning_agency",
            "lead_worker",
            "next_contact_on",
            "started_at",
            "ended_at",
            "connected_agency",
            "end_note",
            "can_record_contact",
        ]

    def get_can_record_contact(self, engagement) -> bool | None:
        return getattr(engagement, "can_record_contact", None)


class ContactSerializer(PolicySerializer):
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = OutreachContact
        fields = [
            "id",
            "engagement",
            "contacted_at",
            "kind",
            "met_whom",
            "response",
            "safety_confirmed",
            "next_planned_on",
            "recorded_by",
        ]
        read_only_fields = fields


class ContactCreateSerializer(StrictSerializer):
    kind = serializers.ChoiceField(ContactKind.choices)
    contacted_at = serializers.DateTimeField(required=False, help_text="省略時は現在時刻")
    met_whom = serializers.CharField(max_length=100, required=False, allow_blank=True)
    response = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    safety_confirmed = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="安否を確認できたか（該当なしは null）"
    )
    next_planned_on = serializers.DateField(required=False, allow_null=True)


class EngagementFilter(filters.FilterSet):
    open = filters.BooleanFilter(method="by_open", help_text="true: 継続中のみ、false: 終了したもののみ")
    stage = filters.ChoiceFilter(choices=Stage.choices)
    case = IdFilter(help_text="紐づいた支援ケースのID")

    class Meta:
        model = OutreachEngagement
        fields = ["open", "stage", "case"]

    def by_open(self, queryset, name, value):
        return queryset.filter(ended_at__isnull=value)


class ContactCursor(Cursor):
    ordering = ("-contacted_at", "-id")


class EngagementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """アウトリーチ. Lists carry no 把握の経緯 or 終了の理由 (they read "秘匿"); the detail shows them."""

    serializer_class = EngagementSerializer
    filterset_class = EngagementFilter
    pagination_class = type("EngagementCursor", (Cursor,), {"ordering": ("-started_at", "-id")})
    scopes = {"read": ApiScope.OUTREACH_READ}

    model = OutreachEngagement

    def visible(self, user):
        return selectors.engagements_visible_to(user).select_related(
            "owning_agency", "lead_worker", "connected_agency"
        )

    def list(self, request):
        def rows(page):
            return selectors.engagement_location_policy(request.user, mask_sensitive(page))

        return self.list_response(self.filter_queryset(self.get_queryset()), rows)

    def _engagement(self, pk):
        return selectors.engagement_get_for_user(self.request.user, url_pk(pk))

    def retrieve(self, request, pk=None):
        engagement = self._engagement(pk)
        selectors.engagement_location_policy(request.user, [engagement])
        # Machine clients read only: the agency grant they act through would otherwise say yes.
        engagement.can_record_contact = (
            engagement.is_open
            and api_client_of(request.user) is None
            and selectors.engagement_can_change(request.user, engagement)
        )
        self.log_detail(engagement)
        return Response(EngagementSerializer(engagement).data)

    @extend_schema(methods=["GET"], responses=ContactSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=ContactCreateSerializer,
        responses={201: ContactSerializer},
        parameters=[IDEMPOTENCY_KEY, REPLAYED],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=ContactCursor, filter_backends=[])
    def contacts(self, request, pk=None):
        """接触記録 of the engagement (newest first), or log one — from a phone during a visit. A
        safety concern, or visits that keep missing the person, alert the coordinators."""
        if request.method == "POST":
            return self._contact_add(request, pk)
        engagement = self._engagement(pk)
        page = self.paginate_queryset(engagement.contacts.select_related("recorded_by"))
        api_read_log(request, obj=engagement, detail=f"接触記録 {len(page)}件")
        return self.get_paginated_response(ContactSerializer(page, many=True).data)

    @idempotent
    def _contact_add(self, request, pk):
        engagement = self._engagement(pk)
        if not selectors.engagement_can_change(request.user, engagement):
            raise PermissionDenied("このアウトリーチを更新する権限がありません。")
        serializer = ContactCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_record(
            engagement=engagement, acting_user=request.user, **serializer.validated_data
        )
        return Response(ContactSerializer(contact).data, status=201)


router = SimpleRouter()
router.register("outreach/engagements", EngagementViewSet, basename="outreach-engagement")
urlpatterns = router.urls
