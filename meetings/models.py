"""多機関協働事業 (社会福祉法 第106条の4 第2項第5号) and 支援プラン (第6号).

This first part: 本人同意 (consent, per person, withdrawable) and 支援決定 (the municipality's
decision to support the case under the programme). 支援会議, 支援プラン and 重層的支援会議 build on them.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from cases.models import Case, Person
from jusou import plausible
from jusou.access.decision import InformationCategory
from jusou.audit.words import json_text
from jusou.fields import coded_list, described
from jusou.ja.wareki import to_wareki, to_wareki_datetime
from jusou.models import Agency


class ConsentingParty(models.TextChoices):
    SELF = "self", "本人"
    PROXY = "proxy", "代理人"


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", "書面"
    ORAL = "oral", "口頭"


class ConsentQuerySet(models.QuerySet):
    def valid(self, on=None):
        """In force on `on` (today): given, not expired, not withdrawn, not replaced by a 変更 (a newer
        version counts instead). Checked when the query runs."""
        day = on or timezone.localdate()
        return self.filter(
            Q(expires_on__isnull=True) | Q(expires_on__gte=day),
            consented_on__lte=day,
            withdrawn_at__isnull=True,
            superseded_at__isnull=True,
        )

    def current(self):
        """The latest version of each consent (withdrawn or expired ones included, superseded ones not)."""
        return self.filter(superseded_at__isnull=True)


class Consent(models.Model):
    """本人同意: a person's consent to share their information with named agencies, for a purpose,
    until a date. Each household member consents separately. Withdrawal stops sharing at once.

    Versioned: a 変更 (more agencies or categories, a later expiry) is a new row naming the first
    version (`original`) with its own date, method and taker; the version it replaces is kept, marked
    `superseded_at`, and no longer counts."""

    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("person",)

    case = models.ForeignKey(
        Case, verbose_name="支援ケース", on_delete=models.PROTECT, related_name="consents"
    )
    person = models.ForeignKey(
        Person, verbose_name="同意した本人", on_delete=models.PROTECT, related_name="consents"
    )
    consenting_party = models.CharField("同意者", max_length=10, choices=ConsentingParty.choices)
    proxy_name = models.CharField("代理人氏名", max_length=100, blank=True)
    proxy_relation = models.CharField("代理人の続柄・関係", max_length=50, blank=True)
    consented_on = models.DateField("同意日", validators=[plausible.happened("同意日")])
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="同意を得た職員", on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField("方法", max_length=10, choices=ConsentMethod.choices)
    # The signed form (書面), kept outside any public URL: served only through the consent view.
    document = models.FileField("同意書（スキャン）", upload_to="consents/%Y/%m/", blank=True)
    recipients = models.ManyToManyField(
        Agency, verbose_name="情報を共有する機関", related_name="consents_received"
    )
    categories = coded_list(models.JSONField("共有する情報の範囲", default=list), InformationCategory.choices)
    purpose = models.TextField("利用目的")
    expires_on = models.DateField(
        "有効期限", null=True, blank=True, validators=[plausible.planned("有効期限")]
    )
    withdrawn_at = models.DateTimeField("撤回日時", null=True, blank=True)
    withdrawal_method = models.CharField(
        "撤回の方法", max_length=10, choices=ConsentMethod.choices, blank=True
    )
    withdrawal_received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="撤回を受けた職員",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    withdrawal_note = models.TextField("撤回の内容", blank=True)
    recorded_at = models.DateTimeField("記録日時", default=timezone.now)
    original = models.ForeignKey(
        "self",
        verbose_name="最初の版",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="amendments",
    )
    version = models.PositiveSmallIntegerField("版", default=1)
    superseded_at = models.DateTimeField("変更により終了した日時", null=True, blank=True)

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
            models.UniqueConstraint(
                fields=["original", "version"],
                name="consent_version_unique",
                violation_error_message="この同意の同じ版がすでにあります。",
            ),
            models.CheckConstraint(
                condition=Q(original__isnull=True, version=1) | Q(original__isnull=False, version__gt=1),
                name="consent_version_follows_original",
            ),
        ]
        indexes = [models.Index(fields=["case", "withdrawn_at"], name="consent_case")]

    def __str__(self):
        return f"本人同意 {self.person} {to_wareki(self.consented_on)}"

    @property
    def category_labels(self) -> list[str]:
        return [InformationCategory(c).label for c in self.categories if c in InformationCategory.values]

    def state(self, on=None) -> str:
        day = on or timezone.localdate()
        if self.superseded_at:
            return "変更済"
        if self.withdrawn_at:
            return "撤回"
        if self.expires_on and self.expires_on < day:
            return "期限切れ"
        if self.consented_on > day:
            return "開始前"
        return "有効"


def consent_changes(before: Consent, recipients, categories, expires_on) -> str:
    """What a 変更 added to `before`, in words (共有先・範囲・有効期限), for the history and the case
    page: '' when nothing changed. `before.recipients` is read through .all() (prefetch it)."""
    from jusou.ja.wareki import to_wareki

    parts = []
    named = {agency.pk for agency in before.recipients.all()}
    added = [agency.name for agency in recipients if agency.pk not in named]
    if added:
        parts.append(f"共有先に追加: {'、'.join(added)}")
    wider = [InformationCategory(c).label for c in categories if c not in before.categories]
    if wider:
        parts.append(f"範囲に追加: {'、'.join(wider)}")
    if before.expires_on != expires_on:
        old = to_wareki(before.expires_on) if before.expires_on else "期限なし"
        new = to_wareki(expires_on) if expires_on else "期限なし"
        parts.append(f"有効期限: {old} → {new}")
    return "／".join(parts)


class SupportDecision(models.Model):
    """支援決定: the municipality decides to support the case under the programme (a precondition,
    with valid consent, for the 重層的支援会議)."""

    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("case",)

    case = models.ForeignKey(
        Case, verbose_name="支援ケース", on_delete=models.PROTECT, related_name="support_decisions"
    )
    decided_on = models.DateField("決定日", validators=[plausible.happened("決定日")])
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
        return f"支援決定 {self.case.number} {to_wareki(self.decided_on)}"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "作成中"
    APPROVED = "approved", "承認済"
    SENT_BACK = "sent_back", "差し戻し"
    SUPERSEDED = "superseded", "改訂により終了"
    ENDED = "ended", "終了"


class SupportPlan(models.Model):
    """支援プラン (第6号). Versioned: a revision is a new row; approved versions stay readable."""

    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("case",)

    case = models.ForeignKey(Case, verbose_name="支援ケース", on_delete=models.PROTECT, related_name="plans")
    version = models.PositiveIntegerField("版", editable=False)
    status = models.CharField("状態", max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    person_wishes = models.TextField("本人の意向")
    household_wishes = models.TextField("世帯の意向", blank=True)
    issues_summary = models.TextField("課題の整理")
    long_term_goal = models.TextField("長期目標")
    needs_participation = models.BooleanField("参加支援が必要", default=False)
    needs_outreach = models.BooleanField("アウトリーチが必要", default=False)
    review_on = models.DateField("見直し予定日", validators=[plausible.planned("見直し予定日")])
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="作成者", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    approved_at = models.DateTimeField("承認日時", null=True, blank=True)
    sent_back_reason = models.TextField("差し戻しの理由", blank=True)
    # The household members the plan concerns (always the case's 本人): approval needs each one's own
    # valid consent naming every plan agency (DOMAIN.md §4: a consent covers the person who gave it).
    members = models.ManyToManyField(
        Person, verbose_name="対象となる世帯員", related_name="support_plans", blank=True
    )

    history = HistoricalRecords(m2m_fields=[members])

    class Meta:
        verbose_name = "支援プラン"
        verbose_name_plural = "支援プラン"
        ordering = ["case", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="plan_version_unique"),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status="approved"),
                name="plan_one_approved_per_case",
            ),
            models.CheckConstraint(condition=Q(status__in=PlanStatus.values), name="plan_status_valid"),
        ]

    def __str__(self):
        return f"{self.case.number} 支援プラン 第{self.version}版"


class PlanGoal(models.Model):
    """A short-term goal of the plan; evaluated one by one."""

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="goals")
    order = models.PositiveSmallIntegerField(default=0)
    text = models.CharField("短期目標", max_length=300)

    class Meta:
        verbose_name = "短期目標"
        verbose_name_plural = "短期目標"
        ordering = ["plan", "order", "pk"]

    def __str__(self):
        return self.text


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", "未着手"
    IN_PROGRESS = "in_progress", "実施中"
    DONE = "done", "完了"
    STOPPED = "stopped", "中止"


class PlanTask(models.Model):
    """役割分担: what one agency does for the plan. The agency updates its own status."""

    plan = models.ForeignKey(
        SupportPlan, verbose_name="支援プラン", on_delete=models.CASCADE, related_name="tasks"
    )
    agency = models.ForeignKey(
        Agency, verbose_name="機関", on_delete=models.PROTECT, related_name="plan_tasks"
    )
    person_in_charge = models.CharField("担当者", max_length=100, blank=True)
    role = models.CharField("役割", max_length=200)
    content = models.TextField("内容")
    frequency = models.CharField("頻度", max_length=100, blank=True)
    starts_on = models.DateField("開始日", null=True, blank=True, validators=[plausible.planned("開始日")])
    ends_on = models.DateField("終了日", null=True, blank=True, validators=[plausible.planned("終了日")])
    status = models.CharField(
        "状況", max_length=20, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "役割分担"
        verbose_name_plural = "役割分担"
        ordering = ["plan", "pk"]

    def __str__(self):
        return f"{self.agency}: {self.role}"


class PlanConference(models.Model):
    """重層的支援会議, hosted by the 多機関協働 coordinator."""

    held_at = models.DateTimeField("開催日時", validators=[plausible.planned("開催日時")])
    title = models.CharField("名称", max_length=200, default="重層的支援会議")
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="主催", on_delete=models.PROTECT, related_name="+"
    )
    agencies = models.ManyToManyField(
        Agency, verbose_name="出席機関", related_name="plan_conferences", blank=True
    )
    minutes = models.TextField("議事録", blank=True)
    created_at = models.DateTimeField("作成日時", default=timezone.now)

    history = HistoricalRecords(m2m_fields=[agencies])

    class Meta:
        verbose_name = "重層的支援会議"
        verbose_name_plural = "重層的支援会議"
        ordering = ["-held_at"]

    def __str__(self):
        return f"{self.title} {to_wareki(self.held_at)}"


class NextStep(models.TextChoices):
    CONTINUE = "continue", "継続"
    REVISE = "revise", "プランの見直し（改訂）"
    CLOSE = "close", "終結"
    SUSPEND = "suspend", "中断"
    RETURN = "return", "包括的相談支援へ戻す"


class AgendaOutcome(models.TextChoices):
    """An agenda item's 結果: the plan approved or sent back, or (an evaluation or a closure) the next step."""

    APPROVED = "approved", "承認"
    SENT_BACK = "sent_back", "差し戻し"


