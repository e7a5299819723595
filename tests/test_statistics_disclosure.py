"""Suppressed statistics cells cannot be worked out (issue 14, finding 10): whatever leaves the system —
the report API, the xlsx and CSV exports — publishes no ＊ that the totals, rows, columns or other
tables of the same response give back. Checked with a solver (tests/disclosure.py) over every relation
the tables declare and the numbers published, in the town of tests/test_statistics.py with one more
month:

  July 2026: 8 anonymous consultations at 中央包括 (A, 中央圏域: 本人 5 and 家族 3, 収入 4 and 介護 4) and 2
  at 東包括 (B, 東圏域: 本人, 収入), and 2 電話 notes on K2 (A's): 新規 10, 継続 2, 延べ 12; by 圏域 中央 8,
  東 2.
"""

import csv
import io
import random

import openpyxl
import pytest
from django.urls import reverse

from cases import services as case_services
from cases.models import Case, CaseStatus
from jusou.exports.files import report_csv, report_xlsx
from jusou.models import ApiScope, ExportJob
from jusou.reports.statistics import StatisticsParams, statistics_report
from jusou.reports.tables import SUPPRESSED, Ref, Relation, Report, Row, Table, adds_up, at_most, published
from jusou.tests.api import api_as, machine_client
from tests.disclosure import Problem, Unknown
from tests.test_statistics import API, consult, fresh, jst, town, travel  # noqa: F401 - town is a fixture

JULY = {"period": "month", "month": "2026-07"}
INTAKE = "相談受付"
NEW = "新規受付件数"
CONTINUING = "継続相談（支援経過記録の面談・電話・訪問・同行）"
TOTAL_CONTACTS = "延べ相談件数"


@pytest.fixture
def july(town):  # noqa: F811 - the fixture imported above
    with travel(jst(2026, 7, 1, 10)):
        for worker, route, issue, n in (
            (town.worker_a, "self", "income", 4),
            (town.worker_a, "self", "care", 1),
            (town.worker_a, "family", "care", 3),
            (town.worker_b, "self", "income", 2),
        ):
            for _ in range(n):
                consult(fresh(worker), issues=[issue], route=route)
        k2 = Case.objects.get(status=CaseStatus.COORDINATING)
        for _ in range(2):
            case_services.progress_note_add(
                case=k2, acting_user=fresh(town.worker_a), kind="phone", content="電話"
            )
    return town


def api_tables(data) -> dict[str, list[dict]]:
    return {t["title"]: t for section in data["sections"] for t in section["tables"]}


def api_value(tables, title, label, column=0):
    return next(r for r in tables[title]["rows"] if r["label"] == label)["values"][column]


def cell(value, key, raw):
    """A published figure as the solver sees it: the number, or an unknown for a ＊."""
    return Unknown(key, raw) if value == SUPPRESSED else value


# --- The example of the finding, with the relations written out by hand ------------------------------


def test_the_continuing_count_cannot_be_worked_out_as_total_contacts_minus_new_intakes(july):
    """延べ 12 − 新規 10 = 継続 2: the 相談受付 table publishes 延べ = 新規 + 継続 (its note says so)."""
    data = api_as(fresh(july.supervisor)).get(API, JULY).json()
    tables = api_tables(data)
    new, continuing, total = (api_value(tables, INTAKE, label) for label in (NEW, CONTINUING, TOTAL_CONTACTS))
    assert continuing == SUPPRESSED  # 2 < 3
    problem = Problem()
    problem.relation([cell(total, "延べ", 12)], [cell(new, "新規", 10), cell(continuing, "継続", 2)])
    assert problem.disclosed() == {}


def test_a_breakdown_by_area_with_one_star_does_not_give_it_back_with_its_total(july):
    """中央 8 + 東 ＊ = 新規 10: the breakdown's columns add up to the 新規受付件数 of 相談受付."""
    data = api_as(fresh(july.supervisor)).get(API, {**JULY, "by": "area"}).json()
    tables = api_tables(data)
    by_area = next(r for r in tables["相談受付 圏域別"]["rows"] if r["label"] == NEW)["values"]
    columns = tables["相談受付 圏域別"]["columns"]
    assert columns == ["中央圏域", "東圏域", "圏域未設定"]
    assert by_area[1] == SUPPRESSED  # 東圏域: 2
    raw = dict(zip(columns, [8, 2, 0], strict=True))
    problem = Problem()
    problem.relation(
        [cell(api_value(tables, INTAKE, NEW), "新規", 10)],
        [cell(value, column, raw[column]) for column, value in zip(columns, by_area, strict=True)],
    )
    assert problem.disclosed() == {}


