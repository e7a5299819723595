"""Assessments, progress notes, households: versions and corrections kept in history."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import CaseStatus, CodeKind
from cases.selectors import TIMELINE_PAGE
from cases.tests.conftest import code
from jusou.models import AccessGrant


def test_assessment_versions_are_kept_and_the_first_starts_the_assessment(world):
    first = services.assessment_record(
        case=world.case,
        acting_user=world.assigned,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="介護",
        formulation="第1版の見立て",
    )
    world.case.refresh_from_db()
    assert world.case.status == CaseStatus.ASSESSING
    second = services.assessment_record(
        case=world.case,
        acting_user=world.colleague,
        issues=[code(CodeKind.ISSUE, "8050")],
        issues_detail="8050",
        formulation="第2版の見立て",
    )
    assert (first.version, second.version) == (1, 2)
    assert world.case.assessments.get(version=1).formulation == "第1版の見立て"


def test_assessment_form_in_the_browser(client, world):
    client.force_login(world.assigned)
    url = reverse("cases:assessment_new", args=[world.case.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"issues_detail": "", "formulation": ""})
    assert "この項目は必須です。" in bad.content.decode()
    ok = client.post(
        url, {"issues": [code(CodeKind.ISSUE, "care").pk], "issues_detail": "介護", "formulation": "見立て"}
    )
    assert ok.status_code == 302
    assert world.case.assessments.count() == 1


def test_a_correction_needs_a_reason_and_keeps_the_old_text_in_history(client, world):
    note = services.progress_note_add(
        case=world.case, acting_user=world.assigned, kind="phone", content="誤った内容"
    )
    with pytest.raises(ValidationError):
        services.progress_note_correct(
            note=note, acting_user=world.assigned, content="正しい内容", reason=" "
        )
    client.force_login(world.colleague)
    response = client.post(
        reverse("cases:note_correct", args=[note.pk]), {"content": "正しい内容", "reason": "聞き違い"}
    )
    assert response.status_code == 302
    note.refresh_from_db()
    history = list(note.history.order_by("history_date"))
    assert [h.content for h in history] == ["誤った内容", "正しい内容"]
    assert history[-1].history_change_reason == "訂正: 聞き違い"
    assert history[-1].history_user == world.colleague


def test_outsiders_cannot_correct_a_note(client, world):
    note = services.progress_note_add(
        case=world.case, acting_user=world.assigned, kind="phone", content="内容"
    )
    client.force_login(world.outsider)
    assert client.get(reverse("cases:note_correct", args=[note.pk])).status_code == 404


def test_a_person_has_one_current_household(world):
    other = services.household_register(acting_user=world.assigned, name="別の世帯")
    with pytest.raises(ValidationError, match="すでに別の世帯に属しています"):
        services.household_member_add(
            acting_user=world.assigned, household=other, person=world.son, relationship="子"
        )


def test_transition_history_names_actor_and_reason(world):
    services.assessment_record(
        case=world.case,
        acting_user=world.assigned,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="介護",
        formulation="見立て",
    )
    services.case_transition(
        case=world.case, to_status=CaseStatus.REFERRED, acting_user=world.colleague, reason="複合課題のため"
    )
    latest = world.case.history.latest()
    assert latest.history_user == world.colleague
    assert latest.history_change_reason == "アセスメント中→多機関協働へつなぎ依頼: 複合課題のため"


def test_lead_worker_is_reassigned_within_the_agency_and_grants_follow(client, world):
    client.force_login(world.assigned)
    url = reverse("cases:case_update", args=[world.case.pk])
    data = {
        "lead_worker": world.colleague.pk,
        "version": world.case.version,
        "issues": [code(CodeKind.ISSUE, "care").pk],
        "risk_suicide": "on",
    }
    assert client.post(url, data).status_code == 302
    world.case.refresh_from_db()
    assert world.case.lead_worker == world.colleague and world.case.risk_suicide
    grants = AccessGrant.objects.valid().filter(object_id=world.case.pk, user__isnull=False)
    assert {g.user for g in grants} == {world.colleague}
    # Someone from another agency cannot be made lead worker.
    data.update(lead_worker=world.other_worker.pk, version=world.case.version)
    response = client.post(url, data, follow=True)
    assert "正しく選択してください" in response.content.decode()
    world.case.refresh_from_db()
    assert world.case.lead_worker == world.colleague


def test_the_case_page_shows_the_newest_50_timeline_entries_and_the_rest_on_request(client, world):
    start = timezone.now() - timedelta(days=100)
    for i in range(60):
        services.progress_note_add(
            case=world.case,
            acting_user=world.assigned,
            kind="visit",
            content=f"記録{i:02d}",
            occurred_at=start + timedelta(days=i),
        )
    client.force_login(world.assigned)
    page = client.get(world.case.get_absolute_url()).content.decode()
    assert page.count('class="timeline__item') == TIMELINE_PAGE
    assert "記録59" in page and "記録10" not in page and "すべての経過を表示" in page
    assert page.index("記録59") < page.index("記録58")  # newest first
    whole = client.get(world.case.get_absolute_url() + "?timeline=all").content.decode()
    assert "記録00" in whole and "すべての経過を表示" not in whole
    # the consultation that opened the case is among all entries, older than every note
    assert (
        whole.count('class="timeline__item')
        == 60 + world.case.consultations.count() + world.case.transitions.count()
    )
