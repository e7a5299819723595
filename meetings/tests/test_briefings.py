"""支援会議 briefings item by item (issue 14, findings 3 and 14a): a household member's health goes only
where the host chose it for that member; external members get the pseudonymised rendering; the preview
is what is frozen and served; before 守秘義務 nothing names the case; the window is the host's to move,
with the reason on record."""

import importlib
import json
import re
from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from cases.models import CaseStatus, CodeKind
from cases.tests.conftest import code, fresh, record_case
from jusou.models import AccessGrant, Notification, Role
from jusou.staff import services as core_services
from jusou.tests.api import api_as
from jusou.tests.factories import UserFactory
from meetings import briefings, services

pytestmark = pytest.mark.django_db

DIAGNOSIS = "統合失調症で精神科通院中"


@pytest.fixture
def tanaka(world):
    """A ヤングケアラー case: 本人 田中 健太 (16) and his mother, whose record (registered by the
    coordinator's office, so the host has a basis on her) carries her diagnosis; a 支援会議 titled the
    way hosts type it, with a staff member and an external member (a school social worker on a
    meeting-only account)."""
    w = world
    w.coord = fresh(w.coordinator)
    w.case = record_case(w.assigned, name="田中 健太", kana="たなか けんた", birth=date(2009, 4, 10))
    w.mother = case_services.person_register(
        acting_user=w.coord,
        name="田中 洋子",
        kana="たなか ようこ",
        birth_date=date(1978, 6, 3),
        sex="female",
        phone="090-1111-2222",
        atena_number="1234567890",
        notes=f"{DIAGNOSIS}。服薬の管理が難しい。",
    )
    w.mother_row = case_services.household_member_add(
        acting_user=w.assigned,
        household=w.case.household,
        person=w.mother,
        relationship="母",
        own_issues=f"{DIAGNOSIS}（月2回）",
    )
    case_services.assessment_record(
        case=w.case,
        acting_user=w.assigned,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="家事と通院の付き添い",
        formulation="田中 洋子さんの通院に健太さんが付き添い、登校できない日がある",
    )
    case_services.case_transition(
        case=w.case, to_status=CaseStatus.REFERRED, acting_user=w.assigned, reason="ヤングケアラー"
    )
    w.ssw = UserFactory(username="ssw", last_name="学校", first_name="SSW")
    core_services.membership_grant(user=w.ssw, agency=None, role=Role.MEETING_MEMBER, acting_user=w.coord)
    now = timezone.now()
    w.meeting = services.meeting_convene(
        acting_user=w.coord,
        held_at=now + timedelta(days=1),
        title="田中さん世帯",
        access_from=now - timedelta(hours=1),
        access_until=now + timedelta(days=14),
        members=[w.other_worker, w.ssw],
    )
    w.url = reverse("meetings:meeting_detail", args=[w.meeting.pk])
    w.api_url = f"/api/v1/support-meetings/{w.meeting.pk}/"
    return w


def _share(w, **choice):
    return services.briefing_share(meeting=w.meeting, case=w.case, acting_user=fresh(w.coordinator), **choice)


def _pledged(w, *users):
    for user in users:
        services.pledge_acknowledge(meeting=w.meeting, acting_user=user)


def _everything_served(client, w, user) -> str:
    """The meeting as `user` gets it: the page, the print view and the API, as one text."""
    client.force_login(user)
    page = client.get(w.url)
    printed = client.get(w.url, {"print": "1"})
    api = api_as(user).get(w.api_url)
    assert page.status_code == printed.status_code == api.status_code == 200
    return page.content.decode() + printed.content.decode() + json.dumps(api.json(), ensure_ascii=False)


# --- Finding 3: the household's composition without another member's health --------------------------


def test_sharing_the_household_carries_no_other_members_health_note_to_any_member(client, tanaka):
    """The exact regression: 「世帯の構成」 shared with a meeting that has an external member (the first
    format's section name, which the old code also took) no longer carries the mother's diagnosis —
    neither to the external member nor to a staff member, on the page, in print or through the API."""
    _share(tanaka, sections=["household"])
    _pledged(tanaka, tanaka.other_worker, tanaka.ssw)
    for user in (tanaka.ssw, tanaka.other_worker):
        served = _everything_served(client, tanaka, user)
        assert DIAGNOSIS not in served and "母" in served
    assert DIAGNOSIS not in _everything_served(client, tanaka, tanaka.coordinator)


