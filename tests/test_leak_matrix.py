"""Issue 14, the generated leak matrix: every GET read path (page, print view, API detail and list,
search, export, briefing, notification) × every persona × the records of a seeded world whose every
sensitive value is a marker string (tests/leak_world.py). No response carries a marker outside what
the persona's basis opens (README "Access"), and a record outside the basis answers exactly as a
missing id does.

The routes are not listed here: they come from the URL confs and the OpenAPI schema
(tests/leak_routes.py), so a new endpoint is walked without editing this file; one whose parameters
cannot be filled fails the walk until it is filled or allow-listed with a reason."""

import pytest
from django.test import Client

from jusou.audit.selectors import audited_models
from jusou.models import ApiScope
from jusou.tests.api import api_as, machine_client
from tests import leak_routes as routes
from tests.leak_world import ALL, OUTREACH, SON_OWN, WHEREABOUTS, build

pytestmark = pytest.mark.django_db

# --- What each persona's basis opens, by hand (README "Access"; DOMAIN.md §4) ---------------------------


def _briefings_by_member() -> bool:
    """Whether briefings are frozen per information category, member by member, with a rendering for
    external members (meetings.briefings), or in the first format (four fixed sections)."""
    from meetings.models import MeetingBriefing

    return any(f.name == "external_sections" for f in MeetingBriefing._meta.get_fields())


#: the host shared the case with the sections 主訴・見立て, 世帯, 課題, リスク (tests/leak_world.py)
if _briefings_by_member():
    # read as the categories 課題・アセスメント and 世帯の状況 of the case and its 本人; each other household
    # member with their place in the household only (never their own 課題: DOMAIN.md §4); whereabouts
    # never. External members read it pseudonymised: no names, no case number.
    _ISSUES = frozenset(
        {
            "consultation_summary",
            "consultation_action",
            "consultation_consulter",
            "assessment_detail",
            "assessment_formulation",
            "assessment_life_history",
            "assessment_risks",
        }
    )
    BRIEFING_STAFF = _ISSUES | {"mother_name", "son_name", "case_number"}
    BRIEFING_EXTERNAL = _ISSUES
else:
    # the first format: 主訴 and 見立て, and each member's 続柄, 年齢, 氏名, 役割 and 本人の課題
    BRIEFING_STAFF = BRIEFING_EXTERNAL = frozenset(
        {
            "consultation_summary",
            "assessment_formulation",
            "mother_own_issues",
            "son_own_issues",
            "mother_name",
            "son_name",
            "case_number",
        }
    )

PLAN = frozenset({"plan_wishes", "plan_issues", "plan_long_term_goal", "plan_goal", "plan_task"})

#: the markers each persona may receive on some path; every other marker must reach them on none
ALLOWED = {
    # 担当, personally assigned (lead worker): everything, the 住所秘匿 whereabouts included
    "owner": ALL,
    # 担当 through the agency: everything but the whereabouts of a 住所秘匿 person (and the household's
    # address, which gives them away)
    "colleague": ALL - WHEREABOUTS,
    # 管理者: everything, read-only — but 住所秘匿 whereabouts only to the personally assigned
    "supervisor": ALL - WHEREABOUTS,
    # 本人同意 of the mother (基本情報 + 支援プラン) naming the agency, which has a 役割分担 in the approved
    # plan: her name, the case, her 宛名番号 (her whereabouts stay hidden: 住所秘匿), the plan and the
    # participation plan's 支援プラン fields; the consent itself. Nothing of 課題・アセスメント, 病歴, 支援経過,
    # 世帯の状況 — and nothing of the son, whose own basis they do not have.
    "plan_agency_worker": frozenset(
        {
            "mother_name",
            "case_number",
            "mother_atena",
            "participation_wishes",
            "participation_strengths",
            "follow_up_content",
            "mother_consent_purpose",
        }
    )
    | PLAN,
    # the son's own 本人同意 (基本情報 + 病歴・障害) names the agency: his record in those categories, and
    # nothing of the mother's case
    "member_consent_recipient": frozenset({"son_name"}) | SON_OWN,
    # 支援会議 member who has not acknowledged 守秘義務: the meeting's title and date only
    "member_before_pledge": frozenset(),
    # 支援会議 member after the pledge, inside the window: the frozen briefing (what the host chose, see
    # BRIEFING_STAFF), its decision and the minutes
    "member_after_pledge": BRIEFING_STAFF | {"meeting_minutes", "meeting_decision"},
    # an external member (meeting-only account): the briefing's rendering for external members
    "external_member": BRIEFING_EXTERNAL | {"meeting_minutes", "meeting_decision"},
    # pledged, but the meeting's window has closed: nothing
    "member_after_window": frozenset(),
    "outsider": frozenset(),
    # 相談支援包括化推進員 with no grant on the case: the アウトリーチ records (their 所掌事務: they receive
    # its alerts), and nothing of the case — not its agenda item at the 重層的支援会議
    "coordinator_without_basis": OUTREACH,
    # 外部システム acting for an agency without a basis
    "machine_client": frozenset(),
}

