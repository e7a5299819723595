"""支援プラン and the 重層的支援会議: approval preconditions, consent-scoped access, evaluation."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.models import CaseStatus, CodeKind
from cases.services import case_transition
from cases.tests.conftest import code, fresh
from jusou.models import Notification
from meetings import services
from meetings.models import GoalResult, NextStep, PlanStatus


@pytest.fixture
def planned(coordinating):
    """A case in 多機関協働 with a draft plan giving a task to another agency, and a conference."""
    w = coordinating
    w.coord = fresh(w.coordinator)
    w.other_agency = fresh(w.other_worker).agencies[0]
    w.own_agency = fresh(w.assigned).agencies[0]
    w.plan = services.plan_create(
        case=w.case,
        acting_user=w.coord,
        goals=["通院を再開する", "長男が相談窓口につながる"],
        tasks=[
            {
                "agency": w.other_agency,
                "role": "障害福祉サービスの調整",
                "content": "長男の面談",
                "frequency": "月1回",
            },
            {"agency": w.own_agency, "role": "母の介護サービス調整", "content": "ケアプランの見直し"},
        ],
        person_wishes="家で暮らしたい",
        issues_summary="介護と長男のひきこもり",
        long_term_goal="世帯が安定して暮らせる",
        review_on=timezone.localdate() + timedelta(days=90),
    )
    w.conference = services.conference_create(acting_user=w.coord, held_at=timezone.now())
    return w


def give_consent(w, agencies, person=None, **extra):
    return services.consent_record(
        case=w.case,
        person=person or w.person,
        acting_user=w.coord,
        consenting_party="self",
        consented_on=timezone.localdate(),
        method="written",
        recipients=agencies,
        categories=["basic", "plan"],
        purpose="支援プランの協議と実施",
        **extra,
    )


def decide(w):
    services.support_decision_record(case=w.case, acting_user=w.coord, decided_on=timezone.localdate())


def approve(w):
    return services.plan_approve(conference=w.conference, plan=w.plan, acting_user=w.coord)


def test_refused_without_support_decision(planned):
    give_consent(planned, [planned.other_agency, planned.own_agency])
    with pytest.raises(ValidationError, match="支援決定がないため"):
        approve(planned)


def test_refused_without_consent(planned):
    decide(planned)
    with pytest.raises(ValidationError, match="本人同意がないため"):
        approve(planned)


def test_refused_when_consent_does_not_cover_an_agency_in_the_plan(planned):
    decide(planned)
    give_consent(planned, [planned.own_agency])
    with pytest.raises(ValidationError, match="みどり障害者相談支援センター"):
        approve(planned)
    planned.plan.refresh_from_db()
    assert planned.plan.status == PlanStatus.DRAFT


def test_refused_when_only_a_household_members_consent_covers_it(planned):
    decide(planned)
    give_consent(planned, [planned.other_agency, planned.own_agency], person=planned.son)
    with pytest.raises(ValidationError, match="本人同意がないため"):
        approve(planned)


def test_approved_when_all_hold_and_plan_agencies_then_see_the_case(client, planned):
    decide(planned)
    give_consent(planned, [planned.other_agency, planned.own_agency])
    client.force_login(planned.other_worker)
    assert client.get(planned.case.get_absolute_url()).status_code == 404
    item = approve(planned)
    planned.plan.refresh_from_db()
    assert planned.plan.status == PlanStatus.APPROVED and item.outcome == "approved"
    assert client.get(planned.case.get_absolute_url()).status_code == 200
    client.force_login(planned.outsider)
    assert client.get(planned.case.get_absolute_url()).status_code == 404


def test_consent_withdrawal_after_approval_ends_the_plan_agencys_access(client, planned):
    decide(planned)
    consent = give_consent(planned, [planned.other_agency, planned.own_agency])
    approve(planned)
    client.force_login(planned.other_worker)
    assert client.get(planned.case.get_absolute_url()).status_code == 200
    services.consent_withdraw(consent=consent, acting_user=planned.coord, method="oral", note="撤回の申し出")
    assert client.get(planned.case.get_absolute_url()).status_code == 404


def test_send_back_needs_a_reason_and_marks_the_plan(planned):
    with pytest.raises(ValidationError):
        services.plan_send_back(
            conference=planned.conference, plan=planned.plan, acting_user=planned.coord, notes=" "
        )
    services.plan_send_back(
        conference=planned.conference,
        plan=planned.plan,
        acting_user=planned.coord,
        notes="目標が具体的でない",
    )
    planned.plan.refresh_from_db()
    assert planned.plan.status == PlanStatus.SENT_BACK


def approved(w):
    decide(w)
    give_consent(w, [w.other_agency, w.own_agency])
    approve(w)
    w.plan.refresh_from_db()
    return w


def results(plan, result=GoalResult.ACHIEVED):
    return {g.pk: (result, "") for g in plan.goals.all()}


def test_closing_a_case_with_an_approved_plan_needs_an_evaluation(planned):
    w = approved(planned)
    with pytest.raises(ValidationError, match="重層的支援会議で評価してから"):
        case_transition(
            case=w.case,
            to_status=CaseStatus.CLOSED,
            acting_user=w.coord,
            close_reason=code(CodeKind.CLOSE_REASON, "goal_achieved"),
        )


def test_evaluation_goal_by_goal_then_closure_ends_access(client, planned):
    w = approved(planned)
    with pytest.raises(ValidationError, match="すべての短期目標"):
        services.plan_evaluate(
            conference=w.conference,
            plan=w.plan,
            acting_user=w.coord,
            goal_results={},
            person_change="",
            next_step=NextStep.CLOSE,
        )
    evaluation = services.plan_evaluate(
        conference=w.conference,
        plan=w.plan,
        acting_user=w.coord,
        goal_results=results(w.plan),
        person_change="通院が再開した",
        next_step=NextStep.CLOSE,
        close_reason=code(CodeKind.CLOSE_REASON, "goal_achieved"),
    )
    assert {r.result for r in evaluation.goal_results.all()} == {GoalResult.ACHIEVED}
    w.case.refresh_from_db()
    w.plan.refresh_from_db()
    assert w.case.status == CaseStatus.CLOSED and w.plan.status == PlanStatus.ENDED
    client.force_login(w.other_worker)
    assert client.get(w.case.get_absolute_url()).status_code == 404


def test_revision_keeps_the_approved_version_until_the_new_one_is_approved(planned):
    w = approved(planned)
    services.plan_evaluate(
        conference=w.conference,
        plan=w.plan,
        acting_user=w.coord,
        goal_results=results(w.plan, GoalResult.PARTLY),
        person_change="一部前進",
        next_step=NextStep.REVISE,
    )
    second = services.plan_create(
        case=w.case,
        acting_user=w.coord,
        goals=["就労体験に参加する"],
        tasks=[{"agency": w.other_agency, "role": "就労体験先の調整", "content": "見学同行"}],
        person_wishes="働きたい",
        issues_summary="就労",
        long_term_goal="自立",
        review_on=timezone.localdate() + timedelta(days=60),
    )
    services.plan_approve(conference=w.conference, plan=second, acting_user=w.coord)
    w.plan.refresh_from_db()
    assert (w.plan.status, second.version) == (PlanStatus.SUPERSEDED, 2)
    assert w.plan.history.filter(status=PlanStatus.APPROVED).exists()  # the approved text stays readable
    assert w.plan.goals.count() == 2


def test_return_to_the_original_agency_after_evaluation(planned):
    w = approved(planned)
    services.plan_evaluate(
        conference=w.conference,
        plan=w.plan,
        acting_user=w.coord,
        goal_results=results(w.plan),
        person_change="安定",
        next_step=NextStep.RETURN,
    )
    w.case.refresh_from_db()
    assert w.case.status == CaseStatus.SUPPORTING and w.case.owning_agency == w.own_agency


def test_each_agency_updates_its_own_tasks(planned):
    w = approved(planned)
    theirs = w.plan.tasks.get(agency=w.other_agency)
    ours = w.plan.tasks.get(agency=w.own_agency)
    services.task_update_status(task=theirs, acting_user=fresh(w.other_worker), status="in_progress")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.task_update_status(task=ours, acting_user=fresh(w.other_worker), status="done")
    theirs.refresh_from_db()
    assert theirs.status == "in_progress"


def test_review_reminder_run_twice_sends_one_notification(planned, django_capture_on_commit_callbacks):
    w = approved(planned)
    w.plan.review_on = timezone.localdate()
    w.plan.save()
    from meetings.tasks import remind_plan_reviews

    with django_capture_on_commit_callbacks(execute=True):
        assert remind_plan_reviews() == 1
        assert remind_plan_reviews() == 0
    assert Notification.objects.filter(recipient=w.coordinator, kind="plan_review").count() == 1


def test_resource_gaps_are_recorded_for_community_work(planned):
    gap = services.resource_gap_record(
        conference=planned.conference,
        plan=planned.plan,
        acting_user=planned.coord,
        category="居場所",
        description="若年のひきこもり当事者が通える居場所がない",
    )
    from meetings.models import AgendaItem

    assert AgendaItem.objects.get(pk=gap.source_id).kind == "resources"
    assert gap.status == "noted" and gap.source_label.startswith("重層的支援会議")


def test_only_cases_in_multi_agency_work_get_plans(referred):
    with pytest.raises(ValidationError, match="多機関協働中のケースについて作成します"):
        services.plan_create(
            case=referred.case,
            acting_user=fresh(referred.coordinator),
            goals=["通院"],
            tasks=[{"agency": fresh(referred.assigned).agencies[0], "role": "調整", "content": "調整"}],
            person_wishes="",
            issues_summary="",
            long_term_goal="",
            review_on=timezone.localdate(),
        )


def test_a_plan_agency_sees_only_what_the_consent_covers(client, planned):
    from cases import services as case_services

    case_services.progress_note_add(
        case=planned.case,
        acting_user=fresh(planned.coordinator),
        kind="phone",
        content="同意の範囲外の経過記録",
    )
    decide(planned)
    give_consent(planned, [planned.other_agency, planned.own_agency])  # categories: basic, plan
    approve(planned)
    client.force_login(planned.other_worker)
    html = client.get(planned.case.get_absolute_url()).content.decode()
    assert "本人同意の範囲で閲覧しています" in html
    assert "同意の範囲外の経過記録" not in html and "複合課題" not in html  # no timeline, no assessment
    assert "山田 一郎" not in html  # no household panel
    assert "支援プラン" in html and "第1版" in html
    # The owning agency, on its 担当 basis, sees everything.
    client.force_login(planned.assigned)
    assert "同意の範囲外の経過記録" in client.get(planned.case.get_absolute_url()).content.decode()


def test_plan_agency_access_ends_when_the_consent_expires_and_a_renewal_restores_it(client, planned):
    import time_machine

    decide(planned)
    give_consent(
        planned,
        [planned.other_agency, planned.own_agency],
        expires_on=timezone.localdate() + timedelta(days=10),
    )
    approve(planned)
    url = planned.case.get_absolute_url()
    with time_machine.travel(timezone.now() + timedelta(days=12)):
        client.force_login(planned.other_worker)
        assert client.get(url).status_code == 404  # expired at query time, before any clean-up
    give_consent(planned, [planned.other_agency], expires_on=timezone.localdate() + timedelta(days=100))
    with time_machine.travel(timezone.now() + timedelta(days=12)):
        client.force_login(planned.other_worker)
        assert client.get(url).status_code == 200
