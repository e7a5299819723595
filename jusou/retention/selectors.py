"""Reads for retention: the policies in force, the candidates a 管理者 reviews, and which records are
already disposed (the apps' rules on people use it)."""

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.utils import timezone

from jusou.models import Agency, Role
from jusou.registry import RetentionType, retention_type, retention_types
from jusou.retention.models import DisposalCandidate, DisposalStatus, RetentionPolicy


def is_retention_supervisor(user) -> bool:
    """Who approves disposal and keeps records (管理者, municipal staff)."""
    return user.is_authenticated and user.has_role(Role.SUPERVISOR)


def retention_policies() -> dict[str, RetentionPolicy]:
    """The policy of every declared record type; a type with no row yet gets one with its default
    years (so the システム管理者 sees and can change every type in the admin)."""
    policies = {p.record_type: p for p in RetentionPolicy.objects.all()}
    for kind in retention_types():
        if kind.code not in policies:
            policies[kind.code], _ = RetentionPolicy.objects.get_or_create(
                record_type=kind.code, defaults={"years": kind.default_years}
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
