"""保存年限 and disposal (jusou.retention): the policy's dates, the daily scan, approval, 保存延長, the
disposal and its refusals, the history path on PostgreSQL and the 管理者's pages.

jusou imports no app, so these tests declare a record type of their own over a jusou model
(ResourceGap, "closed" when developed); the apps' own units are tested in their tests
(cases/tests/test_retention.py …)."""

import logging
from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from jusou import registry, tasks
from jusou.models import Notification, ResourceGap, ResourceGapStatus, Role
from jusou.retention import services
from jusou.retention.anonymise import DISPOSAL_REASON, DISPOSED, disposed_value, history_scrub, scrub
from jusou.retention.models import (
    DisposalCandidate,
    DisposalStatus,
    RetentionPolicy,
    RetentionStart,
    add_years,
)
from jusou.retention.selectors import retention_policies, retention_policies_ensure
from jusou.tests.factories import AgencyFactory, staff_user
from tests.test_celery_worker import worker  # noqa: F401  (the real worker, over Redis)

pytestmark = pytest.mark.django_db

TODAY = date(2025, 6, 15)
GAP = "test.gap"


class GapRetention:
    model = ResourceGap
    closed_field = "recorded_at"
    agency_field = None

    def closed_records(self):
        return ResourceGap.objects.filter(status=ResourceGapStatus.DEVELOPED)

    def number(self, pk):
        return f"G-{pk:06d}"

    def url(self, pk):
        return None

    def dispose(self, pk, *, acting_user):
        return scrub(ResourceGap, [pk], ["description", "source_label"], acting_user=acting_user)


@pytest.fixture
def gap_type(monkeypatch):
    """A record type of the tests' own, with a 10-year policy from closure."""
    declared = registry.declared()
    gap = registry.Declared("tests", registry.RetentionType(GAP, "テスト記録", GapRetention(), 10))
    monkeypatch.setattr(registry, "_declared", lambda: (*declared, gap))
    RetentionPolicy.objects.update_or_create(record_type=GAP, defaults={"years": 10})
    return GAP


@pytest.fixture
def people():
    office = AgencyFactory(name="みどり市 福祉総合相談課")
    return {
        "supervisor": staff_user(Role.SUPERVISOR, office, username="kanri"),
        "supervisor2": staff_user(Role.SUPERVISOR, office, username="kanri2"),
        "worker": staff_user(Role.WORKER, office, username="soudan"),
        "coordinator": staff_user(Role.COORDINATOR, office, username="suishin"),
        "admin": staff_user(Role.SYSTEM_ADMIN, username="sysadmin"),
    }


