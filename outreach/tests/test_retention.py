"""保存年限 of アウトリーチ (outreach.retention): an engagement never linked to a case is its own unit;
one linked to a case goes with it, and an open one holds the case."""

from datetime import timedelta

from django.utils import timezone

from cases.models import Case, Person
from cases.tests.conftest import record_case
from cases.tests.test_retention import TODAY, close, dispose
from jusou.retention import services as retention
from jusou.retention.anonymise import DISPOSED
from jusou.retention.models import DisposalCandidate
from outreach import services
from outreach.models import OutreachContact, OutreachEngagement, Stage
from outreach.tests.conftest import start


def test_an_ended_engagement_without_a_case_is_disposed_after_five_years(world):
    engagement = start(world)
    services.contact_record(
        engagement=engagement,
        acting_user=world.assigned,
        kind="visit_met",
        met_whom="本人",
        response="玄関先で川村さんと少し話せた",
        safety_confirmed=True,
    )
    services.engagement_end(engagement=engagement, acting_user=world.assigned, note="転居のため（川村さん）")
    recent = start(world)
    services.engagement_end(engagement=recent, acting_user=world.assigned, note="連絡途絶")
    OutreachEngagement.objects.filter(pk=engagement.pk).update(
        ended_at=timezone.now() - timedelta(days=6 * 366)
    )
    OutreachEngagement.objects.filter(pk=recent.pk).update(ended_at=timezone.now() - timedelta(days=4 * 365))
    candidate = dispose(engagement, world.supervisor, record_type="outreach.engagement")
    assert candidate.number == f"O-{engagement.pk:06d}"
    engagement.refresh_from_db()
    assert (
        engagement.provisional_name,
        engagement.approximate_location,
        engagement.background,
        engagement.end_note,
    ) == (DISPOSED,) * 4
    assert (engagement.how_known, engagement.stage) == ("minsei", Stage.CONTACTED)
    assert all(
        "川沿い" not in row.approximate_location and "川村" not in row.end_note
        for row in engagement.history.all()
    )
    contact = OutreachContact.objects.get(engagement=engagement)
    assert (contact.met_whom, contact.response, contact.kind, contact.safety_confirmed) == (
        DISPOSED,
        DISPOSED,
        "visit_met",
        True,
    )
    assert OutreachEngagement.objects.get(pk=recent.pk).background.startswith("民生委員")
    assert not DisposalCandidate.objects.filter(
        object_id=recent.pk, record_type="outreach.engagement"
    ).exists()


def test_an_engagement_linked_to_a_case_goes_with_the_case_and_an_open_one_holds_it(world):
    case = record_case(world.assigned, name="川村 正", kana="かわむら ただし")
    engagement = start(world)
    services.engagement_link(engagement=engagement, acting_user=world.assigned, case=case)
    case = close(Case.objects.get(pk=case.pk), world.assigned)
    retention.retention_scan(today=TODAY)
    assert not DisposalCandidate.objects.filter(object_id=case.pk, record_type="cases.case").exists()  # held
    services.engagement_end(engagement=engagement, acting_user=world.assigned, note="ケースで支援")
    dispose(case, world.supervisor)
    engagement.refresh_from_db()
    assert engagement.background == DISPOSED and engagement.case_id == case.pk
    assert Person.objects.get(pk=case.person_id).name == DISPOSED


def test_a_person_with_an_engagement_still_kept_is_not_anonymised(world):
    case = close(world.case, world.assigned)
    engagement = start(world)
    services.engagement_link(engagement=engagement, acting_user=world.assigned, person=world.person)
    dispose(case, world.supervisor)
    assert Person.objects.get(pk=world.person.pk).name == "山田 花子"
