"""The supervisors' audit exports (jusou.audit.views, part of #6): the history and the access log as CSV
(with BOM, for Excel) and xlsx, narrowed by exactly the filters of the pages, logged as exports, with
住所秘匿 whereabouts masked and a query count that does not grow with the rows.

Here rather than in jusou/tests: the personas and the records they change are the cases app's."""

import codecs
import csv
import io
from datetime import date, datetime, time, timedelta

import openpyxl
import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Person
from jusou.audit import views as audit
from jusou.exports.files import XLSX_WAREKI_DATETIME
from jusou.ja.wareki import to_wareki, to_wareki_datetime
from jusou.models import ReadLog, Role, StaffMembership

FORMATS = ["csv", "xlsx"]


def jst(day: date, hour: int, minute: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)), timezone.get_default_timezone())


def rows_of(response) -> list[list]:
    """The export as rows of text (header first), whichever the format; checks the CSV's BOM."""
    assert response.status_code == 200, response.content.decode()[:500]
    if response["Content-Type"].startswith("text/csv"):
        assert response.content.startswith(codecs.BOM_UTF8)
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return [["" if c.value is None else _cell_text(c.value) for c in row] for row in sheet.iter_rows()]


def _cell_text(value) -> str:
    # An xlsx 日時 is a date cell (shown in 和暦 by its number format); the CSV writes the same 和暦 text.
    return to_wareki_datetime(value) if isinstance(value, datetime) else str(value)


def exports(client, name, params=None):
    return {fmt: rows_of(client.get(reverse(name, args=[fmt]), params or {})) for fmt in FORMATS}


@pytest.fixture
def day():
    """An audit period in the future, so that the personas' memberships are in force then."""
    return timezone.localdate() + timedelta(days=30)


@pytest.fixture
def reads(client, world, day):
    """Reads around the period [day, day+2] (Asia/Tokyo), one minute either side of each boundary."""
    moments = [
        (jst(day - timedelta(days=1), 23, 59), world.colleague, world.case.get_absolute_url(), {}),
        (jst(day, 0, 0), world.colleague, reverse("cases:person_search"), {"q": "やまだ"}),
        (jst(day + timedelta(days=1), 12, 0), world.assigned, world.person.get_absolute_url(), {}),
        (
            jst(day + timedelta(days=2), 23, 59),
            world.other_worker,
            reverse("cases:person_search"),
            {"q": "すずき"},
        ),
        (jst(day + timedelta(days=3), 0, 0), world.colleague, world.case.get_absolute_url(), {}),
    ]
    for moment, user, url, params in moments:
        with time_machine.travel(moment, tick=False):
            client.force_login(user)
            assert client.get(url, params).status_code == 200
    client.force_login(world.supervisor)
    return [moment for moment, *_ in moments]


@pytest.fixture
def changes(world, day):
    """Persons registered around the period by staff of two agencies; `assigned` has a second
    membership at the same agency (an agency filter must not list their changes twice)."""
    StaffMembership.objects.create(
        user=world.assigned, agency=world.assigned.agencies[0], role=Role.COORDINATOR
    )
    moments = [
        (jst(day - timedelta(days=1), 23, 59), world.assigned, "佐藤 一"),
        (jst(day, 0, 0), world.colleague, "佐藤 二"),
        (jst(day + timedelta(days=2), 23, 59), world.other_worker, "佐藤 三"),
        (jst(day + timedelta(days=3), 0, 0), world.assigned, "佐藤 四"),
    ]
    people = {}
    for moment, user, name in moments:
        with time_machine.travel(moment, tick=False):
            people[name] = services.person_register(acting_user=user, name=name, kana="さとう")
    return people


# --- the files ------------------------------------------------------------------------------------


def test_access_log_csv_has_a_bom_a_japanese_header_and_the_rows(client, world, reads, day):
    response = client.get(
        reverse("audit_access_log_export", args=["csv"]), {"user": "colleague", "action": "search"}
    )
    assert response["Content-Disposition"].startswith('attachment; filename="access-log-')
    assert response["Cache-Control"] == "no-store, private"
    assert rows_of(response) == [
        ["日時", "職員（ユーザー名）", "氏名", "操作", "記録の種類", "記録ID", "根拠", "内容", "記録"],
        [
            f"{to_wareki(day)} 00:00",
            "colleague",
            world.colleague.get_full_name(),
            "検索",
            "",
            "",
            "",
            "本人検索: やまだ（2件）",
            "",
        ],
    ]


