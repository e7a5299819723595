"""Benchmark of the pages and API that matter, on a generated municipality (issue 9).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jusou_gen .venv/bin/python bench/run.py [--requests 50]

For each scenario it makes the request in-process (Django's test client: server time without the network),
--requests times after a warm-up, and reports p50/p95 server time, the SQL query count, the total SQL time
of one request, the "floor" (the time PostgreSQL needs for the same rows with one hand-written query) and
the ratio SQL time ÷ floor. It also times the visible-case selector against guardian's get_objects_for_user
over guardian's generic permission tables (as most Django projects use it), filled with the same grants,
for the first 50 cases by date and the COUNT of all. Output: a table, and JSON (--json FILE).

The fixtures (bench_worker, bench_coordinator, bench_supervisor, the case with the most notes, the 支援会議
with the most agenda cases …) are found by query, so any generated municipality works.
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import quote

if __name__ == "__main__":  # imported by bench/paired.py, which puts the tree to measure on the path itself
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jusou.settings")

import django

django.setup()

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone


def percentile(values, q):
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def timed_sql(sql, params, runs):
    """Median wall time of a hand-written query, fetching every row (the floor)."""
    times = []
    with connection.cursor() as cursor:
        for _ in range(runs):
            start = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


class SqlTimer:
    """Sums the time of a request's queries to the microsecond (Django's own query log rounds each
    query to the millisecond, too coarse beside floors under a millisecond)."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start


