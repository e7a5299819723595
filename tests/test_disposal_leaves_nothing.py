"""Issue 18: a disposed record leaves no free text behind — not in its rows, not in their history (the
change reasons included), not in what it left elsewhere (notifications, the read log's search terms,
the minutes of the meetings it was discussed at, access-grant reasons) and not in the media folder.

The case is built through the services with every kind of record (consultation, assessment, notes,
住所秘匿, 緊急閲覧, consent with its scan, 支援決定, plan with goals and tasks, the 重層的支援会議 and
the 支援会議 with its briefing and decision, an ended アウトリーチ and 参加支援); then every free-text
field of every row of the unit is written once more with a unique marker (so the history holds it as
well, with a marker as the change reason). After the disposal every column of every table — found by
introspection, not listed — and every file under MEDIA_ROOT is searched for the markers."""

import itertools
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, models
from django.utils import timezone

from cases import retention as cases_retention
from cases import services as case_services
from cases.models import (
    AddressConfidentiality,
    Assessment,
    Case,
    CaseHandover,
    CaseTransition,
    Consultation,
    EmergencyAccess,
    Household,
    HouseholdMember,
    Person,
    ProgressNote,
)
from cases.tests.conftest import record_case, world  # noqa: F401
from cases.tests.test_retention import dispose
from jusou.audit.readlog import read_log, read_log_verify
from jusou.ja.text import normalize_for_search
from jusou.models import AccessGrant, Agency, ExportFormat, ExportJob, ExportStatus, Notification, ReadLog
from jusou.notifications import services as core_services
from jusou.retention.anonymise import DISPOSED, free_text_fields
from meetings import retention as meetings_retention
from meetings.models import (
    AgendaItem,
    AgendaKind,
    Consent,
    Evaluation,
    GoalEvaluation,
    GoalResult,
    MeetingBriefing,
    MeetingDecision,
    NextStep,
    PlanConference,
    PlanGoal,
    PlanStatus,
    PlanTask,
    SupportDecision,
    SupportMeeting,
    SupportPlan,
)
from meetings.tests.conftest import coordinating, referred  # noqa: F401
from meetings.tests.test_api import build
from meetings.tests.test_retention import close_after_evaluation
from outreach import services as outreach_services
from outreach.models import OutreachContact, OutreachEngagement
from participation import retention as participation_retention
from participation import services as participation_services
from participation.models import FollowUp, ParticipationPlan, Placement, PlacementStatus
from participation.tests.conftest import hosts  # noqa: F401
from participation.tests.test_retention import placed

MARK = "痕跡"  # every marker starts with it; nothing else in the world holds it
KEPT = {**cases_retention.KEPT, **meetings_retention.KEPT, **participation_retention.KEPT}
# Derived from the name and kana (the search keys): written with them.
DERIVED = {"cases.person": ("name_search", "kana_search")}


def unit(case: Case) -> list[tuple[type[models.Model], models.QuerySet]]:
    """Every row that belongs to the case's disposal unit, by model."""
    people = {
        case.person_id,
        *HouseholdMember.objects.filter(household=case.household).values_list("person_id", flat=True),
    }
    return [
        (Person, Person.objects.filter(pk__in=people)),
        (Household, Household.objects.filter(pk=case.household_id)),
        (HouseholdMember, HouseholdMember.objects.filter(household=case.household)),
        (Consultation, Consultation.objects.filter(case=case)),
        (CaseTransition, CaseTransition.objects.filter(case=case)),
        (Assessment, Assessment.objects.filter(case=case)),
        (ProgressNote, ProgressNote.objects.filter(case=case)),
        (AddressConfidentiality, AddressConfidentiality.objects.filter(person__in=people)),
        (EmergencyAccess, EmergencyAccess.objects.filter(case=case)),
        (CaseHandover, CaseHandover.objects.filter(case=case)),
        (Consent, Consent.objects.filter(case=case)),
        (SupportDecision, SupportDecision.objects.filter(case=case)),
        (SupportPlan, SupportPlan.objects.filter(case=case)),
        (PlanGoal, PlanGoal.objects.filter(plan__case=case)),
        (PlanTask, PlanTask.objects.filter(plan__case=case)),
        (AgendaItem, AgendaItem.objects.filter(case=case)),
        (Evaluation, Evaluation.objects.filter(plan__case=case)),
        (GoalEvaluation, GoalEvaluation.objects.filter(evaluation__plan__case=case)),
        (MeetingBriefing, MeetingBriefing.objects.filter(case=case)),
        (MeetingDecision, MeetingDecision.objects.filter(briefing__case=case)),
        (OutreachEngagement, OutreachEngagement.objects.filter(case=case)),
        (OutreachContact, OutreachContact.objects.filter(engagement__case=case)),
        (ParticipationPlan, ParticipationPlan.objects.filter(case=case)),
        (Placement, Placement.objects.filter(plan__case=case)),
        (FollowUp, FollowUp.objects.filter(placement__plan__case=case)),
        (
            AccessGrant,
            AccessGrant.objects.filter(
                content_type=ContentType.objects.get_for_model(Case), object_id=case.pk
            ),
        ),
    ]


