"""支援会議 (/support-meetings/; 社会福祉法 第106条の6): nothing before 守秘義務, only inside the access window."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from jusou.api.auth import STAFF_ROLES
from jusou.api.base import ApiViewSet, StrictSerializer, url_pk, validated
from jusou.api.pagination import Cursor
from jusou.models import Role
from meetings import briefings, selectors, services
from meetings.api.common import READ_ONLY
from meetings.models import ConfidentialityPledge, MeetingBriefing, SupportMeeting


class SupportMeetingSerializer(serializers.ModelSerializer):
    host = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = SupportMeeting
        fields = [
            "id",
            "title",
            "held_at",
            "acting_body",
            "host",
            "access_from",
            "access_until",
            "created_at",
        ]


class MeetingDecisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    text = serializers.CharField()
    recorded_at = serializers.DateTimeField()


class BriefingRowSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.CharField()


class BriefingGroupSerializer(serializers.Serializer):
    title = serializers.CharField(help_text="本人・支援ケース・相談受付・アセスメント・世帯員（続柄）など")
    rows = BriefingRowSerializer(many=True)


class BriefingSectionSerializer(serializers.Serializer):
    category = serializers.CharField(help_text="情報の範囲（basic・household・issues・health・progress）")
    title = serializers.CharField()
    groups = BriefingGroupSerializer(many=True)


class BriefingContentSerializer(serializers.Serializer):
    """One frozen rendering of a briefing (meetings.briefings): only the items the host chose."""

    case_number = serializers.CharField(help_text="ケース番号（仮名化されていれば空）")
    person = serializers.CharField(help_text="本人の氏名（仮名化されていれば「本人（仮名）」）")
    pseudonymised = serializers.BooleanField(default=False)
    sections = BriefingSectionSerializer(many=True, default=list)

    def to_representation(self, content):
        return super().to_representation({"case_number": "", "person": "", **(content or {})})


class MeetingBriefingSerializer(serializers.ModelSerializer):
    audience = serializers.ChoiceField(
        [("staff", "職員の構成員"), ("external", "外部の構成員")], help_text="呼び出し元に共有された版"
    )
    sections = BriefingContentSerializer(
        source="content", help_text="共有した時点のまま凍結された資料のうち、呼び出し元に共有された版"
    )
    external_sections = BriefingContentSerializer(
        source="external_content",
        allow_null=True,
        help_text="外部の構成員に共有された版（主催者にだけ返します。ほかの呼び出し元には null）",
    )
    decisions = MeetingDecisionSerializer(many=True)

    class Meta:
        model = MeetingBriefing
        fields = [
            "id",
            "audience",
            "sections",
            "external_sections",
            "pseudonymised",
            "shared_at",
            "decisions",
        ]


class SupportMeetingMemberSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    name = serializers.CharField(source="user.get_full_name")
    pledged = serializers.BooleanField(help_text="守秘義務を確認済みか")


class SupportMeetingDetailSerializer(SupportMeetingSerializer):
    """The meeting page's content (meetings.selectors.meeting_detail), attached to the meeting."""

    is_host = serializers.BooleanField(help_text="呼び出し元が主催者か")
    members = SupportMeetingMemberSerializer(many=True, source="detail_members")
    briefings = MeetingBriefingSerializer(many=True, source="detail_briefings")

    class Meta(SupportMeetingSerializer.Meta):
        fields = [*SupportMeetingSerializer.Meta.fields, "minutes", "is_host", "members", "briefings"]


class MeetingAwaitingPledgeSerializer(serializers.Serializer):
    """A meeting before the pledge: its date and host — not its title (it may name the household)."""

    id = serializers.IntegerField()
    held_at = serializers.DateTimeField()
    host = serializers.CharField(source="host.get_full_name", help_text="主催者の氏名")


class MeetingWindowSerializer(StrictSerializer):
    access_from = serializers.DateTimeField(help_text="閲覧期間（開始）")
    access_until = serializers.DateTimeField(help_text="閲覧期間（終了）")
    reason = serializers.CharField(max_length=300, help_text="変更の理由（変更の記録に残ります）")


def _api_time(value):
    # As a serializer's DateTimeField gives it (+09:00); a bare datetime in a Response would be UTC.
    return serializers.DateTimeField().to_representation(value)