def test_access_log_xlsx_has_a_bold_frozen_header_and_local_datetimes(client, world, reads, day):
    response = client.get(reverse("audit_access_log_export", args=["xlsx"]), {"user": "colleague"})
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [c for c in next(sheet.iter_rows(max_row=1))]
    assert [c.value for c in header][:3] == ["日時", "職員（ユーザー名）", "氏名"]
    assert all(c.font.bold for c in header)
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["H"].width == 60
    newest = sheet["A2"]
    assert newest.value == datetime.combine(day + timedelta(days=3), time(0, 0))  # naive, Asia/Tokyo
    assert newest.number_format == XLSX_WAREKI_DATETIME  # 令和… in a Japanese Excel
    assert [sheet.cell(row=r, column=4).value for r in range(2, 5)] == ["閲覧", "検索", "閲覧"]
    assert sheet.max_row == 4


@pytest.mark.parametrize("name", ["audit_access_log_export", "audit_history_export"])
def test_audit_xlsx_prints_one_page_wide_with_the_header_on_every_page(client, world, name):
    client.force_login(world.supervisor)
    response = client.get(reverse(name, args=["xlsx"]))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.print_title_rows == "$1:$1"


def test_history_export_lists_the_change_its_reason_and_the_diff_in_one_cell(client, world):
    services.person_update(
        person=world.son, acting_user=world.colleague, phone="090-0000-1111", reason="連絡先の追加"
    )
    client.force_login(world.supervisor)
    for fmt, rows in exports(
        client, "audit_history_export", {"type": "cases.person", "record": world.son.pk}
    ).items():
        assert rows[0] == ["日時", "職員", "記録の種類", "記録ID", "変更種別", "理由", "変更内容", "記録"], (
            fmt
        )
        newest, created = rows[1], rows[-1]
        assert newest[1:6] == [
            f"{world.colleague.get_full_name()}（colleague）",
            Person._meta.verbose_name,
            str(world.son.pk),
            "変更",
            "連絡先の追加",
        ], fmt
        assert "電話: （空） → 090-0000-1111" in newest[6].split("\n"), fmt
        assert created[4] == "作成" and "氏名: （空） → 山田 一郎" in created[6], fmt


def test_history_export_masks_jushohitoku_whereabouts_as_the_page_does(client, world):
    services.person_update(
        person=world.person, acting_user=world.assigned, address="みどり市秘密町9-9", reason="転居"
    )
    services.address_confidentiality_set(person=world.person, acting_user=world.assigned, reason="DV")
    client.force_login(world.supervisor)
    page = client.get(
        reverse("audit_record_history", args=["cases.person", world.person.pk])
    ).content.decode()
    link = reverse("audit_history_export", args=["csv"]) + f"?type=cases.person&amp;record={world.person.pk}"
    assert link in page and "秘密町" not in page
    for fmt, rows in exports(
        client, "audit_history_export", {"type": "cases.person", "record": world.person.pk}
    ).items():
        text = "\n".join("\t".join(row) for row in rows)
        assert "秘密町" not in text, fmt
        assert "住所: （空） → 秘匿" in text and "転居" in text, fmt
    # …and over the whole record type, not only one record's page.
    assert all(
        "秘密町" not in "".join(map(str, row))
        for row in exports(client, "audit_history_export", {"type": "cases.person"})["csv"]
    )


def test_text_that_looks_like_a_formula_stays_text(client, world):
    services.person_update(
        person=world.son, acting_user=world.assigned, phone="1", reason='=HYPERLINK("http://x","y")'
    )
    client.force_login(world.supervisor)
    params = {"type": "cases.person", "record": world.son.pk}
    assert exports(client, "audit_history_export", params)["csv"][1][5] == '\'=HYPERLINK("http://x","y")'
    response = client.get(reverse("audit_history_export", args=["xlsx"]), params)
    cell = openpyxl.load_workbook(io.BytesIO(response.content)).active["F2"]
    assert cell.value == '=HYPERLINK("http://x","y")' and cell.data_type == "s"


# --- filters: the page and the export agree --------------------------------------------------------


def page_reads(client, params) -> list[tuple]:
    response = client.get(reverse("audit_access_log"), params)
    assert response.status_code == 200
    return [
        (r.user.username, r.get_action_display(), str(r.object_id or ""), r.detail)
        for r in response.context["page"].object_list
    ]