#: the records each persona has *some* basis for (a partial one included); any other record must
#: answer exactly like a missing id, on every route that takes it
#: records without personal data (agencies, the community register, 開拓, resource gaps)
PUBLIC = frozenset(
    {"agency_own", "agency_plan", "agency_health", "agency_npo", "resource", "candidate", "gap"}
)
#: records that are one user's own: a notification to the owner, the supervisor's export
OWN = {"notification": "owner", "export": "supervisor"}
EVERYTHING = None  # every record of the world but the others' OWN ones
OPENS = {
    "owner": EVERYTHING,
    "colleague": EVERYTHING,
    "supervisor": EVERYTHING,
    "plan_agency_worker": frozenset(
        {
            "case",
            "mother",
            "household",
            "consultation",
            "mother_member",
            "son_member",
            "note",
            "assessment",
            "plan",
            "task",
            "mother_consent",
            "son_consent",
            "participation_plan",
            "conference",
            "handover",  # the other case, handed over to their agency (leak_world)
        }
    ),
    "member_consent_recipient": frozenset({"son"}),
    "member_before_pledge": frozenset({"meeting"}),  # the 守秘義務 page
    "member_after_pledge": frozenset({"meeting", "briefing"}),
    "external_member": frozenset({"meeting", "briefing"}),
    "member_after_window": frozenset(),
    "outsider": frozenset(),
    "coordinator_without_basis": frozenset({"conference", "engagement"}),
    "machine_client": frozenset(),
}
PERSONAS = list(ALLOWED)

#: leaks found by this matrix and reported (persona, route pattern, marker) -> what leaks; each is
#: asserted as an xfail(strict=True) below so that CI stays green and the fix is noticed
KNOWN_LEAKS: dict[tuple[str, str, str], str] = {}

#: query strings tried on a route that answered 200: the print view and the whole timeline on a
#: record's page, a search on a list (a kana query and a kanji one, as fragments and across scopes)
RECORD_VARIANTS = ("?print=1&timeline=all",)
LIST_VARIANTS = ("?q=やまだ&scope=all&page_size=200", "?q=山田&fragment=1&pick=1")


def test_the_tables_name_every_persona_and_marker():
    assert set(ALLOWED) == set(OPENS)
    for persona, allowed in ALLOWED.items():
        assert allowed <= ALL, (persona, allowed - ALL)