def test_the_page_shows_staff_the_raw_figures(july, client):
    """Inside the system (/statistics/) the figures stay as they are, for every role that may read them;
    only what leaves it is suppressed."""
    for user, new in ((july.supervisor, 10), (july.coordinator, 10), (july.worker_a, 8)):
        client.force_login(user)
        page = client.get(reverse("statistics"), JULY).content.decode()
        assert f'<th scope="row">{NEW}</th><td class="num">{new}</td>' in page
        assert f'<th scope="row">{CONTINUING}</th><td class="num">2</td>' in page
        assert SUPPRESSED not in page.split("<h2>包括的相談支援</h2>")[1]


# --- Every response, solved with every relation its tables declare -------------------------------------


def raw_report(user, query) -> Report:
    return statistics_report(fresh(user), StatisticsParams.from_query(query))


def declared(report: Report):
    """Each declared relation as (left cells, right cells, at_most), a cell being (table, row, column)
    in the report's order — resolved here, not with the suppression code's own resolver."""
    tables = list(report.tables())
    titles = {table.title: t for t, table in enumerate(tables)}
    assert len(titles) == len(tables), "table titles are unique within a report"

    def at(ref: Ref, t: int):
        t = titles[ref.table] if ref.table else t
        rows = tables[t].rows
        if isinstance(ref.row, int):
            return (t, ref.row % len(rows), ref.column)
        [r] = [r for r, row in enumerate(rows) if row.label == ref.row]
        return (t, r, ref.column)

    for t, table in enumerate(tables):
        for relation in table.relations:
            yield [at(x, t) for x in relation.left], [at(x, t) for x in relation.right], relation.at_most


def check_published(raw: Report, tables: list[tuple[str, list[tuple[str, list]]]]) -> dict:
    """Solve a published rendering of `raw`: `tables` is what a reader got, (title, [(label, values)])
    in the report's order. Asserts the rendering matches the raw figures outside its ＊s, that no rate
    stands beside a ＊ count, and returns the ＊ cells the relations give away (should be {})."""
    raw_tables = list(raw.tables())
    assert [title for title, _ in tables] == [t.title for t in raw_tables]
    shown: dict = {}
    for t, (table, (_, rows)) in enumerate(zip(raw_tables, tables, strict=True)):
        assert [label for label, _ in rows] == [row.label for row in table.rows], table.title
        for r, (row, (_, values)) in enumerate(zip(table.rows, rows, strict=True)):
            for c, (value, out) in enumerate(zip(row.values, values, strict=True)):
                if out == SUPPRESSED:
                    assert value != 0, "a 0 is shown"
                elif isinstance(value, float):
                    assert SUPPRESSED not in values, f"{table.title} {row.label}: a rate beside a ＊"
                    assert out == pytest.approx(value, abs=0.05)
                else:
                    assert out == value, (table.title, row.label, c)
                shown[(t, r, c)] = (value, out)
    problem = Problem()

    def cell(key):
        value, out = shown[key]
        return Unknown(key, value) if out == SUPPRESSED else out

    for left, right, bound in declared(raw):
        problem.relation([cell(k) for k in left], [cell(k) for k in right], at_most=bound)
    found = problem.disclosed()
    return {(raw_tables[t].title, raw_tables[t].rows[r].label, c): v for (t, r, c), v in found.items()}


def api_rendering(data) -> list:
    return [
        (t["title"], [(row["label"], row["values"]) for row in t["rows"]])
        for section in data["sections"]
        for t in section["tables"]
    ]


def _parsed(text):
    if text is None or text == "":
        return None
    if text == SUPPRESSED:
        return SUPPRESSED
    return float(text) if "." in str(text) else int(text)


def csv_rendering(raw: Report, content: bytes) -> list:
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    out = []
    for section, tables in raw.sections:
        for table in tables:
            start = lines.index([f"{section}／{table.title}"])
            first = start + 1 + table.multiple_answers + bool(table.note) + 1  # notes, then the header
            block = lines[first : first + len(table.rows)]
            out.append((table.title, [(line[0], [_parsed(v) for v in line[1:]]) for line in block]))
    return out