class Markers:
    def __init__(self):
        self.counter = itertools.count(1)
        self.all: list[str] = []

    def new(self, what: str = "") -> str:
        marker = f"{MARK}{what}{next(self.counter):03d}"
        self.all.append(marker)
        return marker


def mark_everything(case: Case, markers: Markers) -> dict[str, str]:
    """Write a marker into every free-text field of every row of the unit (and a marker reason into
    the history); return the person's name marker and one note marker, quoted elsewhere below."""
    quoted = {}
    for model, rows in unit(case):
        label = model._meta.label_lower
        fields = [
            name
            for name in free_text_fields(model, keep=KEPT.get(label, ()))
            if name not in DERIVED.get(label, ())
        ]
        assert rows.exists(), f"the scene has no {label}"
        for row in rows:
            for name in fields:
                field = model._meta.get_field(name)
                if isinstance(field, models.FileField):
                    marker = markers.new("ファイル")
                    stored = default_storage.save(
                        f"consents/2015/01/{row.pk}.pdf", ContentFile(f"%PDF-1.4 {marker}".encode())
                    )
                    setattr(row, name, stored)
                elif isinstance(field, models.JSONField):
                    value = {"text": markers.new(), "list": [markers.new()]}
                    if label == "meetings.meetingbriefing" and name == "sections":
                        value["case_number"] = case.number
                    if label == "meetings.meetingbriefing" and name == "choice":
                        value["categories"] = ["household"]
                    setattr(row, name, value)
                elif name == "email":
                    setattr(row, name, f"{markers.new()}@example.jp")
                else:
                    marker = markers.new()
                    assert field.max_length is None or len(marker) <= field.max_length, (label, name)
                    setattr(row, name, marker)
            if label == "cases.person":
                row.name_search, row.kana_search = (
                    normalize_for_search(row.name),
                    normalize_for_search(row.kana),
                )
                quoted.setdefault("name", row.name)
            if label == "cases.progressnote":
                quoted.setdefault("note", row.content)
            if label == "cases.emergencyaccess":
                quoted.setdefault("justification", row.justification)
            row._change_reason = markers.new("理由")
            row.save()
    case._change_reason = f"受付→終結: {markers.new('市外転居')}のため終結"
    case.save()
    return quoted


