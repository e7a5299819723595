"""The API's own endpoints: tokens, the caller, agencies."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from jusou.api.auth import ApiAccess, TokenRequestThrottle, api_client_of, token_issue
from jusou.api.base import ApiViewSet, StrictSerializer
from jusou.models import Agency, ApiScope
from jusou.staff.forms import local_login_allowed
from jusou.staff.twofactor import otp_required, verify_code


class TokenRequest(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=200, trim_whitespace=False)
    otp_code = serializers.CharField(max_length=20, required=False, allow_blank=True)


class TokenAnswer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class TokenObtainView(APIView):
    """Staff exchange username, password (and the one-time code where 2FA is on) for a personal token."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = [TokenRequestThrottle]

    def get_authenticate_header(self, request):
        return 'Bearer realm="jusou"'  # refusals here are 401s, with the scheme to use next

    @extend_schema(request=TokenRequest, responses={201: TokenAnswer}, auth=[], tags=["auth"])
    def post(self, request):

        data = TokenRequest(data=request.data)
        data.is_valid(raise_exception=True)
        # django-axes counts failures through the request, exactly like the login page.
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        refused = "ユーザー名またはパスワードが正しくありません。"
        if user is None or not user.is_active:
            raise AuthenticationFailed(refused, code="invalid_credentials")
        if not user.roles or api_client_of(user) is not None:
            raise AuthenticationFailed("この アカウントではトークンを発行できません。", code="no_membership")
        if not local_login_allowed(user):
            # where passwords are off, a person logs in through the IdP and issues a token on the
            # APIトークン page; the password path is the システム管理者's break-glass only
            raise AuthenticationFailed(
                "この環境ではパスワードでトークンを発行できません。統合認証でログインし、APIトークンの画面で発行してください。",
                code="local_login_disabled",
            )
        if otp_required(user):
            code = data.validated_data.get("otp_code", "")
            if not code:
                raise AuthenticationFailed("確認コード（otp_code）を入力してください。", code="otp_required")
            if not verify_code(user, code):
                raise AuthenticationFailed("確認コードが正しくありません。", code="otp_invalid")
        instance, token = token_issue(user=user)
        # The expiry as every other time the API gives (+09:00): a bare datetime in a Response is UTC.
        expires_at = serializers.DateTimeField().to_representation(instance.expiry)
        return Response({"token": token, "expires_at": expires_at}, status=201)


class TokenInfo(serializers.Serializer):
    token_key = serializers.CharField(help_text="トークンの先頭部分（識別用）")
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField()


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")
    roles = serializers.ListField(child=serializers.CharField())
    agencies = serializers.SerializerMethodField()
    client = serializers.SerializerMethodField()

    def get_agencies(self, user) -> list[str]:
        return [agency.code for agency in user.agencies]

    def get_client(self, user) -> dict | None:
        client = api_client_of(user)
        if client is None:
            return None
        return {"name": client.name, "department": client.department, "scopes": client.scopes}


class MeView(APIView):
    """Who the token or session belongs to: roles, agencies, and for a machine client its scopes."""

    permission_classes = [ApiAccess]
    any_client = True

    @extend_schema(responses=MeSerializer, tags=["auth"])
    def get(self, request):
        data = MeSerializer(request.user).data
        data["roles"] = sorted(request.user.roles)
        return Response(data)


class TokenViewSet(ApiViewSet):
    """The caller's own tokens: list them, or revoke one (by its key) or the one in use."""

    personal_data = False
    serializer_class = TokenInfo
    lookup_field = "token_key"
    pagination_class = None

    def get_queryset(self):
        return AuthToken.objects.filter(user=self.request.user).order_by("-created")

    def list(self, request):
        return Response(TokenInfo(self.get_queryset(), many=True).data)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, token_key=None):
        token = self.get_queryset().filter(token_key=token_key).first()
        if token is None:
            raise NotFound()
        token.delete()
        return Response(status=204)

    @extend_schema(request=None, responses={204: None})
    @action(detail=False, methods=["post"])
    def logout(self, request):
        """Revoke the token this request was made with."""
        if isinstance(request.auth, AuthToken):
            request.auth.delete()
        return Response(status=204)


class AgencySerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Agency
        fields = ["id", "code", "name", "kind", "area", "is_active"]


class AgencyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """支援関係機関: public directory data, not personal."""

    personal_data = False
    serializer_class = AgencySerializer
    scopes = {"read": ApiScope.AGENCIES_READ}
    queryset = Agency.objects.select_related("area").order_by("pk")
    filterset_fields = ["kind", "is_active", "code"]


@extend_schema(exclude=True)
class NotFoundView(APIView):
    authentication_classes = []
    permission_classes = []

    def get(self, request, *args, **kwargs):
        raise NotFound()

    post = put = patch = delete = get
