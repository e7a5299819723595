"""The plan and conference pages, as a coordinator and as the agencies in the plan use them."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from cases.models import CaseStatus
from cases.tests.conftest import fresh
from jusou.models import ReadLog
from meetings import services
from meetings.models import PlanConference, PlanStatus, SupportPlan


def plan_post(world, agency):
    data = {
        "person_wishes": "家で暮らしたい",
        "issues_summary": "介護と長男のひきこもり",
        "long_term_goal": "世帯の安定",
        "goals": "通院を再開する\n長男が相談窓口につながる",
        "review_on": (timezone.localdate() + timedelta(days=90)).isoformat(),
        "tasks-TOTAL_FORMS": "3",
        "tasks-INITIAL_FORMS": "0",
        "tasks-MIN_NUM_FORMS": "1",
        "tasks-MAX_NUM_FORMS": "1000",
        "tasks-0-agency": agency.pk,
        "tasks-0-role": "障害福祉サービスの調整",
        "tasks-0-content": "長男の面談",
    }
    return data


def test_coordinator_writes_a_plan_in_the_browser(client, coordinating):
    other = fresh(coordinating.other_worker).agencies[0]
    client.force_login(coordinating.coordinator)
    url = reverse("meetings:plan_new", args=[coordinating.case.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {**plan_post(coordinating, other), "tasks-0-role": "", "goals": ""})
    assert "この項目は必須です。" in bad.content.decode()
    response = client.post(url, plan_post(coordinating, other))
    plan = SupportPlan.objects.get(case=coordinating.case)
    assert response.url == reverse("meetings:plan_detail", args=[plan.pk])
    assert [g.text for g in plan.goals.all()] == ["通院を再開する", "長男が相談窓口につながる"]
    html = client.get(response.url).content.decode()
    assert "障害福祉サービスの調整" in html and "作成中" in html


def test_the_plan_page_follows_the_case_access_and_printing_is_logged(client, coordinating):
    other = fresh(coordinating.other_worker).agencies[0]
    client.force_login(coordinating.coordinator)
    client.post(reverse("meetings:plan_new", args=[coordinating.case.pk]), plan_post(coordinating, other))
    plan = SupportPlan.objects.get(case=coordinating.case)
    url = reverse("meetings:plan_detail", args=[plan.pk])
    assert client.get(url + "?print=1").status_code == 200
    assert ReadLog.objects.filter(user=coordinating.coordinator, action="print", object_id=plan.pk).exists()
    for persona, status in (("assigned", 200), ("supervisor", 200), ("outsider", 404), ("other_worker", 404)):
        client.force_login(coordinating.persona(persona))
        assert client.get(url).status_code == status, persona


def test_conference_approves_evaluates_and_closes_in_the_browser(client, coordinating):
    w = coordinating
    coord = fresh(w.coordinator)
    other = fresh(w.other_worker).agencies[0]
    client.force_login(w.coordinator)
    client.post(reverse("meetings:plan_new", args=[w.case.pk]), plan_post(w, other))
    plan = SupportPlan.objects.get(case=w.case)
    client.post(
        reverse("meetings:conference_list"),
        {
            "held_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "title": "第1回 重層的支援会議",
            "agencies": [other.pk],
        },
    )
    conference = PlanConference.objects.get()
    decision_url = reverse("meetings:conference_plan_decision", args=[conference.pk, plan.pk])
    refused = client.post(
        decision_url, {f"p{plan.pk}-plan": plan.pk, f"p{plan.pk}-decision": "approve"}, follow=True
    )
    assert "支援決定がないため" in refused.content.decode()
    services.support_decision_record(case=w.case, acting_user=coord, decided_on=timezone.localdate())
    services.consent_record(
        case=w.case,
        person=w.person,
        acting_user=coord,
        consenting_party="self",
        consented_on=timezone.localdate(),
        method="written",
        recipients=[other],
        categories=["basic", "plan"],
        purpose="協議",
    )
    client.post(
        decision_url,
        {f"p{plan.pk}-plan": plan.pk, f"p{plan.pk}-decision": "approve", f"p{plan.pk}-notes": "適切"},
    )
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED

    # The agency in the plan now reads the case and updates its own task.
    client.force_login(w.other_worker)
    assert client.get(w.case.get_absolute_url()).status_code == 200
    task = plan.tasks.get()
    client.post(reverse("meetings:task_status", args=[task.pk]), {"status": "in_progress"})
    task.refresh_from_db()
    assert task.status == "in_progress"

    client.force_login(w.coordinator)
    goal_fields = {f"e{plan.pk}-goal_{g.pk}": "achieved" for g in plan.goals.all()}
    from cases.tests.conftest import code

    client.post(
        reverse("meetings:conference_evaluation", args=[conference.pk, plan.pk]),
        {
            f"e{plan.pk}-plan": plan.pk,
            f"e{plan.pk}-person_change": "通院が再開した",
            f"e{plan.pk}-next_step": "close",
            f"e{plan.pk}-close_reason": code("close_reason", "goal_achieved").pk,
            **goal_fields,
        },
    )
    w.case.refresh_from_db()
    assert w.case.status == CaseStatus.CLOSED
    html = client.get(reverse("meetings:plan_detail", args=[plan.pk])).content.decode()
    assert "今後の方針: <strong>終結</strong>" in html and "達成" in html
    client.force_login(w.other_worker)
    assert client.get(w.case.get_absolute_url()).status_code == 404


def test_conference_pages_are_for_coordinators(client, coordinating):
    client.force_login(coordinating.assigned)
    assert client.get(reverse("meetings:conference_list")).status_code == 403


def test_plan_page_queries_do_not_grow_with_goals_tasks_or_versions(
    client, coordinating, django_assert_max_num_queries
):
    other = fresh(coordinating.other_worker).agencies[0]
    client.force_login(coordinating.coordinator)
    data = plan_post(coordinating, other)
    data.update(
        {
            "goals": "\n".join(f"目標{i}" for i in range(8)),
            "tasks-1-agency": other.pk,
            "tasks-1-role": "追加",
            "tasks-1-content": "追加の内容",
            "tasks-2-agency": other.pk,
            "tasks-2-role": "追加2",
            "tasks-2-content": "追加の内容2",
        }
    )
    client.post(reverse("meetings:plan_new", args=[coordinating.case.pk]), data)
    plan = SupportPlan.objects.get(case=coordinating.case)
    # 18 before issue 17; +4 constant: whom it concerns (members, 続柄) and, for a draft the coordinator may
    # change, what approval will check (the right to change, the members' consents); +1: the 役割分担
    # forms' versions, one query for all tasks (jusou.versions.attach)
    with django_assert_max_num_queries(23):
        assert client.get(reverse("meetings:plan_detail", args=[plan.pk])).status_code == 200


def test_conference_record_print_is_logged(client, coordinating):
    client.force_login(coordinating.coordinator)
    conference = services.conference_create(
        acting_user=fresh(coordinating.coordinator), held_at=timezone.now()
    )
    client.get(reverse("meetings:conference_detail", args=[conference.pk]) + "?print=1")
    assert ReadLog.objects.filter(
        action="print", object_id=conference.pk, detail__startswith="重層的支援会議"
    ).exists()
