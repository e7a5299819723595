"""参加支援 through the API: participation plans, read-only, with their proposals and placements (and the
follow-ups with both sides) nested.

A plan is read exactly as its case: the same grants, the same 404. Under 本人同意 alone a plan opens
only when the person consented to share the plan category (as the case page shows its panel), and
such plans are not listed. Lists carry no 要配慮個人情報 (wishes, strengths, weaknesses, health and
follow-up contents read "秘匿"); the detail shows them. Plans and placements are written on the pages,
whose forms guide the matching with the community register.
"""

from django.db.models import Prefetch, prefetch_related_objects
from django_filters import rest_framework as filters
from rest_framework import mixins, serializers
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from cases.api.common import PersonRefSerializer
from cases.models import Case
from community.models import CommunityResource, ParticipationKind
from jusou.access.fieldpolicy import mask_sensitive
from jusou.api.base import ApiViewSet, PolicySerializer, url_pk
from jusou.api.filters import IdFilter
from jusou.api.pagination import Cursor
from jusou.models import ApiScope
from participation import selectors
from participation.models import FollowUp, ParticipationPlan, Placement, Proposal


class CaseRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Case
        fields = ["id", "number"]


class HostRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = CommunityResource
        fields = ["id", "name"]


class FollowUpSerializer(PolicySerializer):
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = FollowUp
        fields = ["id", "done_on", "with_whom", "content", "recorded_by"]


class PlacementSerializer(serializers.ModelSerializer):
    host = HostRefSerializer(read_only=True)
    follow_ups = FollowUpSerializer(many=True, read_only=True)

    class Meta:
        model = Placement
        fields = [
            "id",
            "host",
            "starts_on",
            "frequency",
            "host_contact",
            "status",
            "end_reason",
            "follow_ups",
        ]


class ProposalSerializer(serializers.ModelSerializer):
    host = HostRefSerializer(read_only=True)
    proposed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Proposal
        fields = ["id", "host", "person_choice", "host_agreement", "proposed_by", "proposed_at"]


class PlanSerializer(PolicySerializer):
    case = CaseRefSerializer(read_only=True)
    person = PersonRefSerializer(source="case.person", read_only=True)
    kinds = serializers.ListField(
        child=serializers.ChoiceField(ParticipationKind.choices),
        read_only=True,
        help_text="希望する参加の種類",
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    proposals = ProposalSerializer(many=True, read_only=True)
    placements = PlacementSerializer(many=True, read_only=True)

    class Meta:
        model = ParticipationPlan
        fields = [
            "id",
            "case",
            "person",
            "wishes",
            "strengths",
            "weaknesses",
            "health",
            "mobility",
            "kinds",
            "goals",
            "review_on",
            "created_by",
            "created_at",
            "proposals",
            "placements",
        ]


class PlanFilter(filters.FilterSet):
    case = IdFilter(help_text="支援ケースのID")

    class Meta:
        model = ParticipationPlan
        fields = ["case"]


#: proposals, placements and follow-ups in one query each, whatever the number of plans
_PARTS = (
    Prefetch("proposals", queryset=Proposal.objects.select_related("host", "proposed_by").order_by("pk")),
    Prefetch(
        "placements",
        queryset=Placement.objects.select_related("host")
        .order_by("-starts_on", "-pk")
        .prefetch_related(Prefetch("follow_ups", queryset=FollowUp.objects.select_related("recorded_by"))),
    ),
)


def _with_parts(plans):
    return plans.select_related("case__person", "created_by").prefetch_related(*_PARTS)


class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """参加支援プラン, read exactly as its case."""

    serializer_class = PlanSerializer
    filterset_class = PlanFilter
    pagination_class = type("PlanCursor", (Cursor,), {"ordering": ("-created_at", "-id")})
    scopes = {"read": ApiScope.PARTICIPATION_READ}

    model = ParticipationPlan

    def visible(self, user):
        return _with_parts(selectors.plans_listed_for(user))

    def list(self, request):
        def rows(page):
            page = mask_sensitive(page)
            for plan in page:
                for placement in plan.placements.all():
                    mask_sensitive(placement.follow_ups.all())
            return page

        return self.list_response(self.filter_queryset(self.get_queryset()), rows)

    def retrieve(self, request, pk=None):
        plan = selectors.plan_get_for_user(request.user, url_pk(pk))
        prefetch_related_objects([plan], *_PARTS)
        self.log_detail(plan)
        return Response(PlanSerializer(plan).data)


router = SimpleRouter()
router.register("participation/plans", PlanViewSet, basename="participation-plan")
urlpatterns = router.urls
