"""保存年限 per record type, and the records past it awaiting (or after) disposal.

Imported by jusou.models, so these are models of the jusou app. They refer to other models by name
only: jusou.models imports this module at its end."""

from datetime import date

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from jusou.fields import described
from jusou.ja.wareki import fiscal_year
from jusou.registry import retention_type_choices


def add_years(day: date, years: int) -> date:
    """The same day `years` later (or earlier); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class RetentionStart(models.TextChoices):
    """起算日: when the period starts counting."""

    CLOSURE = "closure", "終結・中断・終了の日から"
    # 公文書管理法施行令 第8条 and many 文書管理規程: 完結の日の属する年度の翌年度の4月1日から.
    NEXT_FISCAL_YEAR = "next_fiscal_year", "完結した年度の翌年度4月1日から"


class RetentionPolicy(models.Model):
    """保存年限 of one record type, as the municipality's 文書管理規程 sets it."""

    record_type = models.CharField("記録の種類", max_length=40, unique=True, choices=retention_type_choices)
    years = models.PositiveSmallIntegerField(
        "保存年限（年）", validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    starts = models.CharField(
        "起算日", max_length=20, choices=RetentionStart.choices, default=RetentionStart.CLOSURE
    )
    basis = models.CharField(
        "根拠条項",
        max_length=200,
        blank=True,
        help_text="文書管理規程の条項（例: 文書管理規程第○条・別表第○）。廃棄簿に載ります。",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "保存年限"
        verbose_name_plural = "保存年限"
        ordering = ["record_type"]
        constraints = [
            models.CheckConstraint(
                condition=Q(years__gte=1) & Q(years__lte=100),
                name="retention_years_range",
                violation_error_message="保存年限は1年から100年の間で指定してください。",
            ),
            models.CheckConstraint(
                condition=Q(starts__in=RetentionStart.values), name="retention_starts_valid"
            ),
        ]

    def __str__(self):
        return f"{self.get_record_type_display()}: {self.years}年"

    def expires_on(self, closed_on: date) -> date:
        """保存期間満了日: the last day the record is kept."""
        if self.starts == RetentionStart.NEXT_FISCAL_YEAR:
            return date(fiscal_year(closed_on) + 1 + self.years, 3, 31)
        return add_years(closed_on, self.years)

    def cutoff(self, today: date) -> date:
        """Records closed before this day are past retention on `today` (their 満了日 has passed)."""
        if self.starts == RetentionStart.NEXT_FISCAL_YEAR:
            return date(fiscal_year(today) - self.years, 4, 1)
        return add_years(today, -self.years)


class DisposalStatus(models.TextChoices):
    LISTED = "listed", "廃棄候補"
    APPROVED = "approved", "廃棄承認済"
    DISPOSED = "disposed", "廃棄済"
    KEPT = "kept", "保存延長"
    WITHDRAWN = "withdrawn", "対象外（再開など）"


# Who moves a candidate: the daily job lists, withdraws (the record is within retention again, e.g. a
# reopened case) and re-lists (a 保存延長 with an end date has ended); a 管理者 approves, keeps and
# re-lists; the disposal service disposes an approved candidate.
DISPOSAL_TRANSITIONS: dict[str, set[str]] = {
    DisposalStatus.LISTED: {DisposalStatus.APPROVED, DisposalStatus.KEPT, DisposalStatus.WITHDRAWN},
    DisposalStatus.APPROVED: {DisposalStatus.DISPOSED, DisposalStatus.KEPT, DisposalStatus.WITHDRAWN},
    DisposalStatus.KEPT: {DisposalStatus.LISTED, DisposalStatus.WITHDRAWN},
    DisposalStatus.DISPOSED: set(),
    DisposalStatus.WITHDRAWN: set(),
}
OPEN_DISPOSAL_STATUSES = [DisposalStatus.LISTED, DisposalStatus.APPROVED, DisposalStatus.KEPT]


def disposed_rows_text(rows: dict) -> str:
    """{'cases.progressnote': [ids]} in words, for the audit: 「支援経過記録 12件、支援ケース 1件」."""
    from django.apps import apps

    def name(label):
        try:
            return str(apps.get_model(label)._meta.verbose_name)
        except (LookupError, ValueError):
            return label

    return "、".join(
        f"{name(label)} {len(ids) if isinstance(ids, list) else ids}件" for label, ids in sorted(rows.items())
    )


class DisposalCandidate(models.Model):
    """A record past its 保存年限, and what became of it: listed → approved → disposed, or kept.

    Holds no personal data: the record's type, id and non-identifying number, its agency and dates.
    Once disposed it is the record of the act (who approved, who executed, when, which rows were
    anonymised), and its history (django-simple-history) shows every step with who took it."""

    record_type = models.CharField("記録の種類", max_length=40, choices=retention_type_choices)
    content_type = models.ForeignKey(
        ContentType, verbose_name="記録の種類", on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.PositiveBigIntegerField("記録ID")
    number = models.CharField("記録番号", max_length=40)
    agency = models.ForeignKey(
        "jusou.Agency",
        verbose_name="担当機関",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_on = models.DateField("終結日")
    expires_on = models.DateField("保存期間満了日")
    listed_at = models.DateTimeField("候補になった日時", default=timezone.now)
    status = models.CharField(
        "状態", max_length=20, choices=DisposalStatus.choices, default=DisposalStatus.LISTED
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="承認した管理者",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField("承認日時", null=True, blank=True)
    kept_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="保存延長した管理者",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    kept_at = models.DateTimeField("保存延長の日時", null=True, blank=True)
    keep_reason = models.TextField(
        "保存延長の理由", blank=True, help_text="例: 訴訟対応のため（個人名は書かないでください）"
    )
    keep_until = models.DateField("保存延長の期限", null=True, blank=True, help_text="空欄: 解除するまで")
    disposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="廃棄を実行した職員",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    disposed_at = models.DateTimeField("廃棄日時", null=True, blank=True)
    # {model label: [ids]} of the rows anonymised (ids only, no content).
    disposed_rows = described(
        models.JSONField("匿名化した記録", default=dict, blank=True), disposed_rows_text
    )
    # The policy in force when it was disposed, for the 廃棄簿 (the policy may change later).
    retention_years = models.PositiveSmallIntegerField("保存年限（年）", null=True, blank=True)
    basis = models.CharField("根拠条項", max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "廃棄候補"
        verbose_name_plural = "廃棄候補"
        ordering = ["expires_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DisposalStatus.values), name="disposal_status_valid"
            ),
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                condition=~Q(status="withdrawn"),
                name="disposal_one_open_candidate_per_record",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "disposed"]) | Q(approved_by__isnull=False),
                name="disposal_approved_has_approver",
            ),
            models.CheckConstraint(
                condition=~Q(status="kept") | ~Q(keep_reason=""),
                name="disposal_kept_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expires_on"], name="disposal_status_due"),
            models.Index(fields=["record_type", "status"], name="disposal_type_status"),
        ]

    def __str__(self):
        return f"{self.number}（{self.get_status_display()}）"