def export_reads(rows) -> list[tuple]:
    return [(row[1], row[3], str(row[5]), row[7]) for row in rows[1:]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (lambda w, d: {"from": d, "to": d + timedelta(days=2)}, [3, 2, 1]),  # boundary days included
        (lambda w, d: {"from": d + timedelta(days=3)}, [4]),
        (lambda w, d: {"to": d - timedelta(days=1)}, [0]),
        (lambda w, d: {"user": "colleague"}, [4, 1, 0]),
        (lambda w, d: {"agency": w.assigned.agencies[0].pk}, [4, 2, 1, 0]),
        (lambda w, d: {"agency": w.other_worker.agencies[0].pk}, [3]),
        (lambda w, d: {"type": "cases.person"}, [2]),
        (lambda w, d: {"type": "cases.case", "from": d}, [4]),
        (lambda w, d: {"action": "search", "to": d + timedelta(days=2)}, [3, 1]),
        (lambda w, d: {"basis": "assignment", "user": "colleague"}, [4, 0]),
    ],
)
def test_access_log_filters_narrow_the_page_and_the_export_alike(client, world, reads, day, params, expected):
    params = {k: str(v) for k, v in params(world, day).items()}
    on_page = page_reads(client, params)
    by_moment = {
        r.at: (r.user.username, r.get_action_display(), str(r.object_id or ""), r.detail)
        for r in ReadLog.objects.filter(at__in=reads)
    }
    assert on_page == [by_moment[reads[i]] for i in expected]
    for fmt in FORMATS:  # each export is logged, so the page is read again before the next one
        on_page = page_reads(client, params)
        rows = rows_of(client.get(reverse("audit_access_log_export", args=[fmt]), params))
        # The page's own read is logged once it is shown (管理者 reads are logged too), so the export
        # made after it may list that read first.
        exported = [row for row in export_reads(rows) if not row[3].startswith("閲覧記録の確認")]
        assert exported == [row for row in on_page if not row[3].startswith("閲覧記録の確認")], fmt


def page_changes(client, params) -> list[tuple]:
    response = client.get(reverse("audit_history"), params)
    assert response.status_code == 200
    return [(str(e.id), e.change_kind) for e in response.context["page"].object_list]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (lambda w, d: {"from": d, "to": d + timedelta(days=2)}, ["佐藤 三", "佐藤 二"]),
        (lambda w, d: {"from": d - timedelta(days=1), "to": d - timedelta(days=1)}, ["佐藤 一"]),
        (lambda w, d: {"user": "assigned", "from": d - timedelta(days=1)}, ["佐藤 四", "佐藤 一"]),
        (
            lambda w, d: {"agency": w.assigned.agencies[0].pk, "from": d - timedelta(days=1)},
            ["佐藤 四", "佐藤 二", "佐藤 一"],
        ),
        (lambda w, d: {"agency": w.other_worker.agencies[0].pk}, ["佐藤 三"]),
    ],
)
def test_history_filters_narrow_the_page_and_the_export_alike(client, world, changes, day, params, expected):
    params = {"type": "cases.person", **{k: str(v) for k, v in params(world, day).items()}}
    client.force_login(world.supervisor)
    on_page = page_changes(client, params)
    assert on_page == [(str(changes[name].pk), "作成") for name in expected]
    for fmt, rows in exports(client, "audit_history_export", params).items():
        assert [(str(row[3]), row[4]) for row in rows[1:]] == on_page, fmt


def test_the_month_filter_still_works_with_the_new_ones(client, world, changes, day):
    client.force_login(world.supervisor)
    month = (day + timedelta(days=3)).strftime("%Y-%m")
    params = {"type": "cases.person", "month": month, "from": str(day - timedelta(days=1))}
    in_month = [
        p
        for p in changes.values()
        if timezone.localtime(p.history.earliest().history_date).strftime("%Y-%m") == month
    ]
    expected = sorted((str(p.pk) for p in in_month), reverse=True)
    assert [pk for pk, _ in page_changes(client, params)] == expected
    assert [str(row[3]) for row in exports(client, "audit_history_export", params)["csv"][1:]] == expected


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2025-13-01"}, "期間（開始）の日付が正しくありません"),
        ({"to": "昨日"}, "期間（終了）の日付が正しくありません"),
        ({"from": "2025-05-02", "to": "2025-05-01"}, "期間の開始日が終了日より後になっています"),
        ({"agency": "abc"}, "指定された機関が見つかりません"),
        ({"agency": "999999"}, "指定された機関が見つかりません"),
        ({"type": "nope.nothing"}, "記録の種類が見つかりません"),
        ({"month": "2025-4月"}, "月の指定が正しくありません"),
    ],
)
@pytest.mark.parametrize("page", ["audit_access_log", "audit_history"])
def test_invalid_filters_are_explained_on_the_page_and_refused_for_an_export(
    client, world, page, params, message
):
    client.force_login(world.supervisor)
    response = client.get(reverse(page), params)
    assert response.status_code == 200 and message in response.content.decode()
    response = client.get(reverse(f"{page}_export", args=["csv"]), params)
    assert response.status_code == 400 and message in response.content.decode()
    assert not ReadLog.objects.filter(action=ReadLog.Action.EXPORT).exists()


