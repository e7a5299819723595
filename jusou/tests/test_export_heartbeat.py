"""Issue 15: a killed worker must not stall an export. The worker heartbeats a running job; beat
re-queues a job whose heartbeat has stopped within 2 minutes; the export then completes exactly once
(one file, one read-log row). Unit tests of the sweep with time moved, then a real worker over Redis
and PostgreSQL killed with SIGKILL mid-export and restarted."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone

from jusou.exports import jobs as export_jobs
from jusou.models import ExportJob, ExportStatus, ReadLog

MONTH = {"period": "month", "month": "2025-04"}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def export_files(media: Path) -> list[str]:
    folder = media / "exports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def running_job(owner, *, beat_at, attempts=1, **fields) -> ExportJob:
    """A job as a worker leaves it when it is killed mid-way: running, its last heartbeat at beat_at."""
    return ExportJob.objects.create(
        owner=owner,
        kind="statistics",
        params=MONTH,
        format="csv",
        status=ExportStatus.RUNNING,
        progress=40,
        attempts=attempts,
        heartbeat_at=beat_at,
        updated_at=beat_at,
        **fields,
    )


# --- The sweep, with time moved -----------------------------------------------------------------------


def test_a_killed_workers_job_is_requeued_once_its_heartbeat_stops_and_then_completes_once(
    personas, media, django_capture_on_commit_callbacks
):
    supervisor = personas["supervisor"]
    timeout = timedelta(seconds=settings.EXPORT_HEARTBEAT_TIMEOUT_SECONDS)
    killed_at = timezone.now()
    job = running_job(supervisor, beat_at=killed_at)
    with time_machine.travel(killed_at + timeout - timedelta(seconds=1), tick=False):
        assert export_jobs.exports_requeue_stale() == 0  # still within its heartbeat: alive
    with (
        time_machine.travel(killed_at + timeout + timedelta(seconds=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert export_jobs.exports_requeue_stale() == 1  # sent again, and run (eager)
    job.refresh_from_db()
    assert (job.status, job.progress, job.attempts) == (ExportStatus.DONE, 100, 2)
    assert export_files(media) == [f"{job.pk}.csv"]
    assert ReadLog.objects.filter(user=supervisor, action=ReadLog.Action.EXPORT).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert export_jobs.exports_requeue_stale() == 0
        assert export_jobs.export_run(job_id=job.pk) == "skipped"  # the broker's late copy: nothing again
    assert ReadLog.objects.filter(user=supervisor, action=ReadLog.Action.EXPORT).count() == 1


def test_the_sweep_requeues_a_silent_running_job_without_running_it_twice(personas):
    job = running_job(personas["supervisor"], beat_at=timezone.now() - timedelta(minutes=5))
    assert export_jobs.exports_requeue_stale() == 1  # tasks run eagerly only after commit: not here
    job.refresh_from_db()
    assert (job.status, job.progress, job.message) == (ExportStatus.QUEUED, 0, "再実行を待っています。")
    assert export_jobs.exports_requeue_stale() == 0  # queued again just now: not sent twice


def test_a_job_whose_worker_beats_is_never_requeued_however_long_it_runs(personas):
    """Progress and the heartbeat thread keep a long export alive: only silence counts, not duration."""
    started = timezone.now()
    job = running_job(personas["supervisor"], beat_at=started)
    for minute in range(1, 31):
        with time_machine.travel(started + timedelta(minutes=minute), tick=False):
            export_jobs._beat(job.pk, job.attempts)
            assert export_jobs.exports_requeue_stale() == 0
    job.refresh_from_db()
    assert job.status == ExportStatus.RUNNING and job.attempts == 1


def test_a_run_thought_dead_does_not_keep_the_requeued_job_alive(personas):
    job = running_job(personas["supervisor"], beat_at=timezone.now(), attempts=2)
    export_jobs._beat(job.pk, attempt=1)  # the first run's thread, after the job moved on to attempt 2
    before = job.heartbeat_at
    job.refresh_from_db()
    assert job.heartbeat_at == before


def test_a_duplicate_message_for_a_job_running_elsewhere_does_nothing(personas, media):
    job = running_job(personas["supervisor"], beat_at=timezone.now())
    assert export_jobs.export_run(job_id=job.pk) == "skipped"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.progress) == (ExportStatus.RUNNING, 1, 40)
    assert export_files(media) == []


def test_a_job_started_before_heartbeats_existed_is_judged_by_its_last_progress(personas):
    job = running_job(personas["supervisor"], beat_at=timezone.now() - timedelta(minutes=3))
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=None)
    assert export_jobs.exports_requeue_stale() == 1


def test_a_queued_job_waiting_its_turn_is_sent_again_only_after_stale_after(personas):
    queued_at = timezone.now()
    job = ExportJob.objects.create(
        owner=personas["supervisor"], kind="statistics", params=MONTH, format="csv"
    )
    with time_machine.travel(queued_at + export_jobs.STALE_AFTER - timedelta(seconds=1), tick=False):
        assert export_jobs.exports_requeue_stale() == 0
    with time_machine.travel(queued_at + export_jobs.STALE_AFTER + timedelta(seconds=1), tick=False):
        assert export_jobs.exports_requeue_stale() == 1
    job.refresh_from_db()
    assert job.status == ExportStatus.QUEUED


def test_a_killed_worker_is_given_up_after_max_attempts(personas):
    job = running_job(
        personas["supervisor"],
        beat_at=timezone.now() - timedelta(minutes=5),
        attempts=export_jobs.MAX_ATTEMPTS,
    )
    assert export_jobs.exports_requeue_stale() == 0
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and job.message == export_jobs.FAILED_MESSAGE


def test_the_settings_requeue_a_silent_job_within_two_minutes():
    """Worst case: killed just after a beat, the sweep runs just before the timeout passes, and finds it
    at its next run: timeout + sweep interval."""
    assert settings.EXPORT_HEARTBEAT_TIMEOUT_SECONDS + settings.EXPORT_SWEEP_SECONDS <= 120
    assert settings.EXPORT_HEARTBEAT_TIMEOUT_SECONDS >= 2 * settings.EXPORT_HEARTBEAT_SECONDS
    entry = settings.CELERY_BEAT_SCHEDULE["requeue-stale-exports"]
    assert entry == {"task": "jusou.tasks.requeue_stale_exports", "schedule": settings.EXPORT_SWEEP_SECONDS}


# --- A real worker, killed (the PostgreSQL + Redis pass of CI) ----------------------------------------


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Celery:
    """`celery -A jusou worker` / `beat` as separate processes on the test database, so that one can be
    killed as the OOM killer or a node failure would."""

    def __init__(self, tmp_path: Path, media: Path):
        self.tmp_path = tmp_path
        self.environment = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "MEDIA_ROOT": str(media),
            # Short, so that the test takes seconds; the defaults are checked above.
            "EXPORT_HEARTBEAT_SECONDS": "1",
            "EXPORT_HEARTBEAT_TIMEOUT_SECONDS": "4",
            "EXPORT_SWEEP_SECONDS": "1",
        }
        self.processes: list[subprocess.Popen] = []

    def start(self, *arguments, name) -> subprocess.Popen:
        command = [sys.executable, "-m", "celery", "-A", "jusou", *arguments, "--loglevel", "info"]
        log = (self.tmp_path / f"{name}.log").open("ab")
        process = subprocess.Popen(command, cwd=ROOT, env=self.environment, stdout=log, stderr=log)  # noqa: S603
        self.processes.append(process)
        return process

    def worker(self, name):
        return self.start(
            "worker",
            "--pool",
            "solo",
            "--hostname",
            f"{name}@%h",
            "--without-mingle",
            "--without-gossip",
            name=name,
        )

    def beat(self):
        return self.start("beat", "--schedule", str(self.tmp_path / "beat-schedule"), name="beat")

    def stop_all(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.tmp_path.glob("*.log"))
        )


def wait_for(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return None


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_killed_workers_export_completes_within_three_minutes_of_its_restart_once(
    personas, media, tmp_path
):
    if connection.vendor != "postgresql":
        pytest.skip("the worker processes share the test database: PostgreSQL (the CI pass with Redis)")
    import psycopg
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # no message of an earlier run in the queue
    supervisor = personas["supervisor"]
    celery = Celery(tmp_path, media)
    # Another session holds the consultations: the export's figures wait for it, mid-way, with the
    # job running and its heartbeat written — the moment to kill the worker.
    blocker = psycopg.connect(_database_url().replace("postgres://", "postgresql://"), autocommit=False)
    try:
        blocker.execute("LOCK TABLE cases_consultation IN ACCESS EXCLUSIVE MODE")
        first = celery.worker("first")
        celery.beat()
        job = export_jobs.export_request(acting_user=supervisor, kind="statistics", params=MONTH, fmt="csv")

        def heartbeat():
            return (
                ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING)
                .values_list("heartbeat_at", flat=True)
                .first()
            )

        beat = wait_for(heartbeat, 60)
        assert beat is not None, celery.logs()
        assert wait_for(lambda: (heartbeat() or beat) > beat, 10), (
            "the heartbeat moves while the export waits"
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        blocker.rollback()  # the lock goes; the killed worker's export is gone with it

        restarted = time.monotonic()
        celery.worker("second")
        done = wait_for(
            lambda: (
                ExportJob.objects.filter(pk=job.pk, status__in=[ExportStatus.DONE, ExportStatus.FAILED])
                .values_list("status", flat=True)
                .first()
            ),
            180,
        )
        took = time.monotonic() - restarted
        assert done == ExportStatus.DONE, celery.logs()
        assert took < 180
        time.sleep(4)  # a few more sweeps: nothing is sent or run again
        job.refresh_from_db()
        assert (job.status, job.progress, job.attempts) == (ExportStatus.DONE, 100, 2)
        assert export_files(media) == [f"{job.pk}.csv"]  # one file, no temporary left
        assert ReadLog.objects.filter(user=supervisor, action=ReadLog.Action.EXPORT).count() == 1
        print(f"killed worker's export done {took:.1f} s after the restart")
    finally:
        blocker.close()
        celery.stop_all()
