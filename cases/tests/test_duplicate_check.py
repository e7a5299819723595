"""The intake duplicate check is a question about a person, whoever asks it: every check is logged as
a search (naming each person it matched), and beyond DUPLICATE_CHECK_LIMIT checks an hour it answers
as if nobody matched and the supervisors are told, once per user and hour. The page and the API ask
through the same selector (cases.selectors.person_duplicates)."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from cases.models import Person
from cases.tests.conftest import fresh
from cases.tests.test_api import _consultation
from cases.tests.test_intake import post_data
from jusou.models import ApiScope, Notification, ReadLog
from jusou.tests.api import machine_client

pytestmark = pytest.mark.django_db

URL = reverse("cases:intake")
KNOWN_ELSEWHERE = "他の機関で把握されている可能性があります。相談支援包括化推進員に確認してください。"
HANAKO = {"name": "山田 花子", "kana": "ヤマダ ハナコ", "birth_date": "1948-05-01"}


def checks(user):
    return ReadLog.objects.filter(user=user, action=ReadLog.Action.SEARCH, detail__startswith="重複確認")


def supervisor_alerts(world):
    return Notification.objects.filter(
        recipient=world.supervisor, kind="unusual_access", title__contains="重複確認"
    )


def ask_about_nobody(client, n):
    for i in range(n):
        assert (
            client.post(
                URL, post_data(name=f"存在 しない{i}", kana=f"そんざい {i}", birth_date="1931-01-01")
            ).status_code
            == 302
        )


def test_outsider_hit_is_logged_as_a_search_naming_the_person(client, world):
    client.force_login(world.outsider)
    assert KNOWN_ELSEWHERE in client.post(URL, post_data(**HANAKO)).content.decode()
    person_type = ContentType.objects.get_for_model(Person)
    named = checks(world.outsider).get(object_id=world.person.pk)
    assert (named.content_type, named.detail, named.basis) == (
        person_type,
        "重複確認: 他機関で把握の可能性",
        "",
    )
    question = checks(world.outsider).get(object_id__isnull=True)
    assert question.content_type == person_type and "山田 花子 1948-05-01" in question.detail
    assert checks(world.outsider).count() == 2


def test_worker_candidate_is_logged_as_a_search_naming_the_person(client, world):
    client.force_login(world.colleague)
    html = client.post(URL, post_data(**HANAKO)).content.decode()
    assert "同じ方がすでに登録されている可能性があります" in html
    named = checks(world.colleague).get(object_id=world.person.pk)
    assert named.detail == "重複確認: 候補として表示"


@pytest.mark.parametrize("persona", ["outsider", "colleague"])
def test_a_check_without_a_match_is_logged_as_one_search_without_an_object(client, world, persona):
    user = world.persona(persona)
    client.force_login(user)
    assert client.post(URL, post_data(name="田中 正男", birth_date="1950-02-03")).status_code == 302
    row = checks(user).get()
    assert row.object_id is None and "（0件該当）" in row.detail


def test_below_the_limit_the_message_still_shows(client, world, settings):
    settings.DUPLICATE_CHECK_LIMIT = 3
    client.force_login(world.outsider)
    ask_about_nobody(client, 2)
    assert KNOWN_ELSEWHERE in client.post(URL, post_data(**HANAKO)).content.decode()
    assert not supervisor_alerts(world).exists()


def test_beyond_the_limit_the_check_answers_no_match_and_the_supervisors_are_told_once(
    client, world, settings, django_capture_on_commit_callbacks
):
    settings.DUPLICATE_CHECK_LIMIT = 2
    client.force_login(world.outsider)
    ask_about_nobody(client, 2)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, post_data(**HANAKO))
    # As if nobody matched: registered at once, nothing said.
    assert response.status_code == 302
    assert Person.objects.filter(name="山田 花子").count() == 2
    # Still a question about her in the log, and the coordinators still hear of the match.
    named = checks(world.outsider).get(object_id=world.person.pk)
    assert named.detail == "重複確認: 他機関で把握の可能性（上限超過のため該当なしと回答）"
    assert Notification.objects.filter(recipient=world.coordinator, kind="duplicate").exists()
    alert = supervisor_alerts(world).get()
    assert alert.link == f"/audit/access-log/?user={world.outsider.username}"
    # A further check the same hour answers the same way and tells them nothing new.
    assert client.post(URL, post_data(**HANAKO, atena_number=None)).status_code == 302
    assert supervisor_alerts(world).count() == 1


def test_the_limit_is_per_user(client, world, settings):
    settings.DUPLICATE_CHECK_LIMIT = 1
    client.force_login(world.outsider)
    ask_about_nobody(client, 1)
    client.force_login(world.other_worker)
    assert KNOWN_ELSEWHERE in client.post(URL, post_data(**HANAKO)).content.decode()


def test_the_api_asks_through_the_same_check_and_limit(world, settings):
    settings.DUPLICATE_CHECK_LIMIT = 1
    api_client, pusher = machine_client(world.outsider.agencies[0], [ApiScope.CONSULTATIONS_WRITE])
    body = _consultation(
        new_person={"name": "山田 花子", "kana": "やまだ はなこ", "birth_date": "1948-05-01"}
    )
    first = pusher.post("/api/v1/consultations/", body, format="json")
    assert first.status_code == 409 and first.json()["known_elsewhere"] is True
    user = fresh(api_client.user)
    assert checks(user).filter(object_id=world.person.pk).count() == 1
    second = pusher.post("/api/v1/consultations/", body, format="json")
    assert second.status_code == 201  # beyond the limit: as if nobody matched
    assert checks(user).filter(object_id=world.person.pk).count() == 2
    assert supervisor_alerts(world).count() == 1
