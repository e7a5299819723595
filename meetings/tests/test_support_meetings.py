"""支援会議 (社会福祉法 第106条の6): 守秘義務 first, the frozen briefing only, inside the window."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.tests.conftest import fresh
from jusou.models import AccessGrant, ReadLog, Role
from jusou.staff import services as core_services
from jusou.tests.factories import UserFactory, staff_user
from meetings import services
from meetings.models import ConfidentialityPledge, MeetingBriefing


@pytest.fixture
def meeting(referred):
    """A 支援会議 with the other agency's worker as member and the referred case on the agenda."""
    w = referred
    now = timezone.now()
    w.meeting = services.meeting_convene(
        acting_user=fresh(w.coordinator),
        held_at=now,
        access_from=now - timedelta(hours=1),
        access_until=now + timedelta(days=14),
        members=[w.other_worker],
    )
    w.briefing = services.briefing_share(
        meeting=w.meeting, case=w.case, acting_user=fresh(w.coordinator), categories=["household", "issues"]
    )
    w.url = reverse("meetings:meeting_detail", args=[w.meeting.pk])
    return w


def test_a_member_sees_nothing_before_acknowledging_then_the_briefing(client, meeting):
    client.force_login(meeting.other_worker)
    assert client.get(meeting.url).status_code == 404  # before acknowledging: nothing
    pledge_url = reverse("meetings:meeting_pledge", args=[meeting.meeting.pk])
    before = client.get(pledge_url).content.decode()
    assert "守秘義務の確認" in before and "山田 花子" not in before and "複合課題" not in before
    assert pledge_url in client.get(reverse("meetings:meeting_list")).content.decode()
    client.post(pledge_url)
    pledge = ConfidentialityPledge.objects.get(user=meeting.other_worker)
    assert pledge.acknowledged_at and "第106条の6" in pledge.statement
    after = client.get(meeting.url).content.decode()
    assert "山田 花子" in after and "複合課題" in after
    assert ReadLog.objects.filter(
        user=meeting.other_worker, object_id=meeting.meeting.pk, basis="support_meeting"
    ).exists()


def test_a_member_never_reaches_the_live_case(client, meeting):
    services.pledge_acknowledge(meeting=meeting.meeting, acting_user=meeting.other_worker)
    client.force_login(meeting.other_worker)
    assert client.get(meeting.case.get_absolute_url()).status_code == 404


def test_the_briefing_is_frozen_as_shared(client, meeting):
    from cases import services as case_services

    case_services.assessment_record(
        case=meeting.case,
        acting_user=fresh(meeting.coordinator),
        issues=[],
        issues_detail="新しい課題",
        formulation="共有後に書いた見立て",
    )
    services.pledge_acknowledge(meeting=meeting.meeting, acting_user=meeting.other_worker)
    client.force_login(meeting.other_worker)
    html = client.get(meeting.url).content.decode()
    assert "共有後に書いた見立て" not in html and "複合課題" in html


def test_after_the_window_the_member_gets_404(client, meeting):
    services.pledge_acknowledge(meeting=meeting.meeting, acting_user=meeting.other_worker)
    with time_machine.travel(meeting.meeting.access_until + timedelta(minutes=1)):
        client.force_login(meeting.other_worker)
        assert client.get(meeting.url).status_code == 404
        assert meeting.url not in client.get(reverse("meetings:meeting_list")).content.decode()


def test_a_colleague_of_a_member_gets_404_everywhere(client, meeting):
    colleague = staff_user(Role.WORKER, fresh(meeting.other_worker).agencies[0])
    services.pledge_acknowledge(meeting=meeting.meeting, acting_user=meeting.other_worker)
    client.force_login(colleague)
    assert client.get(meeting.url).status_code == 404
    assert meeting.url not in client.get(reverse("meetings:meeting_list")).content.decode()
    assert client.post(reverse("meetings:meeting_pledge", args=[meeting.meeting.pk])).status_code == 404
    assert not ConfidentialityPledge.objects.filter(user=colleague).exists()


def test_another_meetings_member_sees_nothing_of_this_one(client, meeting):
    now = timezone.now()
    other_meeting = services.meeting_convene(
        acting_user=fresh(meeting.coordinator),
        held_at=now,
        access_from=now,
        access_until=now + timedelta(days=1),
        members=[meeting.outsider],
    )
    services.pledge_acknowledge(meeting=other_meeting, acting_user=meeting.outsider)
    client.force_login(meeting.outsider)
    assert client.get(reverse("meetings:meeting_detail", args=[other_meeting.pk])).status_code == 200
    assert client.get(meeting.url).status_code == 404


