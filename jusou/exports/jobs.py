"""出力ジョブ: exports made in the background (a Celery task) while the page shows their progress.

`export_request` checks and records what the user asked for and sends the task after commit;
`export_run` (the task's body) computes, renders and writes the file, then marks the job done and logs
the disclosure in one transaction. Every step is safe to repeat: a job already done is left alone, and
a re-run after a lost worker starts again and replaces its own file, so a retry makes one file and one
read-log row. The database is the queue of record: while a job runs, its worker writes a heartbeat
(`heartbeat_at`, every EXPORT_HEARTBEAT_SECONDS, from a thread beside the export and at every step);
`exports_requeue_stale` (beat, every EXPORT_SWEEP_SECONDS) sends again a running job whose heartbeat has
stopped for EXPORT_HEARTBEAT_TIMEOUT_SECONDS (its worker was killed) and a queued job silent for
STALE_AFTER (its message was lost).

Why the sweep and not the broker: the task is acknowledged late, but Redis gives a killed worker's
unacknowledged message back only after its visibility timeout (an hour), and `reject_on_worker_lost`
would send a task that kills its worker (the OOM killer) round for ever; the heartbeat gives a bound in
minutes, with the attempts counted in one place. A late copy of the message (the broker's redelivery, a
duplicate) finds the job done, or running with a live heartbeat, and does nothing.
"""

import logging
import os
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from jusou.audit.readlog import read_log
from jusou.exports.files import report_csv, report_filename, report_xlsx
from jusou.later import after_commit
from jusou.models import ExportFormat, ExportJob, ExportStatus, ReadLog, User
from jusou.reports.statistics import (
    StatisticsParams,
    can_read_statistics,
    statistics_report,
    statistics_scope,
)

log = logging.getLogger(__name__)

EXPORT_DIR = "exports"
#: a queued job silent for this long is sent again (its message was lost: broker down at send time)
STALE_AFTER = timedelta(minutes=10)
#: runs (first run, retries, re-queues) before a job is given up
MAX_ATTEMPTS = 5
#: a job still not done this long after it was asked for is given up, whatever happened to it
GIVE_UP_AFTER = timedelta(hours=6)
RENDERERS = {ExportFormat.XLSX: report_xlsx, ExportFormat.CSV: report_csv}

FAILED_MESSAGE = "出力に失敗しました。時間をおいてもう一度お試しください。"


# --- Reads -------------------------------------------------------------------------------------------------


def exports_for_user(user: User) -> QuerySet:
    """The user's own export jobs, newest first: nobody sees another user's exports, not even a
    supervisor (the file is a disclosure to the one who asked)."""
    return ExportJob.objects.filter(owner=user).order_by("-created_at", "-pk")


def export_get_for_user(user: User, pk: int) -> ExportJob:
    """One of the user's own jobs; another user's answers 404, exactly like a missing one."""
    job = exports_for_user(user).filter(pk=pk).first()
    if job is None:
        raise Http404("出力が見つかりません。")
    return job


def export_file(job: ExportJob) -> Path | None:
    """The finished file of a done job, or None (not done, or the file is gone)."""
    if job.status != ExportStatus.DONE or not job.file_path:
        return None
    path = Path(settings.MEDIA_ROOT) / job.file_path
    return path if path.is_file() else None


# --- Writes ------------------------------------------------------------------------------------------------


def _expire(jobs: QuerySet, message: str) -> int:
    """Delete the files of `jobs` (done or failed ones holding a file) and mark them 削除済み; the job
    rows stay (who asked for what, when, and when it was downloaded)."""
    expired = 0
    for job in jobs.exclude(status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]).exclude(
        status=ExportStatus.EXPIRED
    ):
        with transaction.atomic():
            job = ExportJob.objects.select_for_update().get(pk=job.pk)
            if job.status in (ExportStatus.QUEUED, ExportStatus.RUNNING, ExportStatus.EXPIRED):
                continue
            relative = job.file_path
            now = timezone.now()
            job.status, job.file_path, job.expired_at, job.updated_at = ExportStatus.EXPIRED, "", now, now
            job.message = message
            job.save(update_fields=["status", "file_path", "expired_at", "updated_at", "message"])
            if relative:
                path = Path(settings.MEDIA_ROOT) / relative
                transaction.on_commit(lambda path=path: path.unlink(missing_ok=True))
                _remove_leftovers(relative)
        expired += 1
    if expired:
        log.info("exports: deleted the files of %d jobs (%s)", expired, message)
    return expired


