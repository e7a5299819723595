"""Every GET read path of the system, found rather than listed: the page routes from the URL confs
(django.urls.get_resolver) and the API's GET operations from the OpenAPI schema (drf-spectacular's
generator, the one `manage.py spectacular` uses). Path parameters are filled with ids of the seeded
world's records (tests/leak_world.py) by parameter name, else by the path segment in front of them; a
route that cannot be filled must be in UNFILLABLE with a reason, so that a new route is either covered
or consciously left out."""

import io
import json
import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

#: an id no record has: what "missing" answers look like
MISSING_ID = 987654

#: path prefix (the part in front of a parameter, matched on its longest tail) -> model label
PAGE_MODELS = {
    "persons/": "cases.person",
    "households/": "cases.household",
    "household-members/": "cases.householdmember",
    "cases/": "cases.case",  # also multi-agency/cases/, participation/cases/
    "notes/": "cases.progressnote",
    "handovers/": "cases.casehandover",
    "multi-agency/consents/": "meetings.consent",
    "multi-agency/plans/": "meetings.supportplan",
    "multi-agency/tasks/": "meetings.plantask",
    "multi-agency/conferences/": "meetings.planconference",
    "support-meetings/": "meetings.supportmeeting",
    "outreach/": "outreach.outreachengagement",
    "participation/plans/": "participation.participationplan",
    "participation/proposals/": "participation.proposal",
    "participation/placements/": "participation.placement",
    "participation/candidates/": "participation.hostcandidate",
    "community/resources/": "community.communityresource",
    "community/gaps/": "jusou.resourcegap",
    "notifications/": "jusou.notification",
    "exports/": "jusou.exportjob",
    "audit/retention/": "retention.disposalcandidate",
    "audit/case/": "cases.case",  # a case's whole history (管理者)
}
#: parameters whose name says what they are
PARAM_MODELS = {
    "briefing_pk": "meetings.meetingbriefing",
    "plan_pk": "meetings.supportplan",
    "host_pk": "community.communityresource",
}
API_MODELS = {
    "agencies/": "jusou.agency",
    "people/": "cases.person",
    "households/": "cases.household",
    "cases/": "cases.case",
    "consultations/": "cases.consultation",
    "handovers/": "cases.casehandover",
    "consents/": "meetings.consent",
    "plans/": "meetings.supportplan",
    "participation/plans/": "participation.participationplan",
    "conferences/": "meetings.planconference",
    "support-meetings/": "meetings.supportmeeting",
    "outreach/engagements/": "outreach.outreachengagement",
    "community/resources/": "community.communityresource",
}
#: non-record parameters and the values every one of them is tried with
VALUE_PARAMS = {
    "fmt": ["csv"],  # audit exports; xlsx carries the same rows zipped (not searchable as text)
    "form": ["intake", "assessment", "progress"],  # a case's printed forms (PDF, read back as text)
    "sheet": ["plan", "evaluation"],  # a plan's printed forms (PDF)
}

#: routes left out of the walk, each with its reason; the walk fails on an unknown unfillable route
UNFILLABLE = {
    "admin/": "Django admin: システム管理者 only (is_staff, a membership of its own); no persona is staff",
    "audit/retention/<int:pk>/": "廃棄候補 exist only past 保存年限 and are shown to 管理者 only",
    "audit/retention/<int:pk>/keep/": "廃棄候補 exist only past 保存年限 (POST)",
    "audit/retention/<int:pk>/relist/": "廃棄候補 exist only past 保存年限 (POST)",
    # 地域づくり holds no personal data and every staff member reads it (community/tests/test_areas.py and
    # test_records.py assert who may see and change these)
    "community/areas/<int:pk>/": "a 圏域's 地域づくり figures: no personal data, readable by all staff",
    "community/records/<slug:kind>/<int:pk>/correct/": "地域づくり sessions, platforms, log entries: no personal data",
    "community/records/<slug:kind>/<int:pk>/remove/": "地域づくり sessions, platforms, log entries: no personal data (POST)",
    # Single sign-on: the key names a configured IdP, not a record; tests/sso walk them against a real IdP
    "sso/oidc/<slug:key>/login/": "starts a login at an IdP (no record; tests/sso/test_oidc.py)",
    "sso/oidc/<slug:key>/callback/": "an IdP's answer to a login (no record; tests/sso/test_oidc.py)",
    "sso/oidc/<slug:key>/backchannel-logout/": "the IdP's logout token (POST, no record; tests/sso/test_oidc.py)",
    "sso/saml/<slug:key>/login/": "starts a login at a SAML IdP (no record; tests/sso/test_saml.py)",
    "sso/saml/<slug:key>/acs/": "a SAML IdP's Response (POST, no record; tests/sso/test_saml.py)",
    "sso/saml/<slug:key>/sls/": "SAML single logout, front channel (no record; tests/sso/test_saml.py)",
    "sso/saml/<slug:key>/slo/soap/": "SAML single logout over SOAP (POST, no record; tests/sso/test_saml.py)",
    "sso/saml/<slug:key>/metadata/": "jusou's public SP metadata (no record; tests/sso/test_saml.py)",
}


@dataclass(frozen=True)
class Route:
    kind: str  # "page" | "api"
    pattern: str  # the route as written: "persons/<int:pk>/", "/api/v1/people/{id}/"
    params: tuple[str, ...]

    @property
    def has_record(self) -> bool:
        return bool(self.params)