@pytest.fixture
def scene(coordinating, hosts, settings, tmp_path, django_capture_on_commit_callbacks):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path
    w = build(coordinating)
    case = Case.objects.get(pk=w.case.pk)
    case_services.progress_note_add(case=case, acting_user=w.assigned, kind="visit", content="訪問した")
    case_services.address_confidentiality_set(person=w.son, acting_user=w.assigned, reason="DVのため")
    case_services.emergency_access_open(
        acting_user=w.other_worker,
        case_pk=case.pk,
        justification="二日前から電話がつながらず安否が確認できないため",
    )
    _plan, placement = placed(w, hosts)
    participation_services.placement_move(
        placement=placement, acting_user=w.assigned, to_status=PlacementStatus.ENDED, reason="入院"
    )
    engagement = outreach_services.engagement_start(
        acting_user=w.assigned,
        provisional_name="長男",
        how_known="minsei",
        background="閉じこもり",
        purpose="relationship",
        approximate_location="自宅",
    )
    outreach_services.engagement_link(engagement=engagement, acting_user=w.assigned, case=case)
    outreach_services.contact_record(
        engagement=engagement,
        acting_user=w.assigned,
        kind="visit_met",
        met_whom="長男",
        response="会えた",
        safety_confirmed=True,
    )
    outreach_services.engagement_end(engagement=engagement, acting_user=w.assigned, note="ケースで支援")
    item = AgendaItem.objects.create(
        conference=w.conference, case=case, plan=w.plan, kind=AgendaKind.EVALUATION
    )
    evaluation = Evaluation.objects.create(
        plan=w.plan, item=item, person_change="変化あり", next_step=NextStep.values[0], evaluated_by=w.coord
    )
    for goal in PlanGoal.objects.filter(plan=w.plan):
        GoalEvaluation.objects.create(
            evaluation=evaluation, goal=goal, result=GoalResult.values[0], comment="達成"
        )
    SupportPlan.objects.filter(case=case).update(status=PlanStatus.ENDED)
    # a handover the next agency declined earlier: its 経緯 and its reason are free text of the case
    CaseHandover.objects.create(
        case=case,
        from_agency=case.owning_agency,
        to_agency=Agency.objects.exclude(pk=case.owning_agency_id).first(),
        status="declined",
        reason="引き継ぎたい",
        decline_reason="人手が足りない",
        requested_by=w.coord,
        read_until=timezone.now(),
        decided_by=w.coord,
        decided_at=timezone.now(),
    )

    w.markers = Markers()
    w.quoted = mark_everything(case, w.markers)
    name, note, justification = w.quoted["name"], w.quoted["note"], w.quoted["justification"]
    # What the record left elsewhere: notices quoting it, searches naming the person (whole, a part,
    # the 重複確認 with the birth date), the minutes of the meetings it was discussed at.
    core_services.notification_send(
        recipient=w.supervisor,
        kind="emergency_access",
        title=f"緊急閲覧がありました（{name}）",
        body=f"理由: {justification}",
    )
    read_log(user=w.assigned, action=ReadLog.Action.SEARCH, detail=f"本人検索: {name}（1件）")
    read_log(user=w.assigned, action=ReadLog.Action.SEARCH, detail=f"本人検索: {name[:4]}（1件）")
    read_log(user=w.assigned, action=ReadLog.Action.SEARCH, detail=f"重複確認: {name} 1950-04-01（1件該当）")
    read_log(user=w.assigned, action=ReadLog.Action.SEARCH, detail=f"ケース検索: {name} 1件 [{case.pk}]")
    read_log(user=w.assigned, action=ReadLog.Action.VIEW, obj=case, detail=f"経過記録「{note}」の訂正画面")
    SupportMeeting.objects.filter(pk=w.meeting.pk).update(
        minutes=f"{name}さんについて: {note}。ほかの事例も協議。"
    )
    conference = AgendaItem.objects.filter(case=case).first().conference
    conference.minutes = f"{name}さんのプランを承認。"
    conference.save()  # a history row with the name
    # What must stay: another person's record and searches, the statistics export's file.
    w.other_case = record_case(w.assigned, name="佐藤 次郎", kana="さとう じろう")
    case_services.progress_note_add(
        case=w.other_case, acting_user=w.assigned, kind="visit", content="佐藤さん宅を訪問"
    )
    read_log(user=w.assigned, action=ReadLog.Action.SEARCH, detail="本人検索: 佐藤（1件）")
    export = tmp_path / "exports" / "1.csv"
    export.parent.mkdir()
    export.write_text("表,件数\n新規受付,12\n", encoding="utf-8")
    ExportJob.objects.create(
        owner=w.supervisor,
        kind=ExportJob.Kind.STATISTICS,
        format=ExportFormat.CSV,
        status=ExportStatus.DONE,
        progress=100,
        file_path="exports/1.csv",
    )

    w.case = close_after_evaluation(w)
    with django_capture_on_commit_callbacks(execute=True):
        w.candidate = dispose(w.case, w.supervisor)
    return w


