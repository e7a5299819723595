"""Regressions from the persona walk of issue 19 (the community register), on the demo world."""

import pytest
from django.urls import reverse

from community.forms import ResourceForm
from community.models import NO_PERSONAL_DETAILS, NO_PERSONAL_INFO, CommunityResource
from jusou.models import ResourceGap, ResourceGapStatus

pytestmark = pytest.mark.django_db


def _gap(status):
    return ResourceGap.objects.filter(status=status).order_by("pk").first()


def _place(name):
    return CommunityResource.objects.get(name=name)


@pytest.mark.parametrize("persona", ["outsider", "intake_b", "intake_a"])
def test_a_worker_cannot_move_a_gap(client, personas, persona):
    gap = _gap(ResourceGapStatus.NOTED)
    client.force_login(personas[persona])
    response = client.post(reverse("community:gap_advance", args=[gap.pk]), {"to_status": "considering"})
    gap.refresh_from_db()
    assert response.status_code == 403 and gap.status == ResourceGapStatus.NOTED
    assert "相談支援包括化推進員と地域福祉担当" in response.content.decode()


@pytest.mark.parametrize("persona", ["coord", "chiiki"])
def test_the_keepers_of_the_register_move_a_gap(client, personas, persona):
    gap = _gap(ResourceGapStatus.NOTED)
    client.force_login(personas[persona])
    response = client.post(reverse("community:gap_advance", args=[gap.pk]), {"to_status": "considering"})
    gap.refresh_from_db()
    assert response.status_code == 302 and gap.status == ResourceGapStatus.CONSIDERING


@pytest.mark.parametrize("persona", ["outsider", "intake_b"])
def test_a_worker_cannot_link_a_place_they_may_not_change(client, personas, persona):
    gap, place = _gap(ResourceGapStatus.DEVELOPED), _place("中央通いの場「いきいき体操」")
    client.force_login(personas[persona])
    response = client.post(reverse("community:gap_link", args=[gap.pk]), {"resources": [place.pk]})
    assert response.status_code == 403 and not place.gaps_answered.filter(pk=gap.pk).exists()
    assert "この地域資源を更新できるのは" in response.content.decode()


def test_a_worker_links_a_place_their_agency_runs_and_a_keeper_links_any(client, personas):
    gap = _gap(ResourceGapStatus.DEVELOPED)
    own, other = _place("東こども食堂ひまわり"), _place("中央通いの場「いきいき体操」")
    client.force_login(personas["outsider"])
    assert (
        client.post(reverse("community:gap_link", args=[gap.pk]), {"resources": [own.pk]}).status_code == 302
    )
    assert own.gaps_answered.filter(pk=gap.pk).exists()
    client.force_login(personas["chiiki"])
    assert (
        client.post(reverse("community:gap_link", args=[gap.pk]), {"resources": [other.pk]}).status_code
        == 302
    )
    assert other.gaps_answered.filter(pk=gap.pk).exists()


def test_the_gap_list_offers_each_user_only_what_they_may_do(client, personas):
    advance = reverse("community:gap_advance", args=[_gap(ResourceGapStatus.NOTED).pk])
    link = reverse("community:gap_link", args=[_gap(ResourceGapStatus.DEVELOPED).pk])
    client.force_login(personas["coord"])
    html = client.get(reverse("community:gap_list")).content.decode()
    assert advance in html and link in html and "いきいき体操" in html
    client.force_login(personas["outsider"])
    html = client.get(reverse("community:gap_list")).content.decode()
    assert advance not in html and "参加支援先の開拓を始める" in html
    # the link form offers only the places the user's agency runs
    assert link in html and "東こども食堂ひまわり" in html and "いきいき体操" not in html
    client.force_login(personas["intake_b"])  # runs no place: nothing to link
    html = client.get(reverse("community:gap_list")).content.decode()
    assert advance not in html and link not in html
    client.force_login(personas["supervisor"])
    html = client.get(reverse("community:gap_list")).content.decode()
    assert advance not in html and "参加支援先の開拓を始める" not in html


def test_a_refused_deactivation_shows_the_place_as_saved(client, personas):
    place = _place("オレンジカフェ中央")
    client.force_login(personas["intake_a"])
    response = client.post(
        reverse("community:resource_detail", args=[place.pk]),
        {
            "form": "edit",
            "name": place.name,
            "kind": place.kind,
            "area": place.area_id,
            "inactive_reason": "",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and "休止・終了にする理由を入力してください。" in html
    header = html.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert "休止・終了" not in header
    place.refresh_from_db()
    assert place.is_active


def test_the_internal_notes_carry_no_all_staff_warning():
    form = ResourceForm()
    assert (
        form.fields["internal_notes"].help_text
        == f"この資源を更新できる職員だけが読みます。 {NO_PERSONAL_DETAILS}"
    )
    assert "全職員" not in form.fields["internal_notes"].help_text
    assert NO_PERSONAL_INFO in form.fields["public_description"].help_text


def test_a_403_page_gives_our_reason(client, personas):
    place = _place("中央通いの場「いきいき体操」")
    client.force_login(personas["intake_b"])
    response = client.post(reverse("community:resource_detail", args=[place.pk]), {"form": "edit"})
    assert response.status_code == 403
    html = response.content.decode()
    assert (
        "この地域資源を更新できるのは、運営する機関の職員、相談支援包括化推進員、地域福祉担当です。" in html
    )


def test_a_403_without_a_japanese_reason_shows_the_generic_text(rf):
    from django.core.exceptions import PermissionDenied

    from jusou.views import permission_denied

    for exception in (PermissionDenied(), PermissionDenied("CSRF token missing <script>")):
        html = permission_denied(rf.get("/"), exception).content.decode()
        assert "このページを表示する権限がありません。" in html and "CSRF" not in html


def test_a_record_outside_the_basis_still_answers_like_a_missing_one(client, personas):
    client.force_login(personas["outsider"])
    missing = client.get(reverse("community:resource_detail", args=[999999]))
    assert missing.status_code == 404


def test_a_candidate_is_changed_by_its_approacher_and_the_keepers_only(client, personas):
    from participation.models import HostCandidate

    candidate = HostCandidate.objects.get(name="みどり商店街の八百屋")  # approached by intake_b
    move = reverse("participation:candidate_move", args=[candidate.pk])
    client.force_login(personas["outsider"])
    assert move not in client.get(reverse("participation:development")).content.decode()
    response = client.post(move, {f"move-{candidate.pk}-to_outcome": "declined"})
    candidate.refresh_from_db()
    assert response.status_code == 403 and candidate.outcome == "negotiating"
    assert "開拓の記録を更新できるのは" in response.content.decode()
    for persona, to in (("intake_b", "declined"), ("coord", "negotiating")):
        client.force_login(personas[persona])
        assert move in client.get(reverse("participation:development")).content.decode()
        assert client.post(move, {f"move-{candidate.pk}-to_outcome": to}).status_code == 302
        candidate.refresh_from_db()
        assert candidate.outcome == to


def test_a_403_on_a_correction_gives_the_window_rule(client, personas):
    from community.models import Platform

    platform = Platform.objects.first()
    stranger = next(
        p for p in ("intake_a", "intake_b", "outsider") if personas[p].pk != platform.recorded_by_id
    )
    client.force_login(personas[stranger])
    response = client.get(reverse("community:record_correct", args=["platform", platform.pk]))
    assert response.status_code == 403
    assert (
        "訂正・削除できるのは、記録した職員と相談支援包括化推進員です（記録から30日以内）"
        in response.content.decode()
    )
