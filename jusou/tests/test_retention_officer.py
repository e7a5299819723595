"""Issue 18, retention as a 文書管理 officer expects: the 廃棄簿 (CSV / xlsx) with who approved, who
executed, when, what and how many, and the 根拠条項; 「今すぐ確認」 and the command; the notice before a
満了日; export files deleted after EXPORT_FILE_KEEP_DAYS; the read log's one sanctioned change."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from jusou.audit.readlog import read_log, read_log_verify
from jusou.exports.jobs import exports_expire
from jusou.ja.wareki import to_wareki
from jusou.models import ExportFormat, ExportJob, ExportStatus, Notification, ReadLog
from jusou.retention import services
from jusou.retention.anonymise import DISPOSED, Removed, history_scrub
from jusou.retention.leftovers import read_log_redact
from jusou.retention.models import DisposalCandidate, DisposalStatus, RetentionPolicy
from jusou.retention.selectors import retention_policies, retention_policies_ensure
from jusou.tests import test_retention as base
from jusou.tests.test_retention import GAP, TODAY, approve_and_dispose, closed_gap, listed

pytestmark = pytest.mark.django_db
gap_type, people = base.gap_type, base.people  # the fixtures


# --- 根拠条項 -------------------------------------------------------------------------------------------


def test_every_policy_is_seeded_with_its_basis_and_an_edit_is_kept():
    RetentionPolicy.objects.all().delete()
    retention_policies_ensure()
    bases = dict(RetentionPolicy.objects.values_list("record_type", "basis"))
    assert (
        bases["cases.case"]
        == "文書管理規程 別表（文書の保存期間基準）「支援ケース（終結・中断）」保存期間10年（終結・中断・終了の日から起算）"
    )
    assert all(basis.startswith("文書管理規程") for basis in bases.values())
    RetentionPolicy.objects.filter(record_type="cases.case").update(
        basis="みどり市文書管理規程第12条・別表第2"
    )
    retention_policies_ensure()
    assert (
        RetentionPolicy.objects.get(record_type="cases.case").basis == "みどり市文書管理規程第12条・別表第2"
    )


def test_the_retention_page_shows_the_basis(client, gap_type, people):
    RetentionPolicy.objects.filter(record_type=GAP).update(basis="文書管理規程第8条・別表第1（10年）")
    client.force_login(people["supervisor"])
    page = client.get(reverse("retention_list")).content.decode()
    assert "根拠条項" in page and "文書管理規程第8条・別表第1（10年）" in page
    assert "今すぐ確認" in page and reverse("retention_register") in page


# --- 廃棄簿 --------------------------------------------------------------------------------------------


@pytest.fixture
def disposed(gap_type, people):
    RetentionPolicy.objects.filter(record_type=GAP).update(basis="文書管理規程第8条・別表第1（10年）")
    gap = closed_gap(people["worker"], date(2010, 4, 1))
    candidate = approve_and_dispose(gap, people["supervisor"])
    RetentionPolicy.objects.filter(record_type=GAP).update(
        basis="後から変えた条項"
    )  # the register keeps the old
    return candidate


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_register_names_approver_executor_when_what_how_many_and_the_basis(client, disposed, people):
    client.force_login(people["supervisor"])
    response = client.get(reverse("retention_register_export", args=["csv"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    header, line = _csv_rows(response)
    row = dict(zip(header, line, strict=True))
    supervisor = people["supervisor"].get_full_name()
    local = timezone.localtime(disposed.disposed_at)
    assert row["廃棄日時"] == f"{to_wareki(local)} {local:%H:%M}"
    assert (row["記録の種類"], row["記録番号"], row["承認者"], row["実行者"]) == (
        "テスト記録",
        disposed.number,
        supervisor,
        supervisor,
    )
    assert row["根拠条項"] == "文書管理規程第8条・別表第1（10年）" and row["保存年限"] == "10年"
    assert row["匿名化した記録"] == "不足する社会資源 1件" and row["匿名化した件数"] == "1"
    assert row["終結日"] == to_wareki(disposed.closed_on)
    assert ReadLog.objects.filter(action=ReadLog.Action.EXPORT, detail="廃棄簿（CSV） 1件").exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_register_downloads_under_its_japanese_name(client, disposed, people, fmt):
    """「廃棄簿-….csv」 as RFC 6266 filename* (a raw non-ASCII header went out MIME-encoded, =?utf-8?b?…?=)."""
    from urllib.parse import quote

    client.force_login(people["supervisor"])
    disposition = client.get(reverse("retention_register_export", args=[fmt]))["Content-Disposition"]
    assert disposition.startswith("attachment;") and "=?utf-8?" not in disposition
    assert f"filename*=utf-8''{quote('廃棄簿-')}" in disposition and disposition.endswith(f".{fmt}")


def test_the_register_as_xlsx(client, disposed, people):
    from openpyxl import load_workbook

    client.force_login(people["supervisor"])
    response = client.get(reverse("retention_register_export", args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "廃棄簿" and rows[0][0] == "廃棄番号" and "根拠条項" in rows[0]
    assert rows[1][rows[0].index("根拠条項")] == "文書管理規程第8条・別表第1（10年）"
    assert rows[1][rows[0].index("記録番号")] == disposed.number


def test_the_register_as_pdf_with_the_header_on_every_page_logged_as_a_print(client, disposed, people):
    from pypdf import PdfReader

    client.force_login(people["supervisor"])
    response = client.get(reverse("retention_register_export", args=["pdf"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join("".join(page.extract_text().split()) for page in reader.pages)
    for expected in (
        "みどり市",
        "廃棄簿",
        "要配慮個人情報・取扱注意",
        f"1/{len(reader.pages)}",
        disposed.number,
        "文書管理規程第8条・別表第1（10年）",
        to_wareki(timezone.localdate()),
        "文書管理担当者",
    ):
        assert expected in text, expected
    assert ReadLog.objects.filter(action=ReadLog.Action.PRINT, detail__contains="廃棄簿（PDF） 1件").exists()


def test_the_register_page_filters_by_the_day_of_disposal(client, disposed, people):
    client.force_login(people["supervisor"])
    today = timezone.localdate()
    page = client.get(reverse("retention_register")).content.decode()
    assert disposed.number in page and "文書管理規程第8条・別表第1（10年）" in page
    later = client.get(
        reverse("retention_register"), {"disposed_from": (today + timedelta(days=1)).isoformat()}
    )
    assert disposed.number not in later.content.decode()
    wrong = client.get(
        reverse("retention_register"), {"disposed_from": "2025-05-01", "disposed_until": "2025-04-01"}
    )
    assert "「から」が「まで」より前" in wrong.content.decode()
    assert client.get(reverse("retention_register_export", args=["pdfx"])).status_code == 404


def test_the_register_page_has_a_bounded_number_of_queries(client, gap_type, people):
    client.force_login(people["supervisor"])

    def count() -> int:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("retention_register")).status_code == 200
        return len(queries)

    approve_and_dispose(closed_gap(people["worker"], date(2010, 4, 1)), people["supervisor"])
    one = count()
    for day in (2, 3, 4):
        approve_and_dispose(closed_gap(people["worker"], date(2010, 4, day)), people["supervisor"])
    assert count() == one


@pytest.mark.parametrize("persona", ["worker", "coordinator", "admin"])
def test_only_supervisors_read_the_register(client, disposed, people, persona):
    client.force_login(people[persona])
    assert client.get(reverse("retention_register")).status_code == 403
    assert client.get(reverse("retention_register_export", args=["csv"])).status_code == 403
    assert client.get(reverse("retention_register_export", args=["pdf"])).status_code == 403
    assert not ReadLog.objects.filter(action__in=[ReadLog.Action.EXPORT, ReadLog.Action.PRINT]).exists()


# --- 今すぐ確認 and the command --------------------------------------------------------------------------


def test_a_supervisor_runs_the_scan_now(client, gap_type, people):
    gap = closed_gap(people["worker"], date(2000, 4, 1))
    client.force_login(people["supervisor"])
    assert client.get(reverse("retention_scan_now")).status_code == 405
    response = client.post(reverse("retention_scan_now"), follow=True)
    assert "保存期間を確認しました: 新たに廃棄候補になった記録 1件" in response.content.decode()
    assert listed(gap).status == DisposalStatus.LISTED


@pytest.mark.parametrize("persona", ["worker", "coordinator", "admin"])
def test_others_cannot_run_the_scan(client, gap_type, people, persona):
    closed_gap(people["worker"], date(2000, 4, 1))
    client.force_login(people[persona])
    assert client.post(reverse("retention_scan_now")).status_code == 403
    assert not DisposalCandidate.objects.exists()


def test_the_anonymous_are_sent_to_log_in(client):
    response = client.post(reverse("retention_scan_now"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_command_scans_and_disposes_what_was_approved(gap_type, people):
    gap = closed_gap(people["worker"], date(2000, 4, 1))
    out = io.StringIO()
    call_command("retention_scan", "--today", TODAY.isoformat(), stdout=out)
    assert "廃棄候補に追加 1件" in out.getvalue()
    services.disposal_approve(candidate_ids=[listed(gap).pk], acting_user=people["supervisor"])
    out = io.StringIO()
    call_command("retention_scan", "--dispose", stdout=out)
    assert "廃棄（匿名化）を実行 1件" in out.getvalue()
    gap.refresh_from_db()
    assert gap.description == DISPOSED


# --- The notice before a 満了日 -------------------------------------------------------------------------


def test_the_supervisors_are_told_thirty_days_before_a_record_expires_once(gap_type, people, settings):
    settings.RETENTION_NOTICE_DAYS = 30
    closed_gap(people["worker"], date(2015, 7, 10))  # 満了日 2025-07-10: 25 days after TODAY
    closed_gap(people["worker"], date(2015, 8, 20))  # 66 days: not yet
    services.retention_scan(today=TODAY)
    notes = Notification.objects.filter(kind="retention_upcoming")
    assert sorted(notes.values_list("recipient__username", flat=True)) == ["kanri", "kanri2"]
    note = notes.first()
    assert note.title == f"{to_wareki(date(2025, 7, 10))}に保存期間が満了する記録があります（1件）"
    assert "テスト記録 1件" in note.body and note.link == reverse("retention_list")
    services.retention_scan(today=TODAY)
    services.retention_scan(today=TODAY + timedelta(days=1))
    assert Notification.objects.filter(kind="retention_upcoming").count() == 2  # idempotent
    assert not Notification.objects.filter(kind="retention_upcoming", title__contains="8月20日").exists()
    services.retention_scan(today=date(2025, 7, 25))  # the second one enters the window
    assert Notification.objects.filter(kind="retention_upcoming", title__contains="8月20日").count() == 2


def test_the_notice_window_is_a_setting(gap_type, people, settings):
    settings.RETENTION_NOTICE_DAYS = 10
    closed_gap(people["worker"], date(2015, 7, 10))  # 25 days ahead
    services.retention_scan(today=TODAY)
    assert not Notification.objects.filter(kind="retention_upcoming").exists()


# --- Export files expire ------------------------------------------------------------------------------


def _job(owner, tmp_path, days_ago: int, name: str) -> ExportJob:
    (tmp_path / "exports").mkdir(exist_ok=True)
    (tmp_path / "exports" / name).write_bytes(b"x")
    job = ExportJob.objects.create(
        owner=owner,
        kind=ExportJob.Kind.STATISTICS,
        format=ExportFormat.CSV,
        status=ExportStatus.DONE,
        progress=100,
        file_path=f"exports/{name}",
    )
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return job


def test_export_files_are_deleted_after_the_set_days(
    people, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT, settings.EXPORT_FILE_KEEP_DAYS = tmp_path, 7
    old, new = (
        _job(people["supervisor"], tmp_path, 8, "1.csv"),
        _job(people["supervisor"], tmp_path, 6, "2.csv"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert exports_expire() == 1
    old.refresh_from_db()
    assert (old.status, old.file_path) == (ExportStatus.EXPIRED, "") and old.expired_at is not None
    assert "7日" in old.message
    assert not (tmp_path / "exports" / "1.csv").exists() and (tmp_path / "exports" / "2.csv").exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert exports_expire() == 0  # already done
    settings.EXPORT_FILE_KEEP_DAYS = 5
    with django_capture_on_commit_callbacks(execute=True):
        assert exports_expire() == 1
    assert not (tmp_path / "exports" / "2.csv").exists()
    assert ExportJob.objects.filter(pk=new.pk, status=ExportStatus.EXPIRED).exists()


def test_the_beat_deletes_export_files_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["expire-export-files"]
    assert entry["task"] == "jusou.tasks.expire_export_files"


def test_export_jobs_are_in_the_admin_read_only(client, people, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    job = _job(people["supervisor"], tmp_path, 1, "3.csv")
    client.force_login(people["admin"])
    assert client.get(reverse("admin:jusou_exportjob_changelist")).status_code == 200
    assert client.get(reverse("admin:jusou_exportjob_change", args=[job.pk])).status_code == 200
    assert client.get(reverse("admin:jusou_exportjob_add")).status_code == 403
    client.post(reverse("admin:jusou_exportjob_change", args=[job.pk]), {"description": "変更"})
    assert ExportJob.objects.get(pk=job.pk).description == ""
    client.force_login(people["supervisor"])
    assert client.get(reverse("admin:jusou_exportjob_changelist")).status_code == 302


# --- The read log's one sanctioned change -------------------------------------------------------------


def _removed(*texts) -> Removed:
    removed = Removed()
    for text in texts:
        removed.add("name", text)
    return removed


def test_a_redacted_search_keeps_its_row_and_the_chain(people):
    user = people["worker"]
    read_log(user=user, action=ReadLog.Action.SEARCH, detail="本人検索: 川村 正（1件）")
    row = read_log(user=user, action=ReadLog.Action.SEARCH, detail="本人検索: 川村（2件）")
    read_log(user=user, action=ReadLog.Action.SEARCH, detail="本人検索: 川村 花子（1件）")
    removed = _removed("川村 正")
    removed.add("name_search", "川村正")
    with transaction.atomic(), history_scrub():
        changed = read_log_redact(removed)
    details = list(ReadLog.objects.order_by("pk").values_list("detail", flat=True))
    assert details == [
        f"本人検索: {DISPOSED}（1件）",
        f"本人検索: {DISPOSED}（2件）",
        "本人検索: 川村 花子（1件）",
    ]
    assert len(changed["jusou.readlog"]) == 2
    assert read_log_verify() == (3, None)
    stored = ReadLog.objects.get(pk=row.pk)
    assert stored.redacted_at is not None and len(stored.detail_digest) == 64


def test_any_other_change_to_the_read_log_breaks_or_is_refused(people):
    row = read_log(user=people["worker"], action=ReadLog.Action.SEARCH, detail="本人検索: 川村（2件）")
    with pytest.raises(DatabaseError), transaction.atomic():  # who read cannot change, even in a disposal
        with history_scrub():
            ReadLog.objects.filter(pk=row.pk).update(
                user=people["supervisor"], detail="x", detail_digest="0" * 64, redacted_at=timezone.now()
            )
    with pytest.raises(DatabaseError), transaction.atomic():  # a plain edit of the text
        ReadLog.objects.filter(pk=row.pk).update(detail="書き換え")
    if connection.vendor == "postgresql":
        # outside a disposal, and with a digest that is not the old text's, PostgreSQL refuses it
        with pytest.raises(DatabaseError), transaction.atomic():
            ReadLog.objects.filter(pk=row.pk).update(
                detail="x", detail_digest="0" * 64, redacted_at=timezone.now()
            )
        with pytest.raises(DatabaseError), transaction.atomic(), history_scrub():
            ReadLog.objects.filter(pk=row.pk).update(
                detail="x", detail_digest="0" * 64, redacted_at=timezone.now()
            )
        with pytest.raises(DatabaseError), transaction.atomic(), history_scrub():
            ReadLog.objects.filter(pk=row.pk).delete()
    assert ReadLog.objects.get(pk=row.pk).detail == "本人検索: 川村（2件）"
    assert read_log_verify() == (1, None)


def test_the_disposal_keeps_the_policy_it_was_disposed_under(disposed):
    assert (disposed.retention_years, disposed.basis) == (10, "文書管理規程第8条・別表第1（10年）")
    assert retention_policies()[GAP].basis == "後から変えた条項"