def exports_expire(*, now=None) -> int:
    """Beat, daily: the files of exports made more than EXPORT_FILE_KEEP_DAYS ago are deleted."""
    days = settings.EXPORT_FILE_KEEP_DAYS
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return _expire(
        ExportJob.objects.filter(created_at__lt=cutoff),
        f"作成から{days}日を過ぎたため、ファイルを削除しました。必要なときはもう一度出力してください。",
    )


#: export kinds whose files name people (everything but the statistics, which hold counts only)
NAMED_KINDS = set(ExportJob.Kind.values) - {ExportJob.Kind.STATISTICS}


def exports_naming_people_expire() -> int:
    """A disposal (保存年限) deletes every export file that may name the disposed person at once."""
    return _expire(
        ExportJob.objects.filter(kind__in=NAMED_KINDS),
        "保存年限の経過による記録の廃棄のため、ファイルを削除しました。",
    )


def _describe(params: StatisticsParams) -> str:
    parts = [params.label]
    if params.agency is not None:
        parts.append(params.agency.name)
    if params.area is not None:
        parts.append(params.area.name)
    return "・".join(parts)


@transaction.atomic
def export_request(*, acting_user: User, kind: str, params, fmt: str) -> ExportJob:
    """Record an export and send it to the worker after commit.

    Refuses (ValidationError, Japanese) an unknown kind or format and parameters that do not parse;
    refuses (PermissionDenied) a user who may not read statistics, or not for the agency asked for —
    the same rule as the statistics page. The job keeps the parameters normalised (a default month is
    fixed to the month asked in), so a job run later computes what the user saw."""
    if kind != ExportJob.Kind.STATISTICS:
        raise ValidationError("出力の種類が正しくありません。")
    if fmt not in ExportFormat.values:
        raise ValidationError("出力の形式は「Excel（xlsx）」か「CSV」を選んでください。")
    if not can_read_statistics(acting_user):
        raise PermissionDenied("統計を見る権限がありません。")
    parsed = StatisticsParams.from_query(params)
    statistics_scope(acting_user, parsed)  # PermissionDenied for an agency outside the reader's scope
    job = ExportJob.objects.create(
        owner=acting_user,
        kind=kind,
        params=parsed.query(),
        format=fmt,
        description=_describe(parsed),
        message="順番を待っています。",
    )
    _send(job.pk)
    return job


def _send(job_id: int) -> None:
    after_commit("jusou.tasks.run_export", job_id)


def heartbeat_timeout() -> timedelta:
    return timedelta(seconds=settings.EXPORT_HEARTBEAT_TIMEOUT_SECONDS)


def _silent(now) -> Q:
    """Running jobs whose worker has stopped beating (a job started before heartbeats existed: by its
    last progress)."""
    return Q(status=ExportStatus.RUNNING) & Q(last_beat__lt=now - heartbeat_timeout())


def _lost(now) -> Q:
    return Q(status=ExportStatus.QUEUED, updated_at__lt=now - STALE_AFTER)


def _with_last_beat(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(last_beat=Coalesce("heartbeat_at", "updated_at"))


def _progress(job_id: int, percent: int, message: str) -> None:
    # A plain UPDATE outside any transaction, so that the page sees it at once. Only a running job
    # moves: a job re-queued or finished meanwhile keeps what it shows.
    now = timezone.now()
    ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).update(
        progress=percent, message=message, updated_at=now, heartbeat_at=now
    )


def _beat(job_id: int, attempt: int) -> None:
    # Only this run's own job: once re-queued (attempts moved on) a run thought dead beats no more.
    ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING, attempts=attempt).update(
        heartbeat_at=timezone.now()
    )


