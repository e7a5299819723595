"""Load test on loopback (issue 9): 50 concurrent simulated staff doing a realistic mix for 2 minutes
against gunicorn, driven by wrk (Debian package `wrk`). Reports errors, p50/p95/p99, throughput, and the
largest RSS of a gunicorn worker process sampled every second.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jusou_gen .venv/bin/python bench/load.py [--seconds 120]

Only 127.0.0.1 is ever contacted; the run stops by itself (wrk -d, then gunicorn is terminated).
"""

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jusou.settings")
os.environ["TWO_FACTOR_REQUIRED"] = "false"  # sessions are made here; the second factor is not under test

import django

django.setup()

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from cases.selectors import cases_visible_to
from jusou.models import Role, StaffMembership, User

PORT = 8765


def session_for(user) -> str:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "jusou.staff.auth.StaffBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.set_expiry(3 * 3600)
    store.save()
    return store.session_key


def staff_mix(count, rng):
    """(cookie, path) pairs: mostly workers (case list, a visible case, search, dashboard), some
    coordinators (inbox), a supervisor (audit log)."""
    workers = list(
        User.objects.filter(is_active=True, memberships__role=Role.WORKER, memberships__ended_on__isnull=True)
        .distinct()
        .order_by("pk")[:count]
    )
    rng.shuffle(workers)
    coordinators = list(User.objects.filter(memberships__role=Role.COORDINATOR).distinct()[:3])
    supervisors = list(User.objects.filter(memberships__role=Role.SUPERVISOR).distinct()[:2])
    people = (workers[: count - 5] + coordinators + supervisors)[:count]
    pairs = []
    for user in people:
        cookie = session_for(user)
        roles = {m.role for m in StaffMembership.objects.active().filter(user=user)}
        paths = ["/"]
        if Role.WORKER in roles:
            cases = list(cases_visible_to(user).order_by("-opened_at").values_list("pk", flat=True)[:20])
            paths += ["/cases/", "/cases/?scope=agency&status=supporting", "/consultations/"]
            paths += [f"/cases/{pk}/" for pk in cases[:8]]
            paths += [f"/persons/search/?q={quote('やま')}&fragment=1"]
        if Role.COORDINATOR in roles:
            paths += ["/multi-agency/", "/support-meetings/", "/cases/?scope=all"]
        if Role.SUPERVISOR in roles:
            paths += ["/audit/access-log/", "/cases/?scope=all"]
        pairs += [(cookie, path) for path in paths]
    return pairs


LUA = """
local pairs_ = {%s}
local counter = 0
local errors = 0
request = function()
  counter = counter + 1
  local p = pairs_[math.random(#pairs_)]
  return wrk.format("GET", p[2], {["Cookie"] = "sessionid=" .. p[1], ["Host"] = "127.0.0.1"})
end
delay = function()
  return math.random(%d, %d)  -- think time between one person's pages, in ms (0: as fast as possible)
end
response = function(status, headers, body)
  if status >= 400 then errors = errors + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%%d duration_s=%%.1f rps=%%.1f p50_ms=%%.1f p95_ms=%%.1f p99_ms=%%.1f socket_errors=%%d non2xx=%%d\\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


def rss_sampler(master_pid, stop, peak):
    while not stop.is_set():
        try:
            children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
        except OSError:
            children = []
        for pid in children:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"VmRSS:\s+(\d+) kB", status)
            if match:
                peak[pid] = max(peak.get(pid, 0), int(match.group(1)) // 1024)
        time.sleep(1)


def print_slowest_pages(access_log: Path, skip: int) -> None:
    """Server time per page (ids folded: /cases/123/ → /cases/N/) from gunicorn's access log of the
    measured run, slowest p95 first: where the time under load goes."""
    by_page: dict[str, list[int]] = {}
    for line in access_log.read_text().splitlines()[skip:]:
        millis, _, path = line.partition(" ")
        if millis.isdigit():
            by_page.setdefault(re.sub(r"/\d+/", "/N/", path), []).append(int(millis))
    print(f"{'page':40} {'requests':>8} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
    for page, times in sorted(by_page.items(), key=lambda item: -percentile(item[1], 95))[:12]:
        print(
            f"{page:40} {len(times):8d} {percentile(times, 50):7d} {percentile(times, 95):7d} {max(times):7d}"
        )


def percentile(values, q):
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument(
        "--think-min-ms", type=int, default=2000, help="each simulated person waits between pages"
    )
    parser.add_argument("--think-max-ms", type=int, default=6000)
    parser.add_argument("--warmup", type=int, default=15, help="seconds of load before the measured run")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    rng = random.Random(1)
    pairs = staff_mix(args.connections, rng)
    lua = LUA % (",".join(f'{{"{c}","{p}"}}' for c, p in pairs), args.think_min_ms, args.think_max_ms)
    script = Path(tempfile.mkdtemp()) / "mix.lua"
    script.write_text(lua, encoding="utf-8")
    access_log = Path(tempfile.mkdtemp()) / "access.log"
    env = {**os.environ, "DEBUG": "true", "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING"}
    gunicorn = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "-c",
            "python:jusou.gunicorn",
            "jusou.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(args.workers),
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(M)s %(U)s",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(60):
            try:
                subprocess.run(
                    ["curl", "-sf", f"http://127.0.0.1:{PORT}/healthz"], check=True, capture_output=True
                )
                break
            except subprocess.CalledProcessError:
                time.sleep(0.5)
        stop, peak = threading.Event(), {}
        sampler = threading.Thread(target=rss_sampler, args=(gunicorn.pid, stop, peak), daemon=True)
        sampler.start()
        print(
            f"{len(pairs)} (session, page) pairs for {args.connections} staff, think time "
            f"{args.think_min_ms}–{args.think_max_ms} ms; {args.seconds} s, "
            f"{args.workers} gunicorn workers, DB {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}",
            flush=True,
        )
        if args.warmup:
            # Each worker process loads the URL configuration and compiles templates on its first
            # requests, and each thread opens its database connection: a server that has just
            # started, not the steady state of one serving a day's work. Not counted.
            subprocess.run(
                [
                    "wrk",
                    "-t2",
                    f"-c{args.connections}",
                    f"-d{args.warmup}s",
                    "-s",
                    str(script),
                    f"http://127.0.0.1:{PORT}/",
                ],
                capture_output=True,
                timeout=args.warmup + 60,
            )
        warmup_lines = len(access_log.read_text().splitlines()) if access_log.exists() else 0
        run = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.connections}",
                f"-d{args.seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                f"http://127.0.0.1:{PORT}/",
            ],
            capture_output=True,
            text=True,
            timeout=args.seconds + 60,
        )
        stop.set()
        print(run.stdout)
        print(f"peak RSS per gunicorn worker (MB): {sorted(peak.values(), reverse=True)}")
        print_slowest_pages(access_log, skip=warmup_lines)
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)


if __name__ == "__main__":
    main()
