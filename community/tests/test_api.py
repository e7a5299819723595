"""The 地域づくり API: all staff read the register (the internal notes only in a resource's detail, as
the page shows them), machine clients read it within `community:read` without the internal notes,
resource gaps are for staff only, filters refuse nonsense with a 400, nothing is written to the read
log (no personal data), and list queries do not grow with the page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community import services
from jusou.models import ApiScope, ReadLog, Role
from jusou.tests.api import api_as, ids, machine_client
from jusou.tests.factories import AgencyFactory, AreaFactory, staff_user

pytestmark = pytest.mark.django_db

RESOURCES = "/api/v1/community/resources/"
GAPS = "/api/v1/community/gaps/"
STAFF = ["worker", "colleague", "other_worker", "coordinator", "supervisor"]


@pytest.fixture
def world():
    middle = AreaFactory(code="chuo", name="中央圏域", level="middle")
    small = AreaFactory(code="chuo-1", name="中央一丁目町会", level="small", parent=middle)
    east = AreaFactory(code="higashi", name="東圏域", level="middle")
    agency, other = AgencyFactory(), AgencyFactory()
    worker = staff_user(Role.WORKER, agency, username="worker")

    def add(name, **fields):
        defaults = {"kind": "kodomo_shokudo", "area": small, "is_active": True}
        return services.resource_save(acting_user=worker, name=name, **{**defaults, **fields})

    return {
        "areas": {"middle": middle, "small": small, "east": east},
        "agency": agency,
        "other": other,
        "worker": worker,
        "colleague": staff_user(Role.WORKER, agency, username="colleague"),
        "other_worker": staff_user(Role.WORKER, other, username="other_worker"),
        "coordinator": staff_user(Role.COORDINATOR, username="coordinator"),
        "supervisor": staff_user(Role.SUPERVISOR, username="supervisor"),
        "admin": staff_user(Role.SYSTEM_ADMIN, username="admin"),
        "shokudo": add(
            "みどり子ども食堂",
            internal_notes="代表者の体調に配慮",
            accepts_participants=True,
            participation_kinds=["volunteer"],
            capacity=2,
            days=[2],
            contact="0120-000-000",
        ),
        "salon": add("東ふれあいサロン", kind="salon", area=east),
        "closed": add("休止中の居場所", kind="ibasho", area=middle, is_active=False),
        "add": add,
    }


def _url(resource):
    return f"{RESOURCES}{resource.pk}/"


# --- Who reads what ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reads_notes"),
    [
        ("worker", True),
        ("colleague", True),
        ("coordinator", True),
        ("other_worker", False),
        ("supervisor", False),
    ],
)
def test_all_staff_read_the_public_fields_and_the_internal_notes_only_who_may_change_the_place(
    world, name, reads_notes
):
    """The 運営する機関's staff (worker, colleague) and the 推進員 read the 内部メモ in the detail; another
    agency's worker and the supervisor read the public fields only; nobody reads it in a list."""
    api = api_as(world[name])
    listed = api.get(RESOURCES).json()["results"]
    assert [r["id"] for r in listed] == [world["shokudo"].pk, world["salon"].pk]
    assert {r["internal_notes"] for r in listed} == {None}
    detail = api.get(_url(world["shokudo"])).json()
    assert detail["internal_notes"] == ("代表者の体調に配慮" if reads_notes else None)
    assert detail["area"] == {"code": "chuo-1", "name": "中央一丁目町会"}
    assert detail["participation_kinds"] == ["volunteer"] and detail["days"] == [2]
    assert detail["places_left"] == 2 and detail["operating_agency"] == world["agency"].code
    assert api.get(_url(world["closed"])).status_code == 200  # like the page: inactive ones open too


@pytest.mark.parametrize("name", STAFF)
def test_all_staff_read_the_resource_gaps(world, name):
    gap = services.gap_record(
        acting_user=world["worker"],
        category="居場所",
        description="中高年の居場所がない",
        area=world["areas"]["middle"],
    )
    assert ids(api_as(world[name]).get(GAPS)) == [gap.pk]


def test_machine_client_reads_the_register_without_internal_notes_and_no_gaps(world):
    _, api = machine_client(world["other"], [ApiScope.COMMUNITY_READ])
    assert ids(api.get(RESOURCES)) == [world["shokudo"].pk, world["salon"].pk]
    detail = api.get(_url(world["shokudo"])).json()
    assert detail["internal_notes"] is None and detail["contact"] == "0120-000-000"
    assert "代表者の体調" not in api.get(_url(world["shokudo"])).content.decode()
    refused = api.get(GAPS)
    assert refused.status_code == 403 and refused.json()["code"] == "scope_missing"
    _, everything = machine_client(world["agency"], [s.value for s in ApiScope])
    assert everything.get(GAPS).status_code == 403  # no scope opens the gaps to a machine client


