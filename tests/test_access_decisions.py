# ruff: noqa: F811  (the fixtures imported from the apps' conftests are parameters here)
"""Issue 14: every read carries its access decision — the basis and the scope decided once in the
selector — and pages, the API and the read log render only that decision.

The world: an 8050 household (mother 山田 花子 with a case at the 地域包括, her son 山田 一郎 a household
member without a case of his own); the case is in 多機関協働 with a plan approved on the *mother's*
本人同意, which names the 障害相談 agency (`other_worker`) for 基本情報 and 支援プラン only.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from cases.models import CodeKind, EmergencyAccess, HouseholdMember, ProgressNote
from cases.tests.conftest import code, fresh, world  # noqa: F401  (fixture)
from jusou.access import grants as access
from jusou.models import AccessBasis, Notification, ReadLog, Role
from jusou.tests.api import api_as
from jusou.tests.factories import AgencyFactory, staff_user
from meetings import services
from meetings.models import PlanTask
from meetings.tests.conftest import coordinating, referred  # noqa: F401  (fixtures)
from meetings.tests.test_plans import approve, decide, give_consent, planned  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

MOTHER_SUMMARY = "母の介護について長男から相談"  # the consultation's 主訴 (課題 category)
SON_ISSUES = "統合失調症で精神科通院中"  # the son's own 課題 in the household (his own information)


@pytest.fixture
def approved(planned):
    """The plan approved on the mother's consent (basic + plan) naming the 障害相談 agency (and the owning one)."""
    w = planned
    member = HouseholdMember.objects.get(person=w.son, left_on__isnull=True)
    member.own_issues = SON_ISSUES
    member.save()
    w.son.notes = "長男の備考"
    w.son.save()
    w.person.notes = "母の備考（健康）"
    w.person.save()
    w.person.attributes.add(code(CodeKind.ATTRIBUTE, "elderly"))
    w.consent = give_consent(
        w, [w.other_agency, w.own_agency], document=SimpleUploadedFile("consent.pdf", b"%PDF-1.4 signed")
    )
    decide(w)
    approve(w)
    w.reader = fresh(w.other_worker)
    return w


def consent_of(w, person, categories, purpose):
    """`person`'s own written consent, given today, naming the 障害相談 agency for `categories`."""
    return services.consent_record(
        case=w.case,
        person=person,
        acting_user=w.coord,
        consenting_party="self",
        consented_on=timezone.localdate(),
        method="written",
        recipients=[w.other_agency],
        categories=categories,
        purpose=purpose,
    )


def last_read(user) -> ReadLog:
    return ReadLog.objects.filter(user=user).order_by("-pk").first()


# --- 1. A consent covers the person who gave it -----------------------------------------------------------


def test_plan_agency_on_the_mothers_consent_cannot_open_the_sons_person_record(client, approved):
    w = approved
    client.force_login(w.reader)
    assert client.get(reverse("cases:case_detail", args=[w.case.pk])).status_code == 200
    assert client.get(reverse("cases:person_detail", args=[w.son.pk])).status_code == 404
    assert api_as(w.reader).get(f"/api/v1/people/{w.son.pk}/").status_code == 404
    # The owning agency registered him: its own record.
    client.force_login(w.assigned)
    assert client.get(reverse("cases:person_detail", args=[w.son.pk])).status_code == 200


def test_household_panel_shows_an_uncovered_member_by_name_and_relationship_only(client, approved):
    w = approved
    client.force_login(w.reader)
    html = client.get(reverse("cases:case_detail", args=[w.case.pk])).content.decode()
    assert "山田 一郎" not in html  # the mother's consent does not cover 世帯の状況
    consent_of(w, w.person, ["household"], "世帯の支援")
    html = client.get(reverse("cases:case_detail", args=[w.case.pk])).content.decode()
    assert "山田 一郎" in html and "長男" in html
    assert SON_ISSUES not in html
    assert reverse("cases:person_detail", args=[w.son.pk]) not in html
    body = api_as(w.reader).get(f"/api/v1/households/{w.household.pk}/").content.decode()
    assert SON_ISSUES not in body and "長男の備考" not in body