def on(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def closed_gap(
    user, closed_on: date, description="山田さん宅の近くに居場所がない（山田 太郎・090-1234-5678）"
):
    gap = ResourceGap.objects.create(
        category="居場所",
        description=description,
        status=ResourceGapStatus.NOTED,
        source_label="支援会議（山田さんの件）",
        recorded_by=user,
    )
    gap.description = description + "。追記"
    gap.save()  # a second history row with the personal text
    ResourceGap.objects.filter(pk=gap.pk).update(
        status=ResourceGapStatus.DEVELOPED, recorded_at=on(closed_on)
    )
    return ResourceGap.objects.get(pk=gap.pk)


def listed(gap) -> DisposalCandidate:
    return DisposalCandidate.objects.get(object_id=gap.pk, record_type=GAP, status=DisposalStatus.LISTED)


def approve_and_dispose(gap, supervisor) -> DisposalCandidate:
    services.retention_scan(today=TODAY)
    candidate = listed(gap)
    services.disposal_approve(candidate_ids=[candidate.pk], acting_user=supervisor)
    return services.disposal_execute(candidate_id=candidate.pk, acting_user=supervisor)


# --- The policy ----------------------------------------------------------------------------------------


def test_the_apps_types_are_seeded_with_the_default_years_and_an_edit_is_kept():
    RetentionPolicy.objects.all().delete()
    retention_policies_ensure()  # what post_migrate runs
    years = dict(RetentionPolicy.objects.values_list("record_type", "years"))
    assert years == {"cases.case": 10, "cases.consultation": 5, "outreach.engagement": 5}
    RetentionPolicy.objects.filter(record_type="cases.case").update(years=7)
    retention_policies_ensure()
    assert RetentionPolicy.objects.get(record_type="cases.case").years == 7


def test_years_outside_one_to_a_hundred_are_refused():
    policy = retention_policies()["cases.case"]
    for years in (0, 101):
        policy.years = years
        with pytest.raises(ValidationError, match="1"):
            policy.full_clean()


def test_the_retention_ends_on_the_anniversary_of_closure():
    policy = RetentionPolicy(record_type=GAP, years=10)
    assert policy.expires_on(date(2015, 6, 14)) == date(2025, 6, 14)
    assert policy.cutoff(TODAY) == date(2015, 6, 15)
    assert add_years(date(2016, 2, 29), 10) == date(2026, 2, 28)


def test_from_the_next_fiscal_year_the_retention_ends_on_31_march():
    # 公文書管理法施行令 第8条 style: counted from 1 April after the 年度 of closure.
    policy = RetentionPolicy(record_type=GAP, years=5, starts=RetentionStart.NEXT_FISCAL_YEAR)
    assert policy.expires_on(date(2019, 6, 1)) == date(2025, 3, 31)
    assert policy.expires_on(date(2020, 3, 31)) == date(2025, 3, 31)
    assert policy.cutoff(date(2025, 3, 31)) == date(2019, 4, 1)
    assert policy.cutoff(date(2025, 4, 1)) == date(2020, 4, 1)


# --- The scan --------------------------------------------------------------------------------------------


def test_a_record_closed_ten_years_and_a_day_ago_is_listed_and_one_a_day_younger_is_not(gap_type, people):
    user = people["worker"]
    old = closed_gap(user, add_years(TODAY, -10) - timedelta(days=1))
    exactly = closed_gap(user, add_years(TODAY, -10))
    younger = closed_gap(user, add_years(TODAY, -10) + timedelta(days=1))
    result = services.retention_scan(today=TODAY)
    candidates = DisposalCandidate.objects.filter(record_type=GAP)
    assert [c.object_id for c in candidates] == [old.pk]
    assert result.listed == [candidates.get().pk]
    candidate = candidates.get()
    assert (candidate.number, candidate.closed_on, candidate.expires_on) == (
        f"G-{old.pk:06d}",
        date(2015, 6, 14),
        date(2025, 6, 14),
    )
    assert candidate.status == DisposalStatus.LISTED
    assert not DisposalCandidate.objects.filter(object_id__in=[exactly.pk, younger.pk]).exists()
    # The next day the one closed exactly ten years ago is past its 満了日 too.
    services.retention_scan(today=TODAY + timedelta(days=1))
    assert set(candidates.values_list("object_id", flat=True)) == {old.pk, exactly.pk}


def test_a_policy_edited_to_more_years_withdraws_what_is_no_longer_due(gap_type, people):
    gap = closed_gap(people["worker"], date(2014, 1, 10))
    services.retention_scan(today=TODAY)
    RetentionPolicy.objects.filter(record_type=GAP).update(years=30)
    result = services.retention_scan(today=TODAY)
    candidate = DisposalCandidate.objects.get(object_id=gap.pk)
    assert candidate.status == DisposalStatus.WITHDRAWN and result.withdrawn == [candidate.pk]


def test_the_scan_is_idempotent(gap_type, people, django_capture_on_commit_callbacks):
    for year in (2010, 2012, 2014):
        closed_gap(people["worker"], date(year, 4, 1))
    with django_capture_on_commit_callbacks(execute=True):
        first = services.retention_scan(today=TODAY)
        second = services.retention_scan(today=TODAY)
    assert len(first.listed) == 3 and second.listed == [] and second.withdrawn == []
    assert DisposalCandidate.objects.filter(record_type=GAP).count() == 3
    # Each 管理者 is told once that day, not once per run.
    notices = Notification.objects.filter(kind="retention")
    assert sorted(notices.values_list("recipient__username", flat=True)) == ["kanri", "kanri2"]
    assert "3件" in notices.first().title and notices.first().link == reverse("retention_list")


def test_the_daily_task_lists_and_sweeps_approved_candidates(gap_type, people):
    gap = closed_gap(people["worker"], date(2010, 4, 1))
    services.retention_scan(today=TODAY)
    candidate = listed(gap)
    # Approved, but the task sent after the commit was lost (no on_commit here): the daily run disposes it.
    services.disposal_approve(candidate_ids=[candidate.pk], acting_user=people["supervisor"])
    outcome = tasks.retention_daily.apply().get()
    assert outcome["disposed"] == 1
    candidate.refresh_from_db()
    assert candidate.status == DisposalStatus.DISPOSED and candidate.disposed_by == people["supervisor"]


# --- Approval, 保存延長 and refusals -----------------------------------------------------------------------


def test_disposal_is_refused_without_approval(gap_type, people):
    gap = closed_gap(people["worker"], date(2010, 4, 1))
    services.retention_scan(today=TODAY)
    candidate = listed(gap)
    with pytest.raises(ValidationError, match="承認がない"):
        services.disposal_execute(candidate_id=candidate.pk, acting_user=people["supervisor"])
    gap.refresh_from_db()
    assert gap.description.startswith("山田さん宅")
    assert listed(gap).status == DisposalStatus.LISTED


@pytest.mark.parametrize("persona", ["worker", "coordinator", "admin"])
def test_only_a_supervisor_approves_keeps_or_disposes(gap_type, people, persona):
    gap = closed_gap(people["worker"], date(2010, 4, 1))
    services.retention_scan(today=TODAY)
    candidate = listed(gap)
    with pytest.raises(PermissionDenied, match="管理者"):
        services.disposal_approve(candidate_ids=[candidate.pk], acting_user=people[persona])
    with pytest.raises(PermissionDenied):
        services.disposal_keep(candidate=candidate, acting_user=people[persona], reason="訴訟対応")
    services.disposal_approve(candidate_ids=[candidate.pk], acting_user=people["supervisor"])
    with pytest.raises(PermissionDenied):
        services.disposal_execute(candidate_id=candidate.pk, acting_user=people[persona])
    gap.refresh_from_db()
    assert gap.description.startswith("山田さん宅")


def test_disposal_is_refused_for_a_record_within_retention_again(gap_type, people):
    gap = closed_gap(people["worker"], date(2010, 4, 1))
    services.retention_scan(today=TODAY)
    candidate = listed(gap)
    services.disposal_approve(candidate_ids=[candidate.pk], acting_user=people["supervisor"])
    ResourceGap.objects.filter(pk=gap.pk).update(status=ResourceGapStatus.CONSIDERING)  # "reopened"
    with pytest.raises(ValidationError, match="保存期間内"):
        services.disposal_execute(candidate_id=candidate.pk, acting_user=people["supervisor"])
    gap.refresh_from_db()
    assert gap.description.startswith("山田さん宅")
    result = services.retention_scan(today=TODAY)
    candidate.refresh_from_db()
    assert candidate.status == DisposalStatus.WITHDRAWN and result.withdrawn == [candidate.pk]
    # Closed again later, it is listed again (a new candidate; the withdrawn one stays as the record).
    ResourceGap.objects.filter(pk=gap.pk).update(status=ResourceGapStatus.DEVELOPED)
    services.retention_scan(today=TODAY)
    assert DisposalCandidate.objects.filter(object_id=gap.pk).count() == 2


def test_one_candidate_that_cannot_be_approved_refuses_the_whole_approval(gap_type, people):
    gaps = [closed_gap(people["worker"], date(2010, 4, day)) for day in (1, 2)]
    services.retention_scan(today=TODAY)
    first, second = listed(gaps[0]), listed(gaps[1])
    services.disposal_keep(candidate=second, acting_user=people["supervisor"], reason="訴訟対応のため")
    with pytest.raises(ValidationError, match="保存延長"):
        services.disposal_approve(candidate_ids=[first.pk, second.pk], acting_user=people["supervisor"])
    first.refresh_from_db()
    assert first.status == DisposalStatus.LISTED


def test_a_kept_record_is_not_disposed_and_returns_when_the_extension_ends(gap_type, people):
    gap = closed_gap(people["worker"], date(2010, 4, 1))
    services.retention_scan(today=TODAY)
    candidate = listed(gap)
    with pytest.raises(ValidationError, match="理由"):
        services.disposal_keep(candidate=candidate, acting_user=people["supervisor"], reason="  ")
    services.disposal_keep(
        candidate=candidate,
        acting_user=people["supervisor"],
        reason="訴訟対応のため",
        until=timezone.localdate() + timedelta(days=30),
    )
    candidate.refresh_from_db()
    assert candidate.status == DisposalStatus.KEPT and candidate.kept_by == people["supervisor"]
    with pytest.raises(ValidationError):
        services.disposal_execute(candidate_id=candidate.pk, acting_user=people["supervisor"])
    services.retention_scan(today=timezone.localdate() + timedelta(days=10))
    candidate.refresh_from_db()
    assert candidate.status == DisposalStatus.KEPT
    result = services.retention_scan(today=timezone.localdate() + timedelta(days=31))
    candidate.refresh_from_db()
    assert candidate.status == DisposalStatus.LISTED and result.relisted == [candidate.pk]
    reasons = list(candidate.history.order_by("history_id").values_list("history_change_reason", flat=True))
    assert reasons[1] == "保存延長: 訴訟対応のため" and "期限が過ぎた" in reasons[-1]


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_disposes_what_a_supervisor_approved(gap_type, people, worker):  # noqa: F811
    from tests.test_celery_worker import wait_for

    gap = closed_gap(people["worker"], date(2010, 4, 1))
    services.retention_scan(today=TODAY)
    candidate = listed(gap)
    services.disposal_approve(
        candidate_ids=[candidate.pk], acting_user=people["supervisor"]
    )  # commits: the task goes
    assert wait_for(lambda: DisposalCandidate.objects.get(pk=candidate.pk).status == DisposalStatus.DISPOSED)
    gap.refresh_from_db()
    assert gap.description == DISPOSED


# --- The disposal ----------------------------------------------------------------------------------------


def test_disposal_anonymises_the_record_and_its_history_and_logs_the_act(gap_type, people, caplog):
    gap = closed_gap(people["worker"], date(2010, 4, 1))
    other = closed_gap(people["worker"], date(2024, 4, 1), description="別の記録（田中）")
    with caplog.at_level(logging.INFO, logger="jusou.retention"):
        candidate = approve_and_dispose(gap, people["supervisor"])
    gap.refresh_from_db()
    assert (gap.description, gap.source_label) == (DISPOSED, DISPOSED)
    assert (gap.category, gap.status, gap.recorded_by) == (
        "居場所",
        ResourceGapStatus.DEVELOPED,
        people["worker"],
    )
    history = list(gap.history.order_by("history_id"))
    assert len(history) == 3  # created, the addition, the disposal
    assert all(h.description == DISPOSED and "山田" not in h.source_label for h in history)
    assert (
        history[-1].history_change_reason == DISPOSAL_REASON
        and history[-1].history_user == people["supervisor"]
    )
    assert [h.history_type for h in history] == ["+", "~", "~"]
    other.refresh_from_db()
    assert other.description == "別の記録（田中）。追記"  # only the disposed record
    # The act: who approved, who executed, when, which rows; the steps in the candidate's history.
    assert candidate.status == DisposalStatus.DISPOSED
    assert candidate.approved_by == candidate.disposed_by == people["supervisor"]
    assert candidate.disposed_at is not None and candidate.disposed_rows == {"jusou.resourcegap": [gap.pk]}
    steps = list(candidate.history.order_by("history_id").values_list("status", "history_user__username"))
    assert steps == [("listed", None), ("approved", "kanri"), ("disposed", "kanri")]
    assert f"disposed G-{gap.pk:06d}" in caplog.text and "approved by kanri" in caplog.text


def test_disposal_twice_changes_nothing_the_second_time(gap_type, people):
    gap = closed_gap(people["worker"], date(2010, 4, 1))
    candidate = approve_and_dispose(gap, people["supervisor"])
    rows = gap.history.count()
    again = services.disposal_execute(candidate_id=candidate.pk, acting_user=people["supervisor"])
    assert again.status == DisposalStatus.DISPOSED and gap.history.count() == rows
    assert services.dispose_approved() == []


def test_approval_disposes_after_the_commit(gap_type, people, django_capture_on_commit_callbacks):
    gap = closed_gap(people["worker"], date(2010, 4, 1))
    services.retention_scan(today=TODAY)
    candidate = listed(gap)
    with django_capture_on_commit_callbacks(execute=True):
        services.disposal_approve(candidate_ids=[candidate.pk], acting_user=people["supervisor"])
    candidate.refresh_from_db()
    gap.refresh_from_db()
    assert candidate.status == DisposalStatus.DISPOSED and gap.description == DISPOSED


def test_a_disposed_record_is_not_listed_again(gap_type, people):
    gap = closed_gap(people["worker"], date(2010, 4, 1))
    approve_and_dispose(gap, people["supervisor"])
    assert services.retention_scan(today=TODAY + timedelta(days=400)).listed == []


def test_disposed_values_follow_the_field():
    from django.db import models

    assert disposed_value(models.TextField(), "山田") == DISPOSED
    assert disposed_value(models.TextField(blank=True), "") == ""
    assert disposed_value(models.EmailField(), "a@example.jp") == ""
    assert disposed_value(models.CharField(max_length=20, null=True, unique=True), "12345") is None
    assert disposed_value(models.CharField(max_length=2), "山田") == ""
    assert disposed_value(models.JSONField(), {"氏名": "山田"}) == {}
    assert disposed_value(models.FileField(), "consents/2015/01/a.pdf") == ""


# --- The PostgreSQL guard --------------------------------------------------------------------------------

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the history guard is PostgreSQL's (production); SQLite is for development",
)


