# ruff: noqa: F811  (the fixtures imported from the apps' conftests are parameters here)
"""Issue 17: pickers instead of internal ids — a case by its ケース番号 (C-000005) or the 本人's
name/ふりがな, a person by name/ふりがな or 登録番号 — searching only what the user may see; machine
clients never appear as people; external 支援会議 members have a name and are registered on one page."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from cases.forms import CaseUpdateForm
from cases.models import Case
from cases.tests.conftest import code, fresh, world  # noqa: F401  (fixture)
from jusou.models import ReadLog, Role, StaffMembership, User
from jusou.staff import services as core_services
from jusou.tests.api import machine_client
from jusou.tests.factories import UserFactory, staff_user
from meetings import services as meeting_services
from meetings.forms import MeetingForm
from meetings.tests.conftest import referred  # noqa: F401  (fixture)
from outreach import services as outreach_services
from outreach.models import OutreachEngagement

pytestmark = pytest.mark.django_db

PICK = reverse("cases:pick")


def pick(client, kind, q):
    response = client.get(PICK, {"kind": kind, "q": q})
    assert response.status_code == 200
    return response.content.decode()


# --- The picker search ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["C-{n:06d}", "c{n}", "{n}", "Ｃ－{n:06d}", "やまだ", "ﾔﾏﾀﾞ ﾊﾅｺ", "山田 花子"]
)
def test_a_case_is_found_by_number_or_the_persons_name_and_kana(client, world, typed):
    client.force_login(world.colleague)
    html = pick(client, "case", typed.format(n=world.case.pk))
    assert f'data-pick-value="{world.case.number}"' in html and "山田 花子" in html


@pytest.mark.parametrize("persona", ["outsider", "other_worker"])
@pytest.mark.parametrize("typed", ["C-{n:06d}", "{n}", "やまだ", "山田"])
def test_the_case_picker_finds_nothing_outside_the_users_basis(client, world, persona, typed):
    client.force_login(world.persona(persona))
    html = pick(client, "case", typed.format(n=world.case.pk))
    assert "花子" not in html and "data-pick-value" not in html and "<li>" not in html
    assert "見つかりませんでした" in html


def test_a_person_is_found_by_kana_or_number_and_only_with_a_basis(client, world):
    client.force_login(world.colleague)
    for typed in ("いちろう", "ｲﾁﾛｳ", world.son.number):
        assert f'data-pick-value="{world.son.number}"' in pick(client, "person", typed)
    client.force_login(world.outsider)
    for typed in ("いちろう", world.son.number):
        html = pick(client, "person", typed)
        assert "data-pick-value" not in html and "一郎" not in html


def test_picker_searches_are_logged_and_carry_no_sensitive_fields(client, world):
    case_services.person_update(
        person=world.person, acting_user=world.assigned, care_level="care3", notes="備考X"
    )
    client.force_login(world.colleague)
    html = pick(client, "case", "やまだ") + pick(client, "person", "やまだ")
    assert "要介護3" not in html and "備考X" not in html
    details = list(
        ReadLog.objects.filter(user=world.colleague, action=ReadLog.Action.SEARCH).values_list(
            "detail", flat=True
        )
    )
    assert any("ケースの選択: やまだ" in d for d in details) and any(
        "本人の選択: やまだ" in d for d in details
    )


def test_the_picker_answers_in_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    client.force_login(world.colleague)
    pick(client, "case", "やまだ")
    with django_assert_max_num_queries(16):
        pick(client, "case", "やまだ")
    with django_assert_max_num_queries(16):
        pick(client, "person", "やまだ")


def test_the_picker_is_for_staff_and_known_kinds(client, world):
    client.force_login(world.colleague)
    assert client.get(PICK, {"kind": "user", "q": "x"}).status_code == 404
    minsei = UserFactory(last_name="民生", first_name="委員")
    core_services.membership_grant(user=minsei, agency=None, role=Role.MEETING_MEMBER, acting_user=None)
    client.force_login(minsei)
    assert client.get(PICK, {"kind": "case", "q": "やまだ"}).status_code == 403


# --- The forms that took an id -------------------------------------------------------------------------


@pytest.fixture
def engagement(world):
    return outreach_services.engagement_start(
        acting_user=world.assigned,
        provisional_name="70代の女性",
        how_known="minsei",
        background="民生委員より",
        purpose="relationship",
        approximate_location="中央",
        next_contact_on=timezone.localdate() + timedelta(days=3),
    )


def test_outreach_link_takes_a_case_number_as_shown(client, world, engagement):
    client.force_login(world.assigned)
    page = client.get(reverse("outreach:engagement_detail", args=[engagement.pk])).content.decode()
    assert 'data-picker="case"' in page and 'data-picker="person"' in page and "URLの数字" not in page
    client.post(reverse("outreach:link", args=[engagement.pk]), {"case": world.case.number, "person": ""})
    engagement.refresh_from_db()
    assert (engagement.case, engagement.person) == (world.case, world.person)


def test_outreach_link_takes_a_name_that_finds_one_person_without_javascript(client, world, engagement):
    client.force_login(world.assigned)
    client.post(reverse("outreach:link", args=[engagement.pk]), {"person": "やまだ いちろう", "case": ""})
    engagement.refresh_from_db()
    assert engagement.person == world.son


def test_outreach_link_with_an_ambiguous_name_lists_the_candidates_and_links_nothing(
    client, world, engagement
):
    client.force_login(world.assigned)
    response = client.post(
        reverse("outreach:link", args=[engagement.pk]), {"person": "やまだ", "case": ""}, follow=True
    )
    html = response.content.decode()
    assert "複数あります" in html and world.son.number in html and world.person.number in html
    assert OutreachEngagement.objects.get(pk=engagement.pk).person is None


def test_outreach_link_to_a_case_outside_the_basis_is_not_found(client, world):
    """The outsider's own engagement; the case number of another agency's case links nothing."""
    mine = outreach_services.engagement_start(
        acting_user=world.outsider,
        provisional_name="50代の男性",
        how_known="minsei",
        background="近所から",
        purpose="relationship",
        approximate_location="東",
        next_contact_on=timezone.localdate() + timedelta(days=3),
    )
    client.force_login(world.outsider)
    response = client.post(
        reverse("outreach:link", args=[mine.pk]), {"case": world.case.number, "person": ""}, follow=True
    )
    assert "見つかりません" in response.content.decode() and "山田" not in response.content.decode()
    mine.refresh_from_db()
    assert mine.case is None
    response = client.post(
        reverse("outreach:link", args=[mine.pk]), {"person": "やまだ", "case": ""}, follow=True
    )
    html = response.content.decode()
    assert "見つかりません" in html and "一郎" not in html and world.son.number not in html


def test_the_briefing_case_form_takes_a_case_number_or_a_name(client, referred):
    w = referred
    now = timezone.now()
    meeting = meeting_services.meeting_convene(
        acting_user=fresh(w.coordinator),
        held_at=now,
        access_from=now,
        access_until=now + timedelta(days=7),
        members=[w.other_worker],
    )
    client.force_login(w.coordinator)
    detail = client.get(reverse("meetings:meeting_detail", args=[meeting.pk])).content.decode()
    assert 'data-picker="case"' in detail and "ケース番号（数字）" not in detail
    url = reverse("meetings:meeting_briefing", args=[meeting.pk])
    for typed in (w.case.number, "やまだ はなこ"):
        response = client.get(url, {"case": typed})
        assert response.status_code == 200 and f'name="case" value="{w.case.pk}"' in response.content.decode()
    bad = client.get(url, {"case": "C-999999"}, follow=True)
    assert "そのケースは見つかりません" in bad.content.decode()


def test_emergency_access_takes_the_case_number_as_written(client, world):
    client.force_login(world.outsider)
    response = client.post(
        reverse("cases:emergency_access"),
        {
            "case_pk": world.case.number,
            "justification": "本人が倒れているとの通報があり、緊急に連絡先を確認する必要がある",
        },
    )
    assert response.status_code == 302 and response.url == world.case.get_absolute_url()
    client.force_login(world.other_worker)
    refused = client.post(reverse("cases:emergency_access"), {"case_pk": "山田", "justification": "x" * 30})
    assert "ケースは C-000123 のように入力してください" in refused.content.decode()


# --- Machine clients are not people --------------------------------------------------------------------


@pytest.fixture
def system(world):
    registered, api = machine_client(
        world.case.owning_agency, ["consultations:write", "cases:read"], name="福祉総合システム"
    )
    return registered.user, api


def test_a_machine_client_is_never_offered_as_a_meeting_member(referred, system):
    machine, _ = system
    members = MeetingForm().fields["members"].queryset
    assert machine not in members and referred.other_worker in members
    now = timezone.now()
    with pytest.raises(ValidationError, match="外部システム"):
        meeting_services.meeting_convene(
            acting_user=fresh(referred.coordinator),
            held_at=now,
            access_from=now,
            access_until=now + timedelta(days=7),
            members=[machine],
        )


def test_a_machine_client_is_never_a_lead_worker(client, world, system):
    machine, _api = system
    assert machine not in CaseUpdateForm(case=world.case).fields["lead_worker"].queryset
    with pytest.raises(ValidationError, match="主担当者は主担当機関の職員"):
        case_services.case_update(
            case=world.case,
            acting_user=world.assigned,
            expected_version=world.case.version,
            risk_abuse=False,
            risk_suicide=False,
            risk_life=False,
            next_follow_up_on=None,
            issues=[],
            lead_worker=fresh(machine),
        )
    client.force_login(world.assigned)
    case_list = client.get(reverse("cases:case_list")).content.decode()
    assert "福祉総合システム" not in case_list


def test_a_case_pushed_by_the_api_has_no_lead_worker_until_the_agency_names_one(world, system):
    _machine, api = system
    response = api.post(
        "/api/v1/consultations/",
        {
            "received_at": (timezone.now() - timedelta(hours=1)).isoformat(),
            "channel": "phone",
            "route": "family",
            "issues": ["care"],
            "main_issue": "care",
            "summary": "福祉総合システムからのつなぎ",
            "outcome": "case",
            "new_person": {"name": "川口 茂", "kana": "かわぐち しげる"},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    case = Case.objects.get(person__name="川口 茂")
    assert case.lead_worker is None and case.owning_agency == world.case.owning_agency
    updated = case_services.case_update(
        case=case,
        acting_user=fresh(world.assigned),
        expected_version=case.version,
        risk_abuse=False,
        risk_suicide=False,
        risk_life=False,
        next_follow_up_on=None,
        issues=[code("issue", "care")],
        lead_worker=fresh(world.colleague),
    )
    assert updated.lead_worker == world.colleague


# --- External members -----------------------------------------------------------------------------------


def test_an_external_member_needs_a_name(referred):
    nameless = UserFactory(username="minsei_x", last_name="", first_name="")
    with pytest.raises(ValidationError, match="外部の構成員には氏名が必要です"):
        core_services.membership_grant(user=nameless, agency=None, role=Role.MEETING_MEMBER, acting_user=None)
    named = UserFactory(username="minsei_y", last_name="民生", first_name="太郎")
    core_services.membership_grant(user=named, agency=None, role=Role.MEETING_MEMBER, acting_user=None)
    # An older nameless account is not made a member (it would show as a blank line).
    StaffMembership.objects.create(user=nameless, agency=None, role=Role.MEETING_MEMBER)
    now = timezone.now()
    with pytest.raises(ValidationError, match="氏名が登録されていない"):
        meeting_services.meeting_convene(
            acting_user=fresh(referred.coordinator),
            held_at=now,
            access_from=now,
            access_until=now + timedelta(days=7),
            members=[fresh(nameless)],
        )


@pytest.fixture
def admin_user(db):
    return staff_user(Role.SYSTEM_ADMIN, username="sysadmin")


ADD_EXTERNAL = reverse("admin:jusou_user_add_external")


def test_an_external_member_is_registered_on_one_admin_page(client, admin_user, referred):
    client.force_login(admin_user)
    changelist = client.get(reverse("admin:jusou_user_changelist")).content.decode()
    assert ADD_EXTERNAL in changelist and "外部の構成員を登録" in changelist
    assert client.get(ADD_EXTERNAL).status_code == 200
    response = client.post(
        ADD_EXTERNAL,
        {
            "username": "minsei_sato",
            "last_name": "佐藤",
            "first_name": "民子",
            "password1": "Kawa-zoi-2025!x",
            "password2": "Kawa-zoi-2025!x",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="minsei_sato")
    assert user.get_full_name() == "佐藤 民子" and user.check_password("Kawa-zoi-2025!x")
    assert fresh(user).roles == {Role.MEETING_MEMBER} and not fresh(user).agencies
    assert user in MeetingForm().fields["members"].queryset


def test_the_external_member_page_refuses_a_missing_name_and_creates_nothing(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        ADD_EXTERNAL,
        {
            "username": "minsei_x",
            "last_name": "",
            "password1": "Kawa-zoi-2025!x",
            "password2": "Kawa-zoi-2025!x",
        },
    )
    assert response.status_code == 200 and "この項目は必須です" in response.content.decode()
    assert not User.objects.filter(username="minsei_x").exists()


def test_the_external_member_page_is_for_system_administrators(client, world):
    client.force_login(world.supervisor)
    assert client.get(ADD_EXTERNAL).status_code == 302  # to the admin login
    assert not User.objects.filter(username="minsei_z").exists()


def test_the_convene_page_filters_members_by_name_and_offers_no_machine(client, referred, system):
    client.force_login(referred.coordinator)
    html = client.get(reverse("meetings:meeting_new")).content.decode()
    assert 'data-filter-list="id_members"' in html
    assert "福祉総合システム" not in html and referred.other_worker.get_full_name() in html


def test_the_membership_admin_refuses_an_external_membership_for_a_nameless_account(client, admin_user):
    nameless = UserFactory(username="minsei_blank", last_name="", first_name="")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:jusou_staffmembership_add"),
        {
            "user": nameless.pk,
            "agency": "",
            "role": Role.MEETING_MEMBER,
            "started_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 200 and "外部の構成員には氏名が必要です" in response.content.decode()
    assert not StaffMembership.objects.filter(user=nameless).exists()