def _walk(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


def page_routes() -> list[Route]:
    """Every page route outside /api/v1/ (the schema covers it); a regex route is reported as is."""
    routes = []
    for route, _entry in _walk(get_resolver()):
        if route.startswith("api/v1/"):
            continue
        routes.append(Route("page", route, tuple(m["name"] for m in PARAM.finditer(route))))
    return routes


def api_routes() -> list[Route]:
    """Every GET operation in the OpenAPI schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    routes = []
    for path, operations in schema["paths"].items():
        if "get" not in operations:
            continue
        params = tuple(p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "path")
        routes.append(Route("api", path, params))
    return routes


def _model_for(prefix: str, table: dict[str, str]) -> str | None:
    prefix = prefix.rsplit("/", 1)[0] + "/" if not prefix.endswith("/") else prefix
    best = None
    for tail, label in table.items():
        if prefix.endswith(tail) and (best is None or len(tail) > len(best[0])):
            best = (tail, label)
    return best[1] if best else None


def param_models(route: Route) -> dict[str, str | None]:
    """Each parameter of the route -> the model label it takes an id of, or the VALUE_PARAMS name."""
    out = {}
    text = route.pattern
    for name in route.params:
        if name in VALUE_PARAMS:
            out[name] = f"value:{name}"
            continue
        if name == "label" or (name == "pk" and "label" in route.params):
            out[name] = "label"  # audit/history/<label>/<pk>/: a record of the label's model
            continue
        if route.kind == "page":
            marker = re.search(r"<(?:\w+:)?" + name + ">", text)
            prefix = text[: marker.start()]
            out[name] = PARAM_MODELS.get(name) or _model_for(prefix, PAGE_MODELS)
        else:
            prefix = text[: text.index("{" + name + "}")].removeprefix("/api/v1/")
            out[name] = _model_for(prefix, API_MODELS)
    return out


def allow_listed(route: Route) -> str | None:
    """The reason a route is left out of the walk, if it is."""
    if route.kind == "page" and route.pattern.startswith("admin/"):
        return UNFILLABLE["admin/"]
    return UNFILLABLE.get(route.pattern)


def unfillable(route: Route, records, history_labels) -> bool:
    for _name, model in param_models(route).items():
        if model is None:
            return True
        if model.startswith("value:") or model == "label":
            continue
        if not records.get(model):
            return True
    if "label" in route.params and not history_labels:
        return True
    if not re.fullmatch(r"[\w\-./<>:{}]*", route.pattern):  # a regex route
        return True
    return False


@dataclass(frozen=True)
class Filled:
    route: Route
    url: str
    records: tuple[tuple[str, str], ...]  # (model label, record name) of each record parameter
    missing_url: str | None  # the same route with every record parameter a missing id


def _substitute(route: Route, values: dict[str, str]) -> str:
    if route.kind == "page":
        return "/" + PARAM.sub(lambda m: str(values[m["name"]]), route.pattern)
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m[1]]), route.pattern)


def fill(route: Route, records: dict[str, dict[str, int]], history_labels: list[str]) -> list[Filled]:
    """Every combination of the world's records (and values) the route's parameters can take."""
    models = param_models(route)
    combos: list[tuple[dict, tuple]] = [({}, ())]
    for name in route.params:
        model = models[name]
        options = []
        if model.startswith("value:"):
            options = [(v, None) for v in VALUE_PARAMS[name]]
        elif model == "label":
            if name != "label":
                continue  # the id goes with its label (below)
            options = [(label, None) for label in history_labels]
        else:
            options = [(pk, (model, record)) for record, pk in records[model].items()]
        combos = [
            ({**v, name: value}, recs + ((rec,) if rec else ()))
            for v, recs in combos
            for value, rec in options
        ]
    filled = []
    for values, recs in combos:
        if route.pattern.startswith("audit/history/<str:label>/"):
            # the history of one record: the label and the id go together
            label = values["label"]
            if label not in records:
                continue
            for record, pk in records[label].items():
                v = {**values, "pk": pk}
                filled.append(
                    Filled(
                        route,
                        _substitute(route, v),
                        ((label, record),),
                        _substitute(route, {**v, "pk": MISSING_ID}),
                    )
                )
            continue
        missing = None
        if recs:
            missing_values = dict(values)
            for name in route.params:
                if models[name] not in (None, "label") and not models[name].startswith("value:"):
                    missing_values[name] = MISSING_ID
            missing = _substitute(route, missing_values)
        filled.append(Filled(route, _substitute(route, values), recs, missing))
    return filled


# --- bodies ---------------------------------------------------------------------------------------


def pdf_text(raw: bytes) -> str:
    """A printed document's text (jusou.pdf), white space removed: a PDF places 「山田 花子」 as glyphs,
    and whether a space comes back out depends on the layout; leaks() compares without white space."""
    from pypdf import PdfReader

    return "".join("".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(raw)).pages)


def is_pdf(response) -> bool:
    return response.get("Content-Type", "").startswith("application/pdf")


def body_text(response) -> str:
    """What a reader receives: headers and body as text (JSON re-dumped without ASCII escapes)."""
    if getattr(response, "streaming", False):
        raw = b"".join(response.streaming_content)
    else:
        raw = response.content
    text = raw.decode("utf-8", errors="replace") if not is_pdf(response) else pdf_text(raw)
    if response.get("Content-Type", "").startswith("application/json"):
        try:
            text = json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    headers = " ".join(f"{k}: {v}" for k, v in response.items())
    return headers + "\n" + text


_VOLATILE = [
    re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"'),
    re.compile(r'nonce="[^"]*"'),
]


def comparable(response, url: str) -> tuple[int, str]:
    """Status and body of an answer with what differs per request taken out (tokens, nonces, the
    requested address itself), to tell a refused record from a missing one."""
    text = response.content.decode("utf-8", errors="replace") if not response.streaming else ""
    if "<main" in text and "</main>" in text:
        text = text[text.index("<main") : text.index("</main>")]
    for pattern in _VOLATILE:
        text = pattern.sub("", text)
    text = text.replace(url, "<url>")
    return response.status_code, text
