"""Forms keep work (issue 17): an action whose form is refused shows the form again with everything
typed and each error on its field — never a redirect that drops what was typed."""

import re

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from community import services as community_services
from jusou.tests.factories import AreaFactory
from participation import services as participation_services
from participation.models import HostCandidate
from participation.tests.conftest import world  # noqa: F401


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_joining_a_candidate_without_its_kind_keeps_the_conditions_and_the_capacity(world):  # noqa: F811
    area = AreaFactory(code="chuo")
    candidate = participation_services.candidate_record(
        acting_user=world.assigned,
        approached_on=timezone.localdate(),
        name="みどり商店街の八百屋",
        kind="work_experience",
        area=area,
    )
    prefix = f"join-{candidate.pk}"
    response = _client(world.assigned).post(
        reverse("participation:candidate_join", args=[candidate.pk]),
        {
            f"{prefix}-name": "みどり商店街の八百屋",
            f"{prefix}-kind": "",
            f"{prefix}-area": area.pk,
            f"{prefix}-participation_kinds": ["work_trial"],
            f"{prefix}-acceptance_conditions": "事前に見学してから",
            f"{prefix}-capacity": "3",
        },
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "事前に見学してから" in body  # 受け入れ条件, as typed
    assert re.search(rf'name="{prefix}-capacity"[^>]*value="3"', body)  # 上限, as typed
    kind_field = body[body.index(f'id="id_{prefix}-kind"') :]
    assert "field__error" in body and "この項目は必須です" in kind_field[:2000]
    assert f'action="{reverse("participation:candidate_join", args=[candidate.pk])}"' in body
    candidate.refresh_from_db()
    assert candidate.resource_id is None
    assert HostCandidate.objects.count() == 1


def test_the_form_shown_again_is_sent_again_corrected(world):  # noqa: F811
    area = AreaFactory(code="chuo")
    candidate = participation_services.candidate_record(
        acting_user=world.assigned,
        approached_on=timezone.localdate(),
        name="八百屋",
        kind="work_experience",
        area=area,
    )
    prefix = f"join-{candidate.pk}"
    data = {
        f"{prefix}-name": "八百屋",
        f"{prefix}-area": area.pk,
        f"{prefix}-participation_kinds": ["work_trial"],
        f"{prefix}-acceptance_conditions": "事前に見学",
        f"{prefix}-capacity": "3",
    }
    url = reverse("participation:candidate_join", args=[candidate.pk])
    client = _client(world.assigned)
    assert client.post(url, data | {f"{prefix}-kind": ""}).status_code == 200
    assert client.post(url, data | {f"{prefix}-kind": "work_experience"}).status_code == 302
    candidate.refresh_from_db()
    assert candidate.resource.acceptance_conditions == "事前に見学" and candidate.resource.capacity == 3


def test_a_refused_gap_move_keeps_its_memo(world):  # noqa: F811
    gap = community_services.gap_record(
        acting_user=world.coordinator,
        category="居場所",
        description="昼の居場所",
        area=AreaFactory(code="chuo"),
    )
    # 把握 → 開発済 is not a move the gaps make: refused by the service
    response = _client(world.coordinator).post(
        reverse("community:gap_advance", args=[gap.pk]),
        {"to_status": "developed", "reason": "地区の集会所と調整した"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "地区の集会所と調整した" in body
    assert "「把握」から「開発済」には変更できません" in body or "には変更できません" in body
    gap.refresh_from_db()
    assert gap.status == "noted"


def test_a_refused_progress_note_keeps_what_was_typed(world):  # noqa: F811
    response = _client(world.assigned).post(
        reverse("cases:note_add", args=[world.case.pk]),
        {"kind": "phone", "content": "長男と電話で話した", "occurred_at": "x"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "長男と電話で話した" in body and "field__error" in body
    assert world.case.notes.count() == 0
