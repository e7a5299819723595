"""統計の出力 (issue #7): the xlsx and CSV renderings of a report, and the export job — asked for from
the statistics page, made by a Celery task with its progress on a page, downloaded by its owner only,
logged once as a disclosure, and safe to retry or re-queue after a crash."""

import codecs
import csv
import io
import os
import re
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jusou.celery import app as celery_app
from jusou.exports import jobs as export_jobs
from jusou.exports.files import (
    attachment_header,
    period_label,
    report_csv,
    report_filename,
    report_xlsx,
    sheet_name,
)
from jusou.models import ExportFormat, ExportJob, ExportStatus, ReadLog
from jusou.registry import statistics_providers
from jusou.reports.tables import Report, Row, Table
from jusou.tasks import requeue_stale_exports, run_export
from tests.test_celery_worker import worker  # noqa: F401 — the real-worker fixture, shared

SUPPRESS = 3
MONTH = {"period": "month", "month": "2025-04"}


def sample_report() -> Report:
    return Report(
        title="重層的支援体制整備事業 実績統計（令和7年4月）",
        date_from=date(2025, 4, 1),
        date_to=date(2025, 4, 30),
        coverage="みどり市",
        sections=[
            (
                "包括的相談支援",
                [
                    Table(
                        "新規受付",
                        ["件数", "人口10万人あたり（月平均）"],
                        [
                            Row("新規受付（件数）", [1234, 15.25]),
                            Row("うち匿名", [2, 0.16]),
                            Row("うち再掲", [5, None]),
                            Row("再相談", [0, 0.0]),
                        ],
                    ),
                    Table(
                        "課題（複数回答）",
                        ["件数"],
                        [
                            Row('=HYPERLINK("http://example.com")', [1]),
                            Row("経済的困窮", [3]),
                            Row("ひきこもり・社会的孤立の状態にある世帯", [7]),
                        ],
                        multiple_answers=True,
                        note="主な課題を3つまで",
                    ),
                ],
            ),
            (
                "会議/支援会議:[重層的]*支援会議?とても長い名前の事業がここに入りますので切ります",
                [
                    Table("開催回数", ["支援会議", "重層的支援会議"], [Row("開催回数", [4, 1])]),
                ],
            ),
            ("包括的相談支援", []),
        ],
    )


# --- Renderers -------------------------------------------------------------------------------------------


def test_xlsx_has_one_sheet_per_section_with_valid_unique_names():
    book = openpyxl.load_workbook(io.BytesIO(report_xlsx(sample_report(), SUPPRESS)))
    assert book.sheetnames == [
        "包括的相談支援",
        "会議支援会議重層的支援会議とても長い名前の事業がここに入ります",
        "包括的相談支援(2)",
    ]
    assert all(len(name) <= 31 for name in book.sheetnames)


def test_sheet_name_refuses_excels_forbidden_characters_and_duplicates_ignoring_case():
    taken: set[str] = set()
    assert sheet_name("a/b\\c?d*e:f[g]h", taken) == "abcdefgh"
    assert sheet_name("ABCDEFGH", taken) == "ABCDEFGH(2)"
    assert sheet_name("'[]'", taken) == "統計"


