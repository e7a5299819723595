"""Writes for retention: the daily scan, a 管理者's approval or 保存延長, and the disposal itself.

Invariants:
- a record is disposed only through an approved DisposalCandidate, by a 管理者 (the approver, when the
  task runs it), while the record is still past its 保存年限 and no app holds it;
- disposal anonymises (jusou.retention.anonymise); rows, codes, dates and statuses stay;
- every step is a change of the candidate with who, when and why in its history; the disposal also
  writes the rows it anonymised into the candidate and a line to the "jusou.retention" log.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from jusou.exports.jobs import exports_naming_people_expire
from jusou.ja.wareki import to_wareki
from jusou.later import after_commit
from jusou.models import User
from jusou.notifications.services import notification_send
from jusou.registry import retention_cascades, retention_type, retention_types
from jusou.retention.anonymise import grants_scrub, history_scrub, merge
from jusou.retention.leftovers import notifications_scrub, read_log_redact
from jusou.retention.models import DISPOSAL_TRANSITIONS, DisposalCandidate, DisposalStatus, RetentionPolicy
from jusou.retention.selectors import (
    content_type_of,
    is_retention_supervisor,
    past_retention,
    retention_policies,
)
from jusou.services import save_with_history
from jusou.staff.selectors import active_supervisors

log = logging.getLogger("jusou.retention")

CHUNK = 500


class DisposalRefused(ValidationError):
    """The disposal (or a step towards it) is not allowed; the message says why, in Japanese."""


def _require_supervisor(user, action: str) -> None:
    if user is None or not is_retention_supervisor(user):
        raise PermissionDenied(f"{action}は管理者が行います。")


def _move(candidate: DisposalCandidate, to_status: str) -> None:
    if to_status not in DISPOSAL_TRANSITIONS[candidate.status]:
        raise DisposalRefused(
            f"{candidate.number} は「{candidate.get_status_display()}」のため"
            f"「{DisposalStatus(to_status).label}」にできません。"
        )
    candidate.status = to_status


def held_ids(record_type_code: str, ids) -> set[int]:
    """The ids another app still uses (an open アウトリーチ on a closed case …)."""
    held: set[int] = set()
    for cascade in retention_cascades(record_type_code):
        if cascade.hold is not None:
            held |= set(cascade.hold(list(ids)))
    return held


# --- The daily scan ------------------------------------------------------------------------------------


@dataclass
class ScanResult:
    listed: list[int] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)
    relisted: list[int] = field(default_factory=list)
    #: {保存期間満了日: records reaching it within RETENTION_NOTICE_DAYS} the 管理者 were told of
    upcoming: dict[date, int] = field(default_factory=dict)


@transaction.atomic
def retention_scan(*, today: date | None = None) -> ScanResult:
    """List the records past retention as candidates; withdraw the candidates whose record is within
    retention again (a reopened case) or held; re-list the 保存延長 whose end date has passed; tell
    the 管理者 once per day when new candidates appeared.

    Idempotent: a record has at most one open candidate (a constraint), so a second run lists nothing
    again. The policies are locked for the run, so two runs at once take turns."""
    today = today or timezone.localdate()
    policies = retention_policies()
    list(RetentionPolicy.objects.select_for_update().order_by("pk"))
    result = ScanResult()
    for kind in retention_types():
        result.listed += _list_new(kind, policies[kind.code], today)
    result.withdrawn = _withdraw_stale(policies, today)
    result.relisted = _relist_kept(today)
    if result.listed or result.relisted:
        _notify_supervisors(today, len(result.listed) + len(result.relisted))
    result.upcoming = _notify_upcoming(policies, today)
    if result.listed or result.withdrawn or result.relisted:
        log.info(
            "retention: scan %s listed=%d withdrawn=%d relisted=%d",
            today,
            len(result.listed),
            len(result.withdrawn),
            len(result.relisted),
        )
    return result


def _list_new(kind, policy, today: date) -> list[int]:
    provider = kind.provider
    content_type = content_type_of(kind)
    open_candidates = DisposalCandidate.objects.filter(content_type=content_type).exclude(
        status=DisposalStatus.WITHDRAWN
    )
    due = (
        past_retention(kind, policy, today)
        .exclude(pk__in=open_candidates.values("object_id"))
        .order_by("pk")
        .values_list("pk", provider.closed_field, provider.agency_field or "pk")
    )
    listed: list[int] = []
    rows = list(due)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        held = held_ids(kind.code, [pk for pk, _, _ in chunk])
        candidates = []
        for pk, closed_at, agency_id in chunk:
            if pk in held:
                continue
            closed_on = timezone.localdate(closed_at)
            candidates.append(
                DisposalCandidate(
                    record_type=kind.code,
                    content_type=content_type,
                    object_id=pk,
                    number=provider.number(pk),
                    agency_id=agency_id if provider.agency_field else None,
                    closed_on=closed_on,
                    expires_on=policy.expires_on(closed_on),
                )
            )
        created = bulk_create_with_history(
            candidates,
            DisposalCandidate,
            batch_size=CHUNK,
            default_change_reason="保存期間の満了により廃棄候補に追加",
        )
        listed += [c.pk for c in created]
    return listed


def _still_past(candidate: DisposalCandidate, policies, today: date, *, lock: bool = False) -> bool:
    kind = retention_type(candidate.record_type)
    if kind is None:
        return False
    records = past_retention(kind, policies[kind.code], today).filter(pk=candidate.object_id)
    if lock:
        records = records.select_for_update(of=("self",))
    return bool(list(records.values_list("pk", flat=True))) and not held_ids(kind.code, [candidate.object_id])


def _withdraw_stale(policies, today: date) -> list[int]:
    """Candidates not yet disposed whose record is no longer past retention (reopened, gone) or is
    held: checked per type in chunks, a constant number of queries per chunk."""
    withdrawn = []
    pending = DisposalCandidate.objects.select_for_update().filter(
        status__in=[DisposalStatus.LISTED, DisposalStatus.APPROVED, DisposalStatus.KEPT]
    )
    by_type: dict[str, list[DisposalCandidate]] = {}
    for candidate in pending.order_by("pk"):
        by_type.setdefault(candidate.record_type, []).append(candidate)
    for code, candidates in by_type.items():
        kind = retention_type(code)
        for start in range(0, len(candidates), CHUNK):
            chunk = candidates[start : start + CHUNK]
            ids = [c.object_id for c in chunk]
            still = set()
            if kind is not None:
                past = past_retention(kind, policies[code], today).filter(pk__in=ids)
                still = set(past.values_list("pk", flat=True)) - held_ids(code, ids)
            for candidate in chunk:
                if candidate.object_id not in still:
                    _move(candidate, DisposalStatus.WITHDRAWN)
                    save_with_history(
                        candidate,
                        acting_user=None,
                        reason="保存期間内に戻ったか、ほかの事業で使われているため対象外",
                    )
                    withdrawn.append(candidate.pk)
    return withdrawn


def _relist_kept(today: date) -> list[int]:
    relisted = []
    ended = DisposalCandidate.objects.select_for_update().filter(
        status=DisposalStatus.KEPT, keep_until__isnull=False, keep_until__lt=today
    )
    for candidate in ended:
        _move(candidate, DisposalStatus.LISTED)
        save_with_history(candidate, acting_user=None, reason="保存延長の期限が過ぎたため廃棄候補に戻す")
        relisted.append(candidate.pk)
    return relisted


def _notify_supervisors(today: date, count: int) -> None:
    # One notice per 管理者 per day (dedupe key): a second run on the same day sends nothing.
    for supervisor in active_supervisors():
        notification_send(
            recipient=supervisor,
            kind="retention",
            title=f"保存期間が満了した記録があります（新たに{count}件、廃棄の承認待ち）",
            body="保存年限を過ぎた記録の廃棄を承認するか、保存を延長してください。",
            link=reverse("retention_list"),
            dedupe_key=f"retention-listed:{today.isoformat()}",
        )


def upcoming_expiries(policies, today: date, days: int) -> dict[date, dict[str, int]]:
    """The records whose 保存期間満了日 falls within `days` from `today` (not past it yet): {満了日:
    {record type label: count}}. Records a 管理者 already kept or that an app holds are counted too:
    the notice is a warning, the scan decides."""
    upcoming: dict[date, dict[str, int]] = {}
    horizon = today + timedelta(days=days)
    for kind in retention_types():
        policy = policies[kind.code]
        provider = kind.provider
        soon = past_retention(kind, policy, horizon + timedelta(days=1)).exclude(
            pk__in=past_retention(kind, policy, today).values("pk")
        )
        for closed_at in soon.values_list(provider.closed_field, flat=True).iterator(chunk_size=CHUNK):
            expires = policy.expires_on(timezone.localdate(closed_at))
            if today <= expires <= horizon:
                by_type = upcoming.setdefault(expires, {})
                by_type[kind.label] = by_type.get(kind.label, 0) + 1
    return dict(sorted(upcoming.items()))


def _notify_upcoming(policies, today: date) -> dict[date, int]:
    """Tell the 管理者 RETENTION_NOTICE_DAYS ahead of a 保存期間満了日: one notice per 満了日 (dedupe key),
    so the daily scan repeats none and a missed day is caught up."""
    days = settings.RETENTION_NOTICE_DAYS
    upcoming = upcoming_expiries(policies, today, days)
    people = list(active_supervisors())
    for expires, by_type in upcoming.items():
        counts = "、".join(f"{label} {count}件" for label, count in sorted(by_type.items()))
        total = sum(by_type.values())
        for supervisor in people:
            notification_send(
                recipient=supervisor,
                kind="retention_upcoming",
                title=f"{to_wareki(expires)}に保存期間が満了する記録があります（{total}件）",
                body=f"{counts}。満了日の翌日に廃棄候補になります。保存を続ける必要がある記録は、候補になったあと保存延長してください。",
                link=reverse("retention_list"),
                dedupe_key=f"retention-expiring:{expires.isoformat()}",
            )
    return {expires: sum(by_type.values()) for expires, by_type in upcoming.items()}


# --- A 管理者's decisions ---------------------------------------------------------------------------


@transaction.atomic
def disposal_approve(*, candidate_ids, acting_user: User) -> list[DisposalCandidate]:
    """Approve the disposal of listed candidates; the disposal runs after the commit (a task, and
    the daily job as a sweep). All or nothing: one candidate that cannot be approved refuses all."""
    _require_supervisor(acting_user, "廃棄の承認")
    ids = sorted({int(pk) for pk in candidate_ids})
    if not ids:
        raise DisposalRefused("承認する記録を選んでください。")
    candidates = list(DisposalCandidate.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    if len(candidates) != len(ids):
        raise DisposalRefused("選ばれた廃棄候補が見つかりません。一覧を読み込み直してください。")
    now = timezone.now()
    for candidate in candidates:
        _move(candidate, DisposalStatus.APPROVED)
        candidate.approved_by, candidate.approved_at = acting_user, now
        save_with_history(candidate, acting_user=acting_user, reason="廃棄の承認")
    log.info("retention: approved %s by %s", [c.number for c in candidates], acting_user.username)

    after_commit("jusou.tasks.retention_dispose", ids)
    return candidates


@transaction.atomic
def disposal_keep(
    *, candidate: DisposalCandidate, acting_user: User, reason: str, until: date | None = None
) -> DisposalCandidate:
    """保存延長: keep a listed or approved record past its 保存年限 (e.g. 訴訟対応), with a reason and
    optionally an end date after which the daily job lists it again."""
    _require_supervisor(acting_user, "保存延長")
    candidate = DisposalCandidate.objects.select_for_update().get(pk=candidate.pk)
    if not reason.strip():
        raise DisposalRefused("保存を延長する理由を入力してください。")
    if until is not None and until <= timezone.localdate():
        raise DisposalRefused("保存延長の期限は明日以降の日付にしてください。")
    _move(candidate, DisposalStatus.KEPT)
    candidate.kept_by, candidate.kept_at = acting_user, timezone.now()
    candidate.keep_reason, candidate.keep_until = reason.strip(), until
    candidate.approved_by = candidate.approved_at = None
    return save_with_history(candidate, acting_user=acting_user, reason=f"保存延長: {reason.strip()}"[:100])


@transaction.atomic
def disposal_relist(*, candidate: DisposalCandidate, acting_user: User) -> DisposalCandidate:
    """End a 保存延長: the record is a candidate for disposal again."""
    _require_supervisor(acting_user, "保存延長の解除")
    candidate = DisposalCandidate.objects.select_for_update().get(pk=candidate.pk)
    _move(candidate, DisposalStatus.LISTED)
    return save_with_history(candidate, acting_user=acting_user, reason="保存延長の解除")


# --- Disposal ----------------------------------------------------------------------------------------


def disposal_execute(*, candidate_id: int, acting_user: User) -> DisposalCandidate:
    """Dispose of the record of an approved candidate: anonymise its unit (the type's provider), the
    rows other apps keep of it (their cascades) and its access-grant reasons, in the rows and in their
    history (their change reasons included); then what it left elsewhere (jusou.retention.leftovers:
    its texts in meeting minutes, notifications and the read log's search terms) and the export files
    that may name people; remove its uploaded files once committed.

    Refused (nothing changes): without a 管理者's approval (DisposalRefused), when `acting_user` is not
    a 管理者 (PermissionDenied), when the record is within retention again — a reopened case — or is
    held by another app (DisposalRefused). A candidate already disposed is returned as it is, so a
    re-run task is harmless."""
    with transaction.atomic():
        candidate = DisposalCandidate.objects.select_for_update().get(pk=candidate_id)
        _require_supervisor(acting_user, "記録の廃棄")
        if candidate.status == DisposalStatus.DISPOSED:
            return candidate
        if candidate.status != DisposalStatus.APPROVED or candidate.approved_by_id is None:
            raise DisposalRefused(f"{candidate.number} は管理者の承認がないため廃棄できません。")
        kind = retention_type(candidate.record_type)
        if kind is None:
            raise DisposalRefused(
                f"{candidate.number}: 記録の種類「{candidate.record_type}」が登録されていません。"
            )
        if not _still_past(candidate, retention_policies(), timezone.localdate(), lock=True):
            raise DisposalRefused(
                f"{candidate.number} は保存期間内に戻ったか（ケースの再開など）、ほかの事業で使われているため廃棄できません。"
            )
        # Disposed first, so that the rules on people (jusou.retention.selectors.disposed_ids) count
        # this unit as gone; the whole transaction rolls back if anything below fails.
        DisposalCandidate.objects.filter(pk=candidate.pk).update(status=DisposalStatus.DISPOSED)
        rows: dict[str, list[int]] = {}
        with history_scrub() as removed:
            for cascade in retention_cascades(kind.code):
                merge(rows, cascade.dispose([candidate.object_id], acting_user=acting_user))
            merge(rows, kind.provider.dispose(candidate.object_id, acting_user=acting_user))
            merge(rows, grants_scrub(kind.provider.model, [candidate.object_id], acting_user=acting_user))
            # What the record left elsewhere: its texts quoted in minutes, notifications, search terms.
            for cascade in retention_cascades(kind.code):
                if cascade.leftovers is not None:
                    merge(rows, cascade.leftovers([candidate.object_id], removed, acting_user=acting_user))
            merge(rows, notifications_scrub(removed))
            merge(rows, read_log_redact(removed))
            exports_naming_people_expire()
        policy = retention_policies()[kind.code]
        candidate.status = DisposalStatus.DISPOSED
        candidate.disposed_by, candidate.disposed_at = acting_user, timezone.now()
        candidate.disposed_rows = rows
        candidate.retention_years, candidate.basis = policy.years, policy.basis
        save_with_history(candidate, acting_user=acting_user, reason="保存年限の経過による廃棄（匿名化）")
    log.info(
        "retention: disposed %s (%s #%s) approved by %s, executed by %s: %s",
        candidate.number,
        kind.code,
        candidate.object_id,
        candidate.approved_by.username,
        acting_user.username,
        {label: len(ids) for label, ids in rows.items()},
    )
    return candidate


def dispose_approved(*, candidate_ids=None) -> list[int]:
    """Dispose of approved candidates (the given ones, or all: the daily sweep), each in its own
    transaction and in the name of the 管理者 who approved it. A refusal is logged and the candidate
    left for the daily job to withdraw or for a 管理者 to look at; the others go on."""
    pending = DisposalCandidate.objects.filter(status=DisposalStatus.APPROVED).select_related("approved_by")
    if candidate_ids is not None:
        pending = pending.filter(pk__in=list(candidate_ids))
    disposed = []
    for candidate in pending.order_by("pk"):
        try:
            disposal_execute(
                candidate_id=candidate.pk, acting_user=User.objects.get(pk=candidate.approved_by_id)
            )
        except (DisposalRefused, PermissionDenied) as refusal:
            log.warning("retention: %s not disposed: %s", candidate.number, refusal)
        else:
            disposed.append(candidate.pk)
    return disposed