def test_external_member_with_a_meeting_only_account(client, meeting):
    minsei = UserFactory(username="minsei_d", last_name="民生", first_name="委員")
    core_services.membership_grant(
        user=minsei, agency=None, role=Role.MEETING_MEMBER, acting_user=meeting.coordinator
    )
    services.meeting_member_add(meeting=meeting.meeting, user=minsei, acting_user=fresh(meeting.coordinator))
    services.pledge_acknowledge(meeting=meeting.meeting, acting_user=minsei)
    client.force_login(minsei)
    assert client.get(meeting.url).status_code == 200
    assert client.get(meeting.case.get_absolute_url()).status_code == 403  # no case pages at all
    assert client.get(reverse("cases:person_search"), {"q": "やまだ"}).status_code == 403


def test_pseudonymised_briefing_hides_names(client, meeting):
    from cases.tests.conftest import record_case

    other = record_case(meeting.assigned, name="川口 次郎", kana="かわぐち じろう")
    from cases import services as case_services

    case_services.assessment_record(
        case=other, acting_user=meeting.assigned, issues=[], issues_detail="x", formulation="y"
    )
    case_services.case_transition(
        case=other, to_status="referred", acting_user=meeting.assigned, reason="複合"
    )
    services.briefing_share(
        meeting=meeting.meeting,
        case=other,
        acting_user=fresh(meeting.coordinator),
        categories=["household"],
        pseudonymised=True,
    )
    services.pledge_acknowledge(meeting=meeting.meeting, acting_user=meeting.other_worker)
    client.force_login(meeting.other_worker)
    assert "川口" not in client.get(meeting.url).content.decode()


def test_only_the_host_shares_and_records_decisions(meeting):
    with pytest.raises(PermissionDenied):
        services.meeting_decision_record(
            briefing=meeting.briefing, acting_user=meeting.other_worker, kind="watch", text="x"
        )
    services.meeting_decision_record(
        briefing=meeting.briefing,
        acting_user=fresh(meeting.coordinator),
        kind="outreach",
        text="長男へのアウトリーチを開始",
    )
    assert meeting.briefing.decisions.get().get_kind_display() == "アウトリーチ開始"


