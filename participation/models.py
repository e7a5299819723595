"""参加支援事業 (社会福祉法 第106条の4 第2項第2号): a way back into society for needs no existing service
covers — a plan, matching with local hosts, placement and follow-up with both sides, and developing
new hosts. Person-level records are read and written exactly as their case is."""

from django.conf import settings
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from cases.models import Case
from community.models import WEEKDAYS, CommunityResource, ParticipationKind, ResourceKind
from jusou import plausible
from jusou.access.fieldpolicy import FieldPolicyModel
from jusou.fields import coded_list
from jusou.ja.wareki import to_wareki
from jusou.models import Area, ResourceGap


class ParticipationPlan(FieldPolicyModel):
    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("case",)

    FIELD_POLICY = {
        "sensitive": ("strengths", "weaknesses", "health", "wishes"),
        "categories": {"plan": ("strengths", "weaknesses", "wishes"), "health": ("health",)},
    }

    case = models.ForeignKey(
        Case, verbose_name="支援ケース", on_delete=models.PROTECT, related_name="participation_plans"
    )
    wishes = models.TextField("本人の希望")
    strengths = models.TextField("得意なこと", blank=True)
    weaknesses = models.TextField("苦手なこと", blank=True)
    health = models.TextField("体調", blank=True)
    mobility = models.CharField("移動手段", max_length=100, blank=True)
    kinds = coded_list(models.JSONField("希望する参加の種類", default=list), ParticipationKind.choices)
    goals = models.TextField("目標")
    review_on = models.DateField("見直し予定日", validators=[plausible.planned("見直し予定日")])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="作成者", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("作成日時", default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "参加支援プラン"
        verbose_name_plural = "参加支援プラン"
        ordering = ["-created_at"]

    def __str__(self):
        return f"参加支援プラン {self.case.number}"

    def get_absolute_url(self):
        return reverse("participation:plan_detail", args=[self.pk])

    @property
    def kind_labels(self) -> list[str]:
        return [ParticipationKind(k).label for k in self.kinds if k in ParticipationKind.values]


class PersonChoice(models.TextChoices):
    PENDING = "pending", "未回答"
    WANTS = "wants", "希望する"
    DECLINES = "declines", "希望しない"


class HostAgreement(models.TextChoices):
    PENDING = "pending", "未確認"
    AGREED = "agreed", "了承"
    REFUSED = "refused", "受け入れ不可"


class Proposal(models.Model):
    """A host proposed to the person: their choice and the host's agreement are recorded."""

    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("plan__case", "host")

    plan = models.ForeignKey(
        ParticipationPlan, verbose_name="参加支援プラン", on_delete=models.PROTECT, related_name="proposals"
    )
    host = models.ForeignKey(
        CommunityResource, verbose_name="参加先候補", on_delete=models.PROTECT, related_name="+"
    )
    person_choice = models.CharField(
        "本人の選択", max_length=20, choices=PersonChoice.choices, default=PersonChoice.PENDING
    )
    host_agreement = models.CharField(
        "受け入れ先の了承", max_length=20, choices=HostAgreement.choices, default=HostAgreement.PENDING
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提案した職員", on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField("提案日時", default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "参加先の提案"
        verbose_name_plural = "参加先の提案"
        constraints = [models.UniqueConstraint(fields=["plan", "host"], name="proposal_once_per_host")]

    def __str__(self):
        return f"{self.plan} → {self.host}"


class PlacementStatus(models.TextChoices):
    ARRANGING = "arranging", "調整中"
    TRIAL = "trial", "体験中"
    SETTLED = "settled", "定着"
    ENDED = "ended", "終了"


PLACEMENT_TRANSITIONS = {
    PlacementStatus.ARRANGING: {PlacementStatus.TRIAL, PlacementStatus.ENDED},
    PlacementStatus.TRIAL: {PlacementStatus.SETTLED, PlacementStatus.ENDED},
    PlacementStatus.SETTLED: {PlacementStatus.ENDED},
    PlacementStatus.ENDED: set(),
}
ACTIVE_PLACEMENT = [PlacementStatus.ARRANGING, PlacementStatus.TRIAL, PlacementStatus.SETTLED]


def active_placements(prefix: str = ""):
    """The placements in force at a host, as an aggregate (community.occupancy.with_places_left)."""
    return Count(
        f"{prefix}placements",
        filter=Q(**{f"{prefix}placements__status__in": ACTIVE_PLACEMENT}),
        distinct=True,
    )


class Placement(models.Model):
    """参加先: where the person now takes part."""

    plan = models.ForeignKey(
        ParticipationPlan, verbose_name="参加支援プラン", on_delete=models.PROTECT, related_name="placements"
    )
    host = models.ForeignKey(
        CommunityResource, verbose_name="参加先", on_delete=models.PROTECT, related_name="placements"
    )
    starts_on = models.DateField("開始日", validators=[plausible.planned("開始日")])
    frequency = models.CharField("頻度", max_length=100, blank=True)
    host_contact = models.CharField("受け入れ先の担当者", max_length=100, blank=True)
    status = models.CharField(
        "状況", max_length=20, choices=PlacementStatus.choices, default=PlacementStatus.ARRANGING
    )
    end_reason = models.CharField("終了の理由", max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "参加先"
        verbose_name_plural = "参加先"
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PlacementStatus.values), name="placement_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="ended") | ~Q(end_reason=""), name="placement_end_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["host", "status"], name="placement_host_status")]

    def __str__(self):
        return f"{self.host}（{self.get_status_display()}）"


