"""保存年限: 多機関協働's records of a case go with the case (meetings.retention)."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from cases.models import Case, CaseStatus, CodeKind, Person
from cases.tests.conftest import code
from cases.tests.test_retention import ELEVEN_YEARS_AGO, TODAY, close, dispose
from jusou.retention import services as retention
from jusou.retention.anonymise import DISPOSED
from jusou.retention.models import DisposalCandidate
from meetings.models import (
    Consent,
    MeetingBriefing,
    MeetingDecision,
    PlanGoal,
    PlanStatus,
    PlanTask,
    SupportPlan,
)
from meetings.tests.test_api import build

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def scene(coordinating, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    w = build(coordinating)
    name = default_storage.save("consents/2015/01/signed.pdf", ContentFile(PDF))
    w.consent.document = name
    w.consent.proxy_name, w.consent.withdrawal_note = "山田 一郎", "長男の一郎さんから電話で撤回"
    w.consent.save()  # a history row naming the file and the texts
    w.document = tmp_path / name
    return w


def close_after_evaluation(w):
    """The plan is ended (evaluated at the 重層的支援会議), and the case closed eleven years ago."""
    SupportPlan.objects.filter(case=w.case).update(status=PlanStatus.ENDED)
    Case.objects.filter(pk=w.case.pk).update(status=CaseStatus.SUPPORTING)
    return close(Case.objects.get(pk=w.case.pk), w.assigned)


def test_an_approved_plan_holds_its_case(scene):
    Case.objects.filter(pk=scene.case.pk).update(
        status=CaseStatus.CLOSED,
        close_reason=code(CodeKind.CLOSE_REASON, "goal_achieved"),
        closed_at=Case.objects.get(pk=scene.case.pk).opened_at.replace(year=ELEVEN_YEARS_AGO.year),
    )
    retention.retention_scan(today=TODAY)
    assert not DisposalCandidate.objects.filter(object_id=scene.case.pk, record_type="cases.case").exists()


def test_the_cases_consent_plan_and_briefings_are_anonymised_and_the_scan_removed(
    scene, django_capture_on_commit_callbacks
):
    case = close_after_evaluation(scene)
    counts = (SupportPlan.objects.count(), PlanTask.objects.count(), MeetingBriefing.objects.count())
    assert scene.document.exists()
    with django_capture_on_commit_callbacks(execute=True):
        candidate = dispose(case, scene.supervisor)
    assert not scene.document.exists()  # the scanned form is gone from storage
    consent = Consent.objects.get(pk=scene.consent.pk)
    assert (consent.purpose, consent.proxy_name, consent.withdrawal_note, consent.document.name) == (
        DISPOSED,
        DISPOSED,
        DISPOSED,
        "",
    )
    assert all(row.document == "" and row.proxy_name in ("", DISPOSED) for row in consent.history.all())
    assert (consent.categories, consent.method, consent.consented_on) == (
        scene.consent.categories,
        "written",
        scene.consent.consented_on,
    )
    plan = SupportPlan.objects.get(pk=scene.plan.pk)
    assert (plan.person_wishes, plan.issues_summary, plan.long_term_goal) == (DISPOSED,) * 3
    assert all("長男" not in row.issues_summary for row in plan.history.all())
    assert (plan.version, plan.status) == (1, PlanStatus.ENDED)
    assert set(PlanGoal.objects.filter(plan=plan).values_list("text", flat=True)) == {DISPOSED}
    assert set(PlanTask.objects.filter(plan=plan).values_list("content", flat=True)) == {DISPOSED}
    # 役割分担 as written (「母の介護サービス調整」) describes the household: it goes; the agencies stay.
    assert set(PlanTask.objects.filter(plan=plan).values_list("role", flat=True)) == {DISPOSED}
    assert PlanTask.objects.filter(plan=plan, agency=scene.plan_agency).exists()
    briefing = MeetingBriefing.objects.get(pk=scene.briefing.pk)
    assert briefing.sections == {"case_number": case.number, "person": DISPOSED}
    assert all("山田" not in str(row.sections) for row in briefing.history.all())
    assert MeetingDecision.objects.get(briefing=briefing).text == DISPOSED
    assert (SupportPlan.objects.count(), PlanTask.objects.count(), MeetingBriefing.objects.count()) == counts
    assert candidate.disposed_rows["meetings.consent"] == [consent.pk]
    assert Person.objects.get(pk=scene.person.pk).name == DISPOSED


def test_a_person_who_consented_is_held_until_the_case_is_disposed(scene):
    from meetings.retention import person_hold

    case = close_after_evaluation(scene)
    assert person_hold({scene.person.pk, scene.son.pk}) == {scene.person.pk}
    dispose(case, scene.supervisor)
    assert person_hold({scene.person.pk}) == set()
