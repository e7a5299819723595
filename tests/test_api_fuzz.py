"""Schema-driven fuzzing: the OpenAPI schema must be true.

schemathesis generates requests for every operation in the schema, as a staff member with write
access (intake_a), as a coordinator (coord) and as a machine client (福祉総合システム), through
Django's test client inside the test's transaction, over the demo world:

- valid requests (positive mode) and requests that break the schema (negative mode);
- the same requests with a NUL character in every string they carry (query, path and body values)
  and with a body nested 1,000 deep, built by hand, since hypothesis would seldom reach them;
- stateful sequences along the schema's OpenAPI links (list → detail → update or transition, create →
  read: jusou.api.schema.LINKS), so that real records are read and changed, not only missing ids.

Every answer is checked by schemathesis: no 5xx, the status code is documented for the operation,
the body matches the documented schema and content type, and a request that violates the schema is
refused (4xx). Each run prints how many requests it made (README, "Tests and CI").
"""

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pytest
import requests
import schemathesis
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jusou.api.auth import token_issue

pytestmark = pytest.mark.django_db

PERSONAS = ["intake_a", "coord", "福祉総合システム"]
POSITIVE_EXAMPLES = 8  # per operation and persona
NEGATIVE_EXAMPLES = 6
STATEFUL_SCENARIOS = 25  # per persona, each up to STATEFUL_STEPS requests along the links
STATEFUL_STEPS = 8
DEPTH = 1000
NUL = "a\x00b"

CONFIG = schemathesis.Config.from_dict(
    {
        # The caller's token is set by the test client; generated Authorization values would only be dropped.
        "generation": {"with-security-parameters": False},
        # Stateful sequences follow the links the schema declares, no guessed ones.
        "phases": {"stateful": {"inference": {"algorithms": []}}},
    }
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]

# TEMPORARY allow-list of failures fixed on another branch of issue 15, which the integrator REMOVES once
# it is merged: {(kinds of request or None for any, check title, text in the failure): the branch}. The
# failures an entry covers are still printed, as "pending merge". Empty since this branch was rebased onto
# the "hygiene" merge (NUL, deep JSON and unreadable filters: all refused with 400 now); the sequential run
# meets nothing of "concur"'s (its 409/412/503 are documented already), so it stays empty after that merge.
PENDING_MERGE: dict[tuple[tuple[str, ...] | None, str, str], str] = {}