AGENDA_OUTCOMES = [*AgendaOutcome.choices, *NextStep.choices]


class AgendaKind(models.TextChoices):
    PLAN = "plan", "プランの適切性の協議"
    EVALUATION = "evaluation", "評価"
    CLOSURE = "closure", "終結・中断の判断"
    RESOURCES = "resources", "社会資源の充足状況の把握と開発"


class AgendaItem(models.Model):
    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("case",)

    conference = models.ForeignKey(
        PlanConference, verbose_name="重層的支援会議", on_delete=models.CASCADE, related_name="items"
    )
    case = models.ForeignKey(
        Case, verbose_name="支援ケース", on_delete=models.PROTECT, related_name="agenda_items"
    )
    plan = models.ForeignKey(
        SupportPlan, verbose_name="支援プラン", on_delete=models.PROTECT, related_name="agenda_items"
    )
    kind = models.CharField("議題の種類", max_length=20, choices=AgendaKind.choices)
    outcome = models.CharField("結果", max_length=40, blank=True, choices=AGENDA_OUTCOMES)
    notes = models.TextField("協議内容", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="決定した職員",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("決定日時", null=True, blank=True)
    resource_gaps = GenericRelation(
        "jusou.ResourceGap",
        content_type_field="source_type",
        object_id_field="source_id",
        related_query_name="agenda_item",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "議題"
        verbose_name_plural = "議題"
        ordering = ["conference", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.case.number}"


class GoalResult(models.TextChoices):
    ACHIEVED = "achieved", "達成"
    PARTLY = "partly", "一部達成"
    NOT = "not", "未達成"


class Evaluation(models.Model):
    """評価 at the plan's review or end, goal by goal, and what happens next."""

    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("plan__case",)

    plan = models.ForeignKey(
        SupportPlan, verbose_name="支援プラン", on_delete=models.PROTECT, related_name="evaluations"
    )
    item = models.OneToOneField(
        AgendaItem, verbose_name="議題", on_delete=models.PROTECT, related_name="evaluation"
    )
    person_change = models.TextField("本人・世帯の変化")
    next_step = models.CharField("今後の方針", max_length=20, choices=NextStep.choices)
    # On 終結: the agency that leads from now on (主担当機関), if support continues elsewhere.
    next_lead_agency = models.ForeignKey(
        Agency,
        verbose_name="今後の主担当機関",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="評価者", on_delete=models.PROTECT, related_name="+"
    )
    evaluated_at = models.DateTimeField("評価日時", default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "評価"
        verbose_name_plural = "評価"
        ordering = ["-evaluated_at"]

    def __str__(self):
        return f"評価 {self.plan}"


class GoalEvaluation(models.Model):
    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="goal_results")
    goal = models.ForeignKey(PlanGoal, on_delete=models.PROTECT, related_name="+")
    result = models.CharField("達成状況", max_length=20, choices=GoalResult.choices)
    comment = models.CharField("コメント", max_length=300, blank=True)

    class Meta:
        verbose_name = "目標ごとの評価"
        verbose_name_plural = "目標ごとの評価"
        constraints = [models.UniqueConstraint(fields=["evaluation", "goal"], name="goal_evaluated_once")]

    def __str__(self):
        return f"{self.goal}: {self.get_result_display()}"


class ActingBody(models.TextChoices):
    """An existing body may act as the 支援会議 (社会福祉法 第106条の6)."""

    NONE = "", "（単独の支援会議）"
    COMMUNITY_CARE = "community_care", "地域ケア会議"
    CHILD_PROTECTION = "child_protection", "要保護児童対策地域協議会"
    SUPPORT_COORDINATION = "support_coordination", "支援調整会議"
    SELF_RELIANCE = "self_reliance", "自立支援協議会"


class SupportMeeting(models.Model):
    """支援会議 (社会福祉法 第106条の6): members bound by 守秘義務 may share information on a case
    without the person's consent, to notice complex cases early and decide a direction. Members see
    only the briefings frozen for this meeting and its minutes, after acknowledging their duty, and
    only inside the access window."""

    held_at = models.DateTimeField("開催日時", validators=[plausible.planned("開催日時")])
    # Shown to members only after 守秘義務 (a title like 「田中さん世帯」 names the case).
    title = models.CharField(
        "名称",
        max_length=200,
        default="支援会議",
        help_text="氏名や世帯名は入れないでください（例: 第3回 支援会議）",
    )
    acting_body = models.CharField("兼ねる会議体", max_length=30, choices=ActingBody.choices, blank=True)
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="主催", on_delete=models.PROTECT, related_name="+"
    )
    access_from = models.DateTimeField("閲覧期間（開始）", validators=[plausible.planned("閲覧期間（開始）")])
    access_until = models.DateTimeField(
        "閲覧期間（終了）", validators=[plausible.planned("閲覧期間（終了）")]
    )
    minutes = models.TextField("議事録", blank=True)
    created_at = models.DateTimeField("作成日時", default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "支援会議"
        verbose_name_plural = "支援会議"
        ordering = ["-held_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(access_until__gt=models.F("access_from")),
                name="meeting_window_ordered",
                violation_error_message="閲覧期間の終了は開始より後にしてください。",
            ),
        ]

    def __str__(self):
        return f"{self.title} {to_wareki(self.held_at)}"


class SupportMeetingUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(SupportMeeting, on_delete=models.CASCADE)


class SupportMeetingGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(SupportMeeting, on_delete=models.CASCADE)


class MeetingMember(models.Model):
    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("meeting", "user")

    meeting = models.ForeignKey(SupportMeeting, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="構成員", on_delete=models.PROTECT, related_name="+"
    )
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "支援会議の構成員"
        verbose_name_plural = "支援会議の構成員"
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="meeting_member_once")]

    def __str__(self):
        return f"{self.meeting}: {self.user}"