def test_a_members_health_is_shared_only_when_chosen_for_that_member(client, tanaka):
    mother = tanaka.mother.pk
    # 病歴 chosen for the case covers its 本人, not the mother
    _share(tanaka, categories=["household", "health"], members={mother: []})
    _pledged(tanaka, tanaka.other_worker)
    assert DIAGNOSIS not in _everything_served(client, tanaka, tanaka.other_worker)
    tanaka.meeting.briefings.all().delete()
    _share(tanaka, categories=["household"], members={mother: ["health"]})
    served = _everything_served(client, tanaka, tanaka.other_worker)
    assert f"{DIAGNOSIS}（月2回）" in served and "服薬の管理が難しい" in served
    assert "090-1111-2222" not in served  # whereabouts never, whatever was chosen


def test_a_member_left_out_does_not_appear_and_the_host_shares_only_what_they_may_see(tanaka):
    briefing = _share(tanaka, categories=["household"], members={})
    assert "田中 洋子" not in json.dumps(briefing.sections, ensure_ascii=False)
    # the host has no basis of their own on the other member registered by the worker's agency
    brother = case_services.person_register(
        acting_user=tanaka.assigned, name="田中 翔", birth_date=date(2012, 1, 5), notes="発達障害の診断あり"
    )
    case_services.household_member_add(
        acting_user=tanaka.assigned, household=tanaka.case.household, person=brother, relationship="弟"
    )
    options = {o.person_id: o for o in briefings.member_options(fresh(tanaka.coordinator), tanaka.case)}
    assert options[brother.pk].available == frozenset()
    assert options[tanaka.mother.pk].available == {"basic", "issues", "health"}
    tanaka.meeting.briefings.all().delete()
    briefing = _share(tanaka, categories=["household"], members={brother.pk: ["health", "basic"]})
    text = json.dumps(briefing.sections, ensure_ascii=False)
    assert "弟 田中 翔" in text and "発達障害" not in text and "歳" not in text.split("弟 田中 翔")[1]
    assert briefing.choice["members"] == {str(brother.pk): ["household"]}


# --- The preview is what is frozen and served ---------------------------------------------------------


def test_the_preview_shows_both_versions_and_they_are_what_is_frozen_and_served(client, tanaka):
    mother = tanaka.mother.pk
    url = reverse("meetings:meeting_briefing", args=[tanaka.meeting.pk])
    form = {
        "case": tanaka.case.pk,
        "categories": ["basic", "household", "issues"],
        f"member_{mother}": "on",
        f"member_{mother}_categories": ["basic"],
    }
    client.force_login(tanaka.coordinator)
    page = client.post(url, {**form, "preview": "1"}).content.decode()
    assert "職員の構成員" in page and "外部の構成員" in page
    digest = re.search(r'name="previewed" value="([0-9a-f]+)"', page).group(1)
    _, rendering = briefings.briefing_preview(
        meeting=tanaka.meeting,
        case=case_services_get(tanaka),
        acting_user=fresh(tanaka.coordinator),
        choice=briefings.BriefingChoice(frozenset(form["categories"]), {mother: frozenset({"basic"})}),
    )
    assert rendering.digest == digest
    assert "年齢" in page and "年代" in page  # the staff and the external version side by side
    assert client.post(url, {**form, "previewed": digest, "share": "1"}).status_code == 302
    briefing = tanaka.meeting.briefings.get()
    assert (briefing.sections, briefing.external_sections) == (rendering.staff, rendering.external)
    _pledged(tanaka, tanaka.other_worker, tanaka.ssw)
    for user, expected in ((tanaka.other_worker, rendering.staff), (tanaka.ssw, rendering.external)):
        served = api_as(user).get(tanaka.api_url).json()["briefings"][0]["sections"]
        assert served == {k: v for k, v in expected.items() if k != "format"}
    host = api_as(tanaka.coordinator).get(tanaka.api_url).json()["briefings"][0]
    assert host["external_sections"] == {k: v for k, v in rendering.external.items() if k != "format"}


