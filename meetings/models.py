"""多機関協働事業 (社会福祉法 第106条の4 第2項第5号) and 支援プラン (第6号).

This first part: 本人同意 (consent, per person, withdrawable) and 支援決定 (the municipality's
decision to support the case under the programme). 支援会議, 支援プラン and 重層的支援会議 build on them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from cases.models import Case, Person
from jusou.models import Agency


class InformationCategory(models.TextChoices):
    """What a consent lets the named agencies receive."""

    BASIC = "basic", "基本情報（氏名・生年月日・連絡先）"
    HOUSEHOLD = "household", "世帯の状況"
    ISSUES = "issues", "課題・アセスメント"
    HEALTH = "health", "病歴・障害の状況"
    PROGRESS = "progress", "支援経過"
    PLAN = "plan", "支援プラン"


class ConsentingParty(models.TextChoices):
    SELF = "self", "本人"
    PROXY = "proxy", "代理人"


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", "書面"
    ORAL = "oral", "口頭"


class ConsentQuerySet(models.QuerySet):
    def valid(self, on=None):
        """In force on `on` (today): given, not expired, not withdrawn. Checked when the query runs."""
        day = on or timezone.localdate()
        return self.filter(
            Q(expires_on__isnull=True) | Q(expires_on__gte=day),
            consented_on__lte=day,
            withdrawn_at__isnull=True,
        )


class Consent(models.Model):
    """本人同意: a person's consent to share their information with named agencies, for a purpose,
    until a date. Each household member consents separately. Withdrawal stops sharing at once."""

    case = models.ForeignKey(
        Case, verbose_name="支援ケース", on_delete=models.PROTECT, related_name="consents"
    )
    person = models.ForeignKey(
        Person, verbose_name="同意した本人", on_delete=models.PROTECT, related_name="consents"
    )
    consenting_party = models.CharField("同意者", max_length=10, choices=ConsentingParty.choices)
    proxy_name = models.CharField("代理人氏名", max_length=100, blank=True)
    proxy_relation = models.CharField("代理人の続柄・関係", max_length=50, blank=True)
    consented_on = models.DateField("同意日")
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="同意を得た職員", on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField("方法", max_length=10, choices=ConsentMethod.choices)
    recipients = models.ManyToManyField(
        Agency, verbose_name="情報を共有する機関", related_name="consents_received"
    )
    categories = models.JSONField("共有する情報の範囲", default=list)
    purpose = models.TextField("利用目的")
    expires_on = models.DateField("有効期限", null=True, blank=True)
    withdrawn_at = models.DateTimeField("撤回日時", null=True, blank=True)
    withdrawal_method = models.CharField(
        "撤回の方法", max_length=10, choices=ConsentMethod.choices, blank=True
    )
    withdrawal_received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="撤回を受けた職員", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    withdrawal_note = models.TextField("撤回の内容", blank=True)
    recorded_at = models.DateTimeField("記録日時", default=timezone.now)

    history = HistoricalRecords(m2m_fields=[recipients])
    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = "本人同意"
        verbose_name_plural = "本人同意"
        ordering = ["-consented_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(consenting_party__in=ConsentingParty.values), name="consent_party_valid"
            ),
            models.CheckConstraint(
                condition=~Q(consenting_party="proxy") | ~Q(proxy_name=""),
                name="consent_proxy_named",
                violation_error_message="代理人が同意した場合は、代理人の氏名を入力してください。",
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("consented_on")),
                name="consent_expires_after_given",
                violation_error_message="有効期限は同意日以降の日付にしてください。",
            ),
        ]
        indexes = [models.Index(fields=["case", "withdrawn_at"], name="consent_case")]

    def __str__(self):
        return f"本人同意 {self.person} {self.consented_on}"

    @property
    def category_labels(self) -> list[str]:
        return [InformationCategory(c).label for c in self.categories if c in InformationCategory.values]

    def state(self, on=None) -> str:
        day = on or timezone.localdate()
        if self.withdrawn_at:
            return "撤回"
        if self.expires_on and self.expires_on < day:
            return "期限切れ"
        if self.consented_on > day:
            return "開始前"
        return "有効"


class SupportDecision(models.Model):
    """支援決定: the municipality decides to support the case under the programme (a precondition,
    with valid consent, for the 重層的支援会議)."""

    case = models.ForeignKey(
        Case, verbose_name="支援ケース", on_delete=models.PROTECT, related_name="support_decisions"
    )
    decided_on = models.DateField("決定日")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="記録者", on_delete=models.PROTECT, related_name="+"
    )
    decision_number = models.CharField("決定番号", max_length=40, blank=True)
    note = models.TextField("備考", blank=True)
    recorded_at = models.DateTimeField("記録日時", default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "支援決定"
        verbose_name_plural = "支援決定"
        ordering = ["-decided_on", "-pk"]

    def __str__(self):
        return f"支援決定 {self.case.number} {self.decided_on}"