def test_access_log_rejects_an_unknown_action_or_basis_with_a_message(client, world):
    client.force_login(world.supervisor)
    html = client.get(
        reverse("audit_access_log"), {"action": "delete", "basis": "friendship"}
    ).content.decode()
    assert "操作の指定が正しくありません" in html and "根拠の指定が正しくありません" in html


def test_an_export_larger_than_the_limit_is_refused_asking_to_narrow_the_period(
    client, world, reads, monkeypatch
):
    monkeypatch.setattr(audit, "EXPORT_LIMIT", 2)
    response = client.get(reverse("audit_access_log_export", args=["xlsx"]))
    assert (
        response.status_code == 400 and "期間や条件を絞ってから出力してください" in response.content.decode()
    )
    assert not ReadLog.objects.filter(action=ReadLog.Action.EXPORT).exists()


def test_an_unknown_format_is_not_found(client, world):
    client.force_login(world.supervisor)
    assert client.get(reverse("audit_history_export", args=["pdf"])).status_code == 404


# --- every export is itself logged ------------------------------------------------------------------


def test_an_access_log_export_is_logged_with_its_filters_and_row_count(client, world, reads, day):
    client.get(reverse("audit_access_log_export", args=["csv"]), {"user": "colleague", "action": "search"})
    logged = ReadLog.objects.get(action=ReadLog.Action.EXPORT)
    assert logged.user == world.supervisor and logged.basis == "supervisor"
    assert logged.content_type == ContentType.objects.get_for_model(ReadLog)
    assert logged.detail == "閲覧記録の出力（CSV）: 職員=colleague、操作=検索、1件"


def test_a_history_export_is_logged_with_the_record_type_and_period(client, world, changes, day):
    client.force_login(world.supervisor)
    agency = world.assigned.agencies[0]
    client.get(
        reverse("audit_history_export", args=["xlsx"]),
        {"type": "cases.person", "agency": agency.pk, "from": str(day), "to": str(day)},
    )
    logged = ReadLog.objects.get(action=ReadLog.Action.EXPORT)
    assert logged.content_type == ContentType.objects.get_for_model(Person)
    assert (
        logged.detail
        == f"変更履歴の出力（Excel）: 記録の種類=本人・対象者、機関={agency.name}、期間={to_wareki(day)}〜{to_wareki(day)}、1件"
    )
    # …and the export itself then shows up in the access log, under its own record type.
    rows = exports(client, "audit_access_log_export", {"action": "export", "type": "cases.person"})["csv"]
    assert [row[7] for row in rows[1:]] == [logged.detail]


# --- who may export ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["assigned", "colleague", "coordinator", "outsider"])
@pytest.mark.parametrize("name", ["audit_access_log_export", "audit_history_export"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_only_supervisors_export(client, world, persona, name, fmt):
    client.force_login(world.persona(persona))
    assert client.get(reverse(name, args=[fmt])).status_code == 403
    assert not ReadLog.objects.filter(action=ReadLog.Action.EXPORT).exists()
    client.force_login(world.supervisor)
    assert client.get(reverse(name, args=[fmt])).status_code == 200
    assert ReadLog.objects.filter(action=ReadLog.Action.EXPORT, user=world.supervisor).count() == 1


# --- queries do not grow with the rows --------------------------------------------------------------


def export_queries(client, name, fmt, params) -> int:
    ContentType.objects.clear_cache()  # the same start for both calls
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(name, args=[fmt]), params).status_code == 200
    return len(queries)


@pytest.mark.parametrize("fmt", FORMATS)
def test_history_export_queries_do_not_grow_with_the_rows(client, world, fmt):
    def add_notes(n):
        for i in range(n):
            services.progress_note_add(
                case=world.case, acting_user=world.assigned, kind="phone", content=f"記録{i}"
            )

    params = {"type": "cases.progressnote"}
    client.force_login(world.supervisor)
    add_notes(30)
    thirty = export_queries(client, "audit_history_export", fmt, params)
    add_notes(30)
    sixty = export_queries(client, "audit_history_export", fmt, params)
    assert thirty == sixty
    assert len(exports(client, "audit_history_export", params)["csv"]) == 61


@pytest.mark.parametrize("fmt", FORMATS)
def test_access_log_export_queries_do_not_grow_with_the_rows(client, world, fmt):
    def view_case(n):
        client.force_login(world.colleague)
        for _ in range(n):
            client.get(world.case.get_absolute_url())
        client.force_login(world.supervisor)

    params = {"user": "colleague"}
    view_case(30)
    thirty = export_queries(client, "audit_access_log_export", fmt, params)
    view_case(30)
    sixty = export_queries(client, "audit_access_log_export", fmt, params)
    assert thirty == sixty
