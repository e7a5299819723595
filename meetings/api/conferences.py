"""重層的支援会議 (/conferences/): agendas, outcomes and the approval of plans (coordinators only)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from jusou.api.auth import ApiAccess
from jusou.api.base import ApiViewSet, StrictSerializer, url_pk, validated
from jusou.api.errors import TRANSITION_RESPONSES
from jusou.api.pagination import Cursor
from meetings import selectors, services
from meetings.api.common import MAX_ID, READ_ONLY, CoordinatorsOnly
from meetings.models import PlanConference


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