def _client(user) -> APIClient:
    client = APIClient(raise_request_exception=False)  # a crash is a 500 to report, like any other answer
    _, token = token_issue(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


SKIPPED_HEADERS = {"authorization", "content-type", "content-length", "host", "cookie"}


def _send(client: APIClient, case, *, raw_body: bytes | None = None) -> tuple[schemathesis.Response, str]:
    """Send a schemathesis case through Django's test client: the answer as schemathesis reads it, and
    the exception that crashed the view, if one did."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    if raw_body is not None:
        kwargs.pop("json", None)
        kwargs["data"] = raw_body
        kwargs["headers"] = {**(kwargs.get("headers") or {}), "Content-Type": "application/json"}
    prepared = requests.Request(
        method=kwargs["method"],
        url=kwargs["url"],
        headers=kwargs.get("headers"),
        params=kwargs.get("params"),
        json=kwargs.get("json"),
        data=kwargs.get("data"),
        cookies=kwargs.get("cookies"),
    ).prepare()
    body = prepared.body or b""
    response = client.generic(
        prepared.method,
        prepared.path_url,
        data=body.encode() if isinstance(body, str) else body,
        content_type=prepared.headers.get("Content-Type", "application/json"),
        headers={k: v for k, v in prepared.headers.items() if k.lower() not in SKIPPED_HEADERS},
    )
    exc_info = getattr(response, "exc_info", None)
    crash = f"{type(exc_info[1]).__name__}: {exc_info[1]}"[:200] if exc_info else ""
    answer = schemathesis.Response(
        status_code=response.status_code,
        headers={k: [v] for k, v in response.headers.items()},
        content=response.content,
        request=prepared,
        elapsed=0.0,
        verify=False,
        message=response.reason_phrase,
    )
    return answer, crash


@dataclass
class Run:
    """What one persona's run sent and got, and every failure schemathesis found (deduplicated)."""

    persona: str
    user: object
    client: APIClient
    requests: Counter = field(default_factory=Counter)  # kind of request → count
    answers: Counter = field(default_factory=Counter)  # status class → count
    failures: dict = field(default_factory=lambda: defaultdict(set))  # (kind, check title) → {details}
    last_crash: str = ""

    def send(self, case, raw_body: bytes | None = None) -> schemathesis.Response:
        # Revoking the token in use would end the run: logout gets a token of its own each time.
        client = _client(self.user) if case.operation.path == "/api/v1/auth/tokens/logout/" else self.client
        # A database error in a crashed request aborts PostgreSQL's transaction (the test's): roll back to
        # before the request, so that one 500 is reported as one, not as every request after it.
        savepoint = transaction.savepoint()
        response, self.last_crash = _send(client, case, raw_body=raw_body)
        if response.status_code >= 500:
            transaction.savepoint_rollback(savepoint)
        else:
            transaction.savepoint_commit(savepoint)
        return response

    def record(self, kind: str, case, response) -> None:
        self.requests[kind] += 1
        self.answers[f"{response.status_code // 100}xx"] += 1
        label = f"{case.operation.label} → {response.status_code}"
        if response.status_code >= 500:  # the one failure to report: its status and HTML body follow from it
            self.failures[(kind, "Server error")].add(f"{label}: {self.last_crash}")
            return
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                self.failures[(kind, failure.title)].add(
                    f"{label}: {' '.join(failure.message.split())[:300]}"
                )

    def report(self) -> tuple[list[str], list[str]]:
        failing, pending = [], []
        for (kind, title), details in sorted(self.failures.items()):
            for detail in sorted(details):
                line = f"[{self.persona}] {kind} · {title} · {detail}"
                reason = _pending_merge(kind, title, detail)
                (pending if reason else failing).append(f"{line}  ← {reason}" if reason else line)
        return failing, pending


def _pending_merge(kind: str, title: str, detail: str) -> str | None:
    for (kinds, check, needle), reason in PENDING_MERGE.items():
        if (kinds is None or kind in kinds) and title == check and needle in detail:
            return reason
    return None


# --- NUL characters and deep nesting -------------------------------------------------------------------


def _with_nul(value):
    """Every string in a generated value with a NUL in it (keys stay: they are the schema's names)."""
    if isinstance(value, str):
        return value[:1] + NUL + value[1:]
    if isinstance(value, dict):
        return {k: _with_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_nul(v) for v in value] or [NUL]
    return value


def _string_parameters(operation, location: str) -> set[str]:
    return {
        parameter["name"]
        for parameter in operation.definition.raw.get("parameters", [])
        if parameter["in"] == location and parameter.get("schema", {}).get("type") == "string"
    }


def _nul_case(case):
    """The case with a NUL in each string query and path value and in every string of its body; None
    when it carries no string at all."""
    operation = case.operation
    strings = _string_parameters(operation, "query")
    query = {
        **{name: NUL for name in strings},
        **{k: (NUL if k in strings else v) for k, v in (case.query or {}).items()},
    }
    strings = _string_parameters(operation, "path")
    path = {k: (_with_nul(v) if k in strings else v) for k, v in (case.path_parameters or {}).items()}
    body = _with_nul(case.body) if isinstance(case.body, dict | list) else case.body
    if query == (case.query or {}) and path == (case.path_parameters or {}) and body == case.body:
        return None
    return operation.Case(
        path_parameters=path,
        query=query,
        headers=dict(case.headers or {}),
        body=body,
        media_type=case.media_type,
    )


def _deep_body(case) -> bytes:
    """The case's body with one value replaced by a list nested DEPTH deep (2 KB), written by hand: the
    json module itself refuses such depth."""
    nested = "[" * DEPTH + "]" * DEPTH
    if isinstance(case.body, dict) and case.body:
        name = sorted(case.body)[0]
        rest = {k: v for k, v in case.body.items() if k != name}
        head = json.dumps(rest)[:-1] + (", " if rest else "")
        return f'{head}"{name}": {nested}}}'.encode()
    return nested.encode()


# --- The run -------------------------------------------------------------------------------------------


def _fuzz(run: Run, operation, mode: GenerationMode, examples: int) -> list:
    """Send `examples` generated cases of one operation in one mode; the cases sent."""
    sent = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        run.record(mode.value, case, run.send(case))
        sent.append(case)

    try:
        fuzz()
    except Unsatisfiable:  # nothing to break in the negative mode: no parameters and no body
        assert mode is GenerationMode.NEGATIVE, operation.label
    return sent


def _run_operations(run: Run, schema) -> None:
    for operation in (result.ok() for result in schema.get_all_operations()):
        sent = _fuzz(run, operation, GenerationMode.POSITIVE, POSITIVE_EXAMPLES)
        _fuzz(run, operation, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)
        # NUL and deep nesting, from the last valid request generated for the operation.
        base = sent[-1] if sent else operation.Case()
        nul = _nul_case(base)
        if nul is not None:
            run.record("nul", nul, run.send(nul))
        if operation.definition.raw.get("requestBody"):
            run.record("deep", base, run.send(base, raw_body=_deep_body(base)))


def _run_stateful(run: Run, schema) -> None:
    class Machine(schema.as_state_machine()):
        # Each scenario starts from the demo world as it was: hypothesis replays the beginnings of earlier
        # scenarios while it explores, and they must take the same course.
        def setup(self):
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def call(self, case, **kwargs):
            return run.send(case)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            run.record("stateful", case, response)

    Machine.run(
        settings=hypothesis_settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )


@pytest.fixture(scope="module")
def document():
    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))