class FollowUpWith(models.TextChoices):
    PERSON = "person", "本人"
    HOST = "host", "受け入れ先"


class FollowUp(FieldPolicyModel):
    """定着支援: a follow-up with the person or the host."""

    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("placement__host",)

    FIELD_POLICY = {"sensitive": ("content",), "categories": {"plan": ("content",)}}

    placement = models.ForeignKey(
        Placement, verbose_name="参加先", on_delete=models.PROTECT, related_name="follow_ups"
    )
    done_on = models.DateField("日付", validators=[plausible.happened("実施日")])
    with_whom = models.CharField("相手", max_length=10, choices=FollowUpWith.choices)
    content = models.TextField("内容")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="記録者", on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "定着支援の記録"
        verbose_name_plural = "定着支援の記録"
        ordering = ["-done_on", "-pk"]

    def __str__(self):
        return f"{self.placement} {to_wareki(self.done_on)}"


class CandidateOutcome(models.TextChoices):
    NEGOTIATING = "negotiating", "交渉中"
    ACCEPTED = "accepted", "受け入れ可"
    DECLINED = "declined", "受け入れ不可"


# 交渉中 ⇄ 受け入れ可 ⇄ 受け入れ不可 ⇄ 交渉中: a host may change its mind either way. Once joined to the
# register the candidate stays 受け入れ可; the register's resource is deactivated instead.
CANDIDATE_TRANSITIONS = {
    CandidateOutcome.NEGOTIATING: {CandidateOutcome.ACCEPTED, CandidateOutcome.DECLINED},
    CandidateOutcome.ACCEPTED: {CandidateOutcome.NEGOTIATING, CandidateOutcome.DECLINED},
    CandidateOutcome.DECLINED: {CandidateOutcome.NEGOTIATING, CandidateOutcome.ACCEPTED},
}


class HostCandidate(models.Model):
    """参加支援先の開拓: a place approached to become a host; joins the register once it accepts, with
    every field the register keeps (曜日・時間帯, 運営主体, 連絡先, 受け入れ条件, 上限). Opened from a gap,
    its joining may close that gap. Holds no personal data: every member of staff reads it."""

    name = models.CharField("名称", max_length=200)
    kind = models.CharField("種別", max_length=30, choices=ResourceKind.choices)
    area = models.ForeignKey(Area, verbose_name="圏域", on_delete=models.PROTECT, related_name="+")
    operator = models.CharField("運営主体", max_length=200, blank=True)
    schedule = models.CharField("開催日時・時間帯", max_length=200, blank=True)
    days = coded_list(models.JSONField("曜日", default=list, blank=True), WEEKDAYS)
    contact = models.CharField("連絡先", max_length=200, blank=True)
    participation_kinds = coded_list(
        models.JSONField("受け入れできる参加支援の種類", default=list, blank=True), ParticipationKind.choices
    )
    acceptance_conditions = models.TextField("受け入れ条件", blank=True)
    capacity = models.PositiveSmallIntegerField("受け入れ人数の上限", null=True, blank=True)
    gap = models.ForeignKey(
        ResourceGap,
        verbose_name="きっかけの不足する社会資源",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="host_candidates",
    )
    approached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="開拓した職員", on_delete=models.PROTECT, related_name="+"
    )
    approached_on = models.DateField("訪問・打診した日", validators=[plausible.happened("訪問・打診した日")])
    outcome = models.CharField(
        "結果", max_length=20, choices=CandidateOutcome.choices, default=CandidateOutcome.NEGOTIATING
    )
    note = models.TextField("内容", blank=True)
    resource = models.OneToOneField(
        CommunityResource,
        verbose_name="登録した地域資源",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="candidate",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "参加支援先の開拓"
        verbose_name_plural = "参加支援先の開拓"
        ordering = ["-approached_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=CandidateOutcome.values), name="candidate_outcome_valid"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def day_labels(self) -> str:
        from community.models import WEEKDAYS

        names = dict(WEEKDAYS)
        return "・".join(names[d] for d in sorted(self.days) if d in names)

    def allowed_outcomes(self) -> list[str]:
        if self.resource_id:
            return []
        return sorted(CANDIDATE_TRANSITIONS[self.outcome])
