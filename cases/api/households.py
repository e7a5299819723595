"""世帯 (/households/) with their current members."""

from rest_framework import mixins, serializers
from rest_framework.response import Response

from cases import selectors
from cases.api.common import PersonRefSerializer
from cases.models import Household
from cases.policy import apply_household_policy, mask_sensitive
from jusou.api.base import ApiViewSet, PolicySerializer, url_pk
from jusou.models import ApiScope


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