def test_host_convenes_and_shares_in_the_browser(client, referred):
    client.force_login(referred.coordinator)
    now = timezone.localtime()
    response = client.post(
        reverse("meetings:meeting_new"),
        {
            "held_at": now.strftime("%Y-%m-%dT%H:%M"),
            "title": "第3回 支援会議",
            "acting_body": "community_care",
            "access_from": now.strftime("%Y-%m-%dT%H:%M"),
            "access_until": (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
            "members": [referred.other_worker.pk],
        },
    )
    assert response.status_code == 302
    url = response.url
    pk = int(url.rstrip("/").split("/")[-1])
    briefing_url = reverse("meetings:meeting_briefing", args=[pk])
    choice = {"case": referred.case.pk, "categories": ["issues"]}
    preview = client.post(briefing_url, {**choice, "preview": "1"}).content.decode()
    digest = re.search(r'name="previewed" value="([0-9a-f]+)"', preview).group(1)
    stale = client.post(
        briefing_url, {**choice, "categories": ["issues", "household"], "previewed": digest, "share": "1"}
    )
    assert "プレビューの後に共有する内容が変わりました" in stale.content.decode()
    assert not MeetingBriefing.objects.filter(meeting_id=pk).exists()
    client.post(briefing_url, {**choice, "previewed": digest, "share": "1"})
    assert MeetingBriefing.objects.filter(meeting_id=pk, case=referred.case).exists()
    bad = client.get(briefing_url, {"case": referred.case.pk + 999}, follow=True)
    assert "そのケースは見つかりません" in bad.content.decode()


def test_meeting_page_queries_do_not_grow_with_agenda_cases(client, meeting, django_assert_max_num_queries):
    client.force_login(meeting.coordinator)
    with django_assert_max_num_queries(25):
        assert client.get(meeting.url).status_code == 200


def test_meeting_page_queries_do_not_grow_with_members(client, meeting):
    """Each member is shown with their agencies: read for all members at once, not once per member."""
    client.force_login(meeting.coordinator)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            page = client.get(meeting.url)
        assert page.status_code == 200
        return len(captured), page.content.decode()

    one, _ = queries()
    for number in range(3):
        member = staff_user(first_name=f"構成員{number}", last_name="追加")
        services.meeting_member_add(
            meeting=meeting.meeting, user=member, acting_user=fresh(meeting.coordinator)
        )
    four, page = queries()
    assert four == one
    assert page.count("追加 構成員") == 3 and f"（{member.agencies[0].name}）" in page


def test_only_a_coordinator_reaches_the_convene_page(client, referred):
    new = reverse("meetings:meeting_new")
    client.force_login(referred.other_worker)
    assert client.get(new).status_code == 403
    assert new not in client.get(reverse("meetings:meeting_list")).content.decode()
    client.force_login(referred.coordinator)
    page = client.get(new).content.decode()
    assert "構成員" in page and str(referred.other_worker) in page
    assert new in client.get(reverse("meetings:meeting_list")).content.decode()


def test_the_meeting_list_is_paged_in_a_fixed_number_of_queries(
    client, referred, django_assert_max_num_queries
):
    """The convene form (every staff member with their agencies) is on its own page; the list pages
    the host's meetings 20 at a time, newest first, whatever their number."""
    now = timezone.now()
    for day in range(23):
        services.meeting_convene(
            acting_user=fresh(referred.coordinator),
            held_at=now - timedelta(days=day),
            title=f"第{day}回",
            access_from=now - timedelta(days=day),
            access_until=now + timedelta(days=7),
            members=[],
        )
    client.force_login(referred.coordinator)
    with django_assert_max_num_queries(12):
        first = client.get(reverse("meetings:meeting_list")).content.decode()
    assert "（23件）" in first and "第0回" in first and "第22回" not in first
    assert "第22回" in client.get(reverse("meetings:meeting_list") + "?page=2").content.decode()


def test_the_convene_page_reads_every_staff_member_in_one_query(client, referred, django_assert_num_queries):
    client.force_login(referred.coordinator)
    client.get(reverse("meetings:meeting_new"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("meetings:meeting_new"))
    for _ in range(15):
        staff_user(Role.WORKER)
    with django_assert_num_queries(len(few)):
        page = client.get(reverse("meetings:meeting_new")).content.decode()
    assert page.count('name="members"') >= 15


def test_the_awaiting_list_shows_the_meeting_to_its_member_only_and_only_inside_the_window(client, meeting):
    """The list's 「守秘義務の確認が必要」 rows: the member before acknowledging; not a colleague of the
    member, not the host, not the member once acknowledged or after the window."""
    pledge_url = reverse("meetings:meeting_pledge", args=[meeting.meeting.pk])
    list_url = reverse("meetings:meeting_list")
    client.force_login(meeting.other_worker)
    assert pledge_url in client.get(list_url).content.decode()
    colleague = staff_user(Role.WORKER, fresh(meeting.other_worker).agencies[0])
    client.force_login(colleague)
    assert pledge_url not in client.get(list_url).content.decode()
    client.force_login(meeting.coordinator)
    assert pledge_url not in client.get(list_url).content.decode()
    with time_machine.travel(meeting.meeting.access_until + timedelta(minutes=1)):
        client.force_login(meeting.other_worker)
        assert pledge_url not in client.get(list_url).content.decode()
    services.pledge_acknowledge(meeting=meeting.meeting, acting_user=meeting.other_worker)
    client.force_login(meeting.other_worker)
    page = client.get(list_url).content.decode()
    assert pledge_url not in page and meeting.url in page


def test_a_staff_member_who_leaves_their_agency_loses_the_meeting_an_external_member_keeps_it(meeting):
    minsei = UserFactory(username="minsei_e", last_name="民生", first_name="委員")
    core_services.membership_grant(
        user=minsei, agency=None, role=Role.MEETING_MEMBER, acting_user=meeting.coordinator
    )
    services.meeting_member_add(meeting=meeting.meeting, user=minsei, acting_user=fresh(meeting.coordinator))
    grants = AccessGrant.objects.filter(object_id=meeting.meeting.pk, content_type__model="supportmeeting")
    on_behalf_of = {g.user: g.on_behalf_of for g in grants}
    assert on_behalf_of == {
        meeting.coordinator: fresh(meeting.coordinator).agencies[0],
        meeting.other_worker: fresh(meeting.other_worker).agencies[0],
        minsei: None,  # belongs to no agency: the grant is bounded by the window alone
    }
    core_services.membership_end(membership=meeting.other_worker.memberships.get(), acting_user=None)
    core_services.membership_end(membership=minsei.memberships.get(), acting_user=None)
    assert set(grants.valid().values_list("user__username", flat=True)) == {"coordinator", "minsei_e"}


def test_convening_form_marks_external_members(client, meeting):
    """The host sees who is external (and will get the pseudonymised briefing): 「氏名 ／ 外部の構成員」,
    while staff show their agency."""
    minsei = UserFactory(username="minsei_e", last_name="佐藤", first_name="和子")
    core_services.membership_grant(
        user=minsei, agency=None, role=Role.MEETING_MEMBER, acting_user=meeting.coordinator
    )
    client.force_login(meeting.coordinator)
    page = client.get(reverse("meetings:meeting_new")).content.decode()
    assert "佐藤 和子 ／ 外部の構成員" in page
    other = meeting.other_worker
    assert f"{other.get_full_name()} ／ {other.agencies[0].name}" in page
    assert f"{other.get_full_name()} ／ {other.agencies[0].name} ／ 外部の構成員" not in page
