"""Forms keep work (issue 17) for the plan's records: a 役割分担 status or a new plan version saved from
a page older than someone else's change is refused, with the input kept and their change shown."""

import re
from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jusou.versions import STALE
from meetings import services
from meetings.models import SupportPlan
from meetings.tests.conftest import approved, coordinating, referred, world  # noqa: F401


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_stale_task_status_is_refused_with_the_choice_kept_and_the_other_change_shown(approved):  # noqa: F811
    w = approved
    w.plan.refresh_from_db()
    task = w.plan.tasks.get(agency=w.next_agency)
    page = _client(w.other_worker).get(reverse("meetings:plan_detail", args=[w.plan.pk])).content.decode()
    form = page[page.index(reverse("meetings:task_status", args=[task.pk])) :]
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    services.task_update_status(task=task, acting_user=w.coord, status="in_progress")

    refused = _client(w.other_worker).post(
        reverse("meetings:task_status", args=[task.pk]), {"status": "done", "version": version}
    )

    assert refused.status_code == 409
    body = refused.content.decode()
    assert STALE in body
    assert re.search(r'<option value="done" selected>', body)  # my choice, kept
    notice = body[body.index("ほかの人が先に変更した内容") :]
    assert "状況" in notice and "実施中" in notice
    task.refresh_from_db()
    assert task.status == "in_progress"
    # from the refused page (its version moved on) it goes through
    again = re.search(r'name="version" value="(\d+)"', body).group(1)
    ok = _client(w.other_worker).post(
        reverse("meetings:task_status", args=[task.pk]), {"status": "done", "version": again}
    )
    assert ok.status_code == 302
    task.refresh_from_db()
    assert task.status == "done"


def test_the_task_version_is_the_apis_etag(approved):  # noqa: F811
    from jusou.versions import version_of
    from meetings.api.plans import _task_etags

    task = approved.plan.tasks.first()
    _task_etags([task])
    assert task.etag == f'"h{version_of(task)}"'


def test_a_plan_written_from_a_stale_page_does_not_silently_become_the_next_version(coordinating):  # noqa: F811
    w = coordinating
    url = reverse("meetings:plan_new", args=[w.case.pk])
    page = _client(w.coordinator).get(url).content.decode()
    assert 'name="based_on" value="0"' in page
    today = timezone.localdate()
    data = {
        "person_wishes": "家で暮らしたい",
        "issues_summary": "私の整理",
        "long_term_goal": "安定",
        "goals": "相談につながる",
        "review_on": (today + timedelta(days=60)).isoformat(),
        "based_on": "0",
        "tasks-TOTAL_FORMS": "1",
        "tasks-INITIAL_FORMS": "0",
        "tasks-MIN_NUM_FORMS": "1",
        "tasks-MAX_NUM_FORMS": "1000",
        "tasks-0-agency": w.assigned.agencies[0].pk,
        "tasks-0-role": "調整",
        "tasks-0-content": "面談",
    }
    other = services.plan_create(
        case=w.case,
        acting_user=w.coordinator,
        goals=["別の目標"],
        tasks=[{"agency": w.assigned.agencies[0], "role": "r", "content": "c"}],
        person_wishes="別の意向",
        issues_summary="同僚の整理",
        long_term_goal="x",
        review_on=today + timedelta(days=30),
    )
    SupportPlan.objects.filter(pk=other.pk).update(
        status="approved"
    )  # no draft in the way: only the 版 differs

    refused = _client(w.coordinator).post(url, data)

    assert refused.status_code == 409
    body = refused.content.decode()
    assert "ほかの人が先に第1版を作成しました" in body and "私の整理" in body
    assert "同僚の整理" in body[body.index("ほかの人が先に変更した内容") :].split("<form")[0]
    assert SupportPlan.objects.filter(case=w.case).count() == 1
