"""How drf-spectacular describes jusou's API in the OpenAPI schema, so that the schema is true for
every answer the API gives (tests/test_api_fuzz.py proves it with schemathesis):

- authentication: the bearer token and the staff session;
- serializers: a field that can be null is nullable — a declared relation whose model field is
  nullable, and under the field policy (jusou.access.fieldpolicy) every field a list or an access decision
  may mask (null, or 「秘匿」 for text) or withhold (left out of the answer, so not required);
- request bodies refuse unknown fields (StrictSerializer): `additionalProperties: false`;
- every operation lists the refusals it can give, all with the one error body of jusou.api.errors
  (the `Error` component), by one rule here rather than on each view;
- OpenAPI links from a list to its records, from a created record to where it is read and changed,
  and from a read to the update or transition that needs its ETag, for clients (and schemathesis'
  stateful run) to follow.
"""

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from jusou.access.fieldpolicy import MASK
from jusou.api.base import PolicySerializer, StrictSerializer
from jusou.api.errors import MESSAGES

# --- The headers of conditional updates and idempotent creation (jusou.api.base), for the views' extend_schema

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="取得した版（ETag）。ないと 428、古い版なら 412 stale_version",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="再送しても1件だけ記録されるためのキー（200文字以内）。同じキーの再送には最初の応答をそのまま返し"
    "（Idempotent-Replayed: true）、同じキーで内容の違う要求は 409 idempotency_key_reused",
)
REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    str,
    OpenApiParameter.HEADER,
    response=[201],
    enum=["true"],
    description="Idempotency-Key の再送に、最初の応答を返したとき",
)
ETAG = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=[200, 201],
    required=True,  # the record's answers, not refusals
    description="この記録の版。更新・状態変更のとき If-Match で送ります",
)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "jusou.api.auth.BearerTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer <token>`（`Token <token>` も可）。職員は /api/v1/auth/token/ で、"
            "連携システムはシステム管理者から発行を受けます。",
        }


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "jusou.api.auth.StaffSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


# --- Serializers -----------------------------------------------------------------------------------------


def _nullable(schema: dict) -> dict:
    if "$ref" in schema:
        return {"allOf": [schema], "nullable": True}
    return {**schema, "nullable": True}


def _policy(model) -> tuple[set[str], set[str]]:
    """The fields of `model` a list or 住所秘匿 may mask, and those an access decision may withhold."""
    policy = getattr(model, "FIELD_POLICY", {})
    withheld = {name for names in policy.get("categories", {}).values() for name in names}
    return set(policy.get("location", ())) | set(policy.get("sensitive", ())), withheld


def _masked(prop: dict, field) -> dict:
    """A field as jusou.api.base.PolicySerializer writes it when masked: text as 「秘匿」 (so none of
    its formats or lengths apply), a choice as its value or 「秘匿」, anything else as null."""
    meta = {k: prop[k] for k in ("title", "description", "readOnly") if k in prop}
    if isinstance(field, serializers.CharField):
        return {**meta, "type": "string", "nullable": True}
    if isinstance(field, serializers.ChoiceField):
        plain = {k: v for k, v in prop.items() if k not in meta and k != "nullable"}
        return {**meta, "anyOf": [plain, {"type": "string", "enum": [MASK]}], "nullable": True}
    return _nullable(prop)


class SerializerScheme(OpenApiSerializerExtension):
    """Serializers as the API reads and writes them (see the module docstring)."""

    target_class = "rest_framework.serializers.Serializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):

        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if isinstance(self.target, StrictSerializer) and direction == "request":
            schema["additionalProperties"] = False  # unknown fields are refused (400 unknown_field)
        if direction == "response" and isinstance(self.target, serializers.ModelSerializer):
            policy = _policy(self.target.Meta.model) if isinstance(self.target, PolicySerializer) else None
            _as_written(self.target, schema, policy)
        return schema


def _as_written(serializer, schema: dict, policy: tuple[set[str], set[str]] | None) -> None:
    masked, withheld = policy or (set(), set())
    model = serializer.Meta.model
    properties, required = schema.get("properties", {}), schema.get("required", [])
    for name, field in serializer.fields.items():
        if name not in properties or field.write_only:
            continue
        source = field.source.split(".")[0]
        if source in masked or name in masked:
            properties[name] = _masked(properties[name], field)
        elif isinstance(field, serializers.RelatedField) and _nullable_relation(model, source):
            properties[name] = _nullable(properties[name])
        if (source in withheld or name in withheld) and name in required:
            required.remove(name)  # left out of the answer when the reader's decision does not open it
    if "required" in schema and not required:
        del schema["required"]


def _nullable_relation(model, name: str) -> bool:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:  # a property, or an attribute a selector sets
        return False
    return isinstance(field, models.ForeignKey | models.OneToOneField) and field.null


# --- Refusals --------------------------------------------------------------------------------------------

