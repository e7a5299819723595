"""One error body for every refusal the API gives (each 4xx, and 503 `busy` when the database cannot
take a write in time: retry after Retry-After), so that other municipal systems can act on it:

    {"status": 400, "code": "invalid", "message": "入力内容に誤りがあります。",
     "errors": [{"field": "summary", "code": "required", "message": "この項目は必須です。"}]}

`code` is stable (English, machine-readable); `message` is Japanese for the people reading logs.
Django's own refusals (Http404, PermissionDenied, ValidationError raised by services) are turned
into the same shape, so no refusal becomes a 500.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from jusou import busy
from jusou.services import EditConflict, InvalidTransition

MESSAGES = {
    400: "入力内容に誤りがあります。",
    401: "認証が必要です。トークンまたはログインを確認してください。",
    403: "この操作を行う権限がありません。",
    404: "見つかりません。",
    405: "このメソッドは使えません。",
    406: "指定された形式では応答できません。",
    409: "他の操作と競合しました。最新の内容を取得してからやり直してください。",
    412: "更新の前提となる版が最新ではありません。最新の内容を取得してからやり直してください。",
    413: "リクエストが大きすぎます。",
    415: "この Content-Type は受け付けていません。application/json を使ってください。",
    428: "If-Match ヘッダーで、取得した版（ETag）を指定してください。",
    429: "リクエストが多すぎます。しばらく待ってから再度お試しください。",
    503: busy.MESSAGE,
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = MESSAGES[409]
    default_code = "conflict"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = MESSAGES[412]
    default_code = "stale_version"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = MESSAGES[428]
    default_code = "if_match_required"


class DatabaseBusy(exceptions.APIException):
    """The database could not take the write in time (jusou.busy): the same request shortly will do."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = MESSAGES[503]
    default_code = "busy"
    wait = busy.RETRY_AFTER_SECONDS  # DRF sends it as Retry-After


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = MESSAGES[413]
    default_code = "payload_too_large"


# --- The error body in the OpenAPI schema ------------------------------------------------------------


class ErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True, help_text="項目名（入れ子は a.b[0]）。項目によらない誤りは null"
    )
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """Every refusal's body (see the module docstring)."""

    status = serializers.IntegerField()
    code = serializers.CharField(help_text="機械可読のコード（英語、変わらない）")
    message = serializers.CharField(help_text="日本語のメッセージ")
    errors = ErrorItemSerializer(many=True)


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


# The concurrency contract (README, API): how a lost race or a retry is answered.
STALE_VERSION = error_response(
    "`stale_version`: If-Match の版が最新ではありません（古い ETag、または他の更新が先に確定した。"
    "同じ版を持つ同時の更新は、行ロックで1件だけが成功し、残りはすべてこの応答）。"
    "取得し直し、新しい版でやり直してください。"
)
IF_MATCH_REQUIRED = error_response("`if_match_required`: 取得した版（ETag）を If-Match で指定してください。")
INVALID_TRANSITION = error_response(
    "`invalid_transition`: 現在の状態からはこの操作ができません。If-Match なしで同時に送られた操作は、"
    "先に確定した1件のほかはこの応答になります。"
)
STALE_WRITE_RESPONSES = {412: STALE_VERSION, 428: IF_MATCH_REQUIRED}
TRANSITION_RESPONSES = {409: INVALID_TRANSITION, 412: STALE_VERSION}


def _django_validation(error: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(error, "error_dict"):
        detail = {
            field: [exceptions.ErrorDetail(m, code=e.code or "invalid") for e in errors for m in e.messages]
            for field, errors in error.error_dict.items()
        }
        detail = {("non_field_errors" if k == "__all__" else k): v for k, v in detail.items()}
    else:
        detail = [exceptions.ErrorDetail(m, code=error.code or "invalid") for m in error.messages]
    return exceptions.ValidationError(detail)


def _flatten(detail, prefix=""):
    """DRF's nested error details as a flat list of {field, code, message}."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            yield from _flatten(value, "" if name == "non_field_errors" else name)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                yield from _flatten(value, f"{prefix}[{index}]" if prefix else f"[{index}]")
            else:
                yield from _flatten(value, prefix)
    else:
        yield {"field": prefix or None, "code": getattr(detail, "code", "invalid"), "message": str(detail)}


def api_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(MESSAGES[404])
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or MESSAGES[403], code=getattr(exc, "code", None))
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, EditConflict):
        # Lost under the row lock: the same answer as an old If-Match refused at the header check.
        exc = PreconditionFailed(" ".join(exc.messages), code="stale_version")
    elif isinstance(exc, InvalidTransition):
        exc = Conflict(" ".join(exc.messages), code="invalid_transition")
    elif busy.is_busy(exc):
        exc = DatabaseBusy()
    elif isinstance(exc, DjangoValidationError):
        exc = _django_validation(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = response.status_code
    if isinstance(exc, exceptions.ValidationError):
        body = {
            "status": code,
            "code": "invalid",
            "message": MESSAGES[400],
            "errors": list(_flatten(exc.detail)),
        }
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        error_code = getattr(detail, "code", None) or "error"
        message = str(detail)
        if isinstance(exc, exceptions.NotAuthenticated):
            message = MESSAGES[401]
        elif isinstance(exc, exceptions.Throttled):
            error_code, message = "throttled", MESSAGES[429]
        elif isinstance(exc, exceptions.MethodNotAllowed):
            message = MESSAGES[405]
        elif isinstance(exc, exceptions.UnsupportedMediaType):
            message = MESSAGES[415]
        elif isinstance(exc, exceptions.ParseError):
            error_code, message = "parse_error", "リクエスト本文を JSON として読めません。"
        elif isinstance(exc, exceptions.NotFound):
            message = MESSAGES[404]  # the same words whether it is missing or not visible
        body = {"status": code, "code": error_code, "message": message, "errors": []}
    headers = {k: v for k, v in response.items() if k.lower() in ("www-authenticate", "retry-after", "allow")}
    return Response(body, status=code, headers=headers)