def test_xlsx_title_block_tables_formats_and_suppression():
    generated = timezone.make_aware(timezone.datetime(2025, 5, 2, 9, 30))
    book = openpyxl.load_workbook(io.BytesIO(report_xlsx(sample_report(), SUPPRESS, generated_at=generated)))
    sheet = book["包括的相談支援"]
    column_a = [sheet.cell(row=r, column=1).value for r in range(1, sheet.max_row + 1)]
    assert column_a[0] == "重層的支援体制整備事業 実績統計（令和7年4月）"
    assert "期間: 令和7年4月（2025年4月1日〜2025年4月30日）" in column_a
    assert "対象: みどり市" in column_a
    assert "作成日時: 令和7年5月2日 09:30（2025-05-02 09:30）" in column_a
    assert "＊は3件未満のため秘匿（合計や他の表から逆算できる件数も秘匿）" in column_a
    assert "※複数回答のため、内訳の合計は総数と一致しません。" in column_a
    assert "主な課題を3つまで" in column_a

    header = column_a.index("新規受付") + 2
    assert [c.value for c in sheet[header][:3]] == ["項目", "件数", "人口10万人あたり（月平均）"]
    assert all(c.font.bold for c in sheet[header][:3])
    assert sheet.cell(row=header, column=2).border.bottom.style == "thin"
    count, rate = sheet.cell(row=header + 1, column=2), sheet.cell(row=header + 1, column=3)
    assert (count.value, count.number_format) == (1234, "#,##0")
    assert (rate.value, rate.number_format) == (15.25, "0.0")
    assert sheet.cell(row=header + 2, column=2).value == "＊"  # 2 < 3: suppressed
    assert sheet.cell(row=header + 2, column=3).value == "＊"  # and its rate, which would give it back
    assert sheet.cell(row=header + 3, column=3).value is None  # not applicable: an empty cell
    assert sheet.cell(row=header + 4, column=2).value == 0  # 0 is not a person: shown
    assert sheet.cell(row=header + 4, column=3).value == 0.0

    issues = column_a.index("課題（複数回答）")
    labels = {sheet.cell(row=r, column=1).value: r for r in range(issues, sheet.max_row + 1)}
    formula_row = labels['=HYPERLINK("http://example.com")']
    assert sheet.cell(row=formula_row, column=1).data_type == "s"  # text, never a formula
    assert sheet.cell(row=formula_row, column=2).value == "＊"
    assert sheet.cell(row=labels["経済的困窮"], column=2).value == 3  # the threshold itself is shown
    # Column A fits the longest Japanese label (2 columns per full-width character), not the title.
    assert 40 <= sheet.column_dimensions["A"].width <= 60


def test_xlsx_of_an_empty_section_says_so():
    book = openpyxl.load_workbook(io.BytesIO(report_xlsx(sample_report(), SUPPRESS)))
    values = [c.value for row in book["包括的相談支援(2)"].iter_rows() for c in row]
    assert "該当する集計はありません。" in values


def test_csv_is_utf8_with_bom_and_one_block_per_table():
    content = report_csv(sample_report(), SUPPRESS)
    assert content.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["重層的支援体制整備事業 実績統計（令和7年4月）"]
    assert rows[1] == ["期間", "令和7年4月（2025年4月1日〜2025年4月30日）"]
    assert rows[2] == ["対象", "みどり市"]
    assert rows[3][0] == "作成日時" and re.fullmatch(
        r"令和\d+年\d+月\d+日 \d\d:\d\d（\d{4}-\d\d-\d\d \d\d:\d\d）", rows[3][1]
    )
    assert rows[4] == ["＊は3件未満のため秘匿（合計や他の表から逆算できる件数も秘匿）"]
    start = rows.index(["包括的相談支援／新規受付"])
    assert rows[start + 1 : start + 7] == [
        ["項目", "件数", "人口10万人あたり（月平均）"],
        ["新規受付（件数）", "1234", "15.2"],
        ["うち匿名", "＊", "＊"],
        ["うち再掲", "5", ""],
        ["再相談", "0", "0.0"],
        [],
    ]
    issues = rows.index(["包括的相談支援／課題（複数回答）"])
    assert rows[issues + 1] == ["※複数回答のため、内訳の合計は総数と一致しません。"]
    assert rows[issues + 2] == ["主な課題を3つまで"]
    assert ['\'=HYPERLINK("http://example.com")', "＊"] in rows  # formula guard shared with the audit
    assert [
        "会議/支援会議:[重層的]*支援会議?とても長い名前の事業がここに入りますので切ります／開催回数"
    ] in rows


def test_suppression_threshold_is_the_callers():
    rows = list(csv.reader(io.StringIO(report_csv(sample_report(), 10).decode("utf-8-sig"))))
    assert ["＊は10件未満のため秘匿（合計や他の表から逆算できる件数も秘匿）"] in rows
    assert ["経済的困窮", "＊"] in rows and ["新規受付（件数）", "1234", "15.2"] in rows


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        (date(2025, 4, 1), date(2025, 4, 30), "令和7年4月（2025年4月1日〜2025年4月30日）"),
        (date(2025, 4, 1), date(2026, 3, 31), "令和7年度（2025年4月1日〜2026年3月31日）"),
        (date(2019, 4, 1), date(2020, 3, 31), "令和元年度（2019年4月1日〜2020年3月31日）"),
        (date(1988, 4, 1), date(1989, 3, 31), "昭和63年度（1988年4月1日〜1989年3月31日）"),
        (date(2025, 4, 1), date(2025, 6, 30), "令和7年4月1日〜令和7年6月30日（2025年4月1日〜2025年6月30日）"),
    ],
)
def test_period_label_in_wareki_and_western(start, end, label):
    assert period_label(start, end) == label


