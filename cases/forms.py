"""Forms parse and report; the rules live in cases/services.py (whose ValidationErrors are shown
on the matching fields)."""

from django import forms
from django.urls import reverse_lazy
from django.utils import timezone

from cases.models import (
    LIVING_SITUATION_FIELDS,
    BirthDatePrecision,
    CaseStatus,
    Code,
    CodeKind,
    ConsultationOutcome,
    NoteKind,
    Person,
    Sex,
    Urgency,
)
from jusou.audit.readlog import read_log
from jusou.forms import DateField, DateInput, DateTimeField
from jusou.models import Agency, ReadLog, Role, StaffMembership, User
from jusou.staff.selectors import person_accounts
from jusou.versions import VersionField


def codes(kind: str):
    return Code.objects.filter(kind=kind, is_active=True).order_by("order", "pk")


class _PickField(forms.CharField):
    """A record named by its number or found by a name, among those the form's user may see. The
    text box is a picker where JavaScript runs (static/js/picker.js searches as the user types and
    fills in the number); without it, a number or a name that finds exactly one record works too.
    `user` is set by the form (PickerFormMixin). clean() gives the record's id, or None."""

    kind = ""
    noun = ""
    example = ""

    def __init__(self, *, picker: bool = True, **kwargs):
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)
        self.user = None
        self.picker = picker
        self.widget.attrs.update({"autocomplete": "off", "placeholder": self.example})
        if picker:
            self.widget.attrs.update(
                {"data-picker": self.kind, "data-picker-url": reverse_lazy("cases:pick")}
            )

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        number = self.number(value)
        if number is not None:
            return number
        if not self.picker or self.user is None:
            raise forms.ValidationError(
                f"{self.noun}は {self.example} のように入力してください。", code="invalid"
            )
        found = self.search(self.user, value)
        read_log(
            user=self.user,
            action=ReadLog.Action.SEARCH,
            detail=f"{self.noun}の選択: {value}（{len(found)}件）",
        )
        if len(found) == 1:
            return found[0].pk
        if not found:
            raise forms.ValidationError(
                f"「{value}」に一致する{self.noun}は見つかりません（閲覧できる範囲のみ検索します）。",
                code="not_found",
            )
        listed = "、".join(self.describe(row) for row in found[:5])
        raise forms.ValidationError(
            f"「{value}」に一致する{self.noun}が複数あります。番号で指定してください: {listed}"
            + ("ほか" if len(found) > 5 else ""),
            code="ambiguous",
        )


class CasePickField(_PickField):
    kind, noun, example = "case", "ケース", "C-000123"

    def number(self, value):
        from cases.selectors import case_number_pk

        return case_number_pk(value)

    def search(self, user, value):
        from cases.selectors import case_pick

        return case_pick(user, value, limit=6)

    def describe(self, case):
        return f"{case.number}（{case.person.name}）"


class PersonPickField(_PickField):
    kind, noun, example = "person", "本人", "P-000123"

    def number(self, value):
        from cases.selectors import person_number_pk

        return person_number_pk(value)

    def search(self, user, value):
        from cases.selectors import person_search

        return person_search(user, value, limit=6)

    def describe(self, person):
        return f"{person.number}（{person.name}）"


