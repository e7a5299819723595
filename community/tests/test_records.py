"""Sessions, platforms and coordinator entries are corrected (with history) and removed by their author
or a 相談支援包括化推進員 within the set time (issue 19); every free-text field the register publishes to
all staff warns against personal information — the 重層的支援会議's gap form too."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from community import forms as community_forms
from community import services
from community.models import NO_PERSONAL_DETAILS, NO_PERSONAL_INFO, Activity, CoordinatorActivity, Platform
from jusou.models import Role
from jusou.tests.factories import AreaFactory, staff_user
from participation import forms as participation_forms

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    area = AreaFactory(code="chuo", name="中央圏域")
    author = staff_user(Role.WORKER, username="author")
    place = services.resource_save(
        acting_user=author, name="みどり子ども食堂", kind="kodomo_shokudo", area=area
    )
    return {
        "area": area,
        "author": author,
        "place": place,
        "colleague": staff_user(Role.WORKER, author.agencies[0], username="colleague"),
        "coordinator": staff_user(Role.COORDINATOR, username="coordinator"),
        "supervisor": staff_user(Role.SUPERVISOR, username="supervisor"),
    }


def records(world):
    author = world["author"]
    return {
        "activity": services.activity_record(
            acting_user=author,
            resource=world["place"],
            held_on=date(2026, 11, 1),
            participants=20,
            participant_visits=25,
        ),
        "platform": services.platform_record(
            acting_user=author,
            held_on=date(2026, 11, 1),
            name="中央会議",
            area=world["area"],
            participants=12,
        ),
        "coordinator": services.coordinator_activity_record(
            acting_user=author,
            done_on=date(2026, 11, 1),
            area=world["area"],
            kind="connect",
            content="つないだ",
        ),
    }


CHANGES = {
    "activity": {"participants": 21},
    "platform": {"participants": 13},
    "coordinator": {"content": "つないだ（訂正）"},
}


@pytest.mark.parametrize("kind", CHANGES)
@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("author", True), ("coordinator", True), ("colleague", False), ("supervisor", False)],
)
def test_who_corrects_and_removes_a_record(world, kind, persona, allowed):
    record = records(world)[kind]
    user = world[persona]
    if not allowed:
        with pytest.raises(PermissionDenied):
            services.record_correct(record=record, acting_user=user, **CHANGES[kind])
        with pytest.raises(PermissionDenied):
            services.record_remove(record=record, acting_user=user, reason="重複")
        return
    services.record_correct(record=record, acting_user=user, reason="数え間違い", **CHANGES[kind])
    record.refresh_from_db()
    latest = record.history.latest()
    assert latest.history_user == user and latest.history_change_reason == "訂正: 数え間違い"
    assert latest.prev_record is not None and latest.diff_against(latest.prev_record).changed_fields
    with pytest.raises(ValidationError, match="削除の理由"):
        services.record_remove(record=record, acting_user=user, reason=" ")
    services.record_remove(record=record, acting_user=user, reason="重複して記録")
    model = type(record)
    assert not model.objects.filter(pk=record.pk).exists()
    removed = model.history.filter(id=record.pk).latest()
    assert removed.history_type == "-" and removed.history_user == user


@pytest.mark.parametrize("kind", CHANGES)
def test_after_the_set_time_a_record_stands(world, kind):
    record = records(world)[kind]
    type(record).objects.filter(pk=record.pk).update(
        recorded_at=timezone.now() - services.CORRECTION_WINDOW - timedelta(minutes=1)
    )
    record.refresh_from_db()
    for user in (world["author"], world["coordinator"]):
        with pytest.raises(ValidationError, match="日を過ぎた記録"):
            services.record_correct(record=record, acting_user=user, **CHANGES[kind])
        with pytest.raises(ValidationError, match="日を過ぎた記録"):
            services.record_remove(record=record, acting_user=user, reason="重複")


def test_correcting_on_the_page(client, world):
    activity = records(world)["activity"]
    url = reverse("community:record_correct", args=["activity", activity.pk])
    client.force_login(world["colleague"])
    assert client.get(url).status_code == 403
    client.force_login(world["author"])
    html = client.get(reverse("community:resource_detail", args=[world["place"].pk])).content.decode()
    assert url in html
    response = client.post(url, {"held_on": "2026-11-01", "participants": 5, "participant_visits": 3})
    assert "延べ人数は実人数以上にしてください。" in response.content.decode()
    response = client.post(
        url, {"held_on": "2026-11-02", "participants": 22, "participant_visits": 30, "reason": "日付の誤り"}
    )
    assert response.status_code == 302
    activity.refresh_from_db()
    assert (activity.held_on, activity.participants) == (date(2026, 11, 2), 22)
    client.post(reverse("community:record_remove", args=["activity", activity.pk]), {"reason": "重複"})
    assert not Activity.objects.exists() and not Platform.objects.filter(pk=0).exists()
    assert CoordinatorActivity.objects.count() == 1


FORMS = [
    community_forms.ResourceForm,
    community_forms.ActivityForm,
    community_forms.PlatformForm,
    community_forms.CoordinatorActivityForm,
    community_forms.GapForm,
    participation_forms.CandidateForm,
]


@pytest.mark.parametrize("form_class", FORMS)
def test_every_free_text_field_published_to_staff_warns_against_personal_information(form_class):
    form = form_class()
    free_text = [name for name, field in form.fields.items() if community_forms.is_free_text(field)]
    assert free_text
    for name in free_text:
        warning = NO_PERSONAL_DETAILS if name in getattr(form, "restricted_fields", ()) else NO_PERSONAL_INFO
        assert warning in form.fields[name].help_text, name


def test_the_pages_show_the_warning(client, world):
    client.force_login(world["author"])
    for url in (
        "community:resource_list",
        "community:platform_list",
        "community:coordinator_log",
        "community:gap_list",
        "participation:development",
    ):
        assert "個人が特定できる情報" in client.get(reverse(url)).content.decode(), url


def test_the_conference_gap_form_warns_too(client, personas):
    """On the 重層的支援会議's page (demo: an approved plan), the gap form says what all staff will read."""
    from meetings.models import PlanConference

    conference = PlanConference.objects.get(title="第1回 重層的支援会議")
    client.force_login(personas["coord"])
    html = client.get(reverse("meetings:conference_detail", args=[conference.pk])).content.decode()
    form = html[html.index("不足する社会資源を記録する") :]
    assert "個人が特定できる情報（氏名・住所・病名など）は書かないでください" in form[: form.index("</form>")]