def case_services_get(w):
    from cases.selectors import case_get_for_user

    return case_get_for_user(fresh(w.coordinator), w.case.pk)


def test_content_changed_since_the_preview_is_not_shared(tanaka):
    choice = briefings.BriefingChoice(frozenset({"progress"}))
    _, rendering = briefings.briefing_preview(
        meeting=tanaka.meeting,
        case=case_services_get(tanaka),
        acting_user=fresh(tanaka.coordinator),
        choice=choice,
    )
    case_services.progress_note_add(
        case=tanaka.case, acting_user=tanaka.assigned, kind="phone", content="プレビューの後に書いた経過"
    )
    with pytest.raises(ValidationError, match="プレビューの後に共有する内容が変わりました"):
        _share(tanaka, categories=["progress"], previewed=rendering.digest)
    assert not tanaka.meeting.briefings.exists()
    _, rendering = briefings.briefing_preview(
        meeting=tanaka.meeting,
        case=case_services_get(tanaka),
        acting_user=fresh(tanaka.coordinator),
        choice=choice,
    )
    briefing = _share(tanaka, categories=["progress"], previewed=rendering.digest)
    assert "プレビューの後に書いた経過" in json.dumps(briefing.sections, ensure_ascii=False)


def test_external_members_get_the_pseudonymised_version_by_default(client, tanaka):
    briefing = _share(
        tanaka, categories=["basic", "household", "issues"], members={tanaka.mother.pk: ["basic"]}
    )
    external = json.dumps(briefing.external_sections, ensure_ascii=False)
    assert briefing.external_sections["case_number"] == "" and tanaka.case.number not in external
    for identifying in ("田中", "健太", "洋子", "1234567890", "090-1111-2222", "1978", "昭和", "平成"):
        assert identifying not in external, identifying
    assert "40歳代" in external and "10歳代" in external and "〇〇さんの通院に〇〇さんが付き添い" in external
    staff = json.dumps(briefing.sections, ensure_ascii=False)
    assert tanaka.case.number in staff and "田中 洋子" in staff and f"{tanaka.mother.age}歳" in staff
    _pledged(tanaka, tanaka.ssw)
    served = _everything_served(client, tanaka, tanaka.ssw)
    assert tanaka.case.number not in served and "健太" not in served and "本人（仮名）" in served
    # the host may decide otherwise, for external members too
    tanaka.meeting.briefings.all().delete()
    named = _share(tanaka, categories=["household"], external_named=True)
    assert named.external_sections["case_number"] == tanaka.case.number


# --- Finding 14a: before the pledge, nothing names the case -------------------------------------------


def test_before_the_pledge_a_member_sees_the_date_and_host_only(client, tanaka):
    _share(tanaka, categories=["household"])
    client.force_login(tanaka.ssw)
    listing = client.get(reverse("meetings:meeting_list")).content.decode()
    pledge = client.get(reverse("meetings:meeting_pledge", args=[tanaka.meeting.pk])).content.decode()
    api = api_as(tanaka.ssw)
    awaiting = json.dumps(api.get("/api/v1/support-meetings/awaiting-pledge/").json(), ensure_ascii=False)
    statement = json.dumps(api.get(f"{tanaka.api_url}pledge/").json(), ensure_ascii=False)
    for text in (listing, pledge, awaiting, statement):
        assert "田中" not in text and "C-0" not in text
        assert tanaka.coord.get_full_name() in text
    assert "守秘義務の確認" in listing and "守秘義務" in pledge
    assert client.get(tanaka.url).status_code == 404 and api.get(tanaka.api_url).status_code == 404
    # reminders go to pledged members only, and name the date, not the title
    _pledged(tanaka, tanaka.other_worker)
    with time_machine.travel(tanaka.meeting.access_until - timedelta(days=1)):
        services.meeting_window_reminders()
    notices = Notification.objects.filter(kind="meeting_window")
    assert [n.recipient for n in notices] == [tanaka.other_worker]
    to_members = Notification.objects.filter(recipient__in=[tanaka.ssw, tanaka.other_worker])
    assert to_members.exists() and all("田中" not in n.title and "C-0" not in n.title for n in to_members)


