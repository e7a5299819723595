"""Who sees a case, its people and its household — and who gets 404, exactly like a missing case."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import selectors, services
from cases.tests.conftest import fresh
from jusou import tasks
from jusou.access import grants as access
from jusou.models import AccessBasis, AccessGrant, ReadLog

SEE = ["assigned", "colleague", "supervisor"]
DONT = ["other_worker", "outsider", "coordinator"]


@pytest.mark.parametrize("persona", SEE)
def test_owner_agency_and_supervisor_see_the_case_detail(client, world, persona):
    client.force_login(world.persona(persona))
    response = client.get(reverse("cases:case_detail", args=[world.case.pk]))
    assert response.status_code == 200
    assert "山田 花子" in response.content.decode()


@pytest.mark.parametrize("persona", DONT)
def test_others_get_404_for_case_detail_the_same_as_a_missing_case(client, world, persona):
    client.force_login(world.persona(persona))
    refused = client.get(reverse("cases:case_detail", args=[world.case.pk]))
    missing = client.get(reverse("cases:case_detail", args=[world.case.pk + 999]))
    assert refused.status_code == missing.status_code == 404
    assert "山田" not in refused.content.decode()
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub("", refused.content.decode()) == token.sub("", missing.content.decode())


@pytest.mark.parametrize(("persona", "sees"), [(p, True) for p in SEE] + [(p, False) for p in DONT])
def test_case_list_shows_the_case_only_to_those_with_a_basis(client, world, persona, sees):
    client.force_login(world.persona(persona))
    html = client.get(reverse("cases:case_list"), {"scope": "all"}).content.decode()
    assert ("山田 花子" in html) is sees
    assert (world.case.number in html) is sees


@pytest.mark.parametrize(("persona", "sees"), [(p, True) for p in SEE] + [(p, False) for p in DONT])
def test_search_finds_the_person_only_with_a_basis(client, world, persona, sees):
    client.force_login(world.persona(persona))
    html = client.get(reverse("cases:person_search"), {"q": "やまだ"}).content.decode()
    assert ("山田 花子" in html) is sees
    assert ("山田 一郎" in html) is sees  # household member, seen through the case only


@pytest.mark.parametrize(("persona", "status"), [(p, 200) for p in SEE] + [(p, 404) for p in DONT])
def test_household_and_person_pages(client, world, persona, status):
    client.force_login(world.persona(persona))
    assert client.get(reverse("cases:household_detail", args=[world.household.pk])).status_code == status
    assert client.get(reverse("cases:person_detail", args=[world.son.pk])).status_code == status


def test_household_panel_shows_only_the_members_cases_the_user_may_see(client, world):
    # The son has a case of his own at another agency; the mother's worker must not learn of it.
    other_case = services.case_open(acting_user=world.other_worker, person=world.son)
    client.force_login(world.assigned)
    html = client.get(reverse("cases:case_detail", args=[world.case.pk])).content.decode()
    assert "山田 一郎" in html
    assert other_case.number not in html
    client.force_login(world.supervisor)
    html = client.get(reverse("cases:case_detail", args=[world.case.pk])).content.decode()
    assert other_case.number in html


@pytest.mark.parametrize(
    ("persona", "count"), [("assigned", 1), ("colleague", 0), ("other_worker", 0), ("outsider", 0)]
)
def test_dashboard_counts_only_the_users_own_visible_cases(client, world, persona, count):
    client.force_login(world.persona(persona))
    counts = selectors.case_counts_for_dashboard(fresh(world.persona(persona)))
    assert counts["open"] == count
    html = client.get("/").content.decode()
    assert f'<span class="stat">{count}</span> 件 対応中' in html


def test_colleague_may_write_but_supervisor_only_reads(client, world):
    url = reverse("cases:note_add", args=[world.case.pk])
    data = {
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "kind": "phone",
        "content": "電話で状況確認",
    }
    client.force_login(world.colleague)
    assert client.post(url, data).status_code == 302
    client.force_login(world.supervisor)
    assert client.post(url, data).status_code == 403
    client.force_login(world.outsider)
    assert client.post(url, data).status_code == 404
    assert world.case.notes.count() == 1


def test_a_revoked_grant_ends_access_at_once(client, world):
    colleague_agency = fresh(world.colleague).agencies[0]
    client.force_login(world.colleague)
    assert client.get(reverse("cases:case_detail", args=[world.case.pk])).status_code == 200
    access.access_revoke_for(
        obj=world.case, acting_user=world.supervisor, reason="テスト", agency=colleague_agency
    )
    assert client.get(reverse("cases:case_detail", args=[world.case.pk])).status_code == 404


def test_an_expired_grant_gives_no_access_even_before_any_clean_up(client, world):
    access.access_grant(
        obj=world.case,
        user=world.outsider,
        basis=AccessBasis.CONSENT,
        acting_user=world.assigned,
        ends_at=timezone.now() + timedelta(hours=1),
    )
    client.force_login(world.outsider)
    assert client.get(reverse("cases:case_detail", args=[world.case.pk])).status_code == 200
    grant = AccessGrant.objects.get(user=world.outsider)
    AccessGrant.objects.filter(pk=grant.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    assert client.get(reverse("cases:case_detail", args=[world.case.pk])).status_code == 404
    assert tasks.expire_access_grants() == 1  # beat's tidy-up removes the guardian row afterwards
    assert not world.case.caseuserobjectpermission_set.filter(user=world.outsider).exists()


def test_leaving_the_agency_ends_agency_wide_access(client, world):
    from jusou.staff import services as core

    client.force_login(world.colleague)
    core.membership_end(membership=world.colleague.memberships.get(), acting_user=world.supervisor)
    # No role any more: the case pages refuse them as a whole (403), and nothing is visible.
    assert client.get(reverse("cases:case_detail", args=[world.case.pk])).status_code == 403
    assert not selectors.cases_visible_to(fresh(world.colleague)).exists()


def test_every_grant_records_basis_grantor_and_time(world):
    grants = AccessGrant.objects.filter(object_id=world.case.pk)
    assert {g.basis for g in grants} == {AccessBasis.ASSIGNMENT}
    assert all(g.granted_by == world.assigned and g.starts_at for g in grants)
    assert {(g.user_id, g.agency_id, g.permission) for g in grants} >= {
        (world.assigned.pk, None, "view"),
        (world.assigned.pk, None, "change"),
    }


def test_reads_and_searches_are_logged_with_their_basis(client, world):
    client.force_login(world.colleague)
    client.get(reverse("cases:case_detail", args=[world.case.pk]))
    client.get(reverse("cases:person_search"), {"q": "やまだ"})
    client.force_login(world.supervisor)
    client.get(reverse("cases:case_detail", args=[world.case.pk]))
    logs = list(ReadLog.objects.order_by("pk"))
    assert [(log.user, log.action, log.basis) for log in logs] == [
        (world.colleague, "view", AccessBasis.ASSIGNMENT),
        (world.colleague, "search", ""),
        (world.supervisor, "view", AccessBasis.SUPERVISOR),
    ]
    assert logs[0].object_id == world.case.pk
    assert "やまだ" in logs[1].detail


def test_refused_reads_are_logged_as_refused_never_as_a_view(client, world):
    """Issue 14 (finding 8): a refused attempt leaves a trace for the supervisors — as a refusal."""
    client.force_login(world.outsider)
    client.get(reverse("cases:case_detail", args=[world.case.pk]))
    rows = ReadLog.objects.filter(object_id=world.case.pk, user=world.outsider)
    assert [row.action for row in rows] == [ReadLog.Action.REFUSED]