class ConfidentialityPledge(models.Model):
    """守秘義務の確認: a member's timestamped acknowledgement, per meeting, before seeing anything."""

    meeting = models.ForeignKey(SupportMeeting, on_delete=models.PROTECT, related_name="pledges")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField("確認日時", default=timezone.now)
    statement = models.TextField("確認した文言")

    class Meta:
        verbose_name = "守秘義務の確認"
        verbose_name_plural = "守秘義務の確認"
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="pledge_once_per_meeting")]

    def __str__(self):
        return f"{self.user} {to_wareki_datetime(self.acknowledged_at)}"


def briefing_text(rendering: dict) -> str:
    """A frozen briefing (meetings.briefings.render) in words, for the audit: each section's title, then
    each group's rows as 「項目: 内容」."""
    if not isinstance(rendering, dict) or "sections" not in rendering:
        return json_text(rendering)
    lines = [f"本人: {rendering['person']}"] if rendering.get("person") else []
    for section in rendering.get("sections") or []:
        groups = []
        for group in section.get("groups") or []:
            rows = "、".join(
                f"{row.get('label', '')}: {json_text(row.get('value'))}" for row in group.get("rows") or []
            )
            groups.append(f"{group.get('title', '')}（{rows}）" if rows else group.get("title", ""))
        lines.append(f"【{section.get('title', '')}】" + " ".join(groups))
    return "\n".join(lines) or json_text(rendering)


