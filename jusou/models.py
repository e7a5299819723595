"""What the five 事業 share: staff accounts, agencies, 圏域 and in-app notifications.

Business rules that change these records live in jusou/services.py; reads that depend on who is
asking live in jusou/staff/selectors.py.
"""

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from simple_history.models import HistoricalRecords

from jusou.fields import coded_list
from jusou.ja.wareki import local_text


class Role(models.TextChoices):
    WORKER = "worker", "相談員"
    COORDINATOR = "coordinator", "相談支援包括化推進員"
    SUPERVISOR = "supervisor", "管理者"
    # The municipality's 地域福祉 staff (地域福祉課 …): keep the 地域づくり register for the whole city
    # (community/selectors.py resource_can_change); no case access comes with it.
    COMMUNITY_WELFARE = "community_welfare", "地域福祉担当"
    SYSTEM_ADMIN = "system_admin", "システム管理者"
    # 支援会議 members from outside the agencies (民生委員, 住民 …): a meeting-only account that sees
    # nothing but the meetings it is a member of.
    MEETING_MEMBER = "meeting_member", "支援会議の構成員（外部）"
    # The service account of a registered API client (福祉総合システム …): acts for one agency, through
    # the same grants as its staff, and only within the client's scopes.
    API_CLIENT = "api_client", "外部システム（API連携）"


class User(AbstractUser):
    """A staff account. Individual accounts only (総務省ガイドライン); shared logins are not allowed.

    What a user may do comes from their active StaffMembership rows, never from flags set by hand:
    `is_staff` (Django admin access) is kept in step with the システム管理者 role by the services.
    """

    # Password hashes and login times are not part of the audit trail.
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = "職員アカウント"
        verbose_name_plural = "職員アカウント"

    def __str__(self):
        return self.get_full_name() or self.username

    def get_full_name(self):
        # Japanese order: family name first.
        return f"{self.last_name} {self.first_name}".strip()

    def get_short_name(self):
        return self.last_name or self.username

    @cached_property
    def active_memberships(self) -> list["StaffMembership"]:
        """Memberships in force today, loaded once per request (the user object lives per request)."""
        return list(StaffMembership.objects.active().filter(user=self).select_related("agency"))

    @cached_property
    def roles(self) -> frozenset[str]:
        return frozenset(membership.role for membership in self.active_memberships)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @staticmethod
    def prefetch_active_memberships(lookup: str = "memberships") -> models.Prefetch:
        """For lists of staff (member pickers, a meeting's members: lookup "user__memberships"): each
        user's `active_memberships`, `roles` and `agencies` from one query for the whole list instead of
        one per user."""
        memberships = StaffMembership.objects.active().select_related("agency")
        return models.Prefetch(lookup, queryset=memberships, to_attr="active_memberships")

    @property
    def agencies(self) -> list["Agency"]:
        return [m.agency for m in self.active_memberships if m.agency is not None]

    @property
    def is_machine(self) -> bool:
        """A registered API client's service account (外部システム, e.g. 福祉総合システム): it acts for an
        agency through the API, but is never a person — not a 支援会議 member, not a 主担当者."""
        return Role.API_CLIENT in self.roles or hasattr(self, "api_client")

    def agency_in_role(self, *roles: str) -> "Agency | None":
        """The agency where the user holds one of `roles` today (the first, if several), or None: whom
        a grant given to them in that role is given on behalf of (a coordinator's つなぎ)."""
        return next((m.agency for m in self.active_memberships if m.role in roles and m.agency), None)

    def home_url(self) -> str:
        """Where login lands: the Django admin for an account that is only a システム管理者."""
        if self.roles == {Role.SYSTEM_ADMIN}:
            return reverse("admin:index")
        return reverse("dashboard")


class AreaLevel(models.TextChoices):
    SMALL = "small", "小圏域"
    MIDDLE = "middle", "中圏域"
    MUNICIPAL = "municipal", "区市町村域"


class Area(models.Model):
    """圏域: 小圏域 (町会・学区) within 中圏域 (日常生活圏域) within the 区市町村域."""

    code = models.SlugField("コード", max_length=40, unique=True)
    name = models.CharField("名称", max_length=100)
    level = models.CharField("圏域の種類", max_length=20, choices=AreaLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上位の圏域",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "圏域"
        verbose_name_plural = "圏域"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(level__in=AreaLevel.values), name="area_level_valid"),
        ]

    def __str__(self):
        return self.name


