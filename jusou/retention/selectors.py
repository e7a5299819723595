"""Reads for retention: the policies in force, the candidates a 管理者 reviews, and which records are
already disposed (the apps' rules on people use it)."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.utils import timezone

from jusou.ja.wareki import to_wareki
from jusou.models import Agency, Role
from jusou.registry import RetentionType, retention_type, retention_types
from jusou.retention.models import DisposalCandidate, DisposalStatus, RetentionPolicy, RetentionStart


def is_retention_supervisor(user) -> bool:
    """Who approves disposal and keeps records (管理者, municipal staff)."""
    return user.is_authenticated and user.has_role(Role.SUPERVISOR)


def default_basis(label: str, years: int, starts: str = RetentionStart.CLOSURE) -> str:
    """The 根拠条項 a policy is seeded with, in the wording of a 文書管理規程's 保存期間基準 (別表); the
    システム管理者 replaces it with the municipality's own article numbers."""
    return f"文書管理規程 別表（文書の保存期間基準）「{label}」保存期間{years}年（{RetentionStart(starts).label}起算）"


def retention_policies() -> dict[str, RetentionPolicy]:
    """The policy of every declared record type; a type with no row yet gets one with its default
    years and 根拠条項 (so the システム管理者 sees and can change every type in the admin)."""
    policies = {p.record_type: p for p in RetentionPolicy.objects.all()}
    for kind in retention_types():
        if kind.code not in policies:
            policies[kind.code], _ = RetentionPolicy.objects.get_or_create(
                record_type=kind.code,
                defaults={
                    "years": kind.default_years,
                    "basis": default_basis(kind.label, kind.default_years),
                },
            )
    return policies


def retention_policies_ensure(apps=None, **kwargs) -> None:
    """post_migrate: seed a policy row for each declared type with its default years (never changes
    a row the システム管理者 edited). Skipped while the table is not migrated yet."""
    try:
        if apps is not None:
            apps.get_model("jusou", "RetentionPolicy")
    except LookupError:
        return
    retention_policies()


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def past_retention(kind: RetentionType, policy: RetentionPolicy, today: date) -> QuerySet:
    """The records of `kind` whose 保存期間 has ended on `today` (closed before the policy's cutoff)."""
    provider = kind.provider
    before = day_start(policy.cutoff(today))
    return provider.closed_records().filter(**{f"{provider.closed_field}__lt": before})


def disposed_ids(record_type_code: str) -> QuerySet:
    """A subquery of the ids of the disposed records of a type (for `pk__in` / `~Q(…__in=…)`)."""
    return DisposalCandidate.objects.filter(
        record_type=record_type_code, status=DisposalStatus.DISPOSED
    ).values("object_id")


def content_type_of(kind: RetentionType) -> ContentType:
    return ContentType.objects.get_for_model(kind.provider.model)


@dataclass
class CandidateFilters:
    status: str = DisposalStatus.LISTED
    record_type: str = ""
    agency: Agency | None = None
    expired_before: date | None = None
    errors: list[str] = field(default_factory=list)


def candidate_filters(params) -> CandidateFilters:
    """Parse the list page's query string; bad values are dropped and explained in Japanese."""
    filters = CandidateFilters()
    status = params.get("status", DisposalStatus.LISTED)
    if status == "all" or status in DisposalStatus.values:
        filters.status = status
    else:
        filters.errors.append("状態の指定が正しくありません。")
    record_type = params.get("type", "")
    if record_type:
        if retention_type(record_type) is not None:
            filters.record_type = record_type
        else:
            filters.errors.append("記録の種類が見つかりません。")
    agency = params.get("agency", "").strip()
    if agency:
        filters.agency = Agency.objects.filter(pk=int(agency)).first() if agency.isdigit() else None
        if filters.agency is None:
            filters.errors.append("指定された機関が見つかりません。")
    expired = params.get("expired_before", "").strip()
    if expired:
        try:
            filters.expired_before = date.fromisoformat(expired)
        except ValueError:
            filters.errors.append("保存期間満了日の指定が正しくありません（例: 2025-04-01）。")
    return filters


def candidates_list(filters: CandidateFilters) -> QuerySet:
    rows = DisposalCandidate.objects.select_related(
        "agency", "approved_by", "kept_by", "disposed_by"
    ).order_by("expires_on", "pk")
    if filters.status != "all":
        rows = rows.filter(status=filters.status)
    if filters.record_type:
        rows = rows.filter(record_type=filters.record_type)
    if filters.agency:
        rows = rows.filter(agency=filters.agency)
    if filters.expired_before:
        rows = rows.filter(expires_on__lt=filters.expired_before)
    return rows


def candidate_record_url(candidate: DisposalCandidate) -> str | None:
    kind = retention_type(candidate.record_type)
    return kind.provider.url(candidate.object_id) if kind else None


# --- 廃棄簿 (the disposal register) --------------------------------------------------------------------

REGISTER_COLUMNS = [
    ("廃棄番号", 10),
    ("廃棄日時", 22),
    ("記録の種類", 24),
    ("記録番号", 12),
    ("担当機関", 28),
    ("終結日", 16),
    ("保存期間満了日", 16),
    ("保存年限", 10),
    ("根拠条項", 48),
    ("承認者", 18),
    ("承認日時", 22),
    ("実行者", 18),
    ("匿名化した記録", 60),
    ("匿名化した件数", 14),
]


def disposal_register(*, disposed_from: date | None = None, disposed_until: date | None = None) -> QuerySet:
    """The disposals (廃棄簿), oldest first: every candidate disposed, with who approved and executed it."""
    rows = DisposalCandidate.objects.filter(status=DisposalStatus.DISPOSED).select_related(
        "agency", "approved_by", "disposed_by"
    )
    if disposed_from:
        rows = rows.filter(disposed_at__gte=day_start(disposed_from))
    if disposed_until:
        rows = rows.filter(disposed_at__lt=day_start(disposed_until + timedelta(days=1)))
    return rows.order_by("disposed_at", "pk")


def _person_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


def disposed_counts(candidate: DisposalCandidate) -> list[tuple[str, int]]:
    """(record kind in words, rows anonymised) of one disposal, from the ids it recorded."""
    from django.apps import apps

    counts = []
    for label, ids in sorted(candidate.disposed_rows.items()):
        try:
            name = str(apps.get_model(label)._meta.verbose_name)
        except LookupError:
            name = label
        counts.append((name, len(ids)))
    return counts


def register_lines(rows) -> Iterator[list]:
    """One line per disposal, in the REGISTER_COLUMNS order (dates in 和暦, times in JST)."""
    labels = {kind.code: kind.label for kind in retention_types()}
    for candidate in rows.iterator(chunk_size=500):
        counts = disposed_counts(candidate)
        yield [
            candidate.pk,
            wareki_datetime_text(candidate.disposed_at),
            labels.get(candidate.record_type, candidate.record_type),
            candidate.number,
            candidate.agency.name if candidate.agency else "",
            to_wareki(candidate.closed_on),
            to_wareki(candidate.expires_on),
            f"{candidate.retention_years}年" if candidate.retention_years else "",
            candidate.basis,
            _person_name(candidate.approved_by),
            wareki_datetime_text(candidate.approved_at),
            _person_name(candidate.disposed_by),
            "、".join(f"{name} {n}件" for name, n in counts),
            sum(n for _, n in counts),
        ]


def wareki_datetime_text(value: datetime | None) -> str:
    return f"{to_wareki(timezone.localtime(value))} {timezone.localtime(value):%H:%M}" if value else ""