@postgresql_only
def test_postgresql_lets_a_disposal_update_history_but_nothing_else(people):
    gap = ResourceGap.objects.create(
        category="居場所", description="山田", source_label="会議", recorded_by=people["worker"]
    )
    row = gap.history.get()
    history = type(row).objects
    with pytest.raises(DatabaseError), transaction.atomic():
        history.filter(pk=row.pk).update(description=DISPOSED)  # outside a disposal
    with transaction.atomic(), history_scrub():
        history.filter(pk=row.pk).update(description=DISPOSED)
    assert gap.history.get().description == DISPOSED
    with pytest.raises(DatabaseError), transaction.atomic(), history_scrub():
        history.filter(pk=row.pk).update(history_date=timezone.now())  # not even a disposal rewrites when
    with pytest.raises(DatabaseError), transaction.atomic(), history_scrub():
        history.filter(pk=row.pk).update(history_user=people["supervisor"])  # … or who
    with pytest.raises(DatabaseError), transaction.atomic(), history_scrub():
        history.filter(pk=row.pk).delete()  # nor deletes
    with transaction.atomic():
        with history_scrub():
            pass
        with pytest.raises(DatabaseError), transaction.atomic():
            history.filter(pk=row.pk).update(description="書き換え")  # closed again after the scrub
    assert gap.history.count() == 1


