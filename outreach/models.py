"""アウトリーチ等を通じた継続的支援事業 (社会福祉法 第106条の4 第2項第4号): keep reaching people who
cannot or will not ask for help, building a relationship over months. An engagement may start before
any case exists, from a neighbour's or 民生委員's report, and is linked to a person and case later."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from cases.models import Case, Person
from jusou import plausible
from jusou.access.fieldpolicy import FieldPolicyModel
from jusou.models import Agency


class HowKnown(models.TextChoices):
    NEIGHBOUR = "neighbour", "知人・近隣"
    MINSEI = "minsei", "民生委員・児童委員"
    SUPPORT_MEETING = "support_meeting", "支援会議"
    AGENCY = "agency", "関係機関"
    FAMILY = "family", "家族・親族"
    LIFELINE = "lifeline", "ライフライン事業者"
    OTHER = "other", "その他"


class Purpose(models.TextChoices):
    RELATIONSHIP = "relationship", "関係構築"
    SITUATION = "situation", "状況把握"
    CONNECTION = "connection", "つなぎ"


class Stage(models.TextChoices):
    NOT_CONTACTED = "not_contacted", "未接触"
    CONTACTED = "contacted", "接触"
    DIALOGUE = "dialogue", "対話"
    TRUST = "trust", "信頼関係"
    CONNECTED = "connected", "つなぎ"


class OutreachEngagement(FieldPolicyModel):
    FIELD_POLICY = {"location": ("approximate_location",), "sensitive": ("background", "end_note")}

    provisional_name = models.CharField(
        "呼び名（分かる範囲）", max_length=100, help_text="例: 山田さん（60代男性）"
    )
    approximate_location = models.CharField("おおよその所在", max_length=200, blank=True)
    person = models.ForeignKey(
        Person,
        verbose_name="本人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outreach_engagements",
    )
    case = models.ForeignKey(
        Case,
        verbose_name="支援ケース",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outreach_engagements",
    )
    how_known = models.CharField("把握経路", max_length=20, choices=HowKnown.choices)
    background = models.TextField("把握の経緯・状況")
    purpose = models.CharField("目的", max_length=20, choices=Purpose.choices)
    plan_frequency = models.CharField("訪問等の頻度", max_length=100, blank=True)
    plan_visitors = models.CharField("訪問する人", max_length=200, blank=True)
    meeting_decision = models.CharField("きっかけとなった支援会議の決定", max_length=300, blank=True)
    stage = models.CharField("関係の段階", max_length=20, choices=Stage.choices, default=Stage.NOT_CONTACTED)
    owning_agency = models.ForeignKey(
        Agency, verbose_name="担当機関", on_delete=models.PROTECT, related_name="+"
    )
    lead_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="担当者", on_delete=models.PROTECT, related_name="+"
    )
    next_contact_on = models.DateField(
        "次回の接触予定日", null=True, blank=True, validators=[plausible.planned("次回の接触予定日")]
    )
    started_at = models.DateTimeField("開始日時", default=timezone.now)
    ended_at = models.DateTimeField("終了日時", null=True, blank=True)
    connected_agency = models.ForeignKey(
        Agency, verbose_name="つなぎ先", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    end_note = models.CharField("終了の理由", max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "アウトリーチ"
        verbose_name_plural = "アウトリーチ"
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="outreach_stage_valid"),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(connected_agency__isnull=False) | ~Q(end_note=""),
                name="outreach_end_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["owning_agency", "ended_at"], name="outreach_agency_open"),
            models.Index(fields=["ended_at", "next_contact_on"], name="outreach_due"),
        ]

    def __str__(self):
        return f"アウトリーチ O-{self.pk:06d}"

    def get_absolute_url(self):
        return reverse("outreach:engagement_detail", args=[self.pk])

    @property
    def number(self) -> str:
        return f"O-{self.pk:06d}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class OutreachEngagementUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(OutreachEngagement, on_delete=models.CASCADE)


class OutreachEngagementGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(OutreachEngagement, on_delete=models.CASCADE)


class ContactKind(models.TextChoices):
    VISIT_MET = "visit_met", "訪問（面会できた）"
    VISIT_ABSENT = "visit_absent", "訪問（不在）"
    VISIT_REFUSED = "visit_refused", "訪問（拒否）"
    LETTER = "letter", "置き手紙・郵便"
    PHONE = "phone", "電話"
    MESSAGE = "message", "メール・SNS"
    ACCOMPANY = "accompany", "同行支援"
    FAMILY = "family", "家族面談"
    INFORMATION = "information", "関係者からの情報収集"
    WATCH_REQUEST = "watch_request", "見守り依頼"


NO_CONTACT_KINDS = {ContactKind.VISIT_ABSENT, ContactKind.VISIT_REFUSED, ContactKind.LETTER}


class OutreachContact(FieldPolicyModel):
    FIELD_POLICY = {"sensitive": ("response",)}

    engagement = models.ForeignKey(
        OutreachEngagement, verbose_name="アウトリーチ", on_delete=models.PROTECT, related_name="contacts"
    )
    contacted_at = models.DateTimeField(
        "日時", default=timezone.now, validators=[plausible.happened("接触の日時")]
    )
    kind = models.CharField("種別", max_length=20, choices=ContactKind.choices)
    met_whom = models.CharField("会えた人・話した人", max_length=100, blank=True)
    response = models.TextField("反応・様子", blank=True)
    safety_confirmed = models.BooleanField("安否を確認できた", null=True, blank=True)
    next_planned_on = models.DateField(
        "次回予定日", null=True, blank=True, validators=[plausible.planned("次回予定日")]
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="記録者", on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "接触記録"
        verbose_name_plural = "接触記録"
        ordering = ["engagement", "-contacted_at", "-pk"]
        indexes = [models.Index(fields=["engagement", "-contacted_at"], name="contact_engagement_date")]

    def __str__(self):
        return f"{self.engagement} {self.get_kind_display()}"
