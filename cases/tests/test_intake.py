"""The intake page: new, existing and anonymous people; bad input; the duplicate check."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CodeKind, Consultation, Household, Person
from cases.tests.conftest import code
from jusou.models import Notification

URL = reverse("cases:intake")


def post_data(**overrides):
    data = {
        "person_choice": "new",
        "name": "田中 正男",
        "kana": "たなか まさお",
        "birth_date": "1950-02-03",
        "birth_date_precision": "exact",
        "sex": "male",
        "household_name": "田中さん世帯",
        "relationship": "本人",
        "received_at": (timezone.localtime() - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"),
        "channel": code(CodeKind.CHANNEL, "phone").pk,
        "route": code(CodeKind.ROUTE, "family").pk,
        "issues": [code(CodeKind.ISSUE, "care").pk, code(CodeKind.ISSUE, "8050").pk],
        "main_issue": code(CodeKind.ISSUE, "care").pk,
        "urgency": "normal",
        "summary": "父の介護と長男のひきこもりについて",
        "outcome": "case",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_new_person_with_a_case_is_recorded_and_the_case_page_opens(client, world):
    client.force_login(world.assigned)
    response = client.post(URL, post_data())
    case = Case.objects.get(person__name="田中 正男")
    assert response.status_code == 302 and response.url == case.get_absolute_url()
    assert case.owning_agency.name == "みどり中央地域包括支援センター"
    assert case.household.name == "田中さん世帯"
    assert case.consultations.get().main_issue.code == "care"
    assert client.get(response.url).status_code == 200


def test_an_anonymous_one_off_call_is_recorded_without_a_person(client, world):
    client.force_login(world.assigned)
    response = client.post(URL, post_data(person_choice="anonymous", outcome="advice", name=""))
    assert response.status_code == 302
    consultation = Consultation.objects.get(person__isnull=True)
    assert consultation.outcome == "advice" and consultation.case is None


def test_an_existing_person_is_picked_and_their_household_reused(client, world):
    client.force_login(world.colleague)
    response = client.post(URL, post_data(person_choice=str(world.person.pk), outcome="advice", name=""))
    assert response.status_code == 302
    consultation = Consultation.objects.latest("pk")
    assert consultation.person == world.person and consultation.household == world.household


def test_a_person_the_user_cannot_see_cannot_be_picked_by_id(client, world):
    client.force_login(world.outsider)
    response = client.post(URL, post_data(person_choice=str(world.person.pk), outcome="advice", name=""))
    assert response.status_code == 200
    assert "選んだ本人が見つかりません" in response.content.decode()
    assert "山田" not in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        ({"summary": ""}, "この項目は必須です。"),
        ({"channel": ""}, "この項目は必須です。"),
        ({"person_choice": "new", "name": ""}, "新しく登録する方の氏名を入力してください。"),
        (
            {"received_at": (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")},
            "受付日時に未来の日時は入力できません。",
        ),
        (
            {"birth_date": (timezone.localdate() + timedelta(days=30)).isoformat()},
            "生年月日に未来の日付は入力できません。",
        ),
        ({"main_issue": None}, "この項目は必須です。"),
        ({"person_choice": "anonymous", "name": "", "outcome": "case"}, "匿名の相談はケース化できません"),
        ({"outcome": "referred_elsewhere"}, "つなぎ先機関を選んでください。"),
    ],
)
def test_bad_input_gets_japanese_field_errors_and_saves_nothing(client, world, overrides, field_message):
    before = (
        Person.objects.count(),
        Household.objects.count(),
        Consultation.objects.count(),
        Case.objects.count(),
    )
    client.force_login(world.assigned)
    response = client.post(URL, post_data(**overrides))
    assert response.status_code == 200
    assert field_message in response.content.decode()
    after = (
        Person.objects.count(),
        Household.objects.count(),
        Consultation.objects.count(),
        Case.objects.count(),
    )
    assert after == before


def test_main_issue_must_be_one_of_the_chosen_issues(client, world):
    client.force_login(world.assigned)
    response = client.post(URL, post_data(main_issue=code(CodeKind.ISSUE, "income").pk))
    assert "主な課題は、選んだ課題分類の中から選んでください。" in response.content.decode()


def test_a_birth_date_after_the_consultation_is_refused(client, world):
    client.force_login(world.colleague)
    born = timezone.localdate() - timedelta(days=2)
    world.son.birth_date = born
    world.son.save()
    received = (timezone.localtime() - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(URL, post_data(person_choice=str(world.son.pk), name="", received_at=received))
    assert "受付日時が本人の生年月日より前になっています。" in response.content.decode()
    assert not Consultation.objects.filter(person=world.son).exists()


def test_an_atena_number_already_used_is_a_field_error_after_confirmation(client, world):
    world.person.atena_number = "1234567"
    world.person.save()
    client.force_login(world.outsider)
    first = client.post(URL, post_data(atena_number="1234567"))
    assert (
        "他の機関で把握されている可能性があります。相談支援包括化推進員に確認してください。"
        in first.content.decode()
    )
    second = client.post(URL, post_data(atena_number="1234567", duplicate_confirmed="true"))
    assert "宛名番号" in second.content.decode() and "既に存在します" in second.content.decode()
    assert Person.objects.filter(atena_number="1234567").count() == 1


def test_duplicate_known_elsewhere_says_only_that_and_tells_the_coordinator(
    client, world, django_capture_on_commit_callbacks
):
    client.force_login(world.outsider)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL, post_data(name="山田 花子", kana="ヤマダ ハナコ", birth_date="1948-05-01")
        )
    html = response.content.decode()
    summary = html.split('<div class="form-errors">')[1].split("</div>")[0]
    assert "他の機関で把握されている可能性があります。相談支援包括化推進員に確認してください。" in summary
    assert "みどり中央" not in summary
    for leak in (
        world.case.number,
        "山田さん世帯",
        "やまだ はなこ",
        f'name="person_choice" value="{world.person.pk}"',
    ):
        assert leak not in html
    assert not Person.objects.filter(registered_by_agency__name="NPO法人みどりの家").exists()
    note = Notification.objects.get(recipient=world.coordinator, kind="duplicate")
    assert "みどり中央地域包括支援センター" in note.body and "NPO法人みどりの家" in note.body
    # Confirming registers the new person; the coordinator is not told twice the same day.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            URL,
            post_data(
                name="山田 花子", kana="ヤマダ ハナコ", birth_date="1948-05-01", duplicate_confirmed="true"
            ),
        )
    assert Person.objects.filter(name="山田 花子").count() == 2
    assert Notification.objects.filter(recipient=world.coordinator, kind="duplicate").count() == 1


def test_duplicate_the_user_may_see_is_offered_to_pick(client, world):
    client.force_login(world.colleague)
    response = client.post(URL, post_data(name="山田　花子", kana="ﾔﾏﾀﾞ ﾊﾅｺ", birth_date="1948-05-01"))
    html = response.content.decode()
    assert "同じ方がすでに登録されている可能性があります" in html
    assert f'name="person_choice" value="{world.person.pk}"' in html
    assert "他の機関で把握されている" not in html


def test_no_duplicate_no_warning(client, world):
    client.force_login(world.outsider)
    response = client.post(URL, post_data(name="山田 花子", birth_date=date(1960, 1, 1).isoformat()))
    assert response.status_code == 302


def test_supervisors_do_not_record_consultations(client, world):
    client.force_login(world.supervisor)
    assert client.get(URL).status_code == 403