class _Heartbeat:
    """A thread that writes the job's heartbeat every `every` seconds while the export runs, so that a
    long step (one 事業's figures on a large city, the rendering) does not look like a dead worker. It
    dies with the worker: a killed worker's job falls silent, which is what the sweep looks for."""

    def __init__(self, job_id: int, attempt: int, every: float | None):
        self.job_id, self.attempt, self.every = job_id, attempt, every
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        if self.every:
            self._thread = threading.Thread(
                target=self._run, name=f"export-{self.job_id}-heartbeat", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(self, *exc_info):
        if self._thread is not None:
            self._stop.set()
            self._thread.join()

    def _run(self):
        try:
            while not self._stop.wait(self.every):
                try:
                    _beat(self.job_id, self.attempt)
                except Exception:  # a database hiccup: the next beat tries again, the export goes on
                    log.warning("export job %s: heartbeat not written", self.job_id, exc_info=True)
        finally:
            connection.close()  # the thread's own connection


def _start(job_id: int) -> ExportJob | None:
    """Mark the job running (one more attempt); None when there is nothing to do: the job is missing or
    finished, or another run of it is alive (its heartbeat is fresh: this is a duplicate message)."""
    with transaction.atomic():
        job = (
            _with_last_beat(ExportJob.objects.select_for_update())
            .select_related("owner")
            .filter(pk=job_id)
            .first()
        )
        if job is None or job.is_finished:
            return None
        now = timezone.now()
        if job.status == ExportStatus.RUNNING and job.last_beat >= now - heartbeat_timeout():
            return None
        job.status, job.progress, job.attempts = ExportStatus.RUNNING, 5, job.attempts + 1
        job.message, job.updated_at, job.heartbeat_at = "集計を始めました。", now, now
        job.save(update_fields=["status", "progress", "attempts", "message", "updated_at", "heartbeat_at"])
        return job


def _retry_later(job_id: int) -> None:
    """Back to the queue for the task's own retry (which would otherwise find the job running)."""
    ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).update(
        status=ExportStatus.QUEUED,
        progress=0,
        message="一時的なエラーのため、やり直しています。",
        updated_at=timezone.now(),
    )


def _fail(job_id: int, message: str) -> None:
    ExportJob.objects.filter(pk=job_id).exclude(status=ExportStatus.DONE).update(
        status=ExportStatus.FAILED, message=message, finished_at=timezone.now(), updated_at=timezone.now()
    )


def _write(relative: str, content: bytes) -> None:
    """Write the file whole or not at all: a temporary file beside it, then an atomic rename, so that
    a download never sees half a file and a run killed mid-write leaves the old one (or none)."""
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)  # personal-data adjacent: readable by the application only
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _remove_leftovers(relative: str) -> None:
    """Temporary files of this job left by a killed run (older than STALE_AFTER, so a run still
    writing keeps its own)."""
    path = Path(settings.MEDIA_ROOT) / relative
    cutoff = (timezone.now() - STALE_AFTER).timestamp()
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except FileNotFoundError:
            pass


def export_run(*, job_id: int, last_attempt: bool = True, heartbeat_every: float | None = None) -> str:
    """Make the file of a job: 10 % once the parameters are read, then in proportion to the 事業 computed
    up to 80 %, 90 % once rendered, 100 % when written. Idempotent: a done or failed job is left alone; a re-run
    starts again and replaces its own file. The job is marked done and the export logged (DOMAIN.md
    §8: every disclosure is logged) in one transaction, so a retry logs it once.

    An error the user must fix (parameters, permission) fails the job at once; any other error is
    raised for the task to retry, and on the `last_attempt` fails the job instead. With
    `heartbeat_every` (seconds; the worker) a thread writes the job's heartbeat while it runs."""
    job = _start(job_id)
    if job is None:
        return "skipped"
    with _Heartbeat(job.pk, job.attempts, heartbeat_every):
        try:
            return _run(job, last_attempt)
        except Exception:
            if not last_attempt:
                _retry_later(job.pk)  # the task's retry must find the job queued, not running
            raise