@postgresql_only
def test_postgresql_disposal_leaves_no_personal_text_in_the_history_table(gap_type, people):
    gap = closed_gap(people["worker"], date(2010, 4, 1))
    approve_and_dispose(gap, people["supervisor"])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM jusou_historicalresourcegap WHERE id = %s AND (description LIKE %s OR source_label LIKE %s)",
            [gap.pk, "%山田%", "%山田%"],
        )
        assert cursor.fetchone()[0] == 0


# --- The pages -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["worker", "coordinator", "admin"])
def test_only_supervisors_open_the_retention_pages(client, gap_type, people, persona):
    gap = closed_gap(people["worker"], date(2010, 4, 1))
    services.retention_scan(today=TODAY)
    candidate = listed(gap)
    client.force_login(people[persona])
    assert client.get(reverse("retention_list")).status_code == 403
    assert client.get(reverse("retention_detail", args=[candidate.pk])).status_code == 403
    assert (
        client.post(reverse("retention_approve"), {"candidate": [candidate.pk], "confirm": "yes"}).status_code
        == 403
    )
    assert client.post(reverse("retention_keep", args=[candidate.pk]), {"reason": "x"}).status_code == 403
    candidate.refresh_from_db()
    assert candidate.status == DisposalStatus.LISTED


def test_supervisor_lists_confirms_and_approves(client, gap_type, people, django_capture_on_commit_callbacks):
    gaps = [closed_gap(people["worker"], date(2010, 4, day)) for day in (1, 2, 3)]
    services.retention_scan(today=TODAY)
    client.force_login(people["supervisor"])
    html = client.get(reverse("retention_list")).content.decode()
    assert "保存年限と廃棄" in html and "テスト記録" in html and "10年" in html
    assert all(f"G-{gap.pk:06d}" in html for gap in gaps) and "山田" not in html
    chosen = [listed(gaps[0]).pk, listed(gaps[1]).pk]
    confirm = client.post(reverse("retention_approve"), {"candidate": chosen})
    assert confirm.status_code == 200 and "元に戻すことはできません" in confirm.content.decode()
    assert DisposalCandidate.objects.filter(status=DisposalStatus.APPROVED).count() == 0  # not yet
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("retention_approve"), {"candidate": chosen, "confirm": "yes"}, follow=True)
    assert "2件の廃棄を承認しました" in done.content.decode()
    statuses = dict(DisposalCandidate.objects.values_list("object_id", "status"))
    assert statuses == {gaps[0].pk: "disposed", gaps[1].pk: "disposed", gaps[2].pk: "listed"}
    disposed = client.get(reverse("retention_list"), {"status": "disposed"}).content.decode()
    assert f"G-{gaps[0].pk:06d}" in disposed and f"G-{gaps[2].pk:06d}" not in disposed
    detail = client.get(reverse("retention_detail", args=[chosen[0]])).content.decode()
    assert (
        "匿名化した記録" in detail
        and "不足する社会資源" in detail
        and "1件" in detail
        and "廃棄承認済" in detail
    )


