"""地域づくり through the API: the register of local resources (read) and, for staff, the resource gaps
followed from 把握 to 開発済.

The register holds no personal case data, so reads are not written to the read log. As on the pages,
all staff read its public fields; the internal notes (内部メモ) appear only where the pages show them — a
resource's detail, to those who may change that place (community.selectors.resource_can_change: its
agency's 相談員, the 相談支援包括化推進員, 地域福祉担当) — never in lists or to a machine client. Resource gaps are internal
planning work that the pages show to staff only, so machine clients get 403 there.
"""

from django.db.models import Q
from django_filters import rest_framework as filters
from rest_framework import mixins, serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from community.models import CommunityResource, ParticipationKind, ResourceKind
from community.occupancy import with_places_left
from community.selectors import READERS, AreaTree, resource_can_change
from jusou.api.auth import api_client_of
from jusou.api.base import ApiViewSet, url_pk
from jusou.api.pagination import Cursor
from jusou.models import ApiScope, Area, ResourceGap, ResourceGapStatus


class AreaRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Area
        fields = ["code", "name"]


class ResourceSerializer(serializers.ModelSerializer):
    area = AreaRefSerializer(read_only=True)
    days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        read_only=True,
        help_text="曜日（0=月 … 6=日）",
    )
    participation_kinds = serializers.ListField(
        child=serializers.ChoiceField(ParticipationKind.choices),
        read_only=True,
        help_text="受け入れできる参加支援の種類",
    )
    internal_notes = serializers.SerializerMethodField(
        help_text="内部メモ。この資源を更新できる職員が詳細を取得したときだけ値が入り、一覧と連携システムには null"
    )
    operating_agency = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="運営する機関のコード"
    )
    gaps_answered = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="応えている不足する社会資源"
    )
    places_left = serializers.SerializerMethodField(
        help_text="残りの受け入れ枠（上限 − 参加中の人数）。上限なしは null"
    )

    class Meta:
        model = CommunityResource
        fields = [
            "id",
            "name",
            "kind",
            "operator",
            "area",
            "target",
            "schedule",
            "days",
            "contact",
            "public_description",
            "accepts_participants",
            "participation_kinds",
            "acceptance_conditions",
            "capacity",
            "places_left",
            "is_partner",
            "is_active",
            "inactive_reason",
            "operating_agency",
            "gaps_answered",
            "created_at",
            "internal_notes",
        ]

    def get_internal_notes(self, resource) -> str | None:
        return resource.internal_notes if self.context.get("internal") else None

    def get_places_left(self, resource) -> int | None:
        return resource.places_left


class ResourceFilter(filters.FilterSet):
    """The filters of the register page; like the page, the list shows active resources unless asked."""

    kind = filters.ChoiceFilter(choices=ResourceKind.choices)
    area = filters.ModelChoiceFilter(
        queryset=Area.objects.all(),
        to_field_name="code",
        method="in_area",
        help_text="圏域のコード（その下の圏域の資源も含む）",
    )
    accepting = filters.BooleanFilter(field_name="accepts_participants", help_text="参加支援の受け入れ")
    q = filters.CharFilter(method="search", max_length=100, help_text="名称・運営主体")
    include_inactive = filters.BooleanFilter(method="keep", help_text="活動を休止・終了した資源も含める")

    class Meta:
        model = CommunityResource
        fields = ["kind", "area", "accepting", "q", "include_inactive"]

    def in_area(self, queryset, name, area):
        return queryset.filter(area_id__in=AreaTree.load().subtree_ids(area.pk))

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(operator__icontains=value)) if value else queryset

    def keep(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        return queryset if self.form.cleaned_data.get("include_inactive") else queryset.filter(is_active=True)


class ResourceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """地域資源・居場所."""

    personal_data = False
    staff_roles = READERS  # 地域福祉担当 keeps the register too
    serializer_class = ResourceSerializer
    filterset_class = ResourceFilter
    pagination_class = type("ResourceCursor", (Cursor,), {"ordering": ("id",)})
    scopes = {"read": ApiScope.COMMUNITY_READ}

    model = CommunityResource

    def visible(self, user):
        return with_places_left(
            CommunityResource.objects.select_related("area", "operating_agency").prefetch_related(
                "gaps_answered"
            )
        )

    def retrieve(self, request, pk=None):
        resource = self.get_queryset().filter(pk=url_pk(pk)).first()
        if resource is None:
            raise NotFound()
        internal = api_client_of(request.user) is None and resource_can_change(request.user, resource)
        return Response(ResourceSerializer(resource, context={"internal": internal}).data)


class GapSerializer(serializers.ModelSerializer):
    area = AreaRefSerializer(read_only=True, allow_null=True)
    developed_resources = serializers.SerializerMethodField(
        help_text="この不足を埋めるために生まれた地域資源"
    )

    class Meta:
        model = ResourceGap
        fields = [
            "id",
            "category",
            "area",
            "description",
            "status",
            "source_label",
            "recorded_at",
            "developed_resources",
        ]

    def get_developed_resources(self, gap) -> list[int]:
        return [resource.pk for resource in gap.developed_resources.all()]


class GapFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ResourceGapStatus.choices)

    class Meta:
        model = ResourceGap
        fields = ["status"]


class GapViewSet(mixins.ListModelMixin, ApiViewSet):
    """不足する社会資源 (staff only, as on the pages)."""

    personal_data = False
    staff_roles = READERS
    serializer_class = GapSerializer
    filterset_class = GapFilter
    pagination_class = type("GapCursor", (Cursor,), {"ordering": ("-recorded_at", "-id")})
    scopes = {}  # no machine client reads this: the pages show it to staff only

    model = ResourceGap

    def visible(self, user):
        return ResourceGap.objects.select_related("area").prefetch_related("developed_resources")


router = SimpleRouter()
router.register("community/resources", ResourceViewSet, basename="community-resource")
router.register("community/gaps", GapViewSet, basename="community-gap")
urlpatterns = router.urls