def _caller(personas, persona):
    from devdata.demo.api_client import DEMO_CLIENT, load_demo_api_client
    from jusou.models import ApiClient, ApiScope

    if persona == DEMO_CLIENT:
        load_demo_api_client()
        # Every scope, so that the run reaches what a machine client reads (each refusal of a missing
        # scope is tested in jusou/tests/test_api.py); meetings and community gaps stay staff-only.
        ApiClient.objects.filter(name=DEMO_CLIENT).update(scopes=list(ApiScope.values))
        return ApiClient.objects.get(name=DEMO_CLIENT).user
    return personas[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_schema_is_true_for_every_operation(personas, document, persona, settings, capsys):
    settings.API_RATE_LIMIT = settings.API_TOKEN_RATE_LIMIT = "100000/minute"
    user = _caller(personas, persona)
    schema = schemathesis.openapi.from_dict(document, config=CONFIG)
    assert len(list(schema.get_all_operations())) >= 50
    assert any(
        "links" in r
        for path in document["paths"].values()
        for op in path.values()
        for r in op["responses"].values()
    )
    run = Run(persona, user, _client(user))
    _run_operations(run, schema)
    _run_stateful(run, schema)

    failing, pending = run.report()
    with capsys.disabled():
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(run.requests.items()))
        answers = ", ".join(f"{count} × {status}" for status, count in sorted(run.answers.items()))
        print(
            f"\nschemathesis [{persona}]: {sum(run.requests.values())} requests ({kinds}): {answers}; "
            f"{len(failing)} failures, {len(pending)} pending merge"
        )
        for line in pending:
            print(f"  pending merge: {line}")
    assert run.requests["stateful"] > 0
    assert not failing, "\n".join(failing)


# --- What the run found, fixed here -------------------------------------------------------------------


@pytest.mark.parametrize("page_size", ["0", "201", "abc", "1.5", "-1", "١٠"])
def test_a_page_size_outside_1_to_200_is_refused_with_the_field_named(personas, page_size):
    response = _client(personas["intake_a"]).get("/api/v1/people/", {"page_size": page_size})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "page_size"


def test_a_page_size_within_bounds_gives_a_page_of_that_size(personas):
    response = _client(personas["intake_a"]).get("/api/v1/agencies/", {"page_size": "2"})
    assert response.status_code == 200 and len(response.json()["results"]) == 2


def test_every_operation_documents_the_error_body_for_its_refusals(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert {"400", "401", "429"} <= set(responses), f"{method} {path}"
            if "{" in path:
                assert "404" in responses, f"{method} {path}"
            for code, response in responses.items():
                if code.startswith("4") and code != "410":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema.get("$ref", "").endswith(("/Error", "/DuplicateSuspectedError")), (
                        f"{method} {path} {code}"
                    )
    patch = document["paths"]["/api/v1/cases/{id}/"]["patch"]["responses"]
    assert {"409", "412", "428"} <= set(patch)


def test_a_list_masks_what_the_schema_says_it_may(personas, document):
    """A case list carries no 要配慮個人情報 (null): the schema says those fields are nullable."""
    case = document["components"]["schemas"]["Case"]["properties"]
    assert case["risk_abuse"]["nullable"] and case["issues"]["nullable"]
    rows = _client(personas["intake_a"]).get("/api/v1/cases/").json()["results"]
    assert rows and all(row["risk_abuse"] is None and row["issues"] is None for row in rows)


@pytest.mark.parametrize("value", ["1.5", "0", "-3", "99999999999999999999", "x"])
def test_an_id_filter_that_is_no_id_is_refused_with_the_field_named(personas, value):
    for url in (
        "/api/v1/consents/",
        "/api/v1/plans/",
        "/api/v1/participation/plans/",
        "/api/v1/outreach/engagements/",
    ):
        response = _client(personas["coord"]).get(url, {"case": value})
        assert response.status_code == 400, url
        assert [e["field"] for e in response.json()["errors"]] == ["case"], url


@pytest.mark.parametrize("value", ["12/01/26", "2026-1-5", "Dec 1 2026", "２０２６-01-05"])
def test_a_date_filter_takes_iso_dates_only(personas, value):
    client = _client(personas["intake_a"])
    response = client.get("/api/v1/people/", {"birth_date": value})
    assert response.status_code == 400 and [e["field"] for e in response.json()["errors"]] == ["birth_date"]
    assert client.get("/api/v1/consultations/", {"received_from": "2026-01-05"}).status_code == 200


def test_a_superscript_digit_is_no_number_anywhere(personas):
    """ "¹".isdigit() is true and int("¹") raises (found by the schemathesis run): ids, page sizes and
    versions are ASCII digits or refused."""
    client = _client(personas["intake_a"])
    assert client.get("/api/v1/cases/¹/").status_code == 404
    assert client.get("/api/v1/consultations/", {"page_size": "¹"}).status_code == 400
    case_id = client.get("/api/v1/cases/").json()["results"][0]["id"]
    response = client.patch(f"/api/v1/cases/{case_id}/", {}, format="json", headers={"If-Match": '"¹"'})
    assert response.status_code == 412