ERROR_COMPONENTS = {
    "ErrorItem": {
        "type": "object",
        "properties": {
            "field": {
                "type": "string",
                "nullable": True,
                "description": "項目名（入れ子は a.b・a[0]、全体なら null）",
            },
            "code": {
                "type": "string",
                "description": "機械可読なコード（required, invalid, unknown_field …）",
            },
            "message": {"type": "string", "description": "日本語の説明"},
        },
        "required": ["field", "code", "message"],
    },
    "Error": {
        "type": "object",
        "description": "API が返すすべての 4xx（と 503）の本文（jusou.api.errors）。`code` は英語の安定した値で、"
        "連携システムはこれで判断します。`message` はログを読む人のための日本語です。",
        "properties": {
            "status": {"type": "integer", "description": "HTTP ステータスコード"},
            "code": {
                "type": "string",
                "description": "invalid（400）・not_authenticated・invalid_token（401）・permission_denied・"
                "scope_missing・outside_consent（403）・not_found（404）・conflict・concurrent_edit・"
                "idempotency_key_reused（409）・stale_version（412）・payload_too_large（413）・"
                "unsupported_media_type（415）・if_match_required（428）・throttled・account_locked（429）など",
            },
            "message": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/ErrorItem"},
                "description": "入力エラー（400）の項目ごとの内容。ほかは空",
            },
        },
        "required": ["status", "code", "message", "errors"],
    },
}
SERVICE_UNAVAILABLE = "混み合っています。少し待ってからもう一度お試しください。"
UNSAFE = {"post", "put", "patch", "delete"}


def _parameters(operation: dict, location: str) -> dict[str, dict]:
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == location}