def test_every_sheet_of_the_statistics_xlsx_prints_one_page_wide():
    """openpyxl's fitToWidth is read by Excel only with pageSetUpPr.fitToPage; fitToHeight 0 lets a long
    sheet run on to further pages rather than shrinking it onto one."""
    book = openpyxl.load_workbook(io.BytesIO(report_xlsx(sample_report(), SUPPRESS)))
    for sheet in book.worksheets:
        assert sheet.sheet_properties.pageSetUpPr.fitToPage is True, sheet.title
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0), sheet.title
        assert sheet.page_setup.orientation == "landscape", sheet.title


def test_one_module_writes_every_csv_and_workbook_and_sets_it_to_print_one_page_wide():
    """Whoever adds an export (a 廃棄簿, a new list) goes through jusou.exports.files — table_file for a
    list — and so through its formula guard and fit_to_page_width."""
    root = Path(__file__).resolve().parents[2]
    writers = {
        path.relative_to(root).as_posix()
        for path in root.glob("*/**/*.py")
        if ".venv" not in path.parts
        and "tests" not in path.parts
        and ("Workbook(" in (text := path.read_text("utf-8")) or "csv.writer(" in text)
    }
    assert writers == {"jusou/exports/files.py"}
    text = (root / "jusou/exports/files.py").read_text("utf-8")
    calls = text.count("fit_to_page_width(sheet") - text.count("def fit_to_page_width(")
    assert calls >= text.count("Workbook(") == 2  # the report's and the list's


def test_download_name_is_japanese_with_an_ascii_fallback():
    assert report_filename(sample_report(), "xlsx") == "統計_令和7年4月_みどり市.xlsx"
    header = attachment_header("統計_令和7年4月.xlsx", "export-1.xlsx")
    assert (
        header == f"attachment; filename=\"export-1.xlsx\"; filename*=UTF-8''{quote('統計_令和7年4月.xlsx')}"
    )


# --- The job, eagerly (no Redis) ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STATISTICS_SUPPRESS_BELOW = SUPPRESS
    return tmp_path


def export_files(media: Path) -> list[str]:
    folder = media / "exports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def exports_logged(user) -> list[ReadLog]:
    return list(ReadLog.objects.filter(user=user, action=ReadLog.Action.EXPORT))


def request_export(client, django_capture_on_commit_callbacks, fmt="xlsx", params=MONTH):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("export_statistics"), {**params, "fmt": fmt})