def test_the_sons_own_consent_opens_his_record_to_the_agency_it_names(client, approved):
    w = approved
    consent_of(w, w.son, ["basic"], "支援プランの実施")
    client.force_login(w.reader)
    assert client.get(reverse("cases:person_detail", args=[w.son.pk])).status_code == 200
    assert last_read(w.reader).basis == AccessBasis.CONSENT
    data = api_as(w.reader).get(f"/api/v1/people/{w.son.pk}/").json()
    assert "birth_date" in data and "notes" not in data and "attributes" not in data


# --- 2. Consent categories decide what of the record leaves, on every path -----------------------------


def test_consent_without_issues_withholds_issues_on_the_page_and_in_the_raw_api(client, approved):
    w = approved
    api = api_as(w.reader)
    case = api.get(f"/api/v1/cases/{w.case.pk}/").json()
    assert "issues" not in case and "risk_abuse" not in case
    person = api.get(f"/api/v1/people/{w.person.pk}/").json()
    assert person["name"] == "山田 花子" and "attributes" not in person and "notes" not in person
    consultation = w.case.consultations.get()
    body = api.get(f"/api/v1/consultations/{consultation.pk}/").json()
    assert "summary" not in body and "main_issue" not in body and "issues" not in body
    client.force_login(w.reader)
    for url in (
        reverse("cases:case_detail", args=[w.case.pk]),
        reverse("cases:person_detail", args=[w.person.pk]),
    ):
        html = client.get(url).content.decode()
        assert MOTHER_SUMMARY not in html and "母の備考" not in html and "介護</" not in html
        assert "共有されていない情報" in html


def test_the_owning_worker_sees_everything_of_the_same_records(approved):
    w = approved
    api = api_as(w.assigned)
    assert "issues" in api.get(f"/api/v1/cases/{w.case.pk}/").json()
    consultation = w.case.consultations.get()
    assert api.get(f"/api/v1/consultations/{consultation.pk}/").json()["summary"] == MOTHER_SUMMARY


# --- 4. The 重層的支援会議 page shows only the agenda the reader may see -------------------------------------


def test_conference_agenda_hides_cases_the_coordinator_has_no_basis_on(client, approved):
    w = approved
    stranger = staff_user(Role.COORDINATOR, AgencyFactory(name="みどり市 こども家庭課"), username="coord2")
    client.force_login(stranger)
    html = client.get(reverse("meetings:conference_detail", args=[w.conference.pk])).content.decode()
    assert w.case.number not in html
    body = api_as(stranger).get(f"/api/v1/conferences/{w.conference.pk}/").content.decode()
    assert w.case.number not in body and str(w.case.pk) not in body.split('"items"')[-1][:20]
    client.force_login(w.coord)
    assert (
        w.case.number
        in client.get(reverse("meetings:conference_detail", args=[w.conference.pk])).content.decode()
    )


# --- 5. The signed consent form ---------------------------------------------------------------------------


def test_consent_document_goes_to_its_recipients_and_the_owning_agency_only(client, approved):
    w = approved
    url = reverse("meetings:consent_document", args=[w.consent.pk])
    emergency_reader = staff_user(Role.WORKER, AgencyFactory(name="みどり市 保健センター"), username="nurse")
    case_services.emergency_access_open(
        acting_user=emergency_reader,
        case_pk=w.case.pk,
        justification="本人の安否が確認できず、生命の危険があるため",
    )
    client.force_login(emergency_reader)
    assert client.get(reverse("cases:case_detail", args=[w.case.pk])).status_code == 200
    assert client.get(url).status_code == 404
    for allowed in (w.reader, w.assigned):
        client.force_login(allowed)
        assert client.get(url).status_code == 200
        assert last_read(allowed).action == ReadLog.Action.EXPORT


# --- 6. The read log takes the decision's basis -----------------------------------------------------------


def test_consent_reads_are_logged_as_consent_on_pages_and_api(client, approved):
    w = approved
    client.force_login(w.reader)
    client.get(reverse("cases:case_detail", args=[w.case.pk]))
    row = last_read(w.reader)
    assert row.basis == AccessBasis.CONSENT and "範囲: basic・plan" in row.detail
    client.get(reverse("cases:person_detail", args=[w.person.pk]))
    assert last_read(w.reader).basis == AccessBasis.CONSENT
    api_as(w.reader).get(f"/api/v1/cases/{w.case.pk}/")
    assert last_read(w.reader).basis == AccessBasis.CONSENT
    api_as(w.reader).get(f"/api/v1/plans/{w.plan.pk}/")
    assert last_read(w.reader).basis == AccessBasis.CONSENT


