"""What every API view shares: strict input, masked output, logged reads, conditional updates and
idempotent creation. Each app's api module (in cases and meetings, a package) builds on these; the
rules themselves stay in the apps' selectors and services, exactly as for the pages."""

import hashlib
import json

from django.conf import settings
from django.db import IntegrityError, models, transaction
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from jusou.access.fieldpolicy import MASK
from jusou.api.auth import api_client_of
from jusou.api.errors import Conflict, DatabaseBusy, PayloadTooLarge, PreconditionFailed, PreconditionRequired
from jusou.audit.readlog import read_log
from jusou.models import IdempotencyKey, ReadLog


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know: a typo in a field name must not be silently ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - {name for name, f in self.fields.items() if not f.read_only})
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [
                            serializers.ErrorDetail("この項目は受け付けていません。", code="unknown_field")
                        ]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class PolicySerializer(serializers.ModelSerializer):
    """Output of a record that may be masked by the field policy (jusou.access.fieldpolicy): masked text
    stays "秘匿", masked flags and relations come out as null, and masked many-to-many fields are
    neither loaded nor shown."""

    def to_representation(self, instance):
        masked = getattr(instance, "_masked_fields", set())
        if not masked:
            return super().to_representation(instance)
        # A field its access decision withholds is not in the response at all (jusou.access.fieldpolicy.project).
        unshared = getattr(instance, "_unshared_fields", set())
        data = {}
        for field in self._readable_fields:
            source = field.source.split(".")[0]
            if source in unshared or field.field_name in unshared:
                continue
            if source in masked or field.field_name in masked:
                value = getattr(instance, source, None) if source in masked else None
                data[field.field_name] = MASK if value == MASK else None
            else:
                attribute = field.get_attribute(instance)
                data[field.field_name] = None if attribute is None else field.to_representation(attribute)
        return data


def url_pk(value) -> int:
    """A primary key from the URL; anything else is simply not found (never a 500)."""
    if not (str(value).isascii() and str(value).isdigit()) or len(str(value)) > 18:  # "¹" is a digit
        raise NotFound()
    return int(value)


