"""Schema-driven fuzzing: schemathesis generates requests for every operation in the OpenAPI schema
(valid and invalid bodies, parameters and paths) and the API must never answer 5xx.

The requests go through Django's test client (inside the test's transaction), as a staff member with
write access and as a machine client, over the demo world."""

import json
from urllib.parse import urlsplit

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from jusou.api.auth import token_issue

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 12


def _client(user) -> APIClient:
    client = APIClient()
    _, token = token_issue(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _send(client: APIClient, case):
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    url = urlsplit(kwargs["url"])
    path = url.path + (f"?{url.query}" if url.query else "")
    headers = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() not in ("authorization",
                                                                                          "content-type")}  # fmt: skip
    body, content_type = None, "application/json"
    if "json" in kwargs:
        body = json.dumps(kwargs["json"])
    elif kwargs.get("data") is not None:
        body, content_type = kwargs["data"], (kwargs.get("headers") or {}).get("Content-Type", content_type)
    return client.generic(case.method, path, data=body or "", content_type=content_type, headers=headers)


@pytest.fixture
def schema():
    document = SchemaGenerator().get_schema(request=None, public=True)
    return schemathesis.openapi.from_dict(json.loads(json.dumps(document, default=str)))


@pytest.mark.parametrize("persona", ["intake_a", "coord", "福祉総合システム"])
def test_fuzzing_every_operation_finds_no_server_error(personas, schema, persona, settings):
    from jusou.api.demo import DEMO_CLIENT, load_demo_api_client
    from jusou.models import ApiClient

    settings.API_RATE_LIMIT = "100000/minute"
    if persona == DEMO_CLIENT:
        load_demo_api_client()
        user = ApiClient.objects.get(name=DEMO_CLIENT).user
    else:
        user = personas[persona]
    client = _client(user)
    failures = []
    # Revoking the caller's own token would end the run early; those two are tested on their own.
    operations = [op for op in (result.ok() for result in schema.get_all_operations())
                  if not op.path.startswith("/api/v1/auth/tokens/")]  # fmt: skip
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def run(case):
            response = _send(client, case)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} → {response.status_code}")
            else:
                assert response.status_code == 204 or response["Content-Type"].startswith("application/json")

        run()
    assert not failures, "\n".join(sorted(set(failures)))