class AgencyKind(models.TextChoices):
    COMMUNITY_GENERAL_SUPPORT = "community_general_support", "地域包括支援センター"
    DISABILITY_CONSULTATION = "disability_consultation", "障害者相談支援事業所"
    CHILD_FAMILY = "child_family", "子ども家庭支援センター"
    SELF_RELIANCE = "self_reliance", "自立相談支援機関"
    SOCIAL_WELFARE_COUNCIL = "social_welfare_council", "社会福祉協議会"
    MUNICIPAL_OFFICE = "municipal_office", "福祉事務所・庁内各課"
    MEDICAL = "medical", "医療機関"
    NPO_PRIVATE = "npo_private", "NPO・民間事業者"
    COMMUNITY_GROUP = "community_group", "地域団体"
    OTHER = "other", "その他"


class Agency(models.Model):
    """支援関係機関: an organisation whose staff take part in the programme."""

    code = models.SlugField(
        "コード", max_length=40, unique=True, help_text="他システム連携用の変わらない識別子"
    )
    name = models.CharField("名称", max_length=200, unique=True)
    kind = models.CharField("種別", max_length=40, choices=AgencyKind.choices)
    area = models.ForeignKey(Area, verbose_name="圏域", on_delete=models.PROTECT, null=True, blank=True)
    is_active = models.BooleanField("有効", default=True)
    # The guardian group through which agency-wide grants are held (jusou.access.grants.agency_group).
    group = models.OneToOneField(
        Group, verbose_name="権限グループ", on_delete=models.PROTECT, null=True, blank=True, editable=False
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "支援関係機関"
        verbose_name_plural = "支援関係機関"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=AgencyKind.values), name="agency_kind_valid"),
        ]

    def __str__(self):
        return self.name


class StaffMembershipQuerySet(models.QuerySet):
    def active(self, on=None):
        day = on or timezone.localdate()
        return self.filter(Q(ended_on__isnull=True) | Q(ended_on__gt=day), started_on__lte=day)