def _names_a_record(operation: dict, components: dict) -> bool:
    """Whether the request body refers to a record by its id (an integer property): 404 when the caller
    may not see it, exactly as for a missing one."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = content.get("schema", {}).get("$ref", "")
    body = components.get(ref.rsplit("/", 1)[-1], {})
    return any(prop.get("type") == "integer" for prop in body.get("properties", {}).values())


def refusals(path: str, method: str, operation: dict, components: dict) -> list[int]:
    """The error statuses an operation can answer, from what it takes."""
    codes = [400, 406, 429, 503]  # malformed input, content negotiation, rate limit, a busy database
    if operation.get("security"):
        codes += [401, 403]
    else:  # the token request, the one operation without authentication: wrong credentials or code
        codes += [401]
    if _parameters(operation, "path") or "cursor" in _parameters(operation, "query"):
        codes.append(404)  # a record that does not exist or is not visible; a cursor that is not ours
    elif _names_a_record(operation, components):
        codes.append(404)
    if method in UNSAFE and not path.startswith("/api/v1/auth/"):
        codes.append(409)  # an illegal transition, a duplicate, an Idempotency-Key reused, a concurrent edit
    if_match = _parameters(operation, "header").get("If-Match")
    if if_match:
        codes.append(412)
        if if_match.get("required"):
            codes.append(428)
    if "requestBody" in operation:
        codes += [413, 415]
    return sorted(codes)


def _error_response(code: int) -> dict:
    return {
        "description": MESSAGES.get(code, SERVICE_UNAVAILABLE),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


# --- Links -----------------------------------------------------------------------------------------------

FIRST = "$response.body#/results/0/id"  # the first row of a cursor page
ID = "$response.body#/id"
ETAG_READ = "$response.header.ETag"  # the version the answer carries
CASE_ACTIONS = ["assess", "support", "refer", "close", "suspend", "resume"]

#: source operation → status → {link name: (target operation, parameters)}
LINKS: dict[str, dict[str, dict[str, tuple[str, dict]]]] = {
    "agencies_list": {"200": {"agency": ("agencies_retrieve", {"id": FIRST})}},
    "people_list": {"200": {"person": ("people_retrieve", {"id": FIRST})}},
    "people_create": {
        "201": {
            "read": ("people_retrieve", {"id": ID}),
            "update": ("people_partial_update", {"id": ID, "header.If-Match": ETAG_READ}),
        }
    },
    "people_retrieve": {
        "200": {"update": ("people_partial_update", {"id": ID, "header.If-Match": ETAG_READ})}
    },
    "people_partial_update": {"200": {"read": ("people_retrieve", {"id": ID})}},
    "households_list": {"200": {"household": ("households_retrieve", {"id": FIRST})}},
    "consultations_list": {"200": {"consultation": ("consultations_retrieve", {"id": FIRST})}},
    "consultations_create": {"201": {"read": ("consultations_retrieve", {"id": ID})}},
    "cases_list": {"200": {"case": ("cases_retrieve", {"id": FIRST})}},
    "cases_retrieve": {
        "200": {
            "update": ("cases_partial_update", {"id": ID, "header.If-Match": ETAG_READ}),
            **{
                action: (f"cases_{action}_create", {"id": ID, "header.If-Match": ETAG_READ})
                for action in CASE_ACTIONS
            },
            "notes": ("cases_notes_list", {"id": ID}),
            "add_note": ("cases_notes_create", {"id": ID}),
            "assessments": ("cases_assessments_list", {"id": ID}),
            "add_assessment": ("cases_assessments_create", {"id": ID}),
            "consents": ("consents_list", {"query.case": ID}),
            "plans": ("plans_list", {"query.case": ID}),
            "participation_plans": ("participation_plans_list", {"query.case": ID}),
            "engagements": ("outreach_engagements_list", {"query.case": ID}),
        }
    },
    "cases_partial_update": {"200": {"read": ("cases_retrieve", {"id": ID})}},
    **{
        f"cases_{action}_create": {"200": {"read": ("cases_retrieve", {"id": ID})}} for action in CASE_ACTIONS
    },
    "cases_notes_create": {"201": {"notes": ("cases_notes_list", {"id": "$response.body#/case"})}},
    "cases_assessments_create": {
        "201": {"assessments": ("cases_assessments_list", {"id": "$response.body#/case"})}
    },
    "consents_list": {
        "200": {
            "consent": ("consents_retrieve", {"id": FIRST}),
            "withdraw": ("consents_withdraw_create", {"id": FIRST}),
        }
    },
    "consents_create": {
        "201": {
            "read": ("consents_retrieve", {"id": ID}),
            "withdraw": ("consents_withdraw_create", {"id": ID}),
        }
    },
    "plans_list": {"200": {"plan": ("plans_retrieve", {"id": FIRST})}},
    "plans_retrieve": {
        "200": {
            "task_status": (
                "plans_tasks_status_create",
                {
                    "id": ID,
                    "task_id": "$response.body#/tasks/0/id",
                    "header.If-Match": "$response.body#/tasks/0/etag",
                },
            )
        }
    },
    "referrals_list": {
        "200": {
            "case": ("cases_retrieve", {"id": "$response.body#/0/id"}),
            "accept": ("referrals_accept_create", {"id": "$response.body#/0/id"}),
            "return": ("referrals_return_create", {"id": "$response.body#/0/id"}),
        }
    },
    "referrals_accept_create": {
        "200": {"return": ("referrals_return_create", {"id": ID, "header.If-Match": ETAG_READ})}
    },
    "support_meetings_list": {
        "200": {
            "meeting": ("support_meetings_retrieve", {"id": FIRST}),
            "pledge": ("support_meetings_pledge_retrieve", {"id": FIRST}),
        }
    },
    "support_meetings_awaiting_pledge_list": {
        "200": {
            "pledge": ("support_meetings_pledge_retrieve", {"id": "$response.body#/0/id"}),
            "acknowledge": ("support_meetings_pledge_create", {"id": "$response.body#/0/id"}),
        }
    },
    "support_meetings_pledge_create": {
        "200": {"meeting": ("support_meetings_retrieve", {"id": "$response.body#/meeting/id"})}
    },
    "support_meetings_retrieve": {"200": {"window": ("support_meetings_window_create", {"id": ID})}},
    "conferences_list": {"200": {"conference": ("conferences_retrieve", {"id": FIRST})}},
    "outreach_engagements_list": {"200": {"engagement": ("outreach_engagements_retrieve", {"id": FIRST})}},
    "outreach_engagements_retrieve": {
        "200": {
            "contacts": ("outreach_engagements_contacts_list", {"id": ID}),
            "add_contact": ("outreach_engagements_contacts_create", {"id": ID}),
        }
    },
    "participation_plans_list": {"200": {"plan": ("participation_plans_retrieve", {"id": FIRST})}},
    "community_resources_list": {"200": {"resource": ("community_resources_retrieve", {"id": FIRST})}},
}


def _empty_means_not_given(operation: dict) -> None:
    """A list filter given empty (`?status=`, as an HTML form sends it) is no filter, as django-filter
    reads it: an optional query parameter's choices include "", and its date may be "" ."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter["in"] != "query" or parameter.get("required") or schema.get("minLength"):
            continue
        if "enum" in schema and "" not in schema["enum"]:
            schema["enum"] = [*schema["enum"], ""]
        elif schema.get("format") in ("date", "date-time"):
            parameter["schema"] = {"anyOf": [schema, {"type": "string", "enum": [""]}]}


def postprocess(result, generator, request, public):
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]): the error
    body on every operation for each refusal it can give, and the links."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    for (
        name,
        component,
    ) in ERROR_COMPONENTS.items():  # jusou.api.errors' ErrorSerializer where a view names it
        components.setdefault(name, component)
    operation_ids = set()
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            operation_ids.add(operation["operationId"])
            _empty_means_not_given(operation)
            responses = operation.setdefault("responses", {})
            for code in refusals(path, method, operation, components):
                responses.setdefault(str(code), _error_response(code))
    for item in result.get("paths", {}).values():
        for operation in item.values():
            for status, links in LINKS.get(operation.get("operationId"), {}).items():
                response = operation["responses"][status]
                for name, (target, parameters) in links.items():
                    if target not in operation_ids:
                        raise ValueError(f"link {operation['operationId']} → {target}: no such operation")
                    response.setdefault("links", {})[name] = {"operationId": target, "parameters": parameters}
    return result