def briefing_choice_text(choice: dict) -> str:
    """The host's choice (meetings.briefings.BriefingChoice.as_json) in words, for the audit."""
    if not isinstance(choice, dict):
        return json_text(choice)
    labels = dict(InformationCategory.choices)
    members = choice.get("members") or {}
    parts = [f"共有する情報: {json_text(choice.get('categories') or [], labels)}"]
    if members:
        parts.append(
            "世帯員: "
            + "、".join(
                f"{n}人目（{json_text(cats, labels)}）" for n, cats in enumerate(members.values(), start=1)
            )
        )
    parts.append(f"外部の構成員に氏名を示す: {json_text(bool(choice.get('external_named')))}")
    parts.append(f"仮名化（全員）: {json_text(bool(choice.get('pseudonymised')))}")
    return "／".join(parts)


class MeetingBriefing(models.Model):
    """A case on the agenda: what the host chose to share of it (`choice`: the case's information
    categories, and each household member shown with their own), frozen as shared in two renderings
    (meetings.briefings): `sections` for staff members, `external_sections` for external members —
    pseudonymised unless the host chose otherwise. Members never see the live case."""

    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("meeting",)

    meeting = models.ForeignKey(
        SupportMeeting, verbose_name="支援会議", on_delete=models.PROTECT, related_name="briefings"
    )
    case = models.ForeignKey(
        Case, verbose_name="支援ケース", on_delete=models.PROTECT, related_name="briefings"
    )
    sections = described(models.JSONField("共有した内容（職員の構成員）", default=dict), briefing_text)
    external_sections = described(
        models.JSONField("共有した内容（外部の構成員）", default=dict), briefing_text
    )
    choice = described(models.JSONField("主催者が選んだ共有範囲", default=dict), briefing_choice_text)
    pseudonymised = models.BooleanField("仮名化（全員）", default=False)
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="共有した職員", on_delete=models.PROTECT, related_name="+"
    )
    shared_at = models.DateTimeField("共有日時", default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "支援会議の資料"
        verbose_name_plural = "支援会議の資料"
        ordering = ["meeting", "pk"]
        constraints = [models.UniqueConstraint(fields=["meeting", "case"], name="briefing_once_per_meeting")]

    def __str__(self):
        return f"{self.meeting} 資料 {self.pk}"


class DecisionKind(models.TextChoices):
    DIRECTION = "direction", "支援方針"
    ROLES = "roles", "役割分担"
    WATCH = "watch", "見守り"
    OUTREACH = "outreach", "アウトリーチ開始"


class MeetingDecision(models.Model):
    briefing = models.ForeignKey(
        MeetingBriefing, verbose_name="支援会議の資料", on_delete=models.PROTECT, related_name="decisions"
    )
    kind = models.CharField("決定の種類", max_length=20, choices=DecisionKind.choices)
    text = models.TextField("内容")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="記録者", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("記録日時", default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "支援会議の決定"
        verbose_name_plural = "支援会議の決定"
        ordering = ["briefing", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text[:20]}"
