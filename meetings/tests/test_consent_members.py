"""Issue 17: a plan concerns household members, each needs their own consent naming every plan agency;
a consent is amended as a new version; withdrawal and amendment tell those who rely on the consent."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cases.tests.conftest import fresh
from jusou.models import AccessBasis, AccessGrant, Notification
from jusou.services import InvalidTransition
from meetings import services
from meetings.models import Consent, PlanStatus
from meetings.tests import test_plans
from meetings.tests.test_plans import approve, decide, give_consent

planned = test_plans.planned  # the fixture: a case in 多機関協働 with a draft plan for two agencies

PDF = b"%PDF-1.4 signed consent"


def _plan_for_both(w):
    services.plan_members_set(plan=w.plan, acting_user=w.coord, members=[w.son])
    w.plan.refresh_from_db()
    return w


def _case_grants(w, agency):
    return AccessGrant.objects.filter(
        content_type__model="case", object_id=w.case.pk, basis=AccessBasis.CONSENT, agency=agency
    ).order_by("pk")


# --- whom a plan concerns ------------------------------------------------------------------------


def test_a_plan_concerns_the_case_person_by_default_and_always(planned):
    assert services.plan_members(planned.plan) == [planned.person]
    _plan_for_both(planned)
    assert services.plan_members(planned.plan) == [planned.person, planned.son]
    services.plan_members_set(plan=planned.plan, acting_user=planned.coord, members=[])
    assert services.plan_members(planned.plan) == [planned.person]


def test_only_household_members_can_be_chosen(planned):
    from cases import services as case_services

    stranger = case_services.person_register(
        acting_user=planned.assigned, name="鈴木 次郎", kana="すずき じろう"
    )
    with pytest.raises(ValidationError, match="世帯員から選んでください"):
        services.plan_members_set(plan=planned.plan, acting_user=planned.coord, members=[stranger])


def test_only_a_coordinator_who_may_change_the_case_sets_the_members(planned):
    with pytest.raises(PermissionDenied):
        services.plan_members_set(
            plan=planned.plan, acting_user=fresh(planned.assigned), members=[planned.son]
        )


def test_members_of_an_approved_plan_are_not_changed(planned):
    decide(planned)
    give_consent(planned, [planned.other_agency, planned.own_agency])
    approve(planned)
    with pytest.raises(InvalidTransition):
        services.plan_members_set(plan=planned.plan, acting_user=planned.coord, members=[planned.son])


# --- approval, member by member ----------------------------------------------------------------


def test_approval_refused_for_a_member_without_consent_names_the_member(planned):
    w = _plan_for_both(planned)
    decide(w)
    give_consent(w, [w.other_agency, w.own_agency])
    with pytest.raises(services.ConsentMissing) as refusal:
        approve(w)
    (gap,) = refusal.value.gaps
    assert gap.person == w.son and not gap.has_consent
    assert "長男 山田 一郎さんの本人同意がないため" in gap.message
    assert "みどり障害者相談支援センター" in gap.message


def test_approval_refused_for_the_missing_agency_of_a_member_then_approved_after_an_amendment(
    client, planned
):
    w = _plan_for_both(planned)
    decide(w)
    give_consent(w, [w.other_agency, w.own_agency])
    son_consent = give_consent(w, [w.own_agency], person=w.son)
    with pytest.raises(ValidationError) as refusal:
        approve(w)
    (message,) = refusal.value.messages
    assert "長男 山田 一郎さん" in message and "（みどり障害者相談支援センター）" in message
    assert "みどり中央地域包括支援センター" not in message
    w.plan.refresh_from_db()
    assert w.plan.status == PlanStatus.DRAFT
    services.consent_amend(
        consent=son_consent,
        acting_user=w.coord,
        consented_on=timezone.localdate(),
        method="oral",
        recipients=[w.own_agency, w.other_agency],
        categories=["basic", "plan"],
    )
    approve(w)
    w.plan.refresh_from_db()
    assert w.plan.status == PlanStatus.APPROVED


def test_a_sons_consent_on_the_household_case_counts_without_a_case_of_his_own(planned):
    w = _plan_for_both(planned)
    decide(w)
    give_consent(w, [w.other_agency, w.own_agency])
    give_consent(w, [w.other_agency, w.own_agency], person=w.son)
    assert not w.son.cases.exists()
    approve(w)
    w.plan.refresh_from_db()
    assert w.plan.status == PlanStatus.APPROVED


def test_the_case_persons_own_consent_is_still_needed(planned):
    w = _plan_for_both(planned)
    decide(w)
    give_consent(w, [w.other_agency, w.own_agency], person=w.son)
    with pytest.raises(ValidationError, match="本人 山田 花子さんの本人同意がないため"):
        approve(w)


def test_a_members_consent_does_not_widen_what_the_plan_agency_reads_of_the_member(client, planned):
    """The case opens to the plan agency on the 本人's consent; the son's record on his own (which
    names the agency here: so it opens, and without it it would not)."""
    w = _plan_for_both(planned)
    decide(w)
    give_consent(w, [w.other_agency, w.own_agency])
    son_consent = give_consent(w, [w.other_agency, w.own_agency], person=w.son)
    approve(w)
    client.force_login(w.other_worker)
    son_page = reverse("cases:person_detail", args=[w.son.pk])
    assert client.get(son_page).status_code == 200
    services.consent_withdraw(consent=son_consent, acting_user=w.coord, method="oral")
    assert client.get(son_page).status_code == 404
    assert client.get(w.case.get_absolute_url()).status_code == 200


def test_the_conference_page_links_the_refusal_to_the_members_consent_form(client, planned):
    w = _plan_for_both(planned)
    decide(w)
    give_consent(w, [w.other_agency, w.own_agency])
    client.force_login(w.coordinator)
    url = reverse("meetings:conference_plan_decision", args=[w.conference.pk, w.plan.pk])
    response = client.post(
        url, {f"p{w.plan.pk}-plan": w.plan.pk, f"p{w.plan.pk}-decision": "approve"}, follow=True
    )
    html = response.content.decode()
    form = reverse("meetings:consent_new", args=[w.case.pk]) + f"?person={w.son.pk}"
    assert "長男 山田 一郎さんの本人同意がないため" in html
    assert f'href="{form}"' in html
    page = client.get(form)
    assert f'value="{w.son.pk}" checked' in page.content.decode() or (
        page.context["form"]["person"].value() == w.son.pk
    )


def test_the_refusal_offers_to_amend_an_existing_consent(client, planned):
    w = _plan_for_both(planned)
    decide(w)
    give_consent(w, [w.other_agency, w.own_agency])
    son_consent = give_consent(w, [w.own_agency], person=w.son)
    client.force_login(w.coordinator)
    url = reverse("meetings:conference_plan_decision", args=[w.conference.pk, w.plan.pk])
    response = client.post(
        url, {f"p{w.plan.pk}-plan": w.plan.pk, f"p{w.plan.pk}-decision": "approve"}, follow=True
    )
    assert reverse("meetings:consent_amend", args=[son_consent.pk]) in response.content.decode()


def test_the_plan_form_offers_the_household_members(client, planned):
    client.force_login(planned.coordinator)
    page = client.get(reverse("meetings:plan_new", args=[planned.case.pk]))
    assert "長男 山田 一郎" in page.content.decode()


# --- amendment ------------------------------------------------------------------------------------


def _amend(w, consent, **changes):
    data = {
        "consented_on": timezone.localdate(),
        "method": "oral",
        "recipients": list(consent.recipients.all()),
        "categories": list(consent.categories),
        "expires_on": consent.expires_on,
    } | changes
    return services.consent_amend(consent=consent, acting_user=w.coord, **data)


def test_an_amendment_is_a_new_version_linked_to_the_first_and_the_old_one_no_longer_counts(planned):
    w = planned
    first = give_consent(w, [w.own_agency], expires_on=timezone.localdate() + timedelta(days=30))
    second = _amend(w, first, recipients=[w.own_agency, w.other_agency])
    third = _amend(
        w,
        second,
        expires_on=timezone.localdate() + timedelta(days=365),
        categories=["basic", "plan", "health"],
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (second.original, second.version, third.original, third.version) == (first, 2, first, 3)
    assert first.superseded_at and second.superseded_at and third.superseded_at is None
    assert first.state() == "変更済" and third.state() == "有効"
    assert list(Consent.objects.valid().filter(case=w.case)) == [third]
    assert third.taken_by == w.coord and third.method == "oral"
    assert set(third.recipients.all()) == {w.own_agency, w.other_agency}
    assert third.categories == ["basic", "health", "plan"]
    reasons = [h.history_change_reason for h in third.history.all()]
    assert any("範囲に追加: 病歴・障害の状況" in (r or "") and "有効期限:" in (r or "") for r in reasons), (
        reasons
    )
    assert Consent.objects.filter(pk=first.pk).exists()  # kept


def test_an_amendment_adds_only(planned):
    w = planned
    consent = give_consent(
        w, [w.own_agency, w.other_agency], expires_on=timezone.localdate() + timedelta(days=30)
    )
    with pytest.raises(ValidationError) as refused:
        _amend(w, consent, recipients=[w.own_agency])
    assert (
        "共有先を減らせません（みどり障害者相談支援センター）" in refused.value.message_dict["recipients"][0]
    )
    with pytest.raises(ValidationError, match="範囲を狭められません"):
        _amend(w, consent, categories=["basic"])
    with pytest.raises(ValidationError, match="延ばすことだけ"):
        _amend(w, consent, expires_on=timezone.localdate() + timedelta(days=10))
    with pytest.raises(ValidationError, match="変更がありません"):
        _amend(w, consent)
    consent.refresh_from_db()
    assert consent.superseded_at is None


def test_a_superseded_or_withdrawn_version_is_not_amended_or_withdrawn_again(planned):
    w = planned
    first = give_consent(w, [w.own_agency])
    second = _amend(w, first, recipients=[w.own_agency, w.other_agency])
    first.refresh_from_db()
    with pytest.raises(InvalidTransition, match="すでに変更"):
        _amend(w, first, recipients=[w.own_agency, w.other_agency])
    with pytest.raises(InvalidTransition, match="最新の版"):
        services.consent_withdraw(consent=first, acting_user=w.coord, method="oral")
    services.consent_withdraw(consent=second, acting_user=w.coord, method="oral")
    second.refresh_from_db()
    with pytest.raises(InvalidTransition, match="撤回された同意"):
        _amend(w, second, recipients=[w.own_agency, w.other_agency, fresh(w.outsider).agencies[0]])


def test_only_those_who_may_change_the_case_amend(planned):
    w = planned
    consent = give_consent(w, [w.own_agency])
    with pytest.raises(PermissionDenied):
        services.consent_amend(
            consent=consent,
            acting_user=fresh(w.outsider),
            consented_on=timezone.localdate(),
            method="oral",
            recipients=[w.own_agency, w.other_agency],
            categories=["basic", "plan"],
        )


def test_grants_follow_the_new_version_and_nothing_is_lost_in_between(client, planned):
    w = planned
    decide(w)
    consent = give_consent(w, [w.own_agency, w.other_agency])
    approve(w)
    kept = _case_grants(w, w.own_agency).get(revoked_at__isnull=True)
    # the plan is revised to include the NPO: its agency is not named yet, so it reads nothing
    npo = fresh(w.outsider).agencies[0]
    w.plan.refresh_from_db()
    from meetings.models import PlanTask

    PlanTask.objects.create(plan=w.plan, agency=npo, role="居場所の紹介", content="サロンへの同行")
    services.consent_access_sync(case=w.case, acting_user=w.coord, reason="test")
    client.force_login(w.outsider)
    assert client.get(w.case.get_absolute_url()).status_code == 404
    _amend(w, consent, recipients=[w.own_agency, w.other_agency, npo])
    assert client.get(w.case.get_absolute_url()).status_code == 200
    kept.refresh_from_db()
    assert kept.revoked_at is None  # the agency named by both versions keeps the very same grant
    client.force_login(w.other_worker)
    assert client.get(w.case.get_absolute_url()).status_code == 200


def test_an_extended_expiry_moves_the_grant_end_at_the_same_moment(planned):
    w = planned
    decide(w)
    consent = give_consent(
        w, [w.own_agency, w.other_agency], expires_on=timezone.localdate() + timedelta(days=30)
    )
    approve(w)
    old = _case_grants(w, w.other_agency).get()
    _amend(w, consent, expires_on=timezone.localdate() + timedelta(days=200))
    old.refresh_from_db()
    new = _case_grants(w, w.other_agency).get(revoked_at__isnull=True)
    assert new.starts_at <= old.revoked_at + timedelta(seconds=1) and new.ends_at > old.ends_at
    assert AccessGrant.objects.valid().filter(pk=new.pk).exists()


# --- the scan rule ---------------------------------------------------------------------------------


def test_scan_not_required_unless_the_municipality_asks(planned, settings):
    settings.CONSENT_SCAN_REQUIRED = False
    consent = give_consent(planned, [planned.own_agency])  # 書面, no scan
    _amend(planned, consent, method="written", recipients=[planned.own_agency, planned.other_agency])


def test_scan_required_for_written_consents_when_the_municipality_asks(planned, settings):
    settings.CONSENT_SCAN_REQUIRED = True
    with pytest.raises(ValidationError) as refused:
        give_consent(planned, [planned.own_agency])
    assert refused.value.error_dict["document"][0].code == "document_required"
    consent = give_consent(planned, [planned.own_agency], document=SimpleUploadedFile("c.pdf", PDF))
    with pytest.raises(ValidationError, match="同意書のスキャン"):
        _amend(planned, consent, method="written", recipients=[planned.own_agency, planned.other_agency])
    second = _amend(planned, consent, method="oral", recipients=[planned.own_agency, planned.other_agency])
    assert not second.document
    oral = services.consent_record(
        case=planned.case,
        person=planned.son,
        acting_user=planned.coord,
        consenting_party="self",
        consented_on=timezone.localdate(),
        method="oral",
        recipients=[planned.own_agency],
        categories=["basic"],
        purpose="支援プランの協議",
    )
    assert not oral.document


# --- the amendment page ---------------------------------------------------------------------------


def test_the_amendment_page_records_a_new_version_and_the_case_page_shows_it_in_words(client, planned):
    w = planned
    consent = give_consent(w, [w.own_agency])
    client.force_login(w.coordinator)
    url = reverse("meetings:consent_amend", args=[consent.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "consented_on": timezone.localdate().isoformat(),
            "method": "oral",
            "recipients": [w.own_agency.pk, w.other_agency.pk],
            "categories": ["basic", "plan"],
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    page = client.get(w.case.get_absolute_url()).content.decode()
    assert "第2版" in page and "共有先に追加: みどり障害者相談支援センター" in page


def test_the_amendment_page_keeps_the_input_on_a_refusal(client, planned):
    w = planned
    consent = give_consent(w, [w.own_agency, w.other_agency])
    client.force_login(w.coordinator)
    response = client.post(
        reverse("meetings:consent_amend", args=[consent.pk]),
        {
            "consented_on": timezone.localdate().isoformat(),
            "method": "oral",
            "recipients": [w.own_agency.pk],
            "categories": ["basic", "plan", "health"],
        },
    )
    assert response.status_code == 200
    assert "共有先を減らせません" in response.content.decode()
    assert response.context["form"]["categories"].value() == ["basic", "plan", "health"]


@pytest.mark.parametrize(
    ("persona", "status"),
    [("coordinator", 200), ("assigned", 200), ("colleague", 200), ("outsider", 404), ("supervisor", 403)],
)
def test_amendment_page_permissions(client, planned, persona, status):
    consent = give_consent(planned, [planned.own_agency])
    client.force_login(planned.persona(persona))
    assert client.get(reverse("meetings:consent_amend", args=[consent.pk])).status_code == status


def test_a_plan_agency_reading_on_consent_may_not_amend(client, planned):
    w = planned
    decide(w)
    consent = give_consent(w, [w.own_agency, w.other_agency])
    approve(w)
    client.force_login(w.other_worker)
    assert client.get(w.case.get_absolute_url()).status_code == 200
    assert client.get(reverse("meetings:consent_amend", args=[consent.pk])).status_code == 403


# --- notices -------------------------------------------------------------------------------------


def _noticed(kind):
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def test_withdrawal_tells_the_plan_agencies_staff_and_the_taker_not_others(planned):
    w = planned
    decide(w)
    consent = give_consent(w, [w.own_agency, w.other_agency])
    approve(w)
    # taken by the coordinator; withdrawn by the case's worker
    services.consent_withdraw(consent=consent, acting_user=fresh(w.assigned), method="oral")
    assert _noticed("consent_withdrawn") == {"coordinator", "colleague", "other_worker"}
    note = Notification.objects.filter(kind="consent_withdrawn").first()
    assert w.case.number in note.title and w.person.name not in note.title and "山田" not in note.title
    assert note.link == w.case.get_absolute_url()


def test_withdrawal_tells_the_coordinator_holding_the_case_when_someone_else_took_it(planned):
    w = planned
    consent = services.consent_record(
        case=w.case,
        person=w.son,
        acting_user=fresh(w.assigned),
        consenting_party="self",
        consented_on=timezone.localdate(),
        method="oral",
        recipients=[w.own_agency],
        categories=["basic"],
        purpose="支援プランの協議",
    )
    services.consent_withdraw(consent=consent, acting_user=fresh(w.colleague), method="oral")
    # the coordinator holds the case under 担当; the taker; the plan (draft) agencies' staff
    assert _noticed("consent_withdrawn") == {"coordinator", "assigned", "other_worker"}
    assert "outsider" not in _noticed("consent_withdrawn") and "supervisor" not in _noticed(
        "consent_withdrawn"
    )


def test_amendment_tells_those_who_rely_on_the_consent(planned):
    w = planned
    consent = give_consent(w, [w.own_agency])
    _amend(w, consent, recipients=[w.own_agency, w.other_agency])
    assert _noticed("consent_amended") == {"assigned", "colleague", "other_worker"}


def test_the_draft_plan_page_tells_the_coordinator_whose_consent_is_missing_before_the_meeting(
    client, planned
):
    w = _plan_for_both(planned)
    give_consent(w, [w.other_agency, w.own_agency])
    url = reverse("meetings:plan_detail", args=[w.plan.pk])
    client.force_login(w.coordinator)
    html = client.get(url).content.decode()
    assert "承認の前に必要な本人同意" in html and "長男 山田 一郎さんの本人同意がないため" in html
    assert reverse("meetings:consent_new", args=[w.case.pk]) + f"?person={w.son.pk}" in html
    give_consent(w, [w.other_agency, w.own_agency], person=w.son)
    assert "承認の前に必要な本人同意" not in client.get(url).content.decode()


def test_the_consent_gaps_are_not_shown_to_the_cases_worker(client, planned):
    w = _plan_for_both(planned)
    client.force_login(w.assigned)
    response = client.get(reverse("meetings:plan_detail", args=[w.plan.pk]))
    assert response.status_code == 200 and "承認の前に必要な本人同意" not in response.content.decode()


def test_the_plan_form_records_the_chosen_members(client, coordinating):
    w = coordinating
    agency = fresh(w.other_worker).agencies[0]
    client.force_login(w.coordinator)
    response = client.post(
        reverse("meetings:plan_new", args=[w.case.pk]),
        {
            "person_wishes": "家で暮らしたい",
            "issues_summary": "介護とひきこもり",
            "long_term_goal": "安定",
            "goals": "通院を再開する",
            "review_on": (timezone.localdate() + timedelta(days=60)).isoformat(),
            "members": [w.son.pk],
            "tasks-TOTAL_FORMS": "1",
            "tasks-INITIAL_FORMS": "0",
            "tasks-MIN_NUM_FORMS": "1",
            "tasks-MAX_NUM_FORMS": "1000",
            "tasks-0-agency": agency.pk,
            "tasks-0-role": "長男への相談支援",
            "tasks-0-content": "面談",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    plan = w.case.plans.get()
    assert services.plan_members(plan) == [w.person, w.son]
    page = client.get(reverse("meetings:plan_detail", args=[plan.pk])).content.decode()
    assert "本人・長男" in page
