"""包括的相談支援事業 (社会福祉法 第106条の4 第2項第1号): people, households, consultations, cases.

State changes go through cases/services.py; reads that depend on the user through cases/selectors.py.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from jusou import plausible
from jusou.access.fieldpolicy import FieldPolicyModel
from jusou.ja.text import normalize_for_search
from jusou.ja.wareki import to_wareki, to_wareki_datetime
from jusou.models import Agency


class CodeKind(models.TextChoices):
    CHANNEL = "channel", "相談手段"
    ROUTE = "route", "相談経路・紹介元"
    ATTRIBUTE = "attribute", "属性"
    ISSUE = "issue", "課題分類"
    CLOSE_REASON = "close_reason", "終結理由"
    SUSPEND_REASON = "suspend_reason", "中断理由"


class Code(models.Model):
    """One entry of a code list (DOMAIN.md §6). Administrators may add entries and retire them
    (is_active); the `code` of an entry never changes, so statistics stay comparable."""

    kind = models.CharField("種類", max_length=20, choices=CodeKind.choices)
    code = models.SlugField("コード", max_length=40)
    label = models.CharField("表示名", max_length=100)
    order = models.PositiveSmallIntegerField("並び順", default=0)
    is_active = models.BooleanField("有効", default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "コード"
        verbose_name_plural = "コード（相談手段・経路・属性・課題分類・終結/中断理由）"
        ordering = ["kind", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="code_unique_per_kind"),
            models.CheckConstraint(condition=Q(kind__in=CodeKind.values), name="code_kind_valid"),
        ]

    def __str__(self):
        return self.label


class Sex(models.TextChoices):
    MALE = "male", "男"
    FEMALE = "female", "女"
    OTHER = "other", "その他"
    UNKNOWN = "unknown", "不明"


class BirthDatePrecision(models.TextChoices):
    EXACT = "exact", "正確"
    MONTH = "month", "年月のみ"
    YEAR = "year", "年のみ（推定を含む）"
    UNKNOWN = "unknown", "不明"


class CareLevel(models.TextChoices):
    """要介護度 (介護保険法): the certification on the 相談受付・申込票 B票."""

    NOT_APPLIED = "none", "未申請・非該当"
    APPLYING = "applying", "申請中"
    SUPPORT_1 = "support1", "要支援1"
    SUPPORT_2 = "support2", "要支援2"
    CARE_1 = "care1", "要介護1"
    CARE_2 = "care2", "要介護2"
    CARE_3 = "care3", "要介護3"
    CARE_4 = "care4", "要介護4"
    CARE_5 = "care5", "要介護5"


class DisabilitySupportLevel(models.TextChoices):
    """障害支援区分 (障害者総合支援法 第4条第4項)."""

    NOT_APPLIED = "none", "未申請・非該当"
    APPLYING = "applying", "申請中"
    LEVEL_1 = "1", "区分1"
    LEVEL_2 = "2", "区分2"
    LEVEL_3 = "3", "区分3"
    LEVEL_4 = "4", "区分4"
    LEVEL_5 = "5", "区分5"
    LEVEL_6 = "6", "区分6"


class PublicAssistance(models.TextChoices):
    """生活保護 (受給の有無)."""

    NONE = "none", "受給していない"
    APPLYING = "applying", "申請中"
    RECEIVING = "receiving", "受給中"
    FORMERLY = "formerly", "過去に受給"


class HealthInsurance(models.TextChoices):
    NATIONAL = "national", "国民健康保険"
    EMPLOYEE = "employee", "被用者保険（社会保険・共済）"
    DEPENDENT = "dependent", "被用者保険の被扶養者"
    LATE_ELDERLY = "late_elderly", "後期高齢者医療"
    MEDICAL_AID = "medical_aid", "医療扶助（生活保護）"
    UNINSURED = "uninsured", "未加入"
    OTHER = "other", "その他"


class Pension(models.TextChoices):
    NONE = "none", "受給していない（無年金）"
    OLD_AGE = "old_age", "老齢年金"
    DISABILITY = "disability", "障害年金"
    SURVIVORS = "survivors", "遺族年金"
    SEVERAL = "several", "複数の年金"
    APPLYING = "applying", "請求中"


class Employment(models.TextChoices):
    """仕事 (就労状況)."""

    REGULAR = "regular", "就労中（正規）"
    IRREGULAR = "irregular", "就労中（非正規・アルバイト）"
    SELF_EMPLOYED = "self_employed", "自営業"
    WELFARE_WORK = "welfare_work", "福祉的就労"
    SEEKING = "seeking", "求職中"
    NOT_WORKING = "not_working", "無職"
    STUDENT = "student", "学生"
    RETIRED = "retired", "退職・年金生活"


class Housing(models.TextChoices):
    """住居 (the 申込票's list: 持家/賃貸/社宅/施設/知人宅/野宿 …)."""

    OWNED = "owned", "持家"
    RENTED = "rented", "賃貸（民間）"
    PUBLIC = "public", "公営住宅"
    COMPANY = "company", "社宅・寮"
    FACILITY = "facility", "施設・病院"
    ACQUAINTANCE = "acquaintance", "知人・親族宅"
    HOMELESS = "homeless", "野宿・住居なし"
    OTHER = "other", "その他"


#: the structured fields of the 相談受付・申込票 B票 (生活の状況), in the form's order
LIVING_SITUATION_FIELDS = (
    "care_level",
    "disability_support_level",
    "handbook_physical",
    "handbook_intellectual",
    "handbook_mental",
    "public_assistance",
    "health_insurance",
    "pension",
    "employment",
    "housing",
)


class Person(FieldPolicyModel):
    """本人・対象者 (and anyone in a household): known by name, maybe only partly."""

    # 要介護度・障害支援区分・手帳 are 要配慮個人情報 (障害, 個人情報保護法 第2条第3項) and part of
    # 病歴・障害の状況 (health); 生活保護・保険・年金・仕事・住居 are the 生活の状況 an assessment works
    # from (issues). Both are "sensitive": lists and search results never carry them.
    FIELD_POLICY = {
        "location": ("address", "phone", "email"),
        "sensitive": ("attributes", "notes", *LIVING_SITUATION_FIELDS),
        # What 仮名化 (a pseudonymised 支援会議 briefing) leaves out: the birth date becomes an age band.
        "identifying": ("name", "kana", "birth_date", "address", "phone", "email", "atena_number"),
        # 氏名・ふりがな are who the record is about and go wherever it goes.
        "categories": {
            "basic": (
                "birth_date",
                "birth_date_precision",
                "sex",
                "address",
                "phone",
                "email",
                "atena_number",
            ),
            "issues": (
                "attributes",
                "public_assistance",
                "health_insurance",
                "pension",
                "employment",
                "housing",
            ),
            "health": (
                "notes",
                "care_level",
                "disability_support_level",
                "handbook_physical",
                "handbook_intellectual",
                "handbook_mental",
            ),
        },
    }

    name = models.CharField("氏名", max_length=100)
    kana = models.CharField("ふりがな", max_length=100, blank=True)
    # Search keys: kanji, hiragana, katakana, half/full width and spaces folded (jusou.ja.text).
    name_search = models.CharField("氏名（検索用）", max_length=100, editable=False, db_index=True)
    kana_search = models.CharField("ふりがな（検索用）", max_length=100, editable=False, db_index=True)
    birth_date = models.DateField("生年月日", null=True, blank=True, validators=[plausible.birth_date()])
    birth_date_precision = models.CharField(
        "生年月日の精度", max_length=10, choices=BirthDatePrecision.choices, default=BirthDatePrecision.EXACT
    )
    sex = models.CharField("性別", max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    address = models.CharField("住所", max_length=200, blank=True)
    phone = models.CharField("電話", max_length=30, blank=True)
    email = models.EmailField("メール", blank=True)
    # 宛名番号: the municipality's resident number, for linking with 住民記録 systems.
    atena_number = models.CharField("宛名番号", max_length=20, null=True, blank=True, unique=True)
    attributes = models.ManyToManyField(
        Code, verbose_name="属性", blank=True, limit_choices_to={"kind": CodeKind.ATTRIBUTE}, related_name="+"
    )
    notes = models.TextField("備考", blank=True)
    # 相談受付・申込票 B票 (生活の状況): blank is 不明・未確認, never a guess.
    care_level = models.CharField("要介護度", max_length=10, choices=CareLevel.choices, blank=True)
    disability_support_level = models.CharField(
        "障害支援区分", max_length=10, choices=DisabilitySupportLevel.choices, blank=True
    )
    handbook_physical = models.BooleanField("身体障害者手帳", default=False)
    handbook_intellectual = models.BooleanField("療育手帳", default=False)
    handbook_mental = models.BooleanField("精神障害者保健福祉手帳", default=False)
    public_assistance = models.CharField(
        "生活保護", max_length=10, choices=PublicAssistance.choices, blank=True
    )
    health_insurance = models.CharField(
        "健康保険", max_length=20, choices=HealthInsurance.choices, blank=True
    )
    pension = models.CharField("年金", max_length=20, choices=Pension.choices, blank=True)
    employment = models.CharField("仕事", max_length=20, choices=Employment.choices, blank=True)
    housing = models.CharField("住居", max_length=20, choices=Housing.choices, blank=True)
    registered_by_agency = models.ForeignKey(
        Agency, verbose_name="登録機関", on_delete=models.PROTECT, related_name="registered_people"
    )
    created_at = models.DateTimeField("登録日時", default=timezone.now)

    history = HistoricalRecords(m2m_fields=[attributes])

    class Meta:
        verbose_name = "本人・対象者"
        verbose_name_plural = "本人・対象者"
        ordering = ["kana_search", "name_search", "pk"]
        indexes = [models.Index(fields=["birth_date", "kana_search"], name="person_birth_kana")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name_search = normalize_for_search(self.name)
        self.kana_search = normalize_for_search(self.kana)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_search", "kana_search"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("cases:person_detail", args=[self.pk])

    @property
    def number(self) -> str:
        """登録番号, e.g. P-000123 (what a picker or a coordinator's notice names the person by)."""
        return f"P-{self.pk:06d}"

    HANDBOOKS = (
        ("handbook_physical", "身体"),
        ("handbook_intellectual", "療育"),
        ("handbook_mental", "精神"),
    )

    def living_situation_rows(self) -> list[tuple[str, str]]:
        """The B票 (生活の状況) as (label, text) rows for the person page, as this instance is rendered:
        a field its reader's decision withholds reads （共有範囲外）, an empty one 不明・未確認."""
        from jusou.access.fieldpolicy import NOT_SHARED

        hidden = self.masked_fields
        rows = []
        for name in ("care_level", "disability_support_level"):
            rows.append(self._living_row(name, hidden))
        if any(name in hidden for name, _ in self.HANDBOOKS):
            rows.append(("手帳", NOT_SHARED))
        else:
            held = [label for name, label in self.HANDBOOKS if getattr(self, name)]
            rows.append(("手帳", "・".join(held) if held else "なし・未確認"))
        for name in ("public_assistance", "health_insurance", "pension", "employment", "housing"):
            rows.append(self._living_row(name, hidden))
        return rows

    def _living_row(self, name: str, hidden) -> tuple[str, str]:
        from jusou.access.fieldpolicy import NOT_SHARED

        field = self._meta.get_field(name)
        if name in hidden:
            return field.verbose_name, NOT_SHARED
        value = getattr(self, name)
        return field.verbose_name, dict(field.choices).get(value, "不明・未確認") if value else "不明・未確認"

    @property
    def age(self) -> int | None:
        if self.birth_date is None or self.birth_date_precision == BirthDatePrecision.UNKNOWN:
            return None
        today = timezone.localdate()
        return (
            today.year
            - self.birth_date.year
            - ((today.month, today.day) < (self.birth_date.month, self.birth_date.day))
        )


class Household(FieldPolicyModel):
    """世帯: the people living (or belonging) together whose problems are untangled as a whole."""

    FIELD_POLICY = {
        "location": ("address",),
        "sensitive": ("notes",),
        "identifying": ("name", "address"),  # 「田中さん世帯」
        "categories": {"household": ("address", "notes")},
    }

    name = models.CharField("世帯名", max_length=100, help_text="例: 山田さん世帯")
    address = models.CharField("住所", max_length=200, blank=True)
    notes = models.TextField("備考", blank=True)
    registered_by_agency = models.ForeignKey(
        Agency, verbose_name="登録機関", on_delete=models.PROTECT, related_name="registered_households"
    )
    created_at = models.DateTimeField("登録日時", default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "世帯"
        verbose_name_plural = "世帯"
        ordering = ["pk"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("cases:household_detail", args=[self.pk])


class HouseholdMember(FieldPolicyModel):
    """世帯員: a person's place in a household for a period. Moving to another household ends this
    row (left_on) and starts a new one, so the history of who lived with whom is kept."""

    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("household", "person")

    # The member's place in the household (続柄, 同居, roles) is the household's composition; what the
    # member struggles with is theirs (a basis covering that member opens it, jusou.access.decision).
    FIELD_POLICY = {
        "sensitive": ("own_issues",),
        "categories": {
            "household": ("relationship", "lives_together", "is_main_carer", "is_key_person", "cares_for"),
            "health": ("own_issues",),
        },
    }

    household = models.ForeignKey(
        Household, verbose_name="世帯", on_delete=models.PROTECT, related_name="members"
    )
    person = models.ForeignKey(
        Person, verbose_name="世帯員", on_delete=models.PROTECT, related_name="memberships"
    )
    relationship = models.CharField("続柄", max_length=30, help_text="例: 本人、母、長男")
    lives_together = models.BooleanField("同居", default=True)
    is_main_carer = models.BooleanField("主介護者", default=False)
    is_key_person = models.BooleanField("キーパーソン", default=False)
    cares_for = models.ManyToManyField(
        "self", verbose_name="介護・世話をしている相手", symmetrical=False, blank=True
    )
    own_issues = models.CharField("本人の課題", max_length=300, blank=True)
    joined_on = models.DateField(
        "加入日",
        default=timezone.localdate,
        validators=[plausible.PlausibleDate("加入日", earliest=plausible.LIFE, years_ahead=1)],
    )
    left_on = models.DateField(
        "離脱日",
        null=True,
        blank=True,
        validators=[plausible.PlausibleDate("離脱日", earliest=plausible.LIFE, years_ahead=1)],
    )

    history = HistoricalRecords(m2m_fields=[cares_for])

    class Meta:
        verbose_name = "世帯員"
        verbose_name_plural = "世帯員"
        ordering = ["household", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(left_on__isnull=True),
                name="person_in_one_current_household",
                violation_error_message="この方はすでに別の世帯に属しています。先に転出の記録をしてください。",
            ),
        ]

    def __str__(self):
        return f"{self.household} / {self.person}（{self.relationship}）"


class Urgency(models.TextChoices):
    NORMAL = "normal", "通常"
    SOON = "soon", "早期対応"
    URGENT = "urgent", "緊急"


class ConsultationOutcome(models.TextChoices):
    ADVICE = "advice", "情報提供・助言で終了"
    CASE = "case", "ケース化"
    REFERRED_ELSEWHERE = "referred_elsewhere", "他機関へつなぎ"
    MULTI_AGENCY = "multi_agency", "多機関協働へ"


class Consultation(FieldPolicyModel):
    """相談受付: every consultation is recorded, including anonymous and one-off calls (断らない相談)."""

    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("person",)

    FIELD_POLICY = {
        "sensitive": ("issues", "main_issue", "summary", "action_taken", "consulter_name"),
        "identifying": ("consulter_name",),
        "categories": {
            "issues": (
                "issues",
                "main_issue",
                "summary",
                "action_taken",
                "consulter_name",
                "outcome",
                "referred_to",
            )
        },
    }

    agency = models.ForeignKey(
        Agency, verbose_name="受付機関", on_delete=models.PROTECT, related_name="consultations"
    )
    received_at = models.DateTimeField(
        "受付日時", default=timezone.now, validators=[plausible.happened("受付日時")]
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="受付者", on_delete=models.PROTECT, related_name="+"
    )
    channel = models.ForeignKey(
        Code,
        verbose_name="相談手段",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": CodeKind.CHANNEL},
    )
    route = models.ForeignKey(
        Code,
        verbose_name="相談経路（相談者）",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": CodeKind.ROUTE},
    )
    first_noticed_by = models.ForeignKey(
        Code,
        verbose_name="最初に気づいた人・機関",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": CodeKind.ROUTE},
    )
    consulter_name = models.CharField(
        "相談者氏名", max_length=100, blank=True, help_text="本人以外が相談した場合"
    )
    person = models.ForeignKey(
        Person,
        verbose_name="本人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultations",
    )
    household = models.ForeignKey(
        Household,
        verbose_name="世帯",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultations",
    )
    issues = models.ManyToManyField(
        Code, verbose_name="課題分類", related_name="+", limit_choices_to={"kind": CodeKind.ISSUE}
    )
    main_issue = models.ForeignKey(
        Code,
        verbose_name="主な課題",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": CodeKind.ISSUE},
    )
    urgency = models.CharField("緊急度", max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    summary = models.TextField("主訴")
    action_taken = models.TextField("対応内容", blank=True)
    outcome = models.CharField("対応区分", max_length=20, choices=ConsultationOutcome.choices)
    referred_to = models.ForeignKey(
        Agency, verbose_name="つなぎ先機関", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    case = models.ForeignKey(
        "Case",
        verbose_name="支援ケース",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultations",
    )

    history = HistoricalRecords(m2m_fields=[issues])

    class Meta:
        verbose_name = "相談受付"
        verbose_name_plural = "相談受付"
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=ConsultationOutcome.values), name="consultation_outcome_valid"
            ),
            models.CheckConstraint(
                condition=~Q(outcome="referred_elsewhere") | Q(referred_to__isnull=False),
                name="consultation_referral_names_agency",
                violation_error_message="他機関へつなぐ場合は、つなぎ先機関を選んでください。",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "-received_at"], name="consultation_agency_date"),
            models.Index(fields=["person", "-received_at"], name="consultation_person_date"),
            # The consultation list (newest first) walks this and stops after a page.
            models.Index(fields=["-received_at", "-id"], name="consultation_received"),
        ]

    def __str__(self):
        return f"相談受付 {to_wareki(self.received_at)} {self.person or '匿名'}"


class CaseStatus(models.TextChoices):
    RECEIVED = "received", "受付"
    ASSESSING = "assessing", "アセスメント中"
    SUPPORTING = "supporting", "支援中"
    REFERRED = "referred", "多機関協働へつなぎ依頼"
    COORDINATING = "coordinating", "多機関協働中"
    CLOSED = "closed", "終結"
    SUSPENDED = "suspended", "中断"


# The case state machine (DOMAIN.md §2). REFERRED and COORDINATING belong to 多機関協働 (meetings):
# only coordinators move a case out of them; leaving them for SUPPORTING is the return to
# 包括的相談支援, where the owning agency leads again.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    CaseStatus.RECEIVED: {CaseStatus.ASSESSING, CaseStatus.CLOSED},
    CaseStatus.ASSESSING: {
        CaseStatus.SUPPORTING,
        CaseStatus.REFERRED,
        CaseStatus.CLOSED,
        CaseStatus.SUSPENDED,
    },
    CaseStatus.SUPPORTING: {CaseStatus.REFERRED, CaseStatus.CLOSED, CaseStatus.SUSPENDED},
    CaseStatus.REFERRED: {CaseStatus.COORDINATING, CaseStatus.SUPPORTING},
    CaseStatus.COORDINATING: {CaseStatus.SUPPORTING, CaseStatus.CLOSED, CaseStatus.SUSPENDED},
    CaseStatus.SUSPENDED: {CaseStatus.SUPPORTING},
    CaseStatus.CLOSED: set(),
}
OPEN_STATUSES = [
    CaseStatus.RECEIVED,
    CaseStatus.ASSESSING,
    CaseStatus.SUPPORTING,
    CaseStatus.REFERRED,
    CaseStatus.COORDINATING,
]
MULTI_AGENCY_STATUSES = [CaseStatus.REFERRED, CaseStatus.COORDINATING]


class Case(FieldPolicyModel):
    """支援ケース: continuing support for a person (and their household), owned by one agency."""

    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("person",)

    FIELD_POLICY = {
        "sensitive": ("issues", "risk_abuse", "risk_suicide", "risk_life", "close_reason", "suspend_reason"),
        "categories": {
            "issues": ("issues", "risk_abuse", "risk_suicide", "risk_life", "close_reason", "suspend_reason")
        },
    }

    person = models.ForeignKey(Person, verbose_name="本人", on_delete=models.PROTECT, related_name="cases")
    household = models.ForeignKey(
        Household, verbose_name="世帯", on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    owning_agency = models.ForeignKey(
        Agency, verbose_name="主担当機関", on_delete=models.PROTECT, related_name="cases"
    )
    # None while a handover waits for the next lead agency to accept (CaseHandover): it names its own.
    lead_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="主担当者",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text="機関の相談員・推進員（API連携で開いたケースは、機関が選ぶまで未定）",
        related_name="+",
    )
    status = models.CharField("状態", max_length=20, choices=CaseStatus.choices, default=CaseStatus.RECEIVED)
    issues = models.ManyToManyField(
        Code, verbose_name="課題分類", related_name="+", blank=True, limit_choices_to={"kind": CodeKind.ISSUE}
    )
    risk_abuse = models.BooleanField("虐待", default=False)
    risk_suicide = models.BooleanField("自殺リスク", default=False)
    risk_life = models.BooleanField("生命の危険", default=False)
    next_follow_up_on = models.DateField(
        "次回対応予定日", null=True, blank=True, validators=[plausible.planned("次回対応予定日")]
    )
    close_reason = models.ForeignKey(
        Code, verbose_name="終結理由", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    suspend_reason = models.ForeignKey(
        Code, verbose_name="中断理由", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField("開始日時", default=timezone.now)
    closed_at = models.DateTimeField("終結・中断日時", null=True, blank=True)
    # Optimistic concurrency: every edit states the version it started from.
    version = models.PositiveIntegerField("更新番号", default=1, editable=False)

    history = HistoricalRecords(m2m_fields=[issues])

    class Meta:
        verbose_name = "支援ケース"
        verbose_name_plural = "支援ケース"
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CaseStatus.values), name="case_status_valid"),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(close_reason__isnull=False),
                name="case_closed_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="suspended") | Q(suspend_reason__isnull=False),
                name="case_suspended_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["owning_agency", "status", "-opened_at"], name="case_agency_status"),
            models.Index(fields=["lead_worker", "status"], name="case_lead_status"),
            models.Index(fields=["status", "next_follow_up_on"], name="case_follow_up"),
        ]

    def __str__(self):
        return f"{self.number} {self.person}"

    def get_absolute_url(self):
        return reverse("cases:case_detail", args=[self.pk])

    @property
    def number(self) -> str:
        """ケース番号, e.g. C-000123: stable, and says nothing about the person."""
        return f"C-{self.pk:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def risk_labels(self) -> list[str]:
        flags = [(self.risk_abuse, "虐待"), (self.risk_suicide, "自殺リスク"), (self.risk_life, "生命の危険")]
        return [label for on, label in flags if on]

    def allowed_transitions(self) -> list[str]:
        return sorted(ALLOWED_TRANSITIONS[self.status])


class CaseUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseTransition(models.Model):
    """One move of the state machine: who, when, from what, to what, and why."""

    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("case__person",)

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField("変更前", max_length=20, choices=CaseStatus.choices)
    to_status = models.CharField("変更後", max_length=20, choices=CaseStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="実施者", on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField("理由", blank=True)
    at = models.DateTimeField("日時", default=timezone.now)

    class Meta:
        verbose_name = "状態の変更"
        verbose_name_plural = "状態の変更"
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.case}: {self.get_from_status_display()} → {self.get_to_status_display()}"


#: the 終結理由 code that moves the case to the next lead agency (主担当機関へ移行): a 終結 with it names
#: that agency, and the case is handed over (CaseHandover)
HANDOVER_CLOSE_REASON = "lead_agency"


class HandoverStatus(models.TextChoices):
    PENDING = "pending", "受入れ待ち"
    ACCEPTED = "accepted", "受入れ"
    DECLINED = "declined", "辞退"


class CaseHandover(models.Model):
    """主担当機関の移行 (DOMAIN.md §2 step 8): the case moves to the next lead agency — ownership and
    担当 at once — and waits for that agency to accept it (naming its 主担当者) or decline it (with the
    reason: the case goes back to those who held it before). Until `read_until` the previous lead
    (its agency, its lead worker, the coordinators) may still read the case, and nothing more."""

    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("case", "from_agency", "to_agency")

    case = models.ForeignKey(
        Case, verbose_name="支援ケース", on_delete=models.PROTECT, related_name="handovers"
    )
    from_agency = models.ForeignKey(
        Agency, verbose_name="移行前の主担当機関", on_delete=models.PROTECT, related_name="+"
    )
    from_lead_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="移行前の主担当者",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    to_agency = models.ForeignKey(
        Agency,
        verbose_name="引継ぎ先の主担当機関",
        on_delete=models.PROTECT,
        related_name="handovers_received",
    )
    status = models.CharField(
        "状況", max_length=10, choices=HandoverStatus.choices, default=HandoverStatus.PENDING
    )
    reason = models.TextField("引継ぎの経緯", blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="引継ぎを行った職員",
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField("引継ぎ日時", default=timezone.now)
    read_until = models.DateTimeField("移行前の主担当機関が閲覧できる期限")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="受入れ・辞退した職員",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("受入れ・辞退の日時", null=True, blank=True)
    decline_reason = models.TextField("辞退の理由", blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "主担当機関の移行"
        verbose_name_plural = "主担当機関の移行"
        ordering = ["case", "-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=HandoverStatus.values), name="handover_status_valid"
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status="pending"),
                name="handover_one_pending",
                violation_error_message="このケースには受入れ待ちの引継ぎがすでにあります。",
            ),
            models.CheckConstraint(
                condition=~Q(to_agency=models.F("from_agency")),
                name="handover_to_another_agency",
                violation_error_message="引継ぎ先は今の主担当機関とは別の機関を選んでください。",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""),
                name="handover_declined_has_reason",
                violation_error_message="辞退の理由を入力してください。",
            ),
        ]
        indexes = [models.Index(fields=["to_agency", "status"], name="handover_waiting")]

    def __str__(self):
        return f"{self.case.number} 主担当機関の移行（{self.from_agency} → {self.to_agency}）"

    @property
    def is_pending(self) -> bool:
        return self.status == HandoverStatus.PENDING