def xlsx_rendering(raw: Report, content: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(content))
    out = []
    for sheet, (_, tables) in zip(book.worksheets, raw.sections, strict=True):
        column_a = [sheet.cell(row=r, column=1).value for r in range(1, sheet.max_row + 1)]
        for table in tables:
            start = column_a.index(table.title) + 1
            first = start + 1 + table.multiple_answers + bool(table.note) + 1
            rows = []
            for r in range(first, first + len(table.rows)):
                width = len(table.rows[r - first].values)
                values = [sheet.cell(row=r, column=2 + c).value for c in range(width)]
                rows.append((sheet.cell(row=r, column=1).value, [_parsed(v) for v in values]))
            out.append((table.title, rows))
    return out


RESPONSES = [
    ("supervisor", {**JULY, "by": "area"}),
    ("supervisor", {**JULY, "by": "agency"}),
    ("supervisor", {"period": "month", "month": "2026-04"}),
    ("supervisor", {"period": "month", "month": "2026-05", "by": "agency"}),
    ("supervisor", {"period": "fiscal", "fiscal_year": "2026", "by": "area"}),
    (
        "supervisor",
        {
            "period": "range",
            "date_from": "2026-03-01",
            "date_to": "2026-07-31",
            "by": "area",
            "area": "t-chuo-1",
        },
    ),
    ("coordinator", {**JULY, "by": "area"}),
    ("coordinator", {"period": "fiscal", "fiscal_year": "2026", "agency": "t-a"}),
    ("worker_a", {**JULY, "by": "agency"}),
    ("worker_b", {"period": "fiscal", "fiscal_year": "2026", "by": "area"}),
]


@pytest.mark.parametrize(("persona", "query"), RESPONSES)
def test_no_star_in_a_report_api_response_can_be_worked_out(july, settings, persona, query):
    settings.STATISTICS_POPULATION = 50_000  # rates published where they apply
    user = getattr(july, persona)
    response = api_as(fresh(user)).get(API, query)
    assert response.status_code == 200, response.content
    assert check_published(raw_report(user, query), api_rendering(response.json())) == {}


def test_no_star_in_a_machine_clients_response_can_be_worked_out(july):
    _, client = machine_client(july.a, [ApiScope.STATISTICS_READ])
    response = client.get(API, {**JULY, "by": "area"})
    assert response.status_code == 200, response.content
    assert (
        check_published(raw_report(july.worker_a, {**JULY, "by": "area"}), api_rendering(response.json()))
        == {}
    )