class Bench:
    def __init__(self, requests):
        self.requests = requests
        self.rows = []

    def page(self, name, client, method, path, *, data=None, floor=None, headers=None, expect=(200,)):
        """Time a request `self.requests` times (after 3 warm-ups); `data` may be a callable giving fresh
        POST data each time (so that each submit creates a new record)."""

        def call():
            payload = data() if callable(data) else data
            if method == "GET":
                return client.get(path, headers=headers or {})
            return client.post(path, payload, headers=headers or {})

        for _ in range(3):
            response = call()
            if response.status_code not in expect:
                raise SystemExit(f"{name}: {path} answered {response.status_code}")
        times, sql_times, counts = [], [], []
        for _ in range(self.requests):
            sql = SqlTimer()
            with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(sql):
                start = time.perf_counter()
                response = call()
                times.append(time.perf_counter() - start)
            assert response.status_code in expect, (name, response.status_code)
            counts.append(len(queries))  # as the tests count them (COMMIT included)
            sql_times.append(sql.seconds)
        floor_time = timed_sql(*floor, runs=max(5, self.requests // 5)) if floor else None
        sql_time = statistics.median(sql_times)
        self.rows.append(
            {
                "scenario": name,
                "p50_ms": 1000 * percentile(times, 50),
                "p95_ms": 1000 * percentile(times, 95),
                "queries": max(counts),
                "queries_min": min(counts),
                "sql_ms": 1000 * sql_time,
                "floor_ms": 1000 * floor_time if floor_time else None,
                "sql_to_floor": (sql_time / floor_time) if floor_time else None,
            }
        )
        print(f"  {name}: p95 {self.rows[-1]['p95_ms']:.1f} ms, {max(counts)} queries", flush=True)


def visible_ids_sql(user, model_table="cases_case"):
    """Hand-written: the ids of rows the user holds a valid view grant on (personal or agency-wide)."""
    from django.contrib.contenttypes.models import ContentType

    from cases.models import Case

    content_type = ContentType.objects.get_for_model(Case)
    sql = (
        "ARRAY(SELECT g.object_id FROM jusou_accessgrant g WHERE g.content_type_id = %s AND g.permission = 'view'"
        " AND g.revoked_at IS NULL AND g.starts_at <= now() AND (g.ends_at IS NULL OR g.ends_at > now())"
        " AND (g.user_id = %s OR g.agency_id = ANY(%s)))"
    )
    return sql, [content_type.pk, user.pk, [a.pk for a in user.agencies]]


CASE_ROW = (
    "SELECT c.id, c.status, c.opened_at, c.next_follow_up_on, p.name, p.kana, a.name, u.last_name, u.first_name"
    " FROM cases_case c JOIN cases_person p ON p.id = c.person_id JOIN jusou_agency a ON a.id = c.owning_agency_id"
    " LEFT JOIN jusou_user u ON u.id = c.lead_worker_id"
)


def login(user) -> Client:
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def token_client(user) -> Client:
    from jusou.api.auth import token_issue

    _, token = token_issue(user=user, days=1)
    client = Client(HTTP_HOST="127.0.0.1")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def selector_vs_guardian(user, runs):
    """Our selector (grants + direct FK tables) against guardian's get_objects_for_user on its generic
    tables, filled with the same grants: the first 50 by date, and the COUNT of all."""
    from django.contrib.contenttypes.models import ContentType
    from guardian import shortcuts, utils
    from guardian.models import GroupObjectPermission, UserObjectPermission

    from cases.models import Case, CaseGroupObjectPermission, CaseUserObjectPermission
    from cases.selectors import cases_visible_to

    content_type = ContentType.objects.get_for_model(Case)
    if not UserObjectPermission.objects.filter(content_type=content_type).exists():
        print("  copying the case grants into guardian's generic tables for the baseline …", flush=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO guardian_userobjectpermission (permission_id, content_type_id, object_pk, user_id) "
                f"SELECT permission_id, %s, content_object_id::text, user_id FROM {CaseUserObjectPermission._meta.db_table}",
                [content_type.pk],
            )
            cursor.execute(
                "INSERT INTO guardian_groupobjectpermission (permission_id, content_type_id, object_pk, group_id) "
                f"SELECT permission_id, %s, content_object_id::text, group_id FROM {CaseGroupObjectPermission._meta.db_table}",
                [content_type.pk],
            )
            cursor.execute("ANALYZE guardian_userobjectpermission; ANALYZE guardian_groupobjectpermission")

    def generic(queryset_call):
        # guardian picks a model's direct FK tables when it has them; the baseline is the generic ones.
        originals = (utils.get_user_obj_perms_model, utils.get_group_obj_perms_model)
        shortcuts.get_user_obj_perms_model = lambda obj=None: UserObjectPermission
        shortcuts.get_group_obj_perms_model = lambda obj=None: GroupObjectPermission
        try:
            return queryset_call()
        finally:
            shortcuts.get_user_obj_perms_model, shortcuts.get_group_obj_perms_model = originals

    def guardian_qs():
        return shortcuts.get_objects_for_user(
            user, "cases.view_case", Case.objects.all(), accept_global_perms=False
        )

    def median_ms(call):
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        return 1000 * statistics.median(times)

    ours_first = median_ms(lambda: list(cases_visible_to(user).order_by("-opened_at", "-pk")[:50]))
    ours_count = median_ms(lambda: cases_visible_to(user).count())
    # The same query's SQL alone, as the floor is timed (no query building, no model instances).
    ours_sql = 1000 * timed_sql(
        *cases_visible_to(user).order_by("-opened_at", "-pk")[:50].query.sql_with_params(), runs
    )
    base_first = median_ms(lambda: generic(lambda: list(guardian_qs().order_by("-opened_at", "-pk")[:50])))
    base_count = median_ms(lambda: generic(lambda: guardian_qs().count()))
    same = generic(lambda: guardian_qs().count()) == cases_visible_to(user).count()
    agencies = [a.pk for a in user.agencies]
    floor_first = 1000 * timed_sql(
        "SELECT c.* FROM cases_case c WHERE c.id = ANY(ARRAY("
        " SELECT g.object_id FROM jusou_accessgrant g WHERE g.content_type_id = %s AND g.permission = 'view'"
        " AND g.revoked_at IS NULL AND g.starts_at <= now() AND (g.ends_at IS NULL OR g.ends_at > now())"
        " AND (g.user_id = %s OR g.agency_id = ANY(%s)))) ORDER BY c.opened_at DESC, c.id DESC LIMIT 50",
        [content_type.pk, user.pk, agencies],
        runs,
    )
    floor_count = 1000 * timed_sql(
        "SELECT count(*) FROM cases_case c WHERE c.id = ANY(ARRAY("
        " SELECT g.object_id FROM jusou_accessgrant g WHERE g.content_type_id = %s AND g.permission = 'view'"
        " AND g.revoked_at IS NULL AND g.starts_at <= now() AND (g.ends_at IS NULL OR g.ends_at > now())"
        " AND (g.user_id = %s OR g.agency_id = ANY(%s))))",
        [content_type.pk, user.pk, agencies],
        runs,
    )
    return {
        "visible_cases": cases_visible_to(user).count(),
        "same_set_as_guardian": same,
        "ours_first50_ms": ours_first,
        "ours_count_ms": ours_count,
        "guardian_first50_ms": base_first,
        "guardian_count_ms": base_count,
        "floor_first50_ms": floor_first,
        "floor_count_ms": floor_count,
        "ours_first50_sql_only_ms": ours_sql,
        "first50_to_floor": ours_first / floor_first,
        "first50_sql_only_to_floor": ours_sql / floor_first,
        "count_speedup_vs_guardian": base_count / ours_count,
    }


def configure():
    """Settings as a server would run them, and the server's entry point imported (shared with paired.py)."""
    # Not setup_test_environment(): its template instrumentation keeps every rendered context alive,
    # which grows the heap by ~5,000 objects a request and makes the collector's full passes ever
    # slower — a cost no server has. The client sends a host the settings allow instead.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    import jusou.wsgi  # noqa: F401  (the server's entry point: loads the apps and freezes them as gunicorn does)

    settings.TWO_FACTOR_REQUIRED = False  # the pages are timed, not the second factor
    settings.API_RATE_LIMIT = "1000000/minute"
    settings.AUDIT_AFTER_HOURS = None  # no unusual-access notifications from the benchmark's own reads


def scenarios():
    """The timed requests: (name, client, method, path, floor, data, expect); the client is None where the
    municipality has no machine client. Found by query, so any generated municipality works."""
    from cases.models import Case, Code, CodeKind, Person
    from cases.selectors import cases_visible_to
    from jusou.models import ApiClient, ReadLog, User
    from meetings.models import SupportMeeting, SupportPlan

    worker = User.objects.get(username="bench_worker")
    coordinator = User.objects.get(username="bench_coordinator")
    supervisor = User.objects.get(username="bench_supervisor")
    machine = ApiClient.objects.filter(is_active=True).select_related("user").first()
    big_case = Case.objects.annotate(n=Count("notes")).order_by("-n").first()
    plan = (
        SupportPlan.objects.filter(case=big_case).order_by("-version").first() or SupportPlan.objects.last()
    )
    meeting = SupportMeeting.objects.annotate(n=Count("briefings")).order_by("-n").first()
    today = timezone.localdate()
    month = today.replace(day=1)
    fiscal = today.year if today.month >= 4 else today.year - 1
    common = Case.objects.filter(owning_agency__in=worker.agencies).values("issues").annotate(n=Count("pk"))
    issue = common.order_by("-n").values_list("issues", flat=True).first()
    person = Person.objects.filter(cases__owning_agency__in=worker.agencies).first()
    kana = (person.kana_search or person.name_search)[:2]

    ids_sql, ids_params = visible_ids_sql(worker)
    agencies = [a.pk for a in worker.agencies]
    floors = {
        "status": (
            f"{CASE_ROW} WHERE c.id = ANY({ids_sql}) AND c.owning_agency_id = ANY(%s) AND c.status = 'supporting'"
            " AND EXISTS (SELECT 1 FROM cases_case_issues ci WHERE ci.case_id = c.id AND ci.code_id = %s)"
            " ORDER BY c.opened_at DESC, c.id DESC LIMIT 50",
            [*ids_params, agencies, issue],
        ),
        "kana": (
            f"{CASE_ROW} WHERE c.id = ANY({ids_sql}) AND c.owning_agency_id = ANY(%s)"
            " AND (p.name_search LIKE %s OR p.kana_search LIKE %s) ORDER BY c.opened_at DESC, c.id DESC LIMIT 50",
            [*ids_params, agencies, f"%{kana}%", f"%{kana}%"],
        ),
        "api": (
            f"{CASE_ROW} WHERE c.id = ANY({ids_sql}) ORDER BY c.opened_at DESC, c.id DESC LIMIT 101",
            ids_params,
        ),
        "inbox": (
            f"{CASE_ROW} WHERE c.id = ANY({visible_ids_sql(coordinator)[0]}) AND c.status = 'referred'"
            " ORDER BY c.opened_at, c.id",
            visible_ids_sql(coordinator)[1],
        ),
        "log": (
            "SELECT r.* FROM jusou_readlog r JOIN jusou_user u ON u.id = r.user_id WHERE u.username = %s"
            " AND r.at >= %s AND r.at < %s ORDER BY r.at DESC, r.id DESC LIMIT 50",
            [
                worker.username,
                timezone.make_aware(timezone.datetime(month.year, month.month, 1)),
                timezone.make_aware(
                    timezone.datetime(month.year + (month.month == 12), month.month % 12 + 1, 1)
                ),
            ],
        ),
        "history": (
            "SELECT h.*, u.username FROM cases_historicalcase h LEFT JOIN jusou_user u ON u.id = h.history_user_id"
            " WHERE h.id = %s ORDER BY h.history_date DESC, h.history_id DESC LIMIT 50",
            [big_case.pk],
        ),
    }
    w, c, s = login(worker), login(coordinator), login(supervisor)
    pages = [
        (
            "case list (worker, status+issue)",
            w,
            "GET",
            f"/cases/?scope=agency&status=supporting&issue={issue}",
            floors["status"],
        ),
        ("case list (worker, kana search)", w, "GET", f"/cases/?scope=agency&q={kana}", floors["kana"]),
        (
            "case detail (6 members, 200 notes, 3 plans)",
            w if cases_visible_to(worker).filter(pk=big_case.pk).exists() else s,
            "GET",
            f"/cases/{big_case.pk}/",
            None,
        ),
        ("inbox (coordinator)", c, "GET", "/multi-agency/", floors["inbox"]),
        ("plan page (coordinator)", c, "GET", f"/multi-agency/plans/{plan.pk}/", None),
        ("support meeting page (10 agenda cases)", c, "GET", f"/support-meetings/{meeting.pk}/", None),
        (
            "API case list, staff token (100)",
            token_client(worker),
            "GET",
            "/api/v1/cases/?page_size=100",
            floors["api"],
        ),
        (
            "API case list, machine client (100)",
            token_client(machine.user) if machine else None,
            "GET",
            "/api/v1/cases/?page_size=100",
            None,
        ),
        (
            "history of one case (supervisor)",
            s,
            "GET",
            f"/audit/history/cases.case/{big_case.pk}/",
            floors["history"],
        ),
        (
            "access log, user+month (supervisor)",
            s,
            "GET",
            f"/audit/access-log/?user={worker.username}&month={month:%Y-%m}",
            floors["log"],
        ),
        # The rest of the load test's mix (bench/load.py), timed one by one.
        ("dashboard (worker)", w, "GET", "/", None),
        ("dashboard (coordinator)", c, "GET", "/", None),
        ("dashboard (supervisor)", s, "GET", "/", None),
        ("case list, every visible case (coordinator)", c, "GET", "/cases/?scope=all", None),
        ("case list, every case (supervisor)", s, "GET", "/cases/?scope=all", None),
        ("consultation list (worker)", w, "GET", "/consultations/", None),
        (
            "person search as you type (worker)",
            w,
            "GET",
            f"/persons/search/?q={quote(kana)}&fragment=1",
            None,
        ),
        ("support meeting list (coordinator)", c, "GET", "/support-meetings/", None),
        ("statistics, month (supervisor)", s, "GET", f"/statistics/?period=month&month={month:%Y-%m}", None),
        ("statistics, 年度 (supervisor)", s, "GET", f"/statistics/?period=fiscal&fiscal_year={fiscal}", None),
    ]
    print(
        f"municipality: {Case.objects.count():,} cases, {Person.objects.count():,} people, "
        f"{ReadLog.objects.count():,} read-log rows; worker {worker.username} at "
        f"{', '.join(a.name for a in worker.agencies)}",
        flush=True,
    )
    result = [
        (name, client, method, path, floor, None, (200,)) for name, client, method, path, floor in pages
    ]

    channel = Code.objects.filter(kind=CodeKind.CHANNEL, is_active=True).first()
    route = Code.objects.filter(kind=CodeKind.ROUTE, is_active=True).first()
    issue_code = Code.objects.filter(kind=CodeKind.ISSUE, is_active=True).first()
    intake = lambda: {  # noqa: E731  (fresh data each time, so that each submit creates a new record)
        "person_choice": str(person.pk),
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "channel": channel.pk,
        "route": route.pk,
        "issues": [issue_code.pk],
        "main_issue": issue_code.pk,
        "urgency": "normal",
        "summary": "ベンチマークの相談",
        "outcome": "advice",
        "sex": "unknown",
        "birth_date_precision": "exact",
        "relationship": "本人",
    }
    result.append(("intake submit (existing person)", w, "POST", "/consultations/new/", None, intake, (302,)))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--json", default="")
    parser.add_argument("--only", default="", help="run only scenarios whose name contains this")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("warning: the targets are for PostgreSQL; this run uses", connection.vendor, file=sys.stderr)
    configure()
    from jusou.models import User

    worker = User.objects.get(username="bench_worker")
    bench = Bench(args.requests)
    for name, client, method, path, floor, data, expect in scenarios():
        if args.only and args.only not in name:
            continue
        if client is None:
            print(f"  {name}: skipped (no machine client)")
            continue
        bench.page(name, client, method, path, data=data, floor=floor, expect=expect)

    selector = selector_vs_guardian(worker, runs=max(10, args.requests // 2))
    print()
    print(
        f"{'scenario':45} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'SQL ms':>8} {'floor ms':>9} {'SQL/floor':>9}"
    )
    for row in bench.rows:
        floor = (
            f"{row['floor_ms']:9.2f} {row['sql_to_floor']:9.1f}" if row["floor_ms"] else f"{'—':>9} {'—':>9}"
        )
        print(
            f"{row['scenario']:45} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} {row['queries']:8d} {row['sql_ms']:8.1f} {floor}"
        )
    print()
    print("visible-case selector vs guardian's generic tables:")
    for key, value in selector.items():
        print(f"  {key}: {value:.2f}" if isinstance(value, float) else f"  {key}: {value}")
    result = {
        "date": date.today().isoformat(),
        "vendor": connection.vendor,
        "requests": args.requests,
        "scenarios": bench.rows,
        "selector": selector,
    }
    print(json.dumps(result, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