class PickerFormMixin:
    """Forms with a CasePickField / PersonPickField take the user (`user=`): names are searched among
    what they may see."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, _PickField):
                field.user = user


UNKNOWN_CHOICE = "不明・未確認"


def living_situation_fields() -> dict[str, forms.Field]:
    """The 申込票 B票's structured fields (要介護度 … 住居) as form fields, from the model's choices:
    a blank answer reads 「不明・未確認」."""
    fields = {}
    for name in LIVING_SITUATION_FIELDS:
        model_field = Person._meta.get_field(name)
        if model_field.choices:
            fields[name] = forms.ChoiceField(
                label=model_field.verbose_name,
                required=False,
                choices=[("", UNKNOWN_CHOICE), *model_field.choices],
            )
        else:
            fields[name] = forms.BooleanField(label=model_field.verbose_name, required=False)
    return fields


class LivingSituationMixin:
    """Adds living_situation_fields() to a form (declared per form instance, in the B票's order)."""

    def add_living_situation(self):
        for name, field in living_situation_fields().items():
            self.fields[name] = field

    def living_situation_bound(self):
        return [self[name] for name in LIVING_SITUATION_FIELDS if name in self.fields]

    def basic_fields(self):
        """The fields before the B票, other than 属性・備考・理由 (laid out on their own)."""
        rest = {*LIVING_SITUATION_FIELDS, "attributes", "notes", "reason"}
        return [self[name] for name in self.fields if name not in rest and not self[name].is_hidden]


class IntakeForm(LivingSituationMixin, forms.Form):
    """相談受付: one page, in the order of a phone call. The household members it concerns come in
    IntakeMemberFormSet beside it."""

    PERSON_NEW = "new"
    PERSON_ANONYMOUS = "anonymous"

    # 本人
    person_choice = forms.CharField(widget=forms.HiddenInput, required=False, initial=PERSON_ANONYMOUS)
    name = forms.CharField(label="氏名", max_length=100, required=False)
    kana = forms.CharField(label="ふりがな", max_length=100, required=False)
    birth_date = DateField(label="生年月日", required=False, widget=DateInput())
    birth_date_precision = forms.ChoiceField(
        label="生年月日の精度", choices=BirthDatePrecision.choices, initial=BirthDatePrecision.EXACT
    )
    sex = forms.ChoiceField(label="性別", choices=Sex.choices, initial=Sex.UNKNOWN)
    address = forms.CharField(label="住所", max_length=200, required=False)
    phone = forms.CharField(label="電話", max_length=30, required=False)
    atena_number = forms.CharField(label="宛名番号", max_length=20, required=False)
    attributes = forms.ModelMultipleChoiceField(
        label="属性", queryset=codes(CodeKind.ATTRIBUTE), required=False, widget=forms.CheckboxSelectMultiple
    )
    duplicate_confirmed = forms.BooleanField(widget=forms.HiddenInput, required=False)
    # 世帯
    household_name = forms.CharField(
        label="新しい世帯の名前",
        max_length=100,
        required=False,
        help_text="本人に世帯がない場合のみ。例: 〇〇さん世帯",
    )
    relationship = forms.CharField(label="続柄", max_length=30, required=False, initial="本人")
    subject_lives_together = forms.BooleanField(label="同居", required=False, initial=True)
    subject_is_main_carer = forms.BooleanField(label="主介護者", required=False)
    subject_own_issues = forms.CharField(label="本人の課題", max_length=300, required=False)
    # 相談
    received_at = DateTimeField(label="受付日時")
    channel = forms.ModelChoiceField(label="相談手段", queryset=codes(CodeKind.CHANNEL))
    route = forms.ModelChoiceField(label="相談者（経路）", queryset=codes(CodeKind.ROUTE))
    first_noticed_by = forms.ModelChoiceField(
        label="最初に気づいた人・機関", queryset=codes(CodeKind.ROUTE), required=False
    )
    consulter_name = forms.CharField(label="相談者氏名（本人以外の場合）", max_length=100, required=False)
    issues = forms.ModelMultipleChoiceField(
        label="課題分類（複数選択可）", queryset=codes(CodeKind.ISSUE), widget=forms.CheckboxSelectMultiple
    )
    main_issue = forms.ModelChoiceField(label="主な課題", queryset=codes(CodeKind.ISSUE))
    urgency = forms.ChoiceField(
        label="緊急度", choices=Urgency.choices, initial=Urgency.NORMAL, widget=forms.RadioSelect
    )
    summary = forms.CharField(label="主訴", widget=forms.Textarea(attrs={"rows": 4}))
    action_taken = forms.CharField(label="対応内容", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    outcome = forms.ChoiceField(
        label="対応区分", choices=ConsultationOutcome.choices, widget=forms.RadioSelect
    )
    referred_to = forms.ModelChoiceField(
        label="つなぎ先機関", queryset=Agency.objects.filter(is_active=True), required=False
    )
    # リスク (DOMAIN.md §2: visible at a glance): the flags of the case opened at intake
    risk_abuse = forms.BooleanField(label="虐待", required=False)
    risk_suicide = forms.BooleanField(label="自殺リスク", required=False)
    risk_life = forms.BooleanField(label="生命の危険", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_living_situation()
        # Querysets are evaluated per form, so administrators' additions show at once.
        for name, kind in [
            ("channel", CodeKind.CHANNEL),
            ("route", CodeKind.ROUTE),
            ("first_noticed_by", CodeKind.ROUTE),
            ("issues", CodeKind.ISSUE),
            ("main_issue", CodeKind.ISSUE),
            ("attributes", CodeKind.ATTRIBUTE),
        ]:
            self.fields[name].queryset = codes(kind)
        self.fields["received_at"].initial = timezone.localtime().replace(second=0, microsecond=0)

    def clean(self):
        data = super().clean()
        choice = data.get("person_choice") or self.PERSON_ANONYMOUS
        if choice == self.PERSON_NEW and not data.get("name", "").strip():
            self.add_error("name", "新しく登録する方の氏名を入力してください。")
        if choice not in (self.PERSON_NEW, self.PERSON_ANONYMOUS) and not choice.isdigit():
            self.add_error(None, "本人の選択が正しくありません。もう一度選んでください。")
        data["person_choice"] = choice
        return data


class IntakeMemberForm(forms.Form):
    """One household member on the intake page: found by search (`person`, set by the page's
    search) or new (氏名 …). A row left empty is ignored."""

    person = forms.CharField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label="氏名", max_length=100, required=False)
    kana = forms.CharField(label="ふりがな", max_length=100, required=False)
    birth_date = DateField(label="生年月日", required=False, widget=DateInput())
    sex = forms.ChoiceField(label="性別", choices=Sex.choices, initial=Sex.UNKNOWN)
    relationship = forms.CharField(label="続柄", max_length=30, required=False, help_text="例: 長男、母")
    lives_together = forms.BooleanField(label="同居", required=False, initial=True)
    is_main_carer = forms.BooleanField(label="主介護者", required=False)
    own_issues = forms.CharField(label="この方の課題", max_length=300, required=False)

    def clean(self):
        data = super().clean()
        person = (data.get("person") or "").strip()
        if person and not person.isdigit():
            self.add_error(None, "世帯員の選択が正しくありません。もう一度検索して選んでください。")
        elif not person and not (data.get("name") or "").strip():
            self.add_error("name", "世帯員の氏名を入力するか、登録済みの方を検索して選んでください。")
        if not (data.get("relationship") or "").strip():
            self.add_error("relationship", "本人から見た続柄を入力してください（例: 長男）。")
        return data

    @property
    def is_blank(self) -> bool:
        return not self.has_changed()


IntakeMemberFormSet = forms.formset_factory(IntakeMemberForm, extra=1, max_num=20, validate_max=True)


class CaseTransitionForm(forms.Form):
    to_status = forms.ChoiceField(label="変更後の状態", choices=CaseStatus.choices)
    reason = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    close_reason = forms.ModelChoiceField(
        label="終結理由", queryset=codes(CodeKind.CLOSE_REASON), required=False
    )
    suspend_reason = forms.ModelChoiceField(
        label="中断理由", queryset=codes(CodeKind.SUSPEND_REASON), required=False
    )
    next_lead_agency = forms.ModelChoiceField(
        label="引継ぎ先の主担当機関",
        queryset=None,
        required=False,
        help_text="終結理由が「主担当機関へ移行」のときは必ず選びます。選んだ機関にケースを引き継ぎます",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["close_reason"].queryset = codes(CodeKind.CLOSE_REASON)
        self.fields["suspend_reason"].queryset = codes(CodeKind.SUSPEND_REASON)
        self.fields["next_lead_agency"].queryset = other_agencies(case)
        if case is not None:
            self.fields["to_status"].choices = [(s, CaseStatus(s).label) for s in case.allowed_transitions()]
            self.fields["version"].initial = case.version


def other_agencies(case):
    """The agencies a case may be handed over to: the active ones other than its own."""
    agencies = Agency.objects.filter(is_active=True).order_by("name")
    return agencies.exclude(pk=case.owning_agency_id) if case is not None else agencies


class HandoverStartForm(forms.Form):
    to_agency = forms.ModelChoiceField(label="引継ぎ先の主担当機関", queryset=None)
    reason = forms.CharField(label="引継ぎの経緯", widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_agency"].queryset = other_agencies(case)


class HandoverAcceptForm(forms.Form):
    lead_worker = forms.ModelChoiceField(
        label="主担当者",
        queryset=None,
        required=False,
        help_text="空欄なら、受け入れるあなたが主担当者になります",
    )

    def __init__(self, *args, handover, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_worker"].queryset = (
            User.objects.filter(
                is_active=True,
                memberships__in=StaffMembership.objects.active().filter(
                    agency=handover.to_agency_id, role__in=[Role.WORKER, Role.COORDINATOR]
                ),
            )
            .distinct()
            .order_by("last_name", "first_name")
        )
        self.fields["lead_worker"].label_from_instance = lambda u: u.get_full_name() or u.username


class HandoverDeclineForm(forms.Form):
    reason = forms.CharField(label="辞退の理由", widget=forms.Textarea(attrs={"rows": 2}))


class CaseUpdateForm(forms.Form):
    lead_worker = forms.ModelChoiceField(label="主担当者", queryset=None)
    risk_abuse = forms.BooleanField(label="虐待", required=False)
    risk_suicide = forms.BooleanField(label="自殺リスク", required=False)
    risk_life = forms.BooleanField(label="生命の危険", required=False)
    next_follow_up_on = DateField(label="次回対応予定日", required=False, widget=DateInput())
    issues = forms.ModelMultipleChoiceField(
        label="課題分類", queryset=codes(CodeKind.ISSUE), required=False, widget=forms.CheckboxSelectMultiple
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issues"].queryset = codes(CodeKind.ISSUE)
        # The lead worker is one of the owning agency's current staff (assignment within the agency).
        self.fields["lead_worker"].queryset = (
            person_accounts(
                User.objects.filter(
                    is_active=True,
                    memberships__in=StaffMembership.objects.active().filter(
                        agency=case.owning_agency, role__in=[Role.WORKER, Role.COORDINATOR]
                    ),
                )
            )
            .distinct()
            .order_by("last_name", "first_name")
        )
        self.fields["lead_worker"].label_from_instance = lambda u: u.get_full_name() or u.username

    @classmethod
    def for_case(cls, case, issues):
        fields = ("lead_worker", "risk_abuse", "risk_suicide", "risk_life", "next_follow_up_on", "version")
        return cls(
            case=case, initial={**{f: getattr(case, f) for f in fields}, "issues": [i.pk for i in issues]}
        )


class AssessmentForm(forms.Form):
    person_wishes = forms.CharField(
        label="本人の意向", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    family_wishes = forms.CharField(
        label="家族の意向", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    issues = forms.ModelMultipleChoiceField(
        label="課題分類", queryset=codes(CodeKind.ISSUE), widget=forms.CheckboxSelectMultiple
    )
    issues_detail = forms.CharField(label="課題の整理（本人）", widget=forms.Textarea(attrs={"rows": 4}))
    household_issues = forms.CharField(
        label="世帯全体の課題", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    strengths = forms.CharField(label="強み", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    life_history = forms.CharField(label="生活歴", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    risks = forms.CharField(label="リスク", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    formulation = forms.CharField(label="見立て", widget=forms.Textarea(attrs={"rows": 4}))
    involved_agencies = forms.CharField(
        label="関わっている機関", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    # The 版 the page was filled from (0: none yet): a page older than the latest 版 is refused.
    based_on = VersionField(label="もとにした版")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issues"].queryset = codes(CodeKind.ISSUE)


class ProgressNoteForm(forms.Form):
    occurred_at = DateTimeField(label="日時")
    kind = forms.ChoiceField(label="種別", choices=NoteKind.choices)
    content = forms.CharField(label="内容", widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occurred_at"].initial = timezone.localtime().replace(second=0, microsecond=0)


class ProgressNoteCorrectionForm(forms.Form):
    content = forms.CharField(label="内容", widget=forms.Textarea(attrs={"rows": 5}))
    reason = forms.CharField(label="訂正の理由", max_length=200)


class PersonForm(LivingSituationMixin, forms.Form):
    name = forms.CharField(label="氏名", max_length=100)
    kana = forms.CharField(label="ふりがな", max_length=100, required=False)
    birth_date = DateField(label="生年月日", required=False, widget=DateInput())
    birth_date_precision = forms.ChoiceField(label="生年月日の精度", choices=BirthDatePrecision.choices)
    sex = forms.ChoiceField(label="性別", choices=Sex.choices)
    address = forms.CharField(label="住所", max_length=200, required=False)
    phone = forms.CharField(label="電話", max_length=30, required=False)
    email = forms.EmailField(label="メール", required=False)
    atena_number = forms.CharField(label="宛名番号", max_length=20, required=False)
    attributes = forms.ModelMultipleChoiceField(
        label="属性", queryset=codes(CodeKind.ATTRIBUTE), required=False, widget=forms.CheckboxSelectMultiple
    )
    notes = forms.CharField(label="備考", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    reason = forms.CharField(
        label="変更の理由", max_length=200, required=False, help_text="例: 転居による住所変更"
    )
    version = VersionField()

    def __init__(self, *args, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attributes"].queryset = codes(CodeKind.ATTRIBUTE)
        reason, version = self.fields.pop("reason"), self.fields.pop("version")
        self.add_living_situation()
        self.fields["reason"], self.fields["version"] = reason, version
        # Whereabouts masked for this user (住所秘匿), and what their decision withholds, are neither
        # shown nor editable here.
        for name in person.masked_fields:
            self.fields.pop(name, None)


class ConfidentialitySetForm(forms.Form):
    reason = forms.CharField(
        label="住所秘匿の理由", max_length=300, help_text="例: DV等支援措置（住民票の閲覧制限）中"
    )
    ends_on = DateField(label="終了日（決まっている場合）", required=False, widget=DateInput())


class ConfidentialityLiftForm(forms.Form):
    lift_reason = forms.CharField(label="解除の理由", max_length=300)


class HouseholdMemberForm(forms.Form):
    """Register a new person as a member of the household."""

    name = forms.CharField(label="氏名", max_length=100)
    kana = forms.CharField(label="ふりがな", max_length=100, required=False)
    birth_date = DateField(label="生年月日", required=False, widget=DateInput())
    sex = forms.ChoiceField(label="性別", choices=Sex.choices, initial=Sex.UNKNOWN)
    relationship = forms.CharField(label="続柄", max_length=30)
    lives_together = forms.BooleanField(label="同居", required=False, initial=True)
    is_main_carer = forms.BooleanField(label="主介護者", required=False)
    is_key_person = forms.BooleanField(label="キーパーソン", required=False)
    cares_for = forms.ModelMultipleChoiceField(
        label="介護・世話をしている相手", queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    own_issues = forms.CharField(label="本人の課題", max_length=300, required=False)

    def __init__(self, *args, household=None, **kwargs):
        super().__init__(*args, **kwargs)
        from cases.models import HouseholdMember

        members = HouseholdMember.objects.filter(household=household, left_on__isnull=True).select_related(
            "person"
        )
        self.fields["cares_for"].queryset = members
        self.fields["cares_for"].label_from_instance = lambda m: f"{m.person.name}（{m.relationship}）"


class MemberLeaveForm(forms.Form):
    reason = forms.CharField(label="理由", max_length=200)


class EmergencyAccessForm(forms.Form):
    # No picker: the case is by definition outside the user's basis (nothing to search).
    case_pk = CasePickField(label="ケース番号", picker=False, help_text="例: C-000123（番号だけでも可）")
    justification = forms.CharField(
        label="緊急に閲覧が必要な理由（生命・身体の保護）", widget=forms.Textarea(attrs={"rows": 3})
    )


class EmergencyReviewForm(forms.Form):
    note = forms.CharField(label="確認の所見", max_length=500)
