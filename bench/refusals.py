"""Timing of refusals (issue 14, finding 13): an existing record outside the reader's basis must answer
like a missing one — same status, same body and, within noise, the same time.

    DATABASE_URL=… .venv/bin/python bench/refusals.py [--user outsider] [--requests 60]

On any database with data (the demo world of `loaddemo`, or a generated municipality), for each route
that fetches a child record by id it picks one existing id the user may not see and one id that does not
exist, and requests them alternately in-process (Django's test client, DEBUG off), after a warm-up.
It prints the median and the spread of each, and their difference; the unit suite asserts the same code
path (equal query counts, tests/test_access_decisions.py), this measures what a prober would see.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jusou.settings")

import django

django.setup()

from django.conf import settings
from django.db.models import Max
from django.test import Client
from django.urls import reverse


def routes(user):
    """(label, method, URL of a forbidden existing record, URL of a missing one, POST data)."""
    from cases.models import Case, HouseholdMember, ProgressNote
    from cases.selectors import cases_visible_to, households_visible_to
    from meetings.models import PlanTask

    def pair(model, visible, name, data=None):
        forbidden = model.objects.exclude(pk__in=visible).order_by("pk").values_list("pk", flat=True).first()
        if forbidden is None:
            return None
        missing = (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1000
        method = "post" if data is not None else "get"
        return (name, method, reverse(name, args=[forbidden]), reverse(name, args=[missing]), data or {})

    cases = cases_visible_to(user).values("pk")
    found = [
        pair(ProgressNote, ProgressNote.objects.filter(case__in=cases).values("pk"), "cases:note_correct"),
        pair(
            HouseholdMember,
            HouseholdMember.objects.filter(household__in=households_visible_to(user).values("pk")).values(
                "pk"
            ),
            "cases:household_member_leave",
            {"reason": "転出"},
        ),
        pair(
            PlanTask,
            PlanTask.objects.filter(plan__case__in=cases).values("pk"),
            "meetings:task_status",
            {"status": "done"},
        ),
        pair(Case, cases, "cases:case_detail"),
    ]
    return [route for route in found if route is not None]


def _main(content: bytes) -> bytes:
    """The page's <main> (the header carries a per-response CSRF token), or the whole body (the API)."""
    start, end = content.find(b"<main"), content.find(b"</main>")
    return content[start:end] if start >= 0 and end > start else content


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--user", default="outsider", help="the reader (username); default: the demo NPO worker"
    )
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]
    from jusou.models import User

    user = User.objects.get(username=args.user)
    client = Client()
    client.force_login(user)
    print(f"{'route':34} {'forbidden ms':>13} {'missing ms':>11} {'Δ ms':>7}  status  same body")
    for name, method, forbidden, missing, data in routes(user):
        send = getattr(client, method)
        for url in (forbidden, missing, forbidden, missing):  # warm-up
            send(url, data)
        times = {forbidden: [], missing: []}
        bodies = {}
        for i in range(args.requests):
            for url in (forbidden, missing) if i % 2 == 0 else (missing, forbidden):
                start = time.perf_counter()
                response = send(url, data)
                times[url].append((time.perf_counter() - start) * 1000)
                bodies[url] = (response.status_code, _main(response.content))
        f, m = statistics.median(times[forbidden]), statistics.median(times[missing])
        status = f"{bodies[forbidden][0]}/{bodies[missing][0]}"
        same = bodies[forbidden][1] == bodies[missing][1]
        print(f"{name:34} {f:13.2f} {m:11.2f} {f - m:7.2f}  {status:7} {same}")


if __name__ == "__main__":
    main()