def test_the_audit_shows_a_consent_reads_scope_in_words_on_the_page_and_in_the_exports(client, approved):
    """The read log keeps the scope as codes (「範囲: basic・plan」); the access log, the case's history and
    their exports show the categories' labels (issue 18: the audit in words)."""
    from cases.tests.test_audit_exports import exports

    w = approved
    client.force_login(w.reader)
    client.get(reverse("cases:case_detail", args=[w.case.pk]))
    client.force_login(w.supervisor)
    words = "範囲: 基本情報（氏名・生年月日・連絡先）、支援プラン"
    for url in (reverse("audit_access_log"), reverse("audit_case_history", args=[w.case.pk])):
        page = client.get(url).content.decode()
        assert words in page and "basic" not in page, url
    for fmt, rows in exports(client, "audit_access_log_export").items():
        cells = [cell for row in rows for cell in row]
        assert any(words in cell for cell in cells) and not any("basic" in cell for cell in cells), fmt


def test_emergency_reads_are_logged_as_emergency_for_the_case_and_the_household(client, approved):
    w = approved
    nurse = staff_user(Role.WORKER, AgencyFactory(name="みどり市 保健センター"), username="nurse")
    case_services.emergency_access_open(
        acting_user=nurse, case_pk=w.case.pk, justification="本人の安否が確認できず、生命の危険があるため"
    )
    client.force_login(nurse)
    client.get(reverse("cases:case_detail", args=[w.case.pk]))
    assert last_read(nurse).basis == AccessBasis.EMERGENCY
    assert client.get(reverse("cases:person_detail", args=[w.son.pk])).status_code == 200
    assert last_read(nurse).basis == AccessBasis.EMERGENCY


def test_supervisor_reads_are_logged_as_supervisor(client, approved):
    w = approved
    client.force_login(w.supervisor)
    client.get(reverse("cases:person_detail", args=[w.son.pk]))
    assert last_read(w.supervisor).basis == AccessBasis.SUPERVISOR
    api_as(fresh(w.supervisor)).get(f"/api/v1/people/{w.son.pk}/")
    assert last_read(w.supervisor).basis == AccessBasis.SUPERVISOR


def test_coordinator_conference_page_and_participation_plan_reads_are_logged(client, approved):
    w = approved
    client.force_login(w.coord)
    client.get(reverse("meetings:conference_detail", args=[w.conference.pk]))
    assert last_read(w.coord).content_type.model == "planconference"


# --- 9. 緊急閲覧 review ---------------------------------------------------------------------------------------


def test_an_unreviewed_emergency_access_is_listed_first_however_many_were_reviewed(client, world):
    nurse = staff_user(Role.WORKER, AgencyFactory(name="みどり市 保健センター"), username="nurse")
    for _ in range(55):
        record = case_services.emergency_access_open(
            acting_user=nurse,
            case_pk=world.case.pk,
            justification="本人の安否が確認できず、生命の危険があるため",
        )
        EmergencyAccess.objects.filter(pk=record.pk).update(
            reviewed_at=timezone.now(), reviewed_by=world.supervisor
        )
    EmergencyAccess.objects.filter(pk=EmergencyAccess.objects.order_by("pk").first().pk).update(
        reviewed_at=None, reviewed_by=None
    )
    client.force_login(world.supervisor)
    response = client.get(reverse("cases:emergency_review"))
    records = list(response.context["records"])
    assert records[0].reviewed_at is None
    assert last_read(world.supervisor).basis == AccessBasis.SUPERVISOR


# --- 12. Pages that show a record log the read ---------------------------------------------------------