class Assessment(FieldPolicyModel):
    """アセスメント: the person's and the household's situation. Versioned: a revision is a new row;
    earlier versions stay readable."""

    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("case__person",)

    FIELD_POLICY = {
        "sensitive": (
            "person_wishes",
            "family_wishes",
            "issues",
            "issues_detail",
            "household_issues",
            "strengths",
            "life_history",
            "risks",
            "formulation",
            "involved_agencies",
        ),
        "categories": {
            "issues": (
                "person_wishes",
                "family_wishes",
                "issues",
                "issues_detail",
                "household_issues",
                "strengths",
                "life_history",
                "risks",
                "formulation",
                "involved_agencies",
            )
        },
    }

    case = models.ForeignKey(
        Case, verbose_name="支援ケース", on_delete=models.PROTECT, related_name="assessments"
    )
    version = models.PositiveIntegerField("版", editable=False)
    person_wishes = models.TextField("本人の意向", blank=True)
    family_wishes = models.TextField("家族の意向", blank=True)
    issues = models.ManyToManyField(
        Code, verbose_name="課題分類", related_name="+", limit_choices_to={"kind": CodeKind.ISSUE}
    )
    issues_detail = models.TextField("課題の整理（本人）")
    household_issues = models.TextField("世帯全体の課題", blank=True)
    strengths = models.TextField("強み", blank=True)
    life_history = models.TextField("生活歴", blank=True)
    risks = models.TextField("リスク", blank=True)
    formulation = models.TextField("見立て")
    involved_agencies = models.TextField("関わっている機関", blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="作成者", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("作成日時", default=timezone.now)

    history = HistoricalRecords(m2m_fields=[issues])

    class Meta:
        verbose_name = "アセスメント"
        verbose_name_plural = "アセスメント"
        ordering = ["case", "-version"]
        constraints = [models.UniqueConstraint(fields=["case", "version"], name="assessment_version_unique")]

    def __str__(self):
        return f"{self.case} アセスメント 第{self.version}版"


class NoteKind(models.TextChoices):
    INTERVIEW = "interview", "面談"
    PHONE = "phone", "電話"
    VISIT = "visit", "訪問"
    ACCOMPANY = "accompany", "同行"
    RECORD = "record", "記録"


class ProgressNote(FieldPolicyModel):
    """支援経過記録. A correction changes the row with a reason; the previous text stays in history."""

    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("case__person",)

    FIELD_POLICY = {"sensitive": ("content",), "categories": {"progress": ("content",)}}

    case = models.ForeignKey(Case, verbose_name="支援ケース", on_delete=models.PROTECT, related_name="notes")
    occurred_at = models.DateTimeField(
        "日時", default=timezone.now, validators=[plausible.happened("経過記録の日時")]
    )
    kind = models.CharField("種別", max_length=20, choices=NoteKind.choices)
    content = models.TextField("内容")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="記録者", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("記録日時", default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "支援経過記録"
        verbose_name_plural = "支援経過記録"
        ordering = ["case", "-occurred_at", "-pk"]
        indexes = [models.Index(fields=["case", "-occurred_at"], name="note_case_date")]

    def __str__(self):
        return f"{self.case} {self.get_kind_display()} {to_wareki(self.occurred_at)}"


class AddressConfidentialityQuerySet(models.QuerySet):
    def in_force(self, on=None):
        day = on or timezone.localdate()
        return self.filter(
            Q(ends_on__isnull=True) | Q(ends_on__gt=day), lifted_at__isnull=True, starts_on__lte=day
        )


class AddressConfidentiality(models.Model):
    """住所秘匿: while in force, where the person can be found (FIELD_POLICY "location") is shown
    only to the staff personally assigned to their case (DV等支援措置, 住民票の閲覧制限)."""

    person = models.ForeignKey(
        Person, verbose_name="本人", on_delete=models.PROTECT, related_name="confidentialities"
    )
    reason = models.CharField("理由", max_length=300)
    starts_on = models.DateField(
        "開始日", default=timezone.localdate, validators=[plausible.planned("開始日")]
    )
    ends_on = models.DateField("終了日", null=True, blank=True, validators=[plausible.planned("終了日")])
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="設定者", on_delete=models.PROTECT, related_name="+"
    )
    set_at = models.DateTimeField("設定日時", default=timezone.now)
    lifted_at = models.DateTimeField("解除日時", null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="解除者",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    lift_reason = models.CharField("解除の理由", max_length=300, blank=True)

    history = HistoricalRecords()
    objects = AddressConfidentialityQuerySet.as_manager()

    class Meta:
        verbose_name = "住所秘匿"
        verbose_name_plural = "住所秘匿"
        ordering = ["-set_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gt=models.F("starts_on")),
                name="address_confidentiality_ends_after_start",
                violation_error_message="終了日は開始日より後の日付にしてください。",
            ),
        ]
        indexes = [models.Index(fields=["person", "lifted_at"], name="confidentiality_person")]

    def __str__(self):
        return f"住所秘匿: {self.person_id}"


class EmergencyAccess(models.Model):
    """Break-glass: a worker opened a case outside their basis in an emergency (生命・身体の保護).
    Time-limited, flagged to supervisors at once, and acknowledged by one after review."""

    #: what __str__ reads besides the row (jusou.audit.words.Words.resolve)
    name_relations = ("case",)

    case = models.ForeignKey(
        Case, verbose_name="支援ケース", on_delete=models.PROTECT, related_name="emergency_accesses"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="職員", on_delete=models.PROTECT, related_name="+"
    )
    justification = models.TextField("理由")
    opened_at = models.DateTimeField("開始日時", default=timezone.now)
    ends_at = models.DateTimeField("終了日時")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="確認した管理者",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("確認日時", null=True, blank=True)
    review_note = models.TextField("確認の所見", blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "緊急閲覧"
        verbose_name_plural = "緊急閲覧"
        ordering = ["-opened_at"]

    def __str__(self):
        return f"緊急閲覧 {self.case.number} {to_wareki_datetime(self.opened_at)}"