class ConfidentialityPledgeSerializer(serializers.Serializer):
    meeting = MeetingAwaitingPledgeSerializer()
    statement = serializers.CharField(help_text="確認する文言")
    acknowledged_at = serializers.DateTimeField(allow_null=True, help_text="確認した日時（未確認なら null）")


class SupportMeetingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """支援会議 the caller hosts, or is a member of with 守秘義務 acknowledged and the access window
    open. Before the pledge a member sees only the meeting's date and host (awaiting-pledge, and the
    pledge itself) — not its title; after the window, nothing. Each member reads the rendering frozen
    for their kind (an external member the pseudonymised one, unless the host chose otherwise). The briefings are frozen as shared: never the live case."""

    serializer_class = SupportMeetingSerializer
    # External members (民生委員 …) hold a meeting-only account and use these endpoints only.
    staff_roles = STAFF_ROLES | {Role.MEETING_MEMBER}
    scopes = READ_ONLY
    pagination_class = type("MeetingCursor", (Cursor,), {"ordering": ("-held_at", "-id")})

    model = SupportMeeting

    def visible(self, user):
        return selectors.meetings_visible_to(user).select_related("host")

    def list(self, request):
        return self.list_response(self.filter_queryset(self.get_queryset()))

    @extend_schema(responses=SupportMeetingDetailSerializer)
    def retrieve(self, request, pk=None):
        meeting = selectors.meeting_get_for_user(request.user, url_pk(pk))
        is_host = meeting.host_id == request.user.pk
        self.log_detail(meeting)
        detail = selectors.meeting_detail(meeting)
        for member in detail["members"]:
            member.pledged = member.user_id in detail["pledged_user_ids"]
        meeting.is_host = is_host
        briefings.attach_contents(detail["briefings"], meeting, request.user)
        meeting.detail_members, meeting.detail_briefings = detail["members"], detail["briefings"]
        return Response(SupportMeetingDetailSerializer(meeting).data)

    @extend_schema(request=MeetingWindowSerializer, responses=SupportMeetingSerializer)
    @action(detail=True, methods=["post"])
    def window(self, request, pk=None):
        """The host shortens or extends the access window, with the reason (services.meeting_window_change,
        as on the meeting page): 403 for a member, 404 for anyone else."""
        meeting = selectors.meeting_get_for_user(request.user, url_pk(pk))
        data = validated(MeetingWindowSerializer, request.data)
        meeting = services.meeting_window_change(meeting=meeting, acting_user=request.user, **data)
        return Response(SupportMeetingSerializer(meeting).data)

    @extend_schema(responses=MeetingAwaitingPledgeSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="awaiting-pledge", pagination_class=None)
    def awaiting_pledge(self, request):
        """Meetings whose window is open for the caller but whose 守秘義務 is not yet acknowledged: date
        and host only, as on the meeting list page."""
        rows = selectors.meetings_awaiting_pledge(request.user)
        return Response(MeetingAwaitingPledgeSerializer(rows, many=True).data)

    @extend_schema(methods=["GET"], responses=ConfidentialityPledgeSerializer)
    @extend_schema(methods=["POST"], request=None, responses=ConfidentialityPledgeSerializer)
    @action(detail=True, methods=["get", "post"])
    def pledge(self, request, pk=None):
        """守秘義務の確認 (社会福祉法 第106条の6第5項): GET shows the statement, POST acknowledges it
        (timestamped, once per member and meeting). The only part of a meeting a member reaches before
        acknowledging; 404 for anyone who is not a member inside the window."""
        meeting = selectors.meeting_awaiting_pledge(request.user, url_pk(pk))
        if meeting is None:
            raise NotFound()
        if request.method == "POST":
            services.pledge_acknowledge(meeting=meeting, acting_user=request.user)
        pledge = ConfidentialityPledge.objects.filter(meeting=meeting, user=request.user).first()
        return Response(
            {
                "meeting": MeetingAwaitingPledgeSerializer(meeting).data,
                "statement": pledge.statement if pledge else services.PLEDGE_STATEMENT,
                "acknowledged_at": _api_time(pledge.acknowledged_at) if pledge else None,
            }
        )
