"""A supervisor exports the statistics to Excel: the progress page reaches 完了 and offers the file.
Without Redis the task runs as soon as the request commits, so the job is done when the page opens;
the second part opens a job still waiting and lets the page's script (static/js/export_progress.js)
follow it to the end."""

import os
import re

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from devdata.demo.world import DEMO_PASSWORD
from jusou.exports import jobs as export_jobs
from jusou.models import ExportJob, ExportStatus

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Kept for a look at the page (CI keeps the directory's files as artifacts).
ARTIFACTS = os.environ.get("JUSOU_TEST_ARTIFACTS", "test-artifacts")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_supervisor_exports_statistics_to_excel_and_downloads_it(page, live_server, personas, tmp_path):
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("ユーザー名").fill("supervisor")
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/"))
    month = timezone.localdate().strftime("%Y-%m")
    page.goto(f"{base}/statistics/?period=month&month={month}")
    page.get_by_role("button", name="Excel（xlsx）で出力").click()

    page.wait_for_url(re.compile(r"/exports/\d+/$"))
    job = ExportJob.objects.get(owner=personas["supervisor"])
    assert page.locator("#export-status-label").inner_text() == "完了"
    assert page.locator("#export-progress").get_attribute("value") == "100"
    link = page.get_by_role("link", name=re.compile("をダウンロード$"))
    expect(link).to_be_visible()
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "export.png"), full_page=True)
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == job.filename and download.suggested_filename.startswith("統計_")
    saved = tmp_path / "downloaded.xlsx"
    download.save_as(saved)
    assert "包括的相談支援" in openpyxl.load_workbook(saved).sheetnames

    # A job still waiting (as when the worker is busy): the page's script follows it to the end.
    waiting = ExportJob.objects.create(
        owner=personas["supervisor"],
        kind="statistics",
        params={"period": "month", "month": month},
        format="csv",
        description="待っている出力",
        message="順番を待っています。",
    )
    page.goto(f"{base}/exports/{waiting.pk}/")
    assert page.locator("#export-status-label").inner_text() == "待機中"
    assert page.locator("#export-download").is_hidden()
    export_jobs.export_run(job_id=waiting.pk)  # the "worker"
    page.locator("#export-status-label", has_text="完了").wait_for()
    assert page.locator("#export-progress").get_attribute("value") == "100"
    expect(page.get_by_role("link", name=re.compile(r"\.csvをダウンロード$"))).to_be_visible()
    assert ExportJob.objects.get(pk=waiting.pk).status == ExportStatus.DONE