class StaffMembership(models.Model):
    """職員の所属: a user works for an agency in a role from one date until another.

    A システム管理者 administers accounts, agencies and code lists; it needs no agency and grants no
    access to case records.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="職員", on_delete=models.PROTECT, related_name="memberships"
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name="所属機関",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
    )
    role = models.CharField("役割", max_length=20, choices=Role.choices)
    # Who keeps it: empty when entered by hand; "sso:<IdP>" when an IdP group mapping made it, which
    # then also ends it when the group no longer maps to it (jusou.sso.services.mapping_apply).
    source = models.CharField("登録元", max_length=40, blank=True, default="")
    started_on = models.DateField("開始日", default=timezone.localdate)
    ended_on = models.DateField("終了日", null=True, blank=True, help_text="この日から所属は無効になります")

    history = HistoricalRecords()
    objects = StaffMembershipQuerySet.as_manager()

    class Meta:
        verbose_name = "職員の所属"
        verbose_name_plural = "職員の所属"
        ordering = ["user", "agency", "role"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
            models.CheckConstraint(
                condition=Q(role__in=[Role.SYSTEM_ADMIN, Role.MEETING_MEMBER]) | Q(agency__isnull=False),
                name="membership_agency_required_except_system_admin",
                violation_error_message="システム管理者・外部の構成員以外の役割には所属機関が必要です。",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="membership_ends_after_start",
                violation_error_message="終了日は開始日以降の日付にしてください。",
            ),
            models.UniqueConstraint(
                fields=["user", "agency", "role"],
                condition=Q(ended_on__isnull=True),
                name="membership_unique_open",
                violation_error_message="この職員には同じ機関・役割の有効な所属がすでにあります。",
            ),
        ]
        indexes = [models.Index(fields=["user", "ended_on"])]

    def __str__(self):
        return f"{self.user} / {self.agency or '—'} / {self.get_role_display()}"

    def clean(self):
        # An external 支援会議 member is known to the other members and in the minutes by name only
        # (no agency): an account without one would show as a blank member.
        if self.role == Role.MEETING_MEMBER and self.user_id and not self.user.get_full_name():
            raise ValidationError(
                {
                    "user": "外部の構成員には氏名が必要です（会議の構成員一覧と議事録に表示されます）。先に氏名を登録してください。"
                }
            )


class NotificationQuerySet(models.QuerySet):
    def delivered(self):
        return self.filter(delivered_at__isnull=False)

    def unread(self):
        return self.delivered().filter(read_at__isnull=True)


class Notification(models.Model):
    """お知らせ: an in-app message to one user (reminders, referrals, duplicate-check alerts …).

    The row is written in the same transaction as whatever caused it, so nothing is lost if the
    broker is down; delivery (showing it in the bell, and the optional e-mail) is a Celery task,
    retried on failure and swept up by beat. `dedupe_key` makes reminders idempotent: the same key
    for the same recipient is only ever notified once.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="宛先", on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField("種類", max_length=40, default="info")
    title = models.CharField("件名", max_length=200)
    body = models.TextField("本文", blank=True)
    link = models.CharField("リンク先", max_length=500, blank=True)
    # NULL, not "", means "no key": the unique constraint only applies to real keys.
    dedupe_key = models.CharField("重複防止キー", max_length=200, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    delivered_at = models.DateTimeField("配信日時", null=True, blank=True)
    emailed_at = models.DateTimeField("メール送信日時", null=True, blank=True)
    read_at = models.DateTimeField("既読日時", null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = "お知らせ"
        verbose_name_plural = "お知らせ"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=Q(dedupe_key__isnull=False),
                name="notification_dedupe_per_recipient",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox"),
            models.Index(
                fields=["created_at"], condition=Q(delivered_at__isnull=True), name="notification_pending"
            ),
        ]

    def __str__(self):
        return self.title


class AccessBasis(models.TextChoices):
    """The legal ground on which someone sees a protected record (DOMAIN.md §4)."""

    ASSIGNMENT = "assignment", "担当"
    SUPPORT_MEETING = "support_meeting", "支援会議"  # 社会福祉法 第106条の6: members bound by 守秘義務
    CONSENT = "consent", "本人同意"
    SUPERVISOR = "supervisor", "管理者"
    # 個人情報保護法: 人の生命・身体の保護のために必要な場合 — break-glass, justified, time-limited, reviewed.
    EMERGENCY = "emergency", "緊急（生命・身体の保護）"


class AccessGrantQuerySet(models.QuerySet):
    def valid(self, at=None):
        """Grants in force at `at` (now): started, not ended, not revoked. Checked at query time,
        so an expired window gives no access even before any clean-up has run."""
        moment = at or timezone.now()
        return self.filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=moment), starts_at__lte=moment, revoked_at__isnull=True
        )

    def personal(self, user):
        """The grants to `user` personally that hold while their job does: one given on behalf of an
        agency counts only while the user works there today (user.agencies, already loaded: a list of
        ids in the query, no join per row); one tied to no agency (an external 支援会議 member's)
        counts as it is."""
        return self.filter(_personal_q(user))

    def held_by(self, user):
        """The grants through which `user` holds something: their personal ones (see `personal`) and
        those to the agencies they work for today. Combine with valid()."""
        return self.filter(_personal_q(user) | Q(agency__in=user.agencies))


def _personal_q(user) -> Q:
    agency_ids = [agency.pk for agency in user.agencies]
    tied = Q(on_behalf_of__isnull=True)
    if agency_ids:
        tied |= Q(on_behalf_of__in=agency_ids)
    return Q(tied, user=user)