def test_forms_prefilled_from_a_record_log_the_read(client, world):
    case_services.assessment_record(
        case=world.case,
        acting_user=world.assigned,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="介護",
        formulation="見立て",
    )
    note = case_services.progress_note_add(
        case=world.case, acting_user=world.assigned, kind="phone", content="電話"
    )
    client.force_login(world.assigned)
    for url in (
        reverse("cases:assessment_new", args=[world.case.pk]),
        reverse("cases:person_edit", args=[world.person.pk]),
        reverse("cases:note_correct", args=[note.pk]),
    ):
        before = ReadLog.objects.count()
        assert client.get(url).status_code == 200
        assert ReadLog.objects.count() > before, url
        assert last_read(world.assigned).basis == AccessBasis.ASSIGNMENT


# --- 13. Forbidden and missing ids take the same path ------------------------------------------------------


def _queries(client, method, url, data=None) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data or {})
    return response.status_code, len(captured)


def test_forbidden_and_missing_children_answer_alike_in_the_same_queries(client, approved):
    w = approved
    note = case_services.progress_note_add(case=w.case, acting_user=w.assigned, kind="phone", content="電話")
    member = HouseholdMember.objects.get(person=w.son, left_on__isnull=True)
    task = PlanTask.objects.filter(plan=w.plan).first()
    client.force_login(w.outsider)
    missing = {
        "note": ProgressNote.objects.order_by("-pk").first().pk + 1000,
        "member": member.pk + 1000,
        "task": task.pk + 1000,
    }
    pairs = [
        ("get", "cases:note_correct", note.pk, missing["note"]),
        ("post", "cases:household_member_leave", member.pk, missing["member"]),
        ("post", "meetings:task_status", task.pk, missing["task"]),
    ]
    for method, name, existing, absent in pairs:
        _queries(
            client, method, reverse(name, args=[absent + 1]), {"reason": "x", "status": "done"}
        )  # warm caches
        forbidden = _queries(
            client, method, reverse(name, args=[existing]), {"reason": "x", "status": "done"}
        )
        nothing = _queries(client, method, reverse(name, args=[absent]), {"reason": "x", "status": "done"})
        assert forbidden[0] == nothing[0] == 404, name
        assert forbidden[1] == nothing[1], name


# --- 14. Who set 住所秘匿 is for the lead worker and 管理者 -------------------------------------------------------


def test_who_set_address_confidentiality_shows_only_to_the_lead_worker_and_supervisors(client, world):
    case_services.address_confidentiality_set(person=world.son, acting_user=world.assigned, reason="DV")
    client.force_login(world.colleague)
    html = client.get(reverse("cases:person_detail", args=[world.son.pk])).content.decode()
    assert "住所秘匿の対象です" in html and "設定:" not in html
    access.access_grant(
        obj=case_services.case_open(acting_user=world.assigned, person=world.son),
        user=world.assigned,
        basis=AccessBasis.ASSIGNMENT,
        acting_user=world.assigned,
    )
    client.force_login(world.assigned)
    assert "設定:" in client.get(reverse("cases:person_detail", args=[world.son.pk])).content.decode()


# --- 8. Refused reads leave a trace, and many of them alert the supervisors -------------------------------


def test_refused_reads_are_logged_alike_for_existing_and_missing_ids_and_alert_supervisors(
    client, world, settings
):
    settings.AUDIT_REFUSED_LIMIT = 3
    client.force_login(world.outsider)
    existing = client.get(reverse("cases:case_detail", args=[world.case.pk]))
    missing = client.get(reverse("cases:case_detail", args=[world.case.pk + 1000]))
    assert existing.status_code == missing.status_code == 404

    def main(response):
        html = response.content.decode()
        return html[html.index("<main") : html.index("</main>")]

    assert main(existing) == main(missing)
    refused = ReadLog.objects.filter(user=world.outsider, action=ReadLog.Action.REFUSED).order_by("pk")
    assert [r.object_id for r in refused] == [world.case.pk, world.case.pk + 1000]
    assert not Notification.objects.filter(recipient=world.supervisor, kind="unusual_access").exists()
    for offset in range(3):
        client.get(reverse("cases:person_detail", args=[world.person.pk + offset]))
    alert = Notification.objects.get(recipient=world.supervisor, kind="unusual_access")
    assert "繰り返し請求" in alert.title
    client.force_login(world.assigned)
    client.get(reverse("cases:case_detail", args=[world.case.pk]))
    assert not ReadLog.objects.filter(user=world.assigned, action=ReadLog.Action.REFUSED).exists()