# --- The access window -------------------------------------------------------------------------------


def test_a_window_wholly_in_the_past_is_refused_when_convening(client, tanaka):
    now = timezone.now()
    with pytest.raises(ValidationError) as refused:
        services.meeting_convene(
            acting_user=tanaka.coord,
            held_at=now - timedelta(days=3),
            access_from=now - timedelta(days=3),
            access_until=now - timedelta(minutes=1),
            members=[],
        )
    assert "access_until" in refused.value.message_dict
    client.force_login(tanaka.coordinator)
    past = timezone.localtime() - timedelta(days=2)
    page = client.post(
        reverse("meetings:meeting_new"),
        {
            "held_at": past.strftime("%Y-%m-%dT%H:%M"),
            "title": "第4回",
            "access_from": past.strftime("%Y-%m-%dT%H:%M"),
            "access_until": (past + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "members": [tanaka.other_worker.pk],
        },
    )
    assert page.status_code == 200 and "閲覧期間がすべて過去です" in page.content.decode()


def test_the_host_shortens_and_extends_the_window_with_the_reason_in_history(client, tanaka):
    _share(tanaka, categories=["household"])
    _pledged(tanaka, tanaka.other_worker)
    meeting = tanaka.meeting
    new_end = timezone.now() + timedelta(days=2)
    services.meeting_window_change(
        meeting=meeting,
        acting_user=fresh(tanaka.coordinator),
        access_from=meeting.access_from,
        access_until=new_end,
        reason="会議が前倒しになった",
    )
    meeting.refresh_from_db()
    assert meeting.access_until == new_end
    change = meeting.history.first()
    assert change.history_user == tanaka.coordinator and change.history_change_reason.endswith(
        "会議が前倒しになった"
    )
    grants = AccessGrant.objects.filter(
        object_id=meeting.pk, content_type__model="supportmeeting", user=tanaka.other_worker
    )
    assert [g.ends_at for g in grants.valid()] == [new_end] and grants.count() == 2
    with time_machine.travel(new_end + timedelta(minutes=1)):
        client.force_login(tanaka.other_worker)
        assert client.get(tanaka.url).status_code == 404
        later = new_end + timedelta(days=7)
        services.meeting_window_change(
            meeting=meeting,
            acting_user=fresh(tanaka.coordinator),
            access_from=meeting.access_from,
            access_until=later,
            reason="続きの協議",
        )
        assert client.get(tanaka.url).status_code == 200  # extended after it had ended: open again
    client.force_login(tanaka.coordinator)
    page = client.get(tanaka.url).content.decode()
    assert "会議が前倒しになった" in page and "続きの協議" in page
    with pytest.raises(ValidationError, match="理由"):
        services.meeting_window_change(
            meeting=meeting,
            acting_user=fresh(tanaka.coordinator),
            access_from=meeting.access_from,
            access_until=later,
            reason=" ",
        )


def test_a_member_who_left_their_agency_does_not_get_the_meeting_back_with_a_new_window(tanaka):
    core_services.membership_end(membership=tanaka.other_worker.memberships.get(), acting_user=None)
    services.meeting_window_change(
        meeting=tanaka.meeting,
        acting_user=fresh(tanaka.coordinator),
        access_from=tanaka.meeting.access_from,
        access_until=tanaka.meeting.access_until + timedelta(days=3),
        reason="延長",
    )
    valid = AccessGrant.objects.valid().filter(
        object_id=tanaka.meeting.pk, content_type__model="supportmeeting"
    )
    assert set(valid.values_list("user__username", flat=True)) == {"coordinator", "ssw"}


def test_the_window_through_the_api_is_the_hosts_alone(tanaka):
    _pledged(tanaka, tanaka.other_worker)
    url = f"{tanaka.api_url}window/"
    body = {
        "access_from": tanaka.meeting.access_from.isoformat(),
        "access_until": (tanaka.meeting.access_until + timedelta(days=1)).isoformat(),
        "reason": "延長",
    }
    assert api_as(tanaka.other_worker).post(url, body, format="json").status_code == 403
    assert api_as(tanaka.outsider).post(url, body, format="json").status_code == 404
    assert api_as(tanaka.ssw).post(url, body, format="json").status_code == 404  # not pledged: nothing
    assert api_as(tanaka.coordinator).post(url, {**body, "reason": ""}, format="json").status_code == 400
    done = api_as(tanaka.coordinator).post(url, body, format="json")
    assert done.status_code == 200 and done.json()["access_until"]
    tanaka.meeting.refresh_from_db()
    assert tanaka.meeting.history.first().history_change_reason.endswith("延長")


# --- Personas: both sides ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "meeting_page", "briefing_page", "window"),
    [
        ("host", 200, 200, 302),
        ("pledged_member", 200, 403, 403),
        ("unpledged_member", 404, 404, 404),
        ("member_after_window", 404, 404, 404),
        ("outsider", 404, 404, 404),
    ],
)
def test_who_reads_the_meeting_and_who_shares_or_moves_its_window(
    client, tanaka, persona, meeting_page, briefing_page, window
):
    _share(tanaka, categories=["household"])
    user = {
        "host": tanaka.coordinator,
        "pledged_member": tanaka.other_worker,
        "unpledged_member": tanaka.ssw,
        "member_after_window": tanaka.other_worker,
        "outsider": tanaka.outsider,
    }[persona]
    _pledged(tanaka, tanaka.other_worker)
    moment = tanaka.meeting.access_until + timedelta(minutes=1) if persona == "member_after_window" else None
    with time_machine.travel(moment or timezone.now()):
        client.force_login(user)
        assert client.get(tanaka.url).status_code == meeting_page
        briefing_url = reverse("meetings:meeting_briefing", args=[tanaka.meeting.pk])
        assert client.get(briefing_url, {"case": tanaka.case.pk}).status_code == briefing_page
        moved = client.post(
            reverse("meetings:meeting_window", args=[tanaka.meeting.pk]),
            {"access_from": "2026-01-01T09:00", "access_until": "2030-01-01T09:00", "reason": "延長"},
        )
        assert moved.status_code == window
    if persona != "host":
        with pytest.raises(PermissionDenied):
            services.briefing_share(
                meeting=tanaka.meeting, case=tanaka.case, acting_user=fresh(user), categories=["issues"]
            )