def _columns_holding(text: str) -> list[tuple[str, str, str]]:
    """Every (table, column, value) of the whole database whose value, read as text, holds `text`."""
    hits = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                cursor.execute(
                    f"SELECT CAST({quote(column.name)} AS TEXT) FROM {quote(table)} "  # noqa: S608 (introspected names)
                    f"WHERE CAST({quote(column.name)} AS TEXT) LIKE %s",
                    [f"%{text}%"],
                )
                hits += [(table, column.name, value) for (value,) in cursor.fetchall()]
    return hits


def test_no_free_text_of_a_disposed_case_is_left_anywhere_in_the_database(scene):
    assert len(scene.markers.all) > 80  # every field of every row got its own
    assert _columns_holding(MARK) == []
    # and the texts the services wrote before the markers (the names, the reasons typed)
    assert _columns_holding("山田") == []
    assert read_log_verify() == (ReadLog.objects.count(), None)


def test_no_file_under_media_holds_a_disposed_text(scene, settings):
    leftovers = []
    for path in Path(settings.MEDIA_ROOT).rglob("*"):
        if path.is_file() and MARK.encode() in path.read_bytes():
            leftovers.append(path)
    assert leftovers == []
    assert not list(Path(settings.MEDIA_ROOT, "consents").rglob("*.pdf"))  # the scans are gone
    assert Path(settings.MEDIA_ROOT, "exports", "1.csv").exists()  # counts only: kept until it expires


def test_the_rows_stay_and_only_the_terms_go(scene):
    searches = list(
        ReadLog.objects.filter(action=ReadLog.Action.SEARCH).order_by("pk").values_list("detail", flat=True)
    )
    assert f"本人検索: {DISPOSED}（1件）" in searches
    assert f"重複確認: {DISPOSED}（1件該当）" in searches
    assert f"ケース検索: {DISPOSED} 1件 [{scene.case.pk}]" in searches
    assert "本人検索: 佐藤（1件）" in searches  # another person's search stays as it was
    redacted = ReadLog.objects.exclude(redacted_at=None)
    assert redacted.count() == 5 and all(row.detail_digest for row in redacted)
    notes = Notification.objects.filter(kind="emergency_access", recipient=scene.supervisor)
    # the service's own notice (the worker's reason quoted) and ours (the name quoted too)
    assert {note.body for note in notes} == {f"理由: {DISPOSED}"}
    assert f"緊急閲覧がありました（{DISPOSED}）" in {note.title for note in notes}
    minutes = SupportMeeting.objects.get(pk=scene.meeting.pk).minutes
    assert minutes == f"{DISPOSED}さんについて: {DISPOSED}。ほかの事例も協議。"
    assert ProgressNote.objects.filter(case=scene.other_case, content="佐藤さん宅を訪問").exists()
    assert scene.candidate.disposed_rows["jusou.readlog"]
    assert PlanConference.objects.filter(minutes=f"{DISPOSED}さんのプランを承認。").exists()


def test_the_unit_covers_every_model_that_hangs_off_a_case_or_person(db):
    """A model added later with a key to a case, a person or a row of the unit, and free text of its
    own, must be added to the disposal (and to `unit` above)."""
    covered = {
        Person,
        Household,
        HouseholdMember,
        Consultation,
        CaseTransition,
        Assessment,
        ProgressNote,
        AddressConfidentiality,
        EmergencyAccess,
        CaseHandover,
        Consent,
        SupportDecision,
        SupportPlan,
        PlanGoal,
        PlanTask,
        AgendaItem,
        Evaluation,
        GoalEvaluation,
        MeetingBriefing,
        MeetingDecision,
        OutreachEngagement,
        OutreachContact,
        ParticipationPlan,
        Placement,
        FollowUp,
        Case,
    }
    from django.apps import apps

    reached = {Case, Person, Household}
    while True:
        more = {
            model
            for model in apps.get_models()
            if not hasattr(model, "instance_type")  # history models follow their model
            and any(
                f.is_relation and f.many_to_one and f.related_model in reached
                for f in model._meta.concrete_fields
            )
        } - reached
        if not more:
            break
        reached |= more
    with_text = {
        model for model in reached if free_text_fields(model, keep=KEPT.get(model._meta.label_lower, ()))
    }
    assert with_text - covered == set()