class AccessGrant(models.Model):
    """The ledger of who may see or change a protected record, and on what basis.

    Every grant names its object, its grantee (a user, or every active staff member of an agency),
    the basis, who granted it, when, and until when. The effective permission is also held in the
    object's django-guardian direct foreign-key tables (jusou/access/grants.py keeps both in step);
    selectors require both, so that time limits are enforced when the query runs. A personal grant
    given on behalf of an agency (`on_behalf_of`) also needs the grantee's membership there, today.
    """

    content_type = models.ForeignKey(ContentType, verbose_name="記録の種類", on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField("記録")
    content_object = GenericForeignKey("content_type", "object_id")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="職員",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name="機関",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_grants",
    )
    # A personal grant follows the person's job: given to a worker as staff of this agency (the
    # case's 主担当者, a coordinator's つなぎ), it holds only while they work there. Null for agency
    # grants, and for external 支援会議 members, who belong to no agency (their grant ends with the
    # meeting's window).
    on_behalf_of = models.ForeignKey(
        Agency,
        verbose_name="所属機関（付与時）",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="個人への付与は、この機関に所属している間だけ有効です",
    )
    permission = models.CharField("権限", max_length=20, choices=[("view", "閲覧"), ("change", "更新")])
    basis = models.CharField("根拠", max_length=20, choices=AccessBasis.choices)
    reason = models.CharField("理由・経緯", max_length=500, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="付与者",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    starts_at = models.DateTimeField("開始日時", default=timezone.now)
    ends_at = models.DateTimeField("終了日時", null=True, blank=True)
    revoked_at = models.DateTimeField("取消日時", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="取消者",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revoke_reason = models.CharField("取消理由", max_length=500, blank=True)

    history = HistoricalRecords()
    objects = AccessGrantQuerySet.as_manager()

    class Meta:
        verbose_name = "アクセス権の付与"
        verbose_name_plural = "アクセス権の付与"
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, agency__isnull=True)
                | Q(user__isnull=True, agency__isnull=False),
                name="access_grant_one_grantee",
            ),
            models.CheckConstraint(
                condition=Q(agency__isnull=True) | Q(on_behalf_of__isnull=True),
                name="access_grant_on_behalf_of_personal_only",
            ),
            models.CheckConstraint(
                condition=Q(basis__in=AccessBasis.values), name="access_grant_basis_valid"
            ),
            models.CheckConstraint(
                condition=Q(permission__in=["view", "change"]), name="access_grant_permission_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id", "permission"], name="access_grant_object"),
            models.Index(fields=["user", "content_type"], name="access_grant_user"),
            models.Index(fields=["agency", "content_type"], name="access_grant_agency"),
            # The visible-row selectors start from these: the live grants of a user or of their agencies,
            # answered from the index alone (object_id, the period and the basis are included; PostgreSQL).
            # With the basis, a dashboard's 「本人同意だけで見ているケース」 reads no table rows either.
            models.Index(
                fields=["agency", "content_type", "permission"],
                include=["object_id", "starts_at", "ends_at", "basis"],
                condition=Q(revoked_at__isnull=True),
                name="access_grant_agency_live",
            ),
            models.Index(
                fields=["user", "content_type", "permission"],
                include=["object_id", "starts_at", "ends_at", "on_behalf_of", "basis"],
                condition=Q(revoked_at__isnull=True),
                name="access_grant_user_live",
            ),
        ]

    def __str__(self):
        return f"{self.get_basis_display()}: {self.user or self.agency} → {self.content_type.model}#{self.object_id}"