# --- Briefings frozen before --------------------------------------------------------------------------

FIRST_FORMAT = {
    "case_number": "C-000007",
    "person": "田中 健太",
    "summary": {"主訴": "母の通院", "見立て": "田中 洋子さんの通院に付き添う"},
    "household": [
        {"続柄": "本人", "年齢": 16, "氏名": "田中 健太", "役割": "", "本人の課題": "不登校気味"},
        {"続柄": "母", "年齢": 47, "氏名": "田中 洋子", "役割": "キーパーソン", "本人の課題": DIAGNOSIS},
    ],
    "issues": ["介護"],
    "risks": [],
}


def test_briefings_frozen_in_the_first_format_stay_readable_without_another_members_health():
    migration = importlib.import_module("meetings.migrations.0007_briefing_choice_and_renderings")
    for pseudonymised in (False, True):
        converted = briefings.from_v1(FIRST_FORMAT, pseudonymised=pseudonymised)
        assert converted == migration._convert(FIRST_FORMAT, pseudonymised)  # the migration's frozen copy
        text = json.dumps(converted, ensure_ascii=False)
        assert DIAGNOSIS not in text and "不登校気味" in text and "キーパーソン" in text
        assert ("田中" in text) is not pseudonymised and ("C-000007" in text) is not pseudonymised
    assert "40歳代" in json.dumps(briefings.from_v1(FIRST_FORMAT, pseudonymised=True), ensure_ascii=False)