def test_machine_client_without_the_scope_is_refused_with_403(world):
    _, api = machine_client(world["agency"], [ApiScope.OUTREACH_READ, ApiScope.PARTICIPATION_READ])
    for url in (RESOURCES, _url(world["shokudo"]), GAPS):
        response = api.get(url)
        assert response.status_code == 403 and response.json()["code"] == "scope_missing", url


def test_a_system_administrator_is_not_programme_staff(world):
    api = api_as(world["admin"])
    for url in (RESOURCES, _url(world["shokudo"]), GAPS):
        response = api.get(url)
        assert response.status_code == 403 and response.json()["code"] == "role_missing", url


def test_the_api_is_read_only_and_a_missing_resource_is_404(world):
    api = api_as(world["worker"])
    assert api.post(RESOURCES, {"name": "x"}, format="json").status_code == 405
    assert api.patch(_url(world["shokudo"]), {"name": "x"}, format="json").status_code == 405
    assert api.post(GAPS, {"category": "x"}, format="json").status_code == 405
    assert api.get(f"{GAPS}1/").status_code == 404
    missing = api.get(f"{RESOURCES}999999/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert api.get(f"{RESOURCES}abc/").status_code == 404


# --- Filters ----------------------------------------------------------------------------------------------


def test_filters_by_kind_area_with_sub_areas_and_accepting(world):
    api = api_as(world["worker"])
    shokudo, salon, closed = world["shokudo"].pk, world["salon"].pk, world["closed"].pk
    assert ids(api.get(f"{RESOURCES}?kind=salon")) == [salon]
    assert ids(api.get(f"{RESOURCES}?area=chuo")) == [shokudo]  # its sub-area counts
    assert ids(api.get(f"{RESOURCES}?area=chuo&include_inactive=true")) == [shokudo, closed]
    assert ids(api.get(f"{RESOURCES}?accepting=true")) == [shokudo]
    assert ids(api.get(f"{RESOURCES}?accepting=false")) == [salon]
    assert ids(api.get(f"{RESOURCES}?q=サロン")) == [salon]


@pytest.mark.parametrize(
    ("query", "field"), [("kind=spaceport", "kind"), ("area=nowhere", "area"), ("q=" + "あ" * 101, "q")]
)
def test_bad_filters_get_400_naming_the_field(world, query, field):
    response = api_as(world["worker"]).get(f"{RESOURCES}?{query}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_gap_status_filter_and_developed_resources(world):
    worker = world["worker"]
    gap = services.gap_record(acting_user=worker, category="居場所", description="中高年の居場所がない")
    keeper = world["coordinator"]
    services.gap_advance(gap=gap, to_status="considering", acting_user=keeper, reason="社協と協議")
    new = world["add"]("ひだまり", kind="ibasho")
    services.gap_advance(gap=gap, to_status="developed", acting_user=keeper, reason="", resource=new)
    other = services.gap_record(acting_user=worker, category="移動", description="買い物の足がない")
    api = api_as(world["supervisor"])
    row = api.get(f"{GAPS}?status=developed").json()["results"][0]
    assert row["id"] == gap.pk and row["developed_resources"] == [new.pk] and row["area"] is None
    assert api.get(_url(new)).json()["gaps_answered"] == [gap.pk]
    assert ids(api.get(f"{GAPS}?status=noted")) == [other.pk]
    assert api.get(f"{GAPS}?status=lost").status_code == 400


# --- Not personal data; query counts ----------------------------------------------------------------------


def test_register_reads_are_not_written_to_the_read_log(world):
    before = ReadLog.objects.count()
    api = api_as(world["worker"])
    api.get(RESOURCES)
    api.get(_url(world["shokudo"]))
    api.get(GAPS)
    assert ReadLog.objects.count() == before


@pytest.mark.parametrize("url", [RESOURCES, GAPS])
def test_list_query_count_does_not_grow_with_the_page(world, url):
    api = api_as(world["worker"])

    def more(n):
        for i in range(n):
            resource = world["add"](f"サロン{i}", kind="salon")
            gap = services.gap_record(
                acting_user=world["worker"],
                category=f"分野{i}",
                description="不足",
                area=world["areas"]["east"],
            )
            services.gap_advance(
                gap=gap, to_status="considering", acting_user=world["coordinator"], reason=""
            )
            services.gap_advance(
                gap=gap, to_status="developed", acting_user=world["coordinator"], reason="", resource=resource
            )

    more(1)
    with CaptureQueriesContext(connection) as small:
        api.get(url)
    more(7)
    with CaptureQueriesContext(connection) as large:
        response = api.get(url)
    assert len(response.json()["results"]) >= 8
    assert len(large) == len(small)
    assert len(large) <= 10