def test_approving_nothing_is_explained(client, people):
    client.force_login(people["supervisor"])
    response = client.post(reverse("retention_approve"), {}, follow=True)
    assert "承認する記録を選んでください" in response.content.decode()


def test_supervisor_keeps_a_record_with_a_reason(client, gap_type, people):
    gap = closed_gap(people["worker"], date(2010, 4, 1))
    services.retention_scan(today=TODAY)
    candidate = listed(gap)
    client.force_login(people["supervisor"])
    url = reverse("retention_keep", args=[candidate.pk])
    assert "保存延長の理由" in client.get(url).content.decode()
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 200 and "この項目は必須です" in refused.content.decode()
    client.post(url, {"reason": "訴訟対応のため"})
    candidate.refresh_from_db()
    assert candidate.status == DisposalStatus.KEPT and candidate.keep_reason == "訴訟対応のため"
    detail = client.get(reverse("retention_detail", args=[candidate.pk])).content.decode()
    assert "訴訟対応のため" in detail and "解除するまで" in detail
    client.post(reverse("retention_relist", args=[candidate.pk]))
    candidate.refresh_from_db()
    assert candidate.status == DisposalStatus.LISTED


def test_the_list_page_has_a_bounded_number_of_queries(
    client, gap_type, people, django_assert_max_num_queries
):
    for day in range(1, 29):
        closed_gap(people["worker"], date(2010, 2, day))
    services.retention_scan(today=TODAY)
    first = DisposalCandidate.objects.filter(record_type=GAP).order_by("pk")[:10]
    services.disposal_approve(candidate_ids=[c.pk for c in first], acting_user=people["supervisor"])
    client.force_login(people["supervisor"])
    with django_assert_max_num_queries(14):
        assert client.get(reverse("retention_list"), {"status": "all"}).status_code == 200


def test_the_system_admin_sets_the_years_in_the_admin_and_a_supervisor_cannot(client, people):
    policy = retention_policies()["cases.case"]
    url = reverse("admin:jusou_retentionpolicy_change", args=[policy.pk])
    client.force_login(people["admin"])
    assert client.get(url).status_code == 200
    client.post(url, {"years": 7, "starts": RetentionStart.NEXT_FISCAL_YEAR, "basis": "文書管理規程 別表第1"})
    policy.refresh_from_db()
    assert (policy.years, policy.starts, policy.record_type) == (
        7,
        RetentionStart.NEXT_FISCAL_YEAR,
        "cases.case",
    )
    assert policy.history.latest().history_user == people["admin"]
    refused = client.post(url, {"years": 0, "starts": RetentionStart.CLOSURE})
    assert refused.status_code == 200 and RetentionPolicy.objects.get(pk=policy.pk).years == 7
    client.force_login(people["supervisor"])
    assert client.get(url).status_code == 302  # the admin is for システム管理者 only