def validated(serializer_class, data) -> dict:
    """Parse a request body (or query) with a serializer; errors become the API's 400 body."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def api_read_log(request, *, obj=None, model=None, decision=None, detail=""):
    """Every API read of personal data is written to the read log like a page view, naming the
    machine client when it is one (who, which client, what, on which basis: the decision the
    selector attached to `obj`, or `decision`)."""
    client = api_client_of(request.user)
    via = f"API（{client.name}）" if client else "API"
    read_log(
        user=request.user,
        action=ReadLog.Action.API,
        obj=obj,
        model=model,
        decision=decision,
        detail=f"{via} {request.method} {request.path} {detail}".strip(),
    )


class ApiViewSet(viewsets.GenericViewSet):
    """Base for every resource: bounded request bodies, and reads written to the read log."""

    #: whether reads of this resource are reads of personal data (logged)
    personal_data = True
    #: the record type; `visible(user)` gives the rows the caller may see (a selector)
    model: type[models.Model] | None = None

    def visible(self, user):
        """The rows the caller may see; a resource without a selector (public data) lists `queryset`."""
        return self.queryset.all()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular inspecting the view
            return self.model.objects.none()
        return self.visible(self.request.user)

    def initial(self, request, *args, **kwargs):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > settings.API_MAX_BODY_BYTES:
            raise PayloadTooLarge()
        super().initial(request, *args, **kwargs)

    def log_list(self, objects, detail=""):
        if self.personal_data:
            ids = ",".join(str(o.pk) for o in objects)
            api_read_log(
                self.request, model=self.get_queryset().model, detail=f"{len(objects)}件 [{ids}] {detail}"
            )

    def log_detail(self, obj, decision=None):
        if self.personal_data:
            api_read_log(self.request, obj=obj, decision=decision)

    def list_response(self, queryset, rows=None):
        """A cursor page of `queryset`; `rows(page)` prepares the page for output (masking)."""
        page = self.paginate_queryset(queryset)
        page = rows(page) if rows else page
        self.log_list(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# --- Conditional updates (ETag / If-Match) -------------------------------------------------------------


IF_MATCH_OPTIONAL = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, description="取得した版（ETag）。指定すると古い版での更新は 412"
)


def etag_of(obj: models.Model) -> str:
    """The version a client read: the record's version counter where it has one, else its latest
    history row (every change writes one)."""
    version = getattr(obj, "version", None)
    if version is None:
        latest = obj.history.order_by("-history_id").values_list("history_id", flat=True).first()
        version = f"h{latest or 0}"
    return f'"{version}"'


def require_if_match(request, obj: models.Model) -> None:
    """Refuse an update that does not name the version it started from (428), or names an old one (412)."""
    sent = request.headers.get("If-Match")
    if not sent:
        raise PreconditionRequired()
    if sent.strip() != "*" and etag_of(obj) not in [
        tag.strip().removeprefix("W/") for tag in sent.split(",")
    ]:
        raise PreconditionFailed()


def expected_version(request) -> int:
    """For records with a version counter: the If-Match version as a number, for the service to check
    under its row lock (so that two writers racing past the header check still cannot both win)."""
    sent = (request.headers.get("If-Match") or "").strip().removeprefix("W/").strip('"')
    if not sent:
        raise PreconditionRequired()
    if not (sent.isascii() and sent.isdigit()):  # int() refuses "¹", a digit to isdigit()
        raise PreconditionFailed()
    return int(sent)


# --- Idempotent creation ----------------------------------------------------------------------------


def _request_hash(request) -> str:
    body = json.dumps(request.data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(create):
    """Wrap a create handler: with an `Idempotency-Key` header, the first successful answer is stored
    in the same transaction as what it created, and a retry with the same key gets that answer again
    (header `Idempotent-Replayed: true`) instead of a second record. The same key with a different
    request is refused (409); a failed request stores nothing, so it may be retried.

    Concurrent retries — a client that timed out and sent again while the first is still running —
    all get the first answer: the key's row is claimed before the record is created, so on
    PostgreSQL a second request's claim waits on the unique index until the first commits (then it
    replays that answer) or rolls back (then it creates, as the first never happened). On SQLite the
    immediate transactions (settings.DATABASES) queue the requests, and the later ones find the row."""

    def wrapper(self, request, *args, **kwargs):
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if not key:
            return create(self, request, *args, **kwargs)
        if len(key) > 200:
            raise serializers.ValidationError(
                {
                    "Idempotency-Key": [
                        serializers.ErrorDetail(
                            "Idempotency-Key は200文字以内にしてください。", code="idempotency_key_invalid"
                        )
                    ]
                }
            )
        digest = _request_hash(request)
        with transaction.atomic():
            stored = IdempotencyKey.objects.filter(user=request.user, key=key).first()
            if stored is None:
                try:
                    with transaction.atomic():  # a savepoint: losing the claim leaves the transaction usable
                        claim = IdempotencyKey.objects.create(
                            user=request.user,
                            key=key,
                            method=request.method,
                            path=request.path[:300],
                            request_hash=digest,
                            status_code=0,
                            response={},
                        )
                except IntegrityError:
                    # The same key committed by a concurrent request (our insert waited for it): its
                    # answer is now visible to this transaction's next statement (read committed).
                    stored = IdempotencyKey.objects.filter(user=request.user, key=key).first()
                    if stored is None:  # not in this transaction's snapshot (isolation above read committed)
                        raise DatabaseBusy() from None  # 503 with Retry-After: the retry will find it
                else:
                    response = create(self, request, *args, **kwargs)
                    if response.status_code >= 300:
                        claim.delete()  # a refusal is not remembered: the client may correct and retry
                        return response
                    claim.status_code = response.status_code
                    claim.response = json.loads(json.dumps(response.data, default=str))
                    claim.save(update_fields=["status_code", "response"])
                    return response
        if stored.request_hash != digest:
            raise Conflict(
                "この Idempotency-Key は別の内容のリクエストですでに使われています。",
                code="idempotency_key_reused",
            )
        return Response(stored.response, status=stored.status_code, headers={"Idempotent-Replayed": "true"})

    wrapper.__name__ = create.__name__
    wrapper.__doc__ = create.__doc__
    return wrapper