class ReadLog(models.Model):
    """Who viewed or searched what, when, and on which basis. Append-only: the application has no
    path that changes or deletes a row, and the database refuses it too (migration 0003) — with one
    exception, a disposal (jusou.retention.leftovers.read_log_redact): inside the disposal's
    transaction it may replace a `detail` naming the disposed person, keeping the old text's digest
    (`detail_digest`), so the chain still verifies; nothing else of the row can change."""

    class Action(models.TextChoices):
        VIEW = "view", "閲覧"
        SEARCH = "search", "検索"
        PRINT = "print", "印刷"
        EXPORT = "export", "出力"
        API = "api", "API取得"
        REFUSED = "refused", "閲覧できなかった請求"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="職員", on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField("日時", default=timezone.now, db_index=True)
    action = models.CharField("操作", max_length=10, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    basis = models.CharField("根拠", max_length=20, choices=AccessBasis.choices, blank=True)
    detail = models.CharField("内容", max_length=500, blank=True)
    # Hash chain: each row's hash covers its content and the previous row's hash, so a changed or
    # removed row breaks every later link (`manage.py verify_read_log` finds the first break).
    chain_hash = models.CharField(max_length=64, editable=False, blank=True)
    # 2: the hash covers the sha256 of `detail`, not the text itself, so that a disposal (保存年限) can
    # take a search term naming the person out of `detail` and keep that digest in `detail_digest`:
    # the chain still verifies and the row stays. 1: rows hashed before (their text cannot go).
    chain_version = models.PositiveSmallIntegerField(default=2, editable=False)
    detail_digest = models.CharField(max_length=64, editable=False, blank=True)
    redacted_at = models.DateTimeField("廃棄による削除日時", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "閲覧記録"
        verbose_name_plural = "閲覧記録"
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"], name="readlog_object"),
            models.Index(fields=["user", "-at"], name="readlog_user"),
        ]

    def __str__(self):
        return f"{local_text(self.at)} {self.user} {self.get_action_display()}"

    def compute_hash(self, previous: str) -> str:
        return hashlib.sha256((previous + self.compute_hash_content()).encode("utf-8")).hexdigest()

    def compute_hash_content(self) -> str:
        """What follows the previous row's hash in the hashed text (jusou.audit.readlog._append_chained hashes
        the previous hash and this in the database). Version 2 hashes the digest of `detail` (kept in
        `detail_digest` once a disposal has taken the text out)."""
        if self.chain_version == 1:
            detail = self.detail
        else:
            detail = self.detail_digest or hashlib.sha256(self.detail.encode("utf-8")).hexdigest()
        return "|" + "|".join(
            str(part)
            for part in (
                self.user_id,
                self.at.isoformat(),
                self.action,
                self.content_type_id or "",
                self.object_id or "",
                self.basis,
                detail,
            )
        )


class ResourceGapStatus(models.TextChoices):
    NOTED = "noted", "把握"
    CONSIDERING = "considering", "検討中"
    DEVELOPED = "developed", "開発済"


class ResourceGap(models.Model):
    """不足する社会資源: noticed at a 重層的支援会議 (社会資源の充足状況の把握と開発) or in 地域づくり,
    and followed until a new resource fills it. Holds no personal data: describe the need, not the
    person. Shared by meetings, community and participation, so it lives here."""

    category = models.CharField("分野", max_length=100)
    area = models.ForeignKey(Area, verbose_name="圏域", on_delete=models.PROTECT, null=True, blank=True)
    description = models.TextField("内容", help_text="個人が特定できる情報は書かないでください")
    status = models.CharField(
        "状況", max_length=20, choices=ResourceGapStatus.choices, default=ResourceGapStatus.NOTED
    )
    source_label = models.CharField("把握した場", max_length=200)
    source_type = models.ForeignKey(
        ContentType,
        verbose_name="把握した記録の種類",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    source_id = models.PositiveBigIntegerField("把握した記録", null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="記録者", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("記録日時", default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "不足する社会資源"
        verbose_name_plural = "不足する社会資源"
        ordering = ["status", "-recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ResourceGapStatus.values), name="resource_gap_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["source_type", "source_id"], name="resource_gap_source")]

    def __str__(self):
        return f"{self.category}（{self.get_status_display()}）"


class ApiScope(models.TextChoices):
    """What a registered machine client may do. Staff are not limited by scopes: their roles and
    grants decide, as in the browser."""

    AGENCIES_READ = "agencies:read", "機関の参照"
    PEOPLE_READ = "people:read", "本人・世帯の参照"
    PEOPLE_WRITE = "people:write", "本人の登録・宛名番号の連携"
    CONSULTATIONS_READ = "consultations:read", "相談受付の参照"
    CONSULTATIONS_WRITE = "consultations:write", "相談受付・つなぎの登録"
    CASES_READ = "cases:read", "支援ケースの参照"
    CASES_WRITE = "cases:write", "支援ケースの更新"
    MEETINGS_READ = "meetings:read", "多機関協働（同意・プラン・会議）の参照"
    OUTREACH_READ = "outreach:read", "アウトリーチの参照"
    PARTICIPATION_READ = "participation:read", "参加支援の参照"
    COMMUNITY_READ = "community:read", "地域資源の参照"
    STATISTICS_READ = "statistics:read", "統計の参照"


class ApiClient(models.Model):
    """A registered machine client (外部システム): another municipal system that calls the API.

    It acts through its own service account (`user`), which holds an 外部システム membership at the
    agency it acts for, so it sees exactly what that agency's grants allow — and of that only what
    its scopes name. Tokens (django-rest-knox: stored hashed, expiring) belong to that account;
    deactivating the client deactivates the account, which ends every token at once.
    """

    name = models.CharField("システム名", max_length=100, unique=True)
    department = models.CharField("所管部署", max_length=100)
    agency = models.ForeignKey(
        Agency, verbose_name="代理する機関", on_delete=models.PROTECT, related_name="+"
    )
    scopes = coded_list(models.JSONField("許可する操作", default=list), ApiScope.choices)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="サービスアカウント",
        on_delete=models.PROTECT,
        related_name="api_client",
        editable=False,
    )
    is_active = models.BooleanField("有効", default=True)
    created_at = models.DateTimeField("登録日時", default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "API連携システム"
        verbose_name_plural = "API連携システム"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def has_scope(self, scope: str) -> bool:
        return self.is_active and scope in self.scopes


class IdempotencyKey(models.Model):
    """A POST that created something, remembered by its Idempotency-Key so that a retried push
    returns the first answer instead of creating a duplicate. Written in the same transaction as the
    record it created: a request that failed leaves no key behind and may be retried."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "冪等キー"
        verbose_name_plural = "冪等キー"
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", "Excel（xlsx）"
    CSV = "csv", "CSV"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "待機中"
    RUNNING = "running", "作成中"
    DONE = "done", "完了"
    FAILED = "failed", "失敗"
    # The file was deleted EXPORT_FILE_KEEP_DAYS after it was made (jusou.exports.jobs.exports_expire).
    EXPIRED = "expired", "削除済み（保管期間経過）"


class ExportJob(models.Model):
    """A file a user asked for (統計の出力), made by a Celery task (jusou.tasks.run_export) while the page
    shows its progress. The file lives under MEDIA_ROOT/exports/, which is never served statically:
    only the owner downloads it, through a view. The disclosure itself is logged in the read log when
    the file is done (DOMAIN.md §8: every export is logged)."""

    class Kind(models.TextChoices):
        STATISTICS = "statistics", "統計"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="依頼者", on_delete=models.PROTECT, related_name="export_jobs"
    )
    kind = models.CharField("種類", max_length=20, choices=Kind.choices)
    #: the query that names what to export (for statistics: StatisticsParams.query())
    params = models.JSONField("条件", default=dict)
    #: the parameters in words (令和7年4月・中圏域A), for the list and the progress page
    description = models.CharField("内容", max_length=300, blank=True)
    format = models.CharField("形式", max_length=10, choices=ExportFormat.choices)
    status = models.CharField(
        "状況", max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField("進捗（%）", default=0)
    message = models.CharField("メッセージ", max_length=500, blank=True)
    #: relative to MEDIA_ROOT (exports/<id>.<format>); empty until the file is written
    file_path = models.CharField("ファイル", max_length=300, blank=True)
    #: what the download is saved as (統計_令和7年4月_みどり市全体.xlsx)
    filename = models.CharField("ファイル名", max_length=200, blank=True)
    table_count = models.PositiveIntegerField("表の数", default=0)
    #: runs started (a retry, or a re-queue after a lost worker, adds one)
    attempts = models.PositiveSmallIntegerField("実行回数", default=0)
    created_at = models.DateTimeField("依頼日時", default=timezone.now)
    #: the last change shown (queued, started, progress); beat sends again a queued job silent for long
    updated_at = models.DateTimeField("更新日時", default=timezone.now)
    #: the running worker's last sign of life, written every EXPORT_HEARTBEAT_SECONDS while it runs:
    #: beat re-queues a running job whose heartbeat has stopped (a killed worker) within minutes
    heartbeat_at = models.DateTimeField("ワーカーの最終応答", null=True, blank=True)
    finished_at = models.DateTimeField("完了日時", null=True, blank=True)
    downloaded_at = models.DateTimeField("ダウンロード日時", null=True, blank=True)
    expired_at = models.DateTimeField("ファイル削除日時", null=True, blank=True)

    class Meta:
        verbose_name = "出力ジョブ"
        verbose_name_plural = "出力ジョブ"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ExportStatus.values), name="export_job_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(format__in=ExportFormat.values), name="export_job_format_valid"
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="export_job_progress_max_100"),
            # A finished file is complete: done means 100 % and a file to download.
            models.CheckConstraint(
                condition=~Q(status=ExportStatus.DONE) | (Q(progress=100) & ~Q(file_path="")),
                name="export_job_done_has_file",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="export_job_owner"),
            models.Index(fields=["status", "updated_at"], name="export_job_status"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}の出力 #{self.pk}（{self.get_status_display()}）"

    def get_absolute_url(self) -> str:
        return reverse("export_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)


# 保存年限 and disposal: in their own module (jusou.retention), models of this app all the same.
from jusou.retention.models import DisposalCandidate, RetentionPolicy  # noqa: E402, F401

# Single sign-on: in their own module (jusou.sso), models of this app all the same.
from jusou.sso.models import SsoEvent, SsoGroupMapping, SsoIdentity, SsoSession  # noqa: E402, F401