class Walk:
    """One persona's walk over every route."""

    def __init__(self, world, persona):
        self.world = world
        self.persona = persona
        self.leaks: list[str] = []
        self.disclosures: list[str] = []
        self.errors: list[str] = []
        self.forbidden = {name: world.markers[name] for name in ALL - ALLOWED[persona]}
        self.opens = OPENS[persona]
        if persona == "machine_client":
            _, self.api = machine_client(world.agencies["npo"], [s.value for s in ApiScope])
            self.page = None
        else:
            user = world.users[persona]
            self.api = api_as(user)
            self.page = Client()
            self.page.force_login(user)
        self.history_labels = [label for label in world.records if label in audited_models()]

    def client(self, route):
        return self.page if route.kind == "page" else self.api

    def check(self, route, url, response):
        if response.status_code >= 500:
            self.errors.append(f"{url}: {response.status_code}")
        text = routes.body_text(response)
        pdf = routes.is_pdf(response)
        for name, value in self.forbidden.items():
            found = "".join(value.split()) in text if pdf else value in text
            if found and (self.persona, route.pattern, name) not in KNOWN_LEAKS:
                self.leaks.append(f"{url} [{response.status_code}] carries {name} 「{value}」")

    def opened(self, record: str) -> bool:
        if record in OWN:
            return OWN[record] == self.persona
        return record in PUBLIC or self.opens is EVERYTHING or record in self.opens

    def outside(self, filled) -> bool:
        return any(not self.opened(record) for _, record in filled.records)

    def run(self, route_list):
        missing_answers = {}
        for route in route_list:
            client = self.client(route)
            if client is None:
                continue
            gated = False
            for filled in routes.fill(route, self.world.records, self.history_labels):
                if gated:
                    break
                response = client.get(filled.url)
                self.check(route, filled.url, response)
                if response.status_code == 200 and not routes.is_pdf(response):  # a PDF takes no variants
                    variants = RECORD_VARIANTS if filled.records else LIST_VARIANTS
                    if route.kind == "api":
                        variants = () if filled.records else LIST_VARIANTS[:1]
                    for variant in variants:
                        self.check(route, filled.url + variant, client.get(filled.url + variant))
                if filled.missing_url and self.outside(filled):
                    if filled.missing_url not in missing_answers:
                        missing_answers[filled.missing_url] = routes.comparable(
                            client.get(filled.missing_url), filled.missing_url
                        )
                    refused = routes.comparable(response, filled.url)
                    if refused == missing_answers[filled.missing_url] and refused[0] in (403, 405):
                        # refused before any record is looked at (a role's page, a POST-only route): the
                        # route's other records would be refused alike
                        gated = True
                    if refused != missing_answers[filled.missing_url]:
                        self.disclosures.append(
                            f"{filled.url} answers {refused[0]}, a missing id "
                            f"{missing_answers[filled.missing_url][0]} (or a different body)"
                        )


@pytest.fixture
def world(db):
    return build()


@pytest.fixture(scope="module")
def all_routes():
    return routes.page_routes() + routes.api_routes()


def test_every_route_is_walked_or_allow_listed_with_a_reason(world, all_routes):
    labels = [label for label in world.records if label in audited_models()]
    unknown = [
        route.pattern
        for route in all_routes
        if routes.allow_listed(route) is None and routes.unfillable(route, world.records, labels)
    ]
    assert unknown == [], (
        "routes whose parameters cannot be filled: fill them in tests/leak_routes.py "
        "or allow-list them there with a reason"
    )
    stale = [p for p in routes.UNFILLABLE if not any(r.pattern.startswith(p) for r in all_routes)]
    assert stale == [], "allow-listed routes that no longer exist"
    walked = [r for r in all_routes if routes.allow_listed(r) is None]
    assert sum(r.kind == "api" for r in walked) >= 30 and sum(r.kind == "page" for r in walked) >= 80


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_read_path_carries_what_the_basis_does_not_open(world, all_routes, persona, settings):
    settings.API_RATE_LIMIT = "100000/minute"
    walk = Walk(world, persona)
    walk.run([r for r in all_routes if routes.allow_listed(r) is None])
    assert walk.errors == []
    assert walk.leaks == []
    assert walk.disclosures == []


@pytest.mark.parametrize(
    ("persona", "pattern", "marker"),
    [
        pytest.param(*key, marks=pytest.mark.xfail(strict=True, reason=f"leak: {reason}"), id="-".join(key))
        for key, reason in KNOWN_LEAKS.items()
    ],
)
def test_known_leak(world, all_routes, persona, pattern, marker):
    """A leak the matrix found, asserted the right way round (xfail until fixed; strict, so that the
    fix removes it from KNOWN_LEAKS and the matrix covers the route again)."""
    walk = Walk(world, persona)
    labels = walk.history_labels
    route = next(r for r in all_routes if r.pattern == pattern)
    value = world.markers[marker]
    for filled in routes.fill(route, world.records, labels):
        for url in (filled.url, *(filled.url + v for v in (RECORD_VARIANTS + LIST_VARIANTS))):
            assert value not in routes.body_text(walk.client(route).get(url)), url
