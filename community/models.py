"""地域づくり事業 (社会福祉法 第106条の4 第2項第3号): the register of local resources and places, their
activities, the platforms where local actors meet, coordinators' activity, and the follow-up of
resource gaps. Holds no personal case data; readable by all staff.

Who may change a place in the register (community/selectors.py `resource_can_change`): the staff of
the agency that runs it (a 担当 grant with permission "change" to that agency, through jusou.access.grants like
every other record), the 相談支援包括化推進員 and the municipality's 地域福祉担当 (by role). Only they read
its 内部メモ."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from jusou import plausible
from jusou.fields import coded_list
from jusou.ja.wareki import to_wareki
from jusou.models import Agency, Area, ResourceGap

#: the warning each free-text field that all staff read carries (the register holds no personal data)
#: the register holds no personal case data, whoever reads a field
NO_PERSONAL_DETAILS = "個人が特定できる情報（氏名・住所・病名など）は書かないでください。"
NO_PERSONAL_INFO = "全職員が読みます。" + NO_PERSONAL_DETAILS


class ResourceKind(models.TextChoices):
    IBASHO = "ibasho", "居場所"
    SALON = "salon", "サロン"
    KODOMO_SHOKUDO = "kodomo_shokudo", "子ども食堂"
    KAYOI = "kayoi", "通いの場"
    ACTIVITY_CENTER = "activity_center", "地域活動支援センター"
    CHILDCARE_PLAZA = "childcare_plaza", "子育てひろば"
    DEMENTIA_CAFE = "dementia_cafe", "認知症カフェ"
    WORK_EXPERIENCE = "work_experience", "就労体験先"
    NPO = "npo", "NPO・ボランティア団体"
    NEIGHBOURHOOD = "neighbourhood", "町会・自治会"
    OTHER = "other", "その他"


class ParticipationKind(models.TextChoices):
    """参加支援先種別 (DOMAIN.md §6): what a host can offer a participant."""

    WORK_TRIAL = "work_trial", "企業・商店の就労体験"
    INTERMEDIATE_WORK = "intermediate_work", "就労訓練（中間的就労）"
    AGRICULTURE = "agriculture", "農業（農福連携）"
    VOLUNTEER = "volunteer", "ボランティア"
    IBASHO = "ibasho", "居場所・サロン"
    LEARNING = "learning", "学習支援"
    HOBBY = "hobby", "趣味・サークル"
    PUBLIC_INTEREST = "public_interest", "社会福祉法人の地域公益活動"
    HOUSING = "housing", "居住支援"


WEEKDAYS = [(0, "月"), (1, "火"), (2, "水"), (3, "木"), (4, "金"), (5, "土"), (6, "日")]


class CommunityResource(models.Model):
    """地域資源・居場所. Public-facing fields are kept apart from internal notes."""

    name = models.CharField("名称", max_length=200)
    kind = models.CharField("種別", max_length=30, choices=ResourceKind.choices)
    operator = models.CharField("運営主体", max_length=200, blank=True)
    operating_agency = models.ForeignKey(
        Agency,
        verbose_name="運営する機関（この機関の職員が更新できます）",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="community_resources",
    )
    area = models.ForeignKey(Area, verbose_name="圏域", on_delete=models.PROTECT, related_name="resources")
    target = models.CharField("対象", max_length=200, blank=True)
    schedule = models.CharField("開催日時・頻度", max_length=200, blank=True)
    days = coded_list(models.JSONField("曜日", default=list, blank=True), WEEKDAYS)
    contact = models.CharField("連絡先", max_length=200, blank=True)
    public_description = models.TextField("紹介文（公開用）", blank=True)
    internal_notes = models.TextField("内部メモ（職員のみ）", blank=True)
    accepts_participants = models.BooleanField("参加支援の受け入れ", default=False)
    participation_kinds = coded_list(
        models.JSONField("受け入れできる参加支援の種類", default=list, blank=True), ParticipationKind.choices
    )
    acceptance_conditions = models.TextField("受け入れ条件", blank=True)
    capacity = models.PositiveSmallIntegerField("受け入れ人数の上限", null=True, blank=True)
    is_partner = models.BooleanField("協力事業者", default=False)
    is_active = models.BooleanField("活動中", default=True)
    inactive_reason = models.CharField("休止・終了の理由", max_length=300, blank=True)
    # A resource may answer several gaps and a gap may be answered by several resources; linking one
    # never unlinks another (community.services.gap_advance only adds).
    gaps_answered = models.ManyToManyField(
        ResourceGap, verbose_name="応えている不足する社会資源", blank=True, related_name="developed_resources"
    )
    created_at = models.DateTimeField("登録日時", default=timezone.now)

    history = HistoricalRecords(m2m_fields=[gaps_answered])

    class Meta:
        verbose_name = "地域資源・居場所"
        verbose_name_plural = "地域資源・居場所"
        ordering = ["area", "kind", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ResourceKind.values), name="resource_kind_valid")
        ]
        indexes = [models.Index(fields=["accepts_participants", "is_active", "area"], name="resource_hosts")]

    def __str__(self):
        return self.name

    @property
    def day_labels(self) -> str:
        names = dict(WEEKDAYS)
        return "・".join(names[d] for d in sorted(self.days) if d in names)

    @property
    def places_left(self) -> int | None:
        """Capacity − active placements (None: no upper limit). Needs `active_placements`, annotated by
        community.occupancy.with_places_left (participation counts its placements there)."""
        if self.capacity is None:
            return None
        return max(self.capacity - getattr(self, "active_placements", 0), 0)

    @property
    def acceptance_label(self) -> str:
        """What the register says about taking participants: 「受け入れ停止」 at capacity 0."""
        if not self.accepts_participants:
            return "受け入れなし"
        if self.capacity is None:
            return "受け入れ可（上限なし）"
        if self.capacity == 0:
            return "受け入れ停止"
        if self.places_left == 0:
            return f"満員（上限{self.capacity}人）"
        return f"受け入れ可（残り{self.places_left}人／上限{self.capacity}人）"


class CommunityResourceUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(CommunityResource, on_delete=models.CASCADE)


class CommunityResourceGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(CommunityResource, on_delete=models.CASCADE)


class CorrectableRecord(models.Model):
    """A record of 地域づくり work (a session, a platform, a coordinator's entry): corrected with history
    and removed by its author or a 相談支援包括化推進員 within community.services.CORRECTION_WINDOW."""

    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="記録者", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("記録日時", default=timezone.now)

    class Meta:
        abstract = True


class Activity(CorrectableRecord):
    """開催記録: one session of a resource."""

    resource = models.ForeignKey(
        CommunityResource, verbose_name="地域資源", on_delete=models.PROTECT, related_name="activities"
    )
    held_on = models.DateField("開催日", validators=[plausible.planned("開催日")])
    participants = models.PositiveIntegerField("参加者数（実人数）", default=0)
    participant_visits = models.PositiveIntegerField("参加者数（延べ）", default=0)
    organisations = models.CharField("参加団体", max_length=300, blank=True)
    local_issues = models.TextField("気づいた地域の課題", blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "開催記録"
        verbose_name_plural = "開催記録"
        ordering = ["-held_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(participant_visits__gte=models.F("participants")),
                name="activity_visits_at_least_people",
                violation_error_message="延べ人数は実人数以上にしてください。",
            ),
        ]

    def __str__(self):
        return f"{self.resource} {to_wareki(self.held_on)}"


class Platform(CorrectableRecord):
    """プラットフォーム: a meeting where local actors meet (住民, 事業者, 行政 …)."""

    held_on = models.DateField("開催日", validators=[plausible.planned("開催日")])
    name = models.CharField("名称", max_length=200)
    area = models.ForeignKey(Area, verbose_name="圏域", on_delete=models.PROTECT, related_name="platforms")
    participants = models.PositiveIntegerField("参加者数", default=0)
    organisations = models.CharField("参加団体", max_length=300, blank=True)
    outcomes = models.TextField("成果・決まったこと", blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "プラットフォーム"
        verbose_name_plural = "プラットフォーム"
        ordering = ["-held_on", "-pk"]

    def __str__(self):
        return self.name


class CoordinatorActivityKind(models.TextChoices):
    GATHER = "gather", "集める"
    INFORM = "inform", "伝える"
    CREATE_PLACE = "create_place", "場をつくる"
    CONNECT = "connect", "結びつける"
    SUPPORT = "support", "応援する"


class CoordinatorActivity(CorrectableRecord):
    """地域福祉コーディネーター・生活支援コーディネーターの活動記録."""

    done_on = models.DateField("日付", validators=[plausible.happened("活動日")])
    area = models.ForeignKey(Area, verbose_name="圏域", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("種類", max_length=20, choices=CoordinatorActivityKind.choices)
    content = models.TextField("内容")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "コーディネーターの活動記録"
        verbose_name_plural = "コーディネーターの活動記録"
        ordering = ["-done_on", "-pk"]

    def __str__(self):
        return f"{to_wareki(self.done_on)} {self.get_kind_display()}"