def _run(job: ExportJob, last_attempt: bool) -> str:
    relative = f"{EXPORT_DIR}/{job.pk}.{job.format}"
    try:
        _remove_leftovers(relative)
        params = StatisticsParams.from_query(job.params)
        _progress(job.pk, 10, "集計しています。")

        def on_section(done: int, total: int) -> None:
            # 10 % → 80 % in proportion to the 事業 computed
            _progress(job.pk, 10 + 70 * done // total, f"集計しています（{done}/{total}）。")

        report = statistics_report(job.owner, params, on_section=on_section)
        tables = sum(1 for _ in report.tables())
        _progress(job.pk, 80, "ファイルを作成しています。")
        content = RENDERERS[job.format](report, settings.STATISTICS_SUPPRESS_BELOW)
        _progress(job.pk, 90, "ファイルを保存しています。")
        _write(relative, content)
    except (ValidationError, PermissionDenied) as error:
        # Nothing a retry would change (the user's role or the codes changed since the request).
        reason = "、".join(error.messages) if isinstance(error, ValidationError) else str(error)
        _fail(job.pk, f"出力できませんでした: {reason}")
        return "failed"
    except Exception:
        if not last_attempt:
            raise
        log.exception("export job %s failed", job.pk)
        _fail(job.pk, FAILED_MESSAGE)
        return "failed"
    return _finish(job.pk, relative, report_filename(report, job.format), tables, params, report.coverage)


def _finish(job_id, relative, filename, tables, params: StatisticsParams, coverage: str) -> str:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().select_related("owner").get(pk=job_id)
        if job.status == ExportStatus.DONE:
            return "skipped"  # a parallel run (re-queued while this one was slow) finished first
        now = timezone.now()
        job.status, job.progress, job.file_path, job.filename = ExportStatus.DONE, 100, relative, filename
        job.table_count, job.finished_at, job.updated_at = tables, now, now
        job.message = "出力が完了しました。"
        job.save()
        read_log(
            user=job.owner,
            action=ReadLog.Action.EXPORT,
            obj=job,
            detail=f"統計の出力（{job.format}）: {params.label}、{coverage}、{tables}表",
        )
    return "done"


def export_mark_downloaded(*, job: ExportJob) -> None:
    """Remember when the owner last fetched the file (the export itself was logged when it was made)."""
    job.downloaded_at = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(downloaded_at=job.downloaded_at)


def exports_requeue_stale() -> int:
    """Beat: send again every running job whose heartbeat has stopped for EXPORT_HEARTBEAT_TIMEOUT_SECONDS
    (its worker was killed) and every queued job silent for STALE_AFTER (its message was lost); give up
    on a job tried MAX_ATTEMPTS times or asked for GIVE_UP_AFTER ago. Running it twice in a row sends
    nothing twice: a re-queued job is fresh again."""
    now = timezone.now()
    stale = (
        _with_last_beat(ExportJob.objects.all())
        .filter(_silent(now) | _lost(now))
        .values_list("pk", flat=True)
    )
    requeued = 0
    for pk in list(stale[:200]):
        with transaction.atomic():
            # Read again under the row lock: the job may have moved on since the list was read.
            job = _with_last_beat(ExportJob.objects.select_for_update()).filter(
                _silent(now) | _lost(now), pk=pk
            )
            job = job.first()
            if job is None:
                continue
            if job.attempts >= MAX_ATTEMPTS or job.created_at < now - GIVE_UP_AFTER:
                job.status, job.finished_at, job.message = ExportStatus.FAILED, now, FAILED_MESSAGE
                job.updated_at = now
                job.save(update_fields=["status", "finished_at", "message", "updated_at"])
                continue
            job.status, job.progress, job.updated_at = ExportStatus.QUEUED, 0, now
            job.message = "再実行を待っています。"
            job.save(update_fields=["status", "progress", "message", "updated_at"])
            _send(job.pk)
            requeued += 1
    return requeued