@pytest.mark.parametrize(("persona", "query"), RESPONSES[::3])
def test_no_star_in_an_xlsx_or_csv_export_can_be_worked_out(july, settings, persona, query):
    settings.STATISTICS_POPULATION = 50_000
    raw = raw_report(getattr(july, persona), query)
    assert check_published(raw, csv_rendering(raw, report_csv(raw, 3))) == {}
    assert check_published(raw, xlsx_rendering(raw, report_xlsx(raw, 3))) == {}


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_export_job_downloads_a_file_with_nothing_to_work_out(
    july, client, settings, tmp_path, django_capture_on_commit_callbacks, fmt
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(july.supervisor)
    query = {**JULY, "by": "area"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("export_statistics"), {**query, "fmt": fmt})
    job = ExportJob.objects.get(owner=july.supervisor)
    content = b"".join(client.get(reverse("export_download", args=[job.pk])).streaming_content)
    raw = raw_report(july.supervisor, query)
    rendering = xlsx_rendering(raw, content) if fmt == "xlsx" else csv_rendering(raw, content)
    assert check_published(raw, rendering) == {}


def test_the_july_report_hides_the_second_cell_and_keeps_what_gives_nothing_away(july):
    """継続 2 takes 新規 10 with it (smaller than 延べ 12), 新規 the other copies of itself, and each of
    those the smallest count of its own sum (家族 3, 介護's 主な課題 4); 延べ, 本人 7 and 収入 6 stay."""
    data = api_as(fresh(july.supervisor)).get(API, JULY).json()
    tables = api_tables(data)
    assert [api_value(tables, INTAKE, label) for label in (NEW, CONTINUING, TOTAL_CONTACTS)] == [
        SUPPRESSED,
        SUPPRESSED,
        12,
    ]
    assert [
        api_value(tables, "相談経路別 件数", label) for label in ("本人", "家族・親族", "知人・近隣", "合計")
    ] == [
        7,
        SUPPRESSED,
        0,
        SUPPRESSED,
    ]
    issues = {r["label"]: r["values"] for r in tables["課題分類別 相談件数"]["rows"]}
    assert issues["収入・生活費"] == [6, 6] and issues["介護"] == [4, SUPPRESSED]


# --- The published() rule on small hand-made tables ----------------------------------------------------


def one_table(rows, relations, columns=("件数",), title="表") -> Report:
    table = Table(
        title, list(columns), [Row(label, list(values)) for label, values in rows], relations=relations
    )
    return Report("統計", JULY_DAY, JULY_DAY, "市", [("事業", [table])])


JULY_DAY = jst(2026, 7, 1).date()


def shown(report: Report, threshold=3) -> list:
    return [row.values for table in published(report, threshold).tables() for row in table.rows]


def test_a_lone_star_in_a_sum_takes_the_smallest_non_zero_count_with_it():
    report = one_table(
        [("a", [2]), ("b", [9]), ("c", [5]), ("d", [0]), ("合計", [16])],
        [adds_up("合計", ["a", "b", "c", "d"])],
    )
    assert shown(report) == [[SUPPRESSED], [9], [SUPPRESSED], [0], [16]]


def test_ties_go_to_the_earliest_cell():
    report = one_table(
        [("a", [1]), ("b", [5]), ("c", [5]), ("合計", [11])], [adds_up("合計", ["a", "b", "c"])]
    )
    assert shown(report) == [[SUPPRESSED], [SUPPRESSED], [5], [11]]


def test_zeros_are_never_taken_and_two_stars_with_room_between_them_are_enough():
    report = one_table(
        [("a", [0]), ("b", [2]), ("c", [0]), ("d", [6]), ("合計", [8])],
        [adds_up("合計", ["a", "b", "c", "d"])],
    )
    assert shown(report) == [[0], [SUPPRESSED], [0], [SUPPRESSED], [8]]
    report = one_table(
        [("a", [1]), ("b", [2]), ("c", [0]), ("合計", [3])], [adds_up("合計", ["a", "b", "c"])]
    )
    assert shown(report) == [[SUPPRESSED], [SUPPRESSED], [0], [3]]  # 1 + 2 or 2 + 1


def test_stars_that_can_only_all_be_one_take_their_total():
    """1 + 1 + 1 = 3: a ＊ is never 0, so three ＊ adding up to a published 3 are all 1."""
    report = one_table(
        [("a", [1]), ("b", [1]), ("c", [1]), ("合計", [3])], [adds_up("合計", ["a", "b", "c"])]
    )
    assert shown(report) == [[SUPPRESSED]] * 4


def test_a_bound_met_exactly_is_suppressed_too():
    """実人数 9 + 匿名 ＊ ≤ 件数 10: the ＊ can only be 1."""
    report = one_table(
        [("件数", [10]), ("実人数", [9]), ("匿名", [1])], [at_most(["実人数", "匿名"], "件数")]
    )
    assert shown(report) == [[10], [SUPPRESSED], [SUPPRESSED]]
    roomy = one_table([("件数", [20]), ("実人数", [9]), ("匿名", [1])], [at_most(["実人数", "匿名"], "件数")])
    assert shown(roomy) == [[20], [9], [SUPPRESSED]]  # 1..11: nothing to add


def test_suppression_follows_relations_across_tables_to_a_fixpoint():
    """延べ 12 = 新規 10 + 継続 ＊ hides 新規; 新規 is also the 合計 of the routes, so a route goes too."""
    intake = Table(
        "受付",
        ["件数"],
        [Row("新規", [10]), Row("継続", [2]), Row("延べ", [12])],
        relations=[adds_up("延べ", ["新規", "継続"])],
    )
    routes = Table(
        "経路",
        ["件数"],
        [Row("本人", [7]), Row("家族", [3]), Row("合計", [10])],
        relations=[adds_up(2, [0, 1]), adds_up(2, [Ref("新規", table="受付")])],
    )
    report = Report("統計", JULY_DAY, JULY_DAY, "市", [("事業", [intake, routes])])
    assert shown(report) == [[SUPPRESSED], [SUPPRESSED], [12], [7], [SUPPRESSED], [SUPPRESSED]]


def test_a_rate_beside_a_star_is_a_star_and_nothing_is_hidden_under_a_threshold_of_one():
    report = one_table(
        [("新規", [10, 5.0]), ("継続", [2, None]), ("延べ", [12, 6.0])],
        [adds_up("延べ", ["新規", "継続"])],
        columns=("件数", "率"),
    )
    assert shown(report) == [[SUPPRESSED, SUPPRESSED], [SUPPRESSED, None], [12, 6.0]]
    assert shown(report, threshold=1) == [[10, 5.0], [2, None], [12, 6.0]]


def test_a_relation_naming_a_missing_cell_is_a_mistake():
    with pytest.raises(ValueError, match="関係式の表"):
        published(one_table([("a", [1])], [adds_up("a", [Ref("x", table="ない表")])]), 3)
    with pytest.raises(ValueError, match="1つに決まりません"):
        published(one_table([("a", [1])], [adds_up("a", ["b"])]), 3)
    with pytest.raises(ValueError, match="件数ではありません"):
        published(one_table([("a", [1, 0.5])], [adds_up("a", [Ref("a", 1)])], columns=("件数", "率")), 3)
    assert isinstance(Relation((Ref("a"),), ()), Relation)


def test_suppression_reads_nothing_from_the_database(july, django_assert_num_queries):
    raw = raw_report(july.supervisor, {"period": "fiscal", "fiscal_year": "2026", "by": "area"})
    with django_assert_num_queries(0):
        published(raw, 3)


def rendering(report: Report) -> list:
    return [(t.title, [(row.label, row.values) for row in t.rows]) for t in report.tables()]


def intake_and_breakdown(new, people, anonymous, continuing, routes, by_column) -> Report:
    """Tables shaped like 相談受付, a breakdown by 経路 and one by 圏域 (cases.statistics), with the same
    relations: 延べ = 新規 + 継続, 実人数 + 匿名 ≤ 新規, the routes add up to 新規, and the columns add up
    (新規, 匿名), bound each other (実人数 + 匿名 ≤ 新規 in each) and hold every person at least once."""
    rows = [
        ("新規", new),
        ("実人数", people),
        ("匿名", anonymous),
        ("継続", continuing),
        ("延べ", new + continuing),
    ]
    intake = Table(
        "受付",
        ["件数"],
        [Row(label, [value]) for label, value in rows],
        relations=[adds_up("延べ", ["新規", "継続"]), at_most(["実人数", "匿名"], "新規")],
    )
    m = len(routes)
    by_route = Table(
        "経路",
        ["件数"],
        [Row(f"経路{i}", [v]) for i, v in enumerate(routes)] + [Row("合計", [new])],
        relations=[adds_up(m, range(m)), adds_up(m, [Ref("新規", table="受付")])],
    )
    each = range(len(by_column[0]))
    people_total = Ref("実人数", table="受付")
    breakdown = Table(
        "内訳",
        [f"圏域{c}" for c in each],
        [Row(label, list(v)) for label, v in zip(("新規", "実人数", "匿名"), by_column, strict=True)],
        relations=[
            adds_up(Ref("新規", table="受付"), [Ref(0, c) for c in each]),
            adds_up(Ref("匿名", table="受付"), [Ref(2, c) for c in each]),
            Relation((people_total,), tuple(Ref(1, c) for c in each), at_most=True),
            *(at_most([Ref(1, c)], people_total) for c in each),
            *(at_most([Ref(1, c), Ref(2, c)], Ref(0, c)) for c in each),
        ],
    )
    return Report("統計", JULY_DAY, JULY_DAY, "市", [("事業", [intake, by_route, breakdown])])


def test_bounds_summed_across_a_breakdown_are_caught():
    """No single relation pins a ＊ here, but summed over the columns they do unless more is hidden:
    with 新規 [4, 3, 1, 1] (9), 実人数 [3, 1, 0, 1] (at least 5 in all) and 匿名 [0, 2, 1, 0] (3), the
    columns' 実人数 + 匿名 ≤ 新規 leave no slack, and the 1s of columns 2 and 4 would be worked out."""
    raw = intake_and_breakdown(9, 5, 3, 3, [4, 4, 0, 1], [[4, 3, 1, 1], [3, 1, 0, 1], [0, 2, 1, 0]])
    assert check_published(raw, rendering(published(raw, 3))) == {}


def random_report(rng: random.Random) -> Report:
    columns = [rng.choice([0, 1, 1, 2, 3, 4, 6, 9]) for _ in range(rng.randint(1, 5))]
    anonymous = [rng.randint(0, n) for n in columns]
    people = [rng.randint(1 if n > a else 0, n - a) for n, a in zip(columns, anonymous, strict=True)]
    routes = [0] * rng.randint(1, 4)
    for _ in range(sum(columns)):
        routes[rng.randrange(len(routes))] += 1
    return intake_and_breakdown(
        sum(columns),
        rng.randint(max(people), sum(people)),
        sum(anonymous),
        rng.choice([0, 1, 2, 3, 5, 8]),
        routes,
        [columns, people, anonymous],
    )


def test_no_star_can_be_worked_out_in_random_tables_of_the_same_shape():
    for seed in range(300):
        raw = random_report(random.Random(seed))
        assert check_published(raw, rendering(published(raw, 3))) == {}, seed
