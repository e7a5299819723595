"""Taking up referred cases, 本人同意 and its withdrawal, 支援決定."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseStatus
from cases.tests.conftest import fresh
from jusou.access import grants as access
from jusou.models import AccessBasis, AccessGrant
from meetings import services
from meetings.models import Consent, SupportDecision


def test_the_inbox_lists_referred_cases_for_coordinators_only(client, referred):
    client.force_login(referred.coordinator)
    html = client.get(reverse("meetings:inbox")).content.decode()
    assert referred.case.number in html and "山田 花子" in html
    assert "介護と就労" not in html  # no 要配慮個人情報 in the inbox rows
    for persona in ("assigned", "outsider", "supervisor"):
        client.force_login(referred.persona(persona))
        assert client.get(reverse("meetings:inbox")).status_code == 403


def test_accepting_moves_the_case_into_multi_agency_work(client, referred):
    client.force_login(referred.coordinator)
    response = client.post(reverse("meetings:case_accept", args=[referred.case.pk]), {"reason": "受理"})
    assert response.status_code == 302
    referred.case.refresh_from_db()
    assert referred.case.status == CaseStatus.COORDINATING
    html = client.get(reverse("meetings:inbox")).content.decode()
    assert "多機関協働中 1件" in html


def test_only_coordinators_accept(referred):
    with pytest.raises(PermissionDenied):
        services.case_accept(case=referred.case, acting_user=fresh(referred.assigned))


def test_returning_hands_the_case_back_and_ends_the_coordinators_access(client, coordinating):
    client.force_login(coordinating.coordinator)
    refused = client.post(
        reverse("meetings:case_return", args=[coordinating.case.pk]), {"reason": ""}, follow=True
    )
    assert "主担当機関へ戻す理由: この項目は必須です。" in refused.content.decode()
    client.post(
        reverse("meetings:case_return", args=[coordinating.case.pk]), {"reason": "地域包括で対応可能"}
    )
    coordinating.case.refresh_from_db()
    assert coordinating.case.status == CaseStatus.SUPPORTING
    assert client.get(coordinating.case.get_absolute_url()).status_code == 404
    client.force_login(coordinating.assigned)
    assert client.get(coordinating.case.get_absolute_url()).status_code == 200


def consent_data(world, **overrides):
    data = {
        "person": world.person.pk,
        "consenting_party": "self",
        "consented_on": timezone.localdate().isoformat(),
        "method": "written",
        "recipients": [fresh(world.other_worker).agencies[0].pk],
        "categories": ["basic", "issues"],
        "purpose": "重層的支援会議での協議のため",
    }
    data.update(overrides)
    return data


def test_consent_is_recorded_per_household_member(client, coordinating):
    client.force_login(coordinating.coordinator)
    url = reverse("meetings:consent_new", args=[coordinating.case.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, consent_data(coordinating)).status_code == 302
    assert (
        client.post(
            url,
            consent_data(
                coordinating,
                person=coordinating.son.pk,
                consenting_party="proxy",
                proxy_name="山田 花子",
                proxy_relation="母",
            ),
        ).status_code
        == 302
    )
    consents = Consent.objects.filter(case=coordinating.case).order_by("pk")
    assert [(c.person, c.consenting_party) for c in consents] == [
        (coordinating.person, "self"),
        (coordinating.son, "proxy"),
    ]
    assert consents[0].taken_by == coordinating.coordinator
    html = client.get(coordinating.case.get_absolute_url()).content.decode()
    assert "本人同意" in html and "みどり障害者相談支援センター" in html and "有効" in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"consented_on": (timezone.localdate() + timedelta(days=1)).isoformat()},
            "同意日に未来の日付は入力できません。",
        ),
        (
            {"consenting_party": "proxy", "proxy_name": ""},
            "代理人が同意した場合は、代理人の氏名を入力してください。",
        ),
        ({"recipients": []}, "この項目は必須です。"),
        (
            {"expires_on": (timezone.localdate() - timedelta(days=1)).isoformat()},
            "有効期限は同意日以降の日付にしてください。",
        ),
    ],
)
def test_bad_consent_input_is_refused_in_japanese(client, coordinating, overrides, message):
    client.force_login(coordinating.coordinator)
    response = client.post(
        reverse("meetings:consent_new", args=[coordinating.case.pk]), consent_data(coordinating, **overrides)
    )
    assert message in response.content.decode()
    assert not Consent.objects.exists()


def test_someone_outside_the_household_cannot_be_the_consenting_person(coordinating):
    from cases import services as case_services

    stranger = case_services.person_register(acting_user=coordinating.assigned, name="他人 一郎")
    with pytest.raises(ValidationError, match="このケースの本人または世帯員を選んでください"):
        services.consent_record(
            case=coordinating.case,
            person=stranger,
            acting_user=fresh(coordinating.coordinator),
            consenting_party="self",
            consented_on=timezone.localdate(),
            method="oral",
            recipients=[fresh(coordinating.other_worker).agencies[0]],
            categories=["basic"],
            purpose="協議",
        )


def test_withdrawal_ends_consent_based_access_at_once_and_is_in_history(client, coordinating):
    other_agency = fresh(coordinating.other_worker).agencies[0]
    consent = services.consent_record(
        case=coordinating.case,
        person=coordinating.person,
        acting_user=fresh(coordinating.coordinator),
        consenting_party="self",
        consented_on=timezone.localdate(),
        method="written",
        recipients=[other_agency],
        categories=["basic", "plan"],
        purpose="支援の実施",
    )
    access.access_grant(
        obj=coordinating.case,
        agency=other_agency,
        basis=AccessBasis.CONSENT,
        acting_user=coordinating.coordinator,
        reason="支援プランの役割分担",
    )
    client.force_login(coordinating.other_worker)
    assert client.get(coordinating.case.get_absolute_url()).status_code == 200

    client.force_login(coordinating.assigned)
    response = client.post(
        reverse("meetings:consent_withdraw", args=[consent.pk]),
        {"method": "oral", "note": "電話で撤回の申し出"},
    )
    assert response.status_code == 302
    client.force_login(coordinating.other_worker)
    assert client.get(coordinating.case.get_absolute_url()).status_code == 404
    consent.refresh_from_db()
    assert consent.withdrawal_received_by == coordinating.assigned and consent.withdrawal_method == "oral"
    latest = consent.history.latest()
    assert latest.history_user == coordinating.assigned and latest.withdrawn_at is not None
    assert AccessGrant.objects.filter(
        agency=other_agency, basis=AccessBasis.CONSENT, revoke_reason="本人同意の撤回"
    ).exists()


def test_an_expired_consent_no_longer_covers_an_agency(coordinating):
    other_agency = fresh(coordinating.other_worker).agencies[0]
    services.consent_record(
        case=coordinating.case,
        person=coordinating.person,
        acting_user=fresh(coordinating.coordinator),
        consenting_party="self",
        consented_on=timezone.localdate() - timedelta(days=30),
        method="written",
        recipients=[other_agency],
        categories=["basic"],
        purpose="協議",
        expires_on=timezone.localdate() - timedelta(days=1),
    )
    assert services.agencies_without_consent(coordinating.case, [other_agency]) == [other_agency]


def test_outsiders_cannot_reach_consents(client, coordinating):
    client.force_login(coordinating.outsider)
    assert client.get(reverse("meetings:consent_new", args=[coordinating.case.pk])).status_code == 404
    client.force_login(coordinating.supervisor)
    assert client.get(reverse("meetings:consent_new", args=[coordinating.case.pk])).status_code == 403


def test_support_decision_by_the_coordinator_for_a_case_in_multi_agency_work(client, referred):
    with pytest.raises(ValidationError, match="多機関協働中のケースに記録します"):
        services.support_decision_record(
            case=referred.case, acting_user=fresh(referred.coordinator), decided_on=timezone.localdate()
        )
    services.case_accept(case=referred.case, acting_user=fresh(referred.coordinator))
    with pytest.raises(PermissionDenied):
        services.support_decision_record(
            case=referred.case, acting_user=fresh(referred.assigned), decided_on=timezone.localdate()
        )
    client.force_login(referred.coordinator)
    response = client.post(
        reverse("meetings:decision_new", args=[referred.case.pk]),
        {"decided_on": timezone.localdate().isoformat(), "decision_number": "R8-12"},
    )
    assert response.status_code == 302
    decision = SupportDecision.objects.get(case=referred.case)
    assert (
        decision.decided_by == referred.coordinator
        and decision.history.latest().history_user == referred.coordinator
    )
    assert "第R8-12号" in client.get(referred.case.get_absolute_url()).content.decode()


def test_inbox_queries_do_not_grow_with_the_referrals(client, referred, django_assert_max_num_queries):
    from cases.services import assessment_record, case_transition
    from cases.tests.conftest import code, record_case

    client.force_login(referred.coordinator)
    for i in range(6):
        case = record_case(referred.assigned, name=f"川口 {i}", kana=f"かわぐち {i}")
        assessment_record(
            case=case,
            acting_user=referred.assigned,
            issues=[code("issue", "care")],
            issues_detail="介護",
            formulation="見立て",
        )
        case_transition(
            case=case, to_status=CaseStatus.REFERRED, acting_user=referred.assigned, reason="複合"
        )
    # 15 for the page, and 5 for its read-log row (savepoint, previous hash, insert, release, and the
    # advisory lock on PostgreSQL)
    with django_assert_max_num_queries(15 + 5):
        assert client.get(reverse("meetings:inbox")).status_code == 200
    waiting = list(Case.objects.filter(status=CaseStatus.REFERRED).order_by("pk"))
    counts = []
    for taken_up in (waiting[:2], waiting[2:5]):  # the second list fills: 2 taken up, then 5
        for case in taken_up:
            services.case_accept(case=case, acting_user=fresh(referred.coordinator), reason="受理")
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("meetings:inbox")).content.decode()
        counts.append(len(queries))
    assert "多機関協働中 5件" in page
    assert counts[0] == counts[1] <= 15 + 5


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_signed_consent_form_is_uploaded_and_downloaded_only_by_case_readers(
    client, coordinating, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from jusou.models import ReadLog

    settings.MEDIA_ROOT = tmp_path
    client.force_login(coordinating.coordinator)
    url = reverse("meetings:consent_new", args=[coordinating.case.pk])
    bad = client.post(
        url, {**consent_data(coordinating), "document": SimpleUploadedFile("x.exe", b"MZ\x90\x00")}
    )
    assert "同意書は PDF・JPEG・PNG のいずれかでアップロードしてください。" in bad.content.decode()
    client.post(url, {**consent_data(coordinating), "document": SimpleUploadedFile("signed.pdf", PDF)})
    consent = Consent.objects.get()
    assert consent.document.name.startswith("consents/")
    download = reverse("meetings:consent_document", args=[consent.pk])
    response = client.get(download)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert ReadLog.objects.filter(
        user=coordinating.coordinator, action="export", object_id=consent.pk
    ).exists()
    client.force_login(coordinating.outsider)
    assert client.get(download).status_code == 404


def test_the_inbox_logs_the_cases_it_lists(client, referred):
    from django.contrib.contenttypes.models import ContentType

    from jusou.models import ReadLog

    client.force_login(referred.coordinator)
    assert client.get(reverse("meetings:inbox")).status_code == 200
    row = ReadLog.objects.get(user=referred.coordinator, content_type=ContentType.objects.get_for_model(Case))
    assert (row.action, row.detail) == (ReadLog.Action.VIEW, f"多機関協働の受付箱 1件 [{referred.case.pk}]")


def test_the_coordinators_dashboard_logs_the_waiting_cases_it_lists(client, referred):
    from django.contrib.contenttypes.models import ContentType

    from jusou.models import ReadLog

    client.force_login(referred.coordinator)
    assert referred.case.number in client.get("/").content.decode()
    row = ReadLog.objects.get(user=referred.coordinator, content_type=ContentType.objects.get_for_model(Case))
    assert row.detail == f"ダッシュボード 1件 [{referred.case.pk}]"


def test_the_case_pages_consents_are_the_consent_lists_rows_of_that_case(coordinating):
    """case_consents decides from the case's decision and the rows, probing only other givers; it must
    show exactly what consents_visible_to shows for the case, persona by persona."""
    from django.http import Http404

    from cases.selectors import case_get_for_user
    from meetings.selectors import case_consents, consents_visible_to

    world = coordinating
    today = timezone.localdate()
    other_agency = fresh(world.other_worker).agencies[0]
    outsider_agency = fresh(world.outsider).agencies[0]
    common = {
        "case": world.case,
        "acting_user": fresh(world.coordinator),
        "consented_on": today,
        "method": "written",
        "purpose": "重層的支援会議での協議のため",
    }
    services.consent_record(
        **common,
        person=world.person,
        consenting_party="self",
        recipients=[other_agency],
        categories=["basic", "plan"],
    )
    services.consent_record(
        **common,
        person=world.son,
        consenting_party="proxy",
        proxy_name="山田 花子",
        proxy_relation="母",
        recipients=[outsider_agency],
        categories=["basic"],
    )
    shown = 0
    for name in ("assigned", "colleague", "other_worker", "outsider", "coordinator", "supervisor"):
        user = fresh(world.persona(name))
        try:
            case = case_get_for_user(user, world.case.pk)
        except Http404:
            continue
        expected = set(consents_visible_to(user).filter(case=world.case).values_list("pk", flat=True))
        assert {consent.pk for consent in case_consents(user, case)} == expected, name
        shown += len(expected)
    assert shown  # some persona sees some consent: the comparison is not vacuous