def test_supervisor_exports_xlsx_sees_it_done_and_downloads_it(
    client, personas, media, django_capture_on_commit_callbacks
):
    supervisor = personas["supervisor"]
    client.force_login(supervisor)
    response = request_export(client, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get(owner=supervisor)
    assert response.status_code == 302 and response["Location"] == f"/exports/{job.pk}/"
    assert (job.status, job.progress, job.attempts) == (ExportStatus.DONE, 100, 1)
    assert job.params == MONTH and job.description == "令和7年4月"
    assert export_files(media) == [f"{job.pk}.xlsx"]

    status = client.get(reverse("export_status", args=[job.pk])).json()
    assert status == {
        "status": "done",
        "status_label": "完了",
        "progress": 100,
        "message": "出力が完了しました。",
        "download_url": f"/exports/{job.pk}/download/",
        "filename": job.filename,
    }

    download = client.get(status["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert download["Cache-Control"] == "no-store, private"
    assert f"filename*=UTF-8''{quote('統計_令和7年4月_')}" in download["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert "包括的相談支援" in book.sheetnames
    assert book[book.sheetnames[0]]["A1"].value.startswith("重層的支援体制整備事業 実績統計（令和7年4月）")
    job.refresh_from_db()
    assert job.downloaded_at is not None and job.table_count > 0

    [logged] = exports_logged(supervisor)
    assert logged.detail.startswith("統計の出力（xlsx）: 令和7年4月、")
    assert (logged.content_type.model, logged.object_id) == ("exportjob", job.pk)


def test_the_2019_nendo_has_one_name_in_title_period_row_file_name_and_job(
    client, personas, django_capture_on_commit_callbacks
):
    """2019年度 was labelled 平成31年度 in the title and 令和元年度 in the period row and the file name: one
    rule (jusou.ja.wareki.fiscal_year_label) names it everywhere."""
    client.force_login(personas["supervisor"])
    for fmt in ("xlsx", "csv"):
        request_export(
            client, django_capture_on_commit_callbacks, fmt, {"period": "fiscal", "fiscal_year": "2019"}
        )
        job = ExportJob.objects.filter(owner=personas["supervisor"], format=fmt).latest("pk")
        assert job.status == ExportStatus.DONE
        assert job.description.startswith("令和元年度") and job.filename.startswith("統計_令和元年度_"), fmt
        content = b"".join(client.get(reverse("export_download", args=[job.pk])).streaming_content)
        if fmt == "xlsx":
            sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
            title, period = sheet["A1"].value, sheet["A3"].value
            text = "\n".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
        else:
            text = content.decode("utf-8-sig")
            rows = list(csv.reader(io.StringIO(text)))
            title, period = rows[0][0], "期間: " + rows[1][1]
        assert title == "重層的支援体制整備事業 実績統計（令和元年度）", fmt
        assert period == "期間: 令和元年度（2019年4月1日〜2020年3月31日）", fmt
        assert "平成31年度" not in text, fmt
    page = client.get(reverse("statistics"), {"period": "fiscal", "fiscal_year": "2019"}).content.decode()
    assert "令和元年度" in page and "平成31年度" not in page
    assert '<option value="2019" selected>令和元年度（2019年度）</option>' in page


def test_csv_export_downloads_as_utf8_with_bom(client, personas, django_capture_on_commit_callbacks):
    client.force_login(personas["coord"])
    request_export(client, django_capture_on_commit_callbacks, fmt="csv")
    job = ExportJob.objects.get(owner=personas["coord"])
    download = client.get(reverse("export_download", args=[job.pk]))
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    content = b"".join(download.streaming_content)
    assert content.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][0].startswith("重層的支援体制整備事業 実績統計")
    assert ["＊は3件未満のため秘匿（合計や他の表から逆算できる件数も秘匿）"] in rows
    assert job.filename.endswith(".csv") and len(exports_logged(personas["coord"])) == 1


def test_only_the_owner_sees_or_downloads_an_export(client, personas, django_capture_on_commit_callbacks):
    client.force_login(personas["supervisor"])
    request_export(client, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    for other in ("coord", "intake_a", "admin"):
        client.force_login(personas[other])
        for name in ("export_detail", "export_status", "export_download"):
            assert client.get(reverse(name, args=[job.pk])).status_code == 404, (other, name)
        assert f"/exports/{job.pk}/" not in client.get(reverse("export_list")).content.decode()
    assert client.get(reverse("export_detail", args=[job.pk + 1000])).status_code == 404


def test_list_shows_the_users_own_exports(client, personas, django_capture_on_commit_callbacks):
    client.force_login(personas["supervisor"])
    request_export(client, django_capture_on_commit_callbacks)
    request_export(client, django_capture_on_commit_callbacks, fmt="csv")
    html = client.get(reverse("export_list")).content.decode()
    assert html.count("令和7年4月") == 2 and html.count("ダウンロード</a>") == 2


def test_worker_exports_own_agency_and_is_refused_another(
    client, personas, django_capture_on_commit_callbacks
):
    intake = personas["intake_a"]
    client.force_login(intake)
    request_export(client, django_capture_on_commit_callbacks, params={**MONTH, "agency": "chuo-houkatsu"})
    assert ExportJob.objects.get(owner=intake).status == ExportStatus.DONE
    refused = request_export(
        client, django_capture_on_commit_callbacks, params={**MONTH, "agency": "npo-midori-no-ie"}
    )
    assert refused.status_code == 403
    assert ExportJob.objects.filter(owner=intake).count() == 1


def test_system_admin_may_not_export_statistics(client, personas, django_capture_on_commit_callbacks):
    client.force_login(personas["admin"])
    assert request_export(client, django_capture_on_commit_callbacks).status_code == 403
    assert not ExportJob.objects.exists()


def test_bad_params_are_refused_in_japanese(client, personas, django_capture_on_commit_callbacks):
    client.force_login(personas["supervisor"])
    response = request_export(
        client, django_capture_on_commit_callbacks, params={"period": "month", "month": "2025-13"}
    )
    assert response.status_code == 302 and response["Location"].startswith(
        "/statistics/?period=month&month=2025-13"
    )
    page = client.get(response["Location"]).content.decode()
    assert "YYYY-MM の形で指定してください" in page
    assert not ExportJob.objects.exists()
    with pytest.raises(ValidationError) as error:
        export_jobs.export_request(
            acting_user=personas["supervisor"], kind="statistics", params={"period": "fiscal"}, fmt="xlsx"
        )
    assert error.value.messages == ["年度を指定してください（例: 2025）。"]
    with pytest.raises(ValidationError, match="「Excel（xlsx）」か「CSV」"):
        export_jobs.export_request(
            acting_user=personas["supervisor"], kind="statistics", params=MONTH, fmt="pdf"
        )
    with pytest.raises(PermissionDenied):
        export_jobs.export_request(acting_user=personas["admin"], kind="statistics", params=MONTH, fmt="csv")


def test_statistics_page_offers_both_formats_with_its_parameters(client, personas):
    client.force_login(personas["supervisor"])
    html = client.get(
        "/statistics/", {"period": "fiscal", "fiscal_year": "2025", "by": "area"}
    ).content.decode()
    assert "Excel（xlsx）で出力" in html and "CSVで出力" in html
    assert f'action="{reverse("export_statistics")}"' in html
    for name, value in (("period", "fiscal"), ("fiscal_year", "2025"), ("by", "area")):
        assert f'<input type="hidden" name="{name}" value="{value}">' in html


def test_progress_page_refreshes_without_javascript_only_while_unfinished(client, personas):
    supervisor = personas["supervisor"]
    job = ExportJob.objects.create(
        owner=supervisor,
        kind="statistics",
        params=MONTH,
        format=ExportFormat.XLSX,
        description="令和7年4月",
        message="順番を待っています。",
    )
    client.force_login(supervisor)
    html = client.get(job.get_absolute_url()).content.decode()
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    assert '<progress id="export-progress" class="export-progress" max="100" value="0">' in html
    assert "待機中" in html and 'id="export-download" hidden' in html
    assert "js/export_progress.js" in html
    assert " style=" not in html and "<script>" not in html  # CSP: same-origin scripts, no inline style
    status = client.get(reverse("export_status", args=[job.pk])).json()
    assert status["download_url"] is None and status["status_label"] == "待機中"
    assert client.get(reverse("export_download", args=[job.pk])).status_code == 404  # nothing yet

    export_jobs.export_run(job_id=job.pk)
    html = client.get(job.get_absolute_url()).content.decode()
    assert 'http-equiv="refresh"' not in html and "完了" in html
    assert f'href="/exports/{job.pk}/download/"' in html


def test_status_and_list_pages_take_a_fixed_number_of_queries(
    client, personas, django_assert_max_num_queries
):
    supervisor = personas["supervisor"]
    job = ExportJob.objects.create(owner=supervisor, kind="statistics", params=MONTH, format="csv")
    client.force_login(supervisor)
    client.get(reverse("export_status", args=[job.pk]))  # warm the session
    # session, user, memberships (roles), 2FA device check, the job: polled every second, so kept small
    with django_assert_max_num_queries(6):
        client.get(reverse("export_status", args=[job.pk]))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("export_list"))
    for _ in range(5):
        ExportJob.objects.create(owner=supervisor, kind="statistics", params=MONTH, format="csv")
    with CaptureQueriesContext(connection) as six:
        client.get(reverse("export_list"))
    assert len(six) == len(one)


def test_progress_moves_with_each_section_computed(personas, media, monkeypatch):
    recorded = []
    real_progress = export_jobs._progress

    def record(job_id, percent, message):
        recorded.append((percent, message))
        real_progress(job_id, percent, message)

    monkeypatch.setattr(export_jobs, "_progress", record)
    job = ExportJob.objects.create(
        owner=personas["supervisor"], kind="statistics", params=MONTH, format="csv"
    )
    export_jobs.export_run(job_id=job.pk)
    sections = len(statistics_providers())
    percents = [percent for percent, _ in recorded]
    assert percents == sorted(percents) and percents[0] == 10 and percents[-2:] == [80, 90]
    assert [m for _, m in recorded][1 : 1 + sections] == [
        f"集計しています（{n}/{sections}）。" for n in range(1, sections + 1)
    ]
    job.refresh_from_db()
    assert job.progress == 100


def test_run_export_leaves_a_done_job_alone(personas, media, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = export_jobs.export_request(
            acting_user=personas["supervisor"], kind="statistics", params=MONTH, fmt="xlsx"
        )
    written = (media / "exports" / f"{job.pk}.xlsx").stat().st_mtime_ns
    assert run_export.delay(job.pk).get() == "skipped"
    job.refresh_from_db()
    assert job.attempts == 1 and (media / "exports" / f"{job.pk}.xlsx").stat().st_mtime_ns == written
    assert len(exports_logged(personas["supervisor"])) == 1


@pytest.fixture
def eager_retries():
    """Eager tasks retry (through Celery's own retry machinery) only when their errors do not
    propagate to the caller; the worker-over-Redis test covers the real thing."""
    previous = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = previous


def test_a_crash_mid_way_is_retried_into_one_file_and_one_log_row(
    personas, media, monkeypatch, eager_retries, django_capture_on_commit_callbacks
):
    """The worst moment: the file is written, then the transaction that marks it done and logs it
    fails. The retry writes the file again (the same path) and logs once."""
    supervisor = personas["supervisor"]
    real_read_log, calls = export_jobs.read_log, []

    def crash_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise ConnectionError("database went away")
        return real_read_log(**kwargs)

    monkeypatch.setattr(export_jobs, "read_log", crash_once)
    with django_capture_on_commit_callbacks(execute=True):
        job = export_jobs.export_request(acting_user=supervisor, kind="statistics", params=MONTH, fmt="xlsx")
    job.refresh_from_db()
    assert (job.status, job.progress, job.attempts) == (ExportStatus.DONE, 100, 2)
    assert export_files(media) == [f"{job.pk}.xlsx"]  # one file, no temporary left
    assert len(exports_logged(supervisor)) == 1
    openpyxl.load_workbook(media / job.file_path)


def test_a_render_error_is_retried_and_the_job_fails_after_the_last_retry(
    personas, media, monkeypatch, eager_retries, django_capture_on_commit_callbacks
):
    supervisor = personas["supervisor"]

    def broken(report, suppress_below):
        raise OSError("disk full")

    monkeypatch.setitem(export_jobs.RENDERERS, ExportFormat.CSV, broken)
    with django_capture_on_commit_callbacks(execute=True):
        job = export_jobs.export_request(acting_user=supervisor, kind="statistics", params=MONTH, fmt="csv")
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ExportStatus.FAILED, 4)  # the run and 3 retries
    assert job.message == "出力に失敗しました。時間をおいてもう一度お試しください。"
    assert export_files(media) == [] and exports_logged(supervisor) == []


def test_without_a_worker_a_failure_shows_on_the_page_instead_of_an_error(
    client, personas, media, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(report, suppress_below):
        raise OSError("disk full")

    monkeypatch.setitem(export_jobs.RENDERERS, ExportFormat.XLSX, broken)
    client.force_login(personas["supervisor"])
    response = request_export(client, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    assert response.status_code == 302 and (job.status, job.attempts) == (ExportStatus.FAILED, 1)
    html = client.get(response["Location"]).content.decode()
    assert "失敗" in html and "出力に失敗しました。時間をおいてもう一度お試しください。" in html


def test_a_job_whose_user_lost_the_right_fails_without_retrying(personas, media):
    job = ExportJob.objects.create(owner=personas["admin"], kind="statistics", params=MONTH, format="csv")
    assert run_export.delay(job.pk).get() == "failed"
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ExportStatus.FAILED, 1)
    assert job.message == "出力できませんでした: 統計を見る権限がありません。"


def test_beat_requeues_a_job_lost_with_its_worker_once(personas, media, django_capture_on_commit_callbacks):
    """A worker killed mid-way leaves the job running and a temporary file; beat sends it again, the
    re-run replaces the leftovers, and a second beat run sends nothing."""
    supervisor = personas["supervisor"]
    long_ago = timezone.now() - timedelta(minutes=11)
    lost = ExportJob.objects.create(
        owner=supervisor,
        kind="statistics",
        params=MONTH,
        format="xlsx",
        status=ExportStatus.RUNNING,
        progress=40,
        attempts=1,
        updated_at=long_ago,
    )
    leftover = media / "exports" / f".{lost.pk}.xlsx.abc123.tmp"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half a file")
    os.utime(leftover, (time.time() - 3600, time.time() - 3600))
    busy = ExportJob.objects.create(
        owner=supervisor,
        kind="statistics",
        params=MONTH,
        format="csv",
        status=ExportStatus.RUNNING,
        progress=40,
        attempts=1,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_stale_exports.delay().get() == 1
    lost.refresh_from_db()
    assert (lost.status, lost.progress, lost.attempts) == (ExportStatus.DONE, 100, 2)
    assert export_files(media) == [f"{lost.pk}.xlsx"]
    assert len(exports_logged(supervisor)) == 1
    busy.refresh_from_db()
    assert (busy.status, busy.progress) == (ExportStatus.RUNNING, 40)  # alive: left alone
    with django_capture_on_commit_callbacks(execute=True):
        assert export_jobs.exports_requeue_stale() == 0


def test_beat_gives_up_on_a_job_tried_too_often(personas):
    job = ExportJob.objects.create(
        owner=personas["supervisor"],
        kind="statistics",
        params=MONTH,
        format="csv",
        status=ExportStatus.QUEUED,
        attempts=export_jobs.MAX_ATTEMPTS,
        updated_at=timezone.now() - timedelta(minutes=30),
    )
    assert export_jobs.exports_requeue_stale() == 0
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and job.finished_at is not None


def test_database_refuses_a_done_job_without_a_file(personas):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ExportJob.objects.create(
            owner=personas["supervisor"],
            kind="statistics",
            format="csv",
            status=ExportStatus.DONE,
            progress=100,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ExportJob.objects.create(owner=personas["supervisor"], kind="statistics", format="csv", progress=101)


# --- Through a real worker over Redis (the PostgreSQL pass of CI) -----------------------------------------


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("worker")
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_through_a_real_worker_shows_progress_then_a_correct_file(client, personas, monkeypatch, fmt):
    """The page's poll sees the bar move while the worker computes and renders (each slowed down so that
    the steps can be seen), then the download opens with openpyxl / the csv module."""
    assert not celery_app.conf.task_always_eager
    compute, render = export_jobs.statistics_report, export_jobs.RENDERERS[fmt]

    def slow_compute(*args, **kwargs):
        time.sleep(1.5)
        return compute(*args, **kwargs)

    def slow_render(*args):
        time.sleep(1.5)
        return render(*args)

    monkeypatch.setattr(export_jobs, "statistics_report", slow_compute)  # the worker runs in this process
    monkeypatch.setitem(export_jobs.RENDERERS, fmt, slow_render)
    supervisor = personas["supervisor"]
    client.force_login(supervisor)
    response = client.post(reverse("export_statistics"), {**MONTH, "fmt": fmt})
    job = ExportJob.objects.get(owner=supervisor)
    assert response["Location"] == f"/exports/{job.pk}/"

    seen, deadline = [], time.monotonic() + 60
    while time.monotonic() < deadline:
        status = client.get(reverse("export_status", args=[job.pk])).json()
        seen.append(status["progress"])
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert status["status"] == "done", status
    assert any(0 < progress < 100 for progress in seen), seen  # the bar moved before the end
    assert seen == sorted(seen) and seen[-1] == 100

    download = client.get(status["download_url"])
    content = b"".join(download.streaming_content)
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(content))
        assert "包括的相談支援" in book.sheetnames
        assert book["包括的相談支援"]["A1"].value.startswith("重層的支援体制整備事業 実績統計（令和7年4月）")
    else:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        assert rows[0][0].startswith("重層的支援体制整備事業 実績統計（令和7年4月）")
        assert any(row and row[0].startswith("包括的相談支援／") for row in rows)
    assert len(exports_logged(supervisor)) == 1
