"""The read log: who viewed, searched, printed or exported which record on which basis, hash-chained
and append-only, with the alerts on unusual reads (docs/adr/0003)."""

from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone

from jusou.access.decision import AccessDecision
from jusou.models import AccessBasis, ReadLog, User
from jusou.notifications.services import notification_send
from jusou.staff.selectors import active_supervisors


def read_log(
    *,
    user: User,
    action: str,
    obj: models.Model | None = None,
    decision: AccessDecision | None = None,
    detail: str = "",
    model: type[models.Model] | None = None,
    object_id: int | None = None,
):
    """Append a row to the read log (DOMAIN.md §8: tamper-evident logs of who viewed which case),
    chained to the previous row's hash. Appends are serialised so the chain never forks. `model`
    names the record type of a read that covers several rows (an API list).

    The basis is the access decision's (`decision`, or the one the selector attached to `obj`):
    callers never name a basis themselves. A read without a decision (a search, a list of rows
    that carry no 要配慮個人情報) is logged without one."""
    if decision is None and obj is not None:
        decision = getattr(obj, "decision", None)
    basis = decision.basis if decision is not None else ""
    if decision is not None and decision.log_detail():
        detail = f"{detail} {decision.log_detail()}".strip()
    row = ReadLog(
        user=user,
        action=action,
        content_type=ContentType.objects.get_for_model(obj if obj is not None else model)
        if (obj is not None or model is not None)
        else None,
        object_id=obj.pk if obj is not None else object_id,
        basis=basis,
        detail=detail[:500],
    )
    if connection.vendor == "postgresql":
        _append_chained(row)
    else:
        with transaction.atomic():  # SQLite serialises writers: the chain cannot fork
            previous = ReadLog.objects.order_by("-pk").values_list("chain_hash", flat=True).first() or ""
            row.chain_hash = row.compute_hash(previous)
            row.save()
    _flag_unusual(row)
    return row


def _append_chained(row: ReadLog) -> None:
    """Insert `row` chained to the last row, on PostgreSQL in one round trip instead of five (BEGIN, the
    lock, an ORM read of the previous hash, an ORM insert, COMMIT): the lock and one INSERT … SELECT
    that reads the previous hash and hashes with it — sha256 of the previous hash followed by the rest
    of ReadLog.compute_hash's text, which Python formats, so read_log_verify checks the same hash.
    The two statements go in one message, which PostgreSQL runs as one transaction (or inside the
    caller's): the lock is held until that commits. The INSERT is a statement of its own, started
    after the lock is held, so its snapshot sees every row appended before: the chain cannot fork."""
    from django.db.backends.postgresql.base import Cursor as ClientBindingCursor  # PostgreSQL only

    insert = (
        "INSERT INTO jusou_readlog (user_id, at, action, content_type_id, object_id, basis, detail,"
        " chain_version, detail_digest, chain_hash)"
        " SELECT %s, %s, %s, %s, %s, %s, %s, %s, '', encode(sha256(convert_to("
        "COALESCE((SELECT chain_hash FROM jusou_readlog ORDER BY id DESC LIMIT 1), '') || %s, 'UTF8')), 'hex')"
        " RETURNING id, chain_hash"
    )
    values = [
        row.user_id,
        row.at,
        row.action,
        row.content_type_id,
        row.object_id,
        row.basis,
        row.detail,
        row.chain_version,
        row.compute_hash_content(),
    ]
    # Two statements in one message need client-side binding; the connection binds on the server
    # (prepared statements, DATABASE_URL): this one cursor binds here. Wrapped as connection.cursor()
    # wraps its own, so the statement is logged and counted like any other.
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = connection._prepare_cursor(ClientBindingCursor(connection.connection))
    with cursor:
        cursor.execute(f"SELECT pg_advisory_xact_lock(%s); {insert}", [READ_LOG_LOCK, *values])
        cursor.cursor.nextset()
        row.pk, row.chain_hash = cursor.fetchone()
    row._state.adding = False
    row._state.db = connection.alias


def read_refused(*, user: User, model: type[models.Model], pk) -> None:
    """A protected record asked for by id that the selector answered 404. Logged whether or not a
    record with that id exists, so the request takes the same path either way (the reader learns
    nothing; the supervisors see the ids asked for), and many in an hour alert the supervisors."""
    if (
        not getattr(user, "is_authenticated", False)
        or not (str(pk).isascii() and str(pk).isdigit())
        or len(str(pk)) > 18
    ):
        return
    read_log(
        user=user,
        action=ReadLog.Action.REFUSED,
        model=model,
        object_id=int(pk),
        detail="根拠がないか存在しないため表示せず",
    )


