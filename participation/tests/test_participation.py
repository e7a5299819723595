import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from participation import services
from participation.models import PlacementStatus
from participation.tests.conftest import follow_up, place


def test_matching_proposes_only_active_accepting_hosts_that_fit(plan, hosts):
    names = {h.name for h in services.match_hosts(plan)}
    assert names == {"みどり子ども食堂", "東ボランティアセンター"}
    assert {h.name for h in services.match_hosts(plan, area=hosts["area"])} == {
        "みどり子ども食堂"
    }  # sub-areas count
    assert services.match_hosts(plan, day=4) == []


def test_a_host_at_capacity_is_not_proposed(world, plan, hosts):
    proposal = services.proposal_record(plan=plan, host=hosts["shokudo"], acting_user=world.assigned)
    services.proposal_answer(
        proposal=proposal, acting_user=world.assigned, person_choice="wants", host_agreement="agreed"
    )
    services.placement_start(proposal=proposal, acting_user=world.assigned, starts_on=timezone.localdate())
    assert "みどり子ども食堂" not in {h.name for h in services.match_hosts(plan)}
    with pytest.raises(ValidationError, match="受け入れの余裕がありません"):
        services.proposal_record(plan=plan, host=hosts["full"], acting_user=world.assigned)


def test_placement_needs_the_persons_wish_and_the_hosts_agreement(world, plan, hosts):
    proposal = services.proposal_record(plan=plan, host=hosts["east"], acting_user=world.assigned)
    with pytest.raises(ValidationError, match="本人が希望し、受け入れ先が了承した"):
        services.placement_start(
            proposal=proposal, acting_user=world.assigned, starts_on=timezone.localdate()
        )


def placed(world, plan, hosts):
    return place(world, plan, hosts["east"])


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        (["trial", "settled", "ended"], None),
        (["settled"], "「調整中」から「定着」"),
        (["trial", "arranging"], "「体験中」から「調整中」"),
    ],
)
def test_placement_transitions_allowed_and_refused(world, plan, hosts, path, refused):
    placement = placed(world, plan, hosts)
    try:
        for status in path:
            placement = services.placement_move(
                placement=placement,
                acting_user=world.assigned,
                to_status=status,
                reason="転居のため" if status == "ended" else "",
            )
    except ValidationError as error:
        assert refused and refused in error.messages[0]
    else:
        assert (
            refused is None
            and placement.status == PlacementStatus.ENDED
            and placement.end_reason == "転居のため"
        )


def test_ending_needs_a_reason_and_follow_ups_are_kept_with_both_sides(world, plan, hosts):
    placement = placed(world, plan, hosts)
    with pytest.raises(ValidationError, match="終了の理由"):
        services.placement_move(placement=placement, acting_user=world.assigned, to_status="ended")
    follow_up(world, placement, "person", "楽しく通えている")
    follow_up(world, placement, "host", "受け入れ先も助かっている")
    assert {f.with_whom for f in placement.follow_ups.all()} == {"person", "host"}


@pytest.mark.parametrize(
    ("persona", "status"),
    [("assigned", 200), ("colleague", 200), ("supervisor", 200), ("other_worker", 404), ("outsider", 404)],
)
def test_who_sees_a_participation_plan(client, world, plan, persona, status):
    client.force_login(world.persona(persona))
    assert client.get(plan.get_absolute_url()).status_code == status


def test_the_case_page_shows_the_plan_and_the_list_carries_no_sensitive_fields(client, world, plan):
    client.force_login(world.assigned)
    html = client.get(world.case.get_absolute_url()).content.decode()
    assert "参加支援プラン（" in html and "腰痛あり" not in html


def test_plan_page_queries_are_bounded(client, world, plan, hosts, django_assert_max_num_queries):
    for host in (hosts["shokudo"], hosts["east"]):
        services.proposal_record(plan=plan, host=host, acting_user=world.assigned)
    client.force_login(world.assigned)
    with django_assert_max_num_queries(20):
        assert client.get(plan.get_absolute_url() + "?match=1").status_code == 200


def test_a_new_host_is_developed_and_joins_the_register(client, world, hosts):
    client.force_login(world.assigned)
    client.post(
        reverse("participation:development"),
        {
            "new-name": "みどり商店街の八百屋",
            "new-kind": "work_experience",
            "new-area": hosts["area"].pk,
            "new-approached_on": "2026-11-01",
            "new-note": "店主が前向き",
        },
    )
    from participation.models import HostCandidate

    candidate = HostCandidate.objects.get()
    prefix = f"join-{candidate.pk}-"
    client.post(
        reverse("participation:candidate_join", args=[candidate.pk]),
        {
            f"{prefix}name": candidate.name,
            f"{prefix}kind": "work_experience",
            f"{prefix}area": hosts["area"].pk,
            f"{prefix}participation_kinds": ["work_trial"],
            f"{prefix}acceptance_conditions": "午前中のみ",
            f"{prefix}capacity": 1,
        },
    )
    candidate.refresh_from_db()
    assert candidate.resource.accepts_participants and candidate.resource.is_partner
    assert candidate.outcome == "accepted"


def test_demo_placement_at_a_kodomo_shokudo_is_settled(personas):
    from participation.models import Placement

    placement = Placement.objects.get(host__name="みどり中央子ども食堂")
    assert placement.status == PlacementStatus.SETTLED
    assert {f.with_whom for f in placement.follow_ups.all()} == {"person", "host"}


def test_deciding_the_placement_twice_places_once(client, world, plan, hosts):
    """「参加先に決める」 clicked twice (the same form sent twice, one token): one placement, and the
    second click is told so (jusou.once)."""
    import re

    from jusou.once import FIELD, REPLAYED
    from participation.models import Placement

    proposal = services.proposal_record(plan=plan, host=hosts["east"], acting_user=world.assigned)
    services.proposal_answer(
        proposal=proposal, acting_user=world.assigned, person_choice="wants", host_agreement="agreed"
    )
    client.force_login(world.assigned)
    page = client.get(reverse("participation:plan_detail", args=[plan.pk])).content.decode()
    url = reverse("participation:placement_start", args=[proposal.pk])
    form = re.search(rf'action="{url}".*?</form>', page, re.S).group(0)
    token = re.search(rf'name="{FIELD}" value="([\w-]+)"', form).group(1)
    data = {"starts_on": timezone.localdate().isoformat(), "frequency": "週1回", FIELD: token}
    assert client.post(url, data).status_code == 302
    again = client.post(url, data, follow=True)
    assert REPLAYED in [str(m) for m in again.context["messages"]]
    assert Placement.objects.filter(plan=plan).count() == 1