OWN_BASES = {AccessBasis.ASSIGNMENT, AccessBasis.SUPERVISOR, ""}


#: how a 重複確認 (the intake duplicate check, cases.selectors.person_duplicates) starts its read-log
#: rows: one row without an object for each check, whatever it found, and one naming each person matched
DUPLICATE_CHECK = "重複確認"


def duplicate_checks_within_hour(user: User, at: datetime | None = None) -> int:
    """The 重複確認 the user asked in the hour up to `at`. Counted by the question (its row without an
    object), not by what it found, so where the limit starts says nothing about earlier answers."""
    at = at or timezone.now()
    return ReadLog.objects.filter(
        user=user,
        action=ReadLog.Action.SEARCH,
        object_id__isnull=True,
        detail__startswith=DUPLICATE_CHECK,
        at__gt=at - timedelta(hours=1),
        at__lte=at,
    ).count()


def _flag_unusual(row: ReadLog) -> None:
    """Tell the supervisors of reads that look unusual: in the quiet hours, or many reads in an hour on
    bases other than the reader's own 担当 (consent, 支援会議, emergency), or 重複確認 beyond
    DUPLICATE_CHECK_LIMIT. Once per user, reason and hour."""
    from django.conf import settings

    if row.action == ReadLog.Action.SEARCH:
        # A search reads no record, except the 重複確認: it asks whether a person is known, and past
        # DUPLICATE_CHECK_LIMIT in an hour it answers "no match" and the supervisors should know why.
        is_check = row.object_id is None and row.detail.startswith(DUPLICATE_CHECK)
        if is_check and duplicate_checks_within_hour(row.user, row.at) > settings.DUPLICATE_CHECK_LIMIT:
            _tell_supervisors(row, ["重複確認の短時間の繰り返し"])
        return
    reasons = []
    if row.action == ReadLog.Action.REFUSED:
        refused = ReadLog.objects.filter(
            user=row.user, action=ReadLog.Action.REFUSED, at__gte=row.at - timedelta(hours=1)
        )
        if refused.count() > settings.AUDIT_REFUSED_LIMIT:
            reasons.append("閲覧できない記録の短時間の繰り返し請求")
    if settings.AUDIT_AFTER_HOURS:
        start, end = settings.AUDIT_AFTER_HOURS
        hour = timezone.localtime(row.at).hour
        if (hour >= start or hour < end) if start > end else (start <= hour < end):
            reasons.append("時間外の閲覧")
    if row.basis not in OWN_BASES:
        recent = ReadLog.objects.filter(user=row.user, at__gte=row.at - timedelta(hours=1)).exclude(
            basis__in=OWN_BASES
        )
        if recent.count() > settings.AUDIT_OUTSIDE_BASIS_LIMIT:
            reasons.append("担当外の根拠による短時間の大量閲覧")
    if reasons:
        _tell_supervisors(row, reasons)


def _tell_supervisors(row: ReadLog, reasons: list[str]) -> None:
    """One notification per supervisor, reason, user and hour (the dedupe key)."""
    supervisors = active_supervisors()
    bucket = timezone.localtime(row.at).strftime("%Y%m%d%H")
    for reason in reasons:
        for supervisor in supervisors:
            notification_send(
                recipient=supervisor,
                kind="unusual_access",
                link=f"/audit/access-log/?user={row.user.username}",
                title=f"確認が必要な閲覧: {reason}（{row.user.get_full_name() or row.user.username}）",
                dedupe_key=f"unusual:{reason}:{row.user_id}:{bucket}",
            )


def read_log_verify() -> tuple[int, ReadLog | None]:
    """Walk the chain in order; return (rows checked, first row whose hash does not match)."""
    previous, checked = "", 0
    for row in ReadLog.objects.order_by("pk").iterator(chunk_size=2000):
        if row.chain_hash != row.compute_hash(previous):
            return checked, row
        previous, checked = row.chain_hash, checked + 1
    return checked, None


READ_LOG_LOCK = 7_106_006  # any constant: the advisory lock that serialises read-log appends
