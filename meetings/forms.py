from django import forms
from django.db.models import Q
from django.utils import timezone

from cases.forms import CasePickField, PickerFormMixin, codes
from cases.models import CodeKind
from jusou.forms import DateField, DateInput, DateTimeField
from jusou.models import Agency, Area
from jusou.versions import VersionField
from meetings.models import (
    ActingBody,
    ConsentingParty,
    ConsentMethod,
    DecisionKind,
    GoalResult,
    InformationCategory,
    NextStep,
    TaskStatus,
)


class ConsentForm(forms.Form):
    person = forms.ModelChoiceField(label="同意した本人（世帯員ごとに記録）", queryset=None)
    consenting_party = forms.ChoiceField(
        label="同意者",
        choices=ConsentingParty.choices,
        widget=forms.RadioSelect,
        initial=ConsentingParty.SELF,
    )
    proxy_name = forms.CharField(label="代理人氏名", max_length=100, required=False)
    proxy_relation = forms.CharField(label="代理人の続柄・関係", max_length=50, required=False)
    consented_on = DateField(label="同意日", widget=DateInput())
    method = forms.ChoiceField(label="方法", choices=ConsentMethod.choices, widget=forms.RadioSelect)
    recipients = forms.ModelMultipleChoiceField(
        label="情報を共有する機関",
        queryset=Agency.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
    )
    categories = forms.MultipleChoiceField(
        label="共有する情報の範囲", choices=InformationCategory.choices, widget=forms.CheckboxSelectMultiple
    )
    purpose = forms.CharField(
        label="利用目的",
        widget=forms.Textarea(attrs={"rows": 2}),
        initial="重層的支援会議での支援プランの協議と、関係機関による支援の実施のため",
    )
    expires_on = DateField(label="有効期限", required=False, widget=DateInput())
    document = forms.FileField(
        label="同意書（PDF・JPEG・PNG、10MBまで）",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["recipients"].queryset = Agency.objects.filter(is_active=True).order_by("name")
        self.fields["consented_on"].initial = timezone.localdate()

    def clean_document(self):
        document = self.cleaned_data.get("document")
        if document:
            from django.conf import settings

            if document.size > settings.DOCUMENT_MAX_BYTES:
                raise forms.ValidationError("同意書のファイルは10MB以下にしてください。")
            head = document.read(8)
            document.seek(0)
            if not (
                head.startswith(b"%PDF") or head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG")
            ):
                raise forms.ValidationError("同意書は PDF・JPEG・PNG のいずれかでアップロードしてください。")
        return document

    def clean(self):
        data = super().clean()
        if data.get("consenting_party") == ConsentingParty.PROXY and not data.get("proxy_name", "").strip():
            self.add_error("proxy_name", "代理人が同意した場合は、代理人の氏名を入力してください。")
        return data


class ConsentPrintForm(forms.Form):
    """What the consent form (同意書) is printed with before the consent is recorded: whatever the worker
    has filled in on the consent page so far; anything left out (or not valid) is printed blank."""

    person = forms.ModelChoiceField(queryset=None, required=False)
    recipients = forms.ModelMultipleChoiceField(
        queryset=Agency.objects.filter(is_active=True), required=False
    )
    categories = forms.MultipleChoiceField(choices=InformationCategory.choices, required=False)
    purpose = forms.CharField(max_length=2000, required=False)
    expires_on = DateField(required=False)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people

    def prefill(self) -> dict:
        self.is_valid()
        data = self.cleaned_data
        return {
            "person": data.get("person"),
            "recipients": sorted(data.get("recipients") or [], key=lambda agency: agency.name),
            "categories": data.get("categories") or [],
            "purpose": data.get("purpose", ""),
            "expires_on": data.get("expires_on"),
        }


class ConsentAmendForm(forms.Form):
    """変更: the new version's date, method and scope (only additions and a later expiry are accepted,
    meetings.services.consent_amend); the form opens with the current version's scope."""

    consented_on = DateField(label="変更に同意した日", widget=DateInput())
    method = forms.ChoiceField(label="方法", choices=ConsentMethod.choices, widget=forms.RadioSelect)
    recipients = forms.ModelMultipleChoiceField(
        label="情報を共有する機関（加えることができます）",
        queryset=Agency.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
    )
    categories = forms.MultipleChoiceField(
        label="共有する情報の範囲（加えることができます）",
        choices=InformationCategory.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    expires_on = DateField(
        label="有効期限（延ばすことができます。空欄は期限なし）", required=False, widget=DateInput()
    )
    document = ConsentForm.base_fields["document"]
    clean_document = ConsentForm.clean_document

    def __init__(self, *args, consent, **kwargs):
        initial = {
            "consented_on": timezone.localdate(),
            "method": consent.method,
            "recipients": [a.pk for a in consent.recipients.all()],
            "categories": list(consent.categories),
            "expires_on": consent.expires_on,
        }
        super().__init__(*args, initial=initial, **kwargs)
        # an agency no longer active stays listed when the consent names it (it cannot be removed)
        named = [a.pk for a in consent.recipients.all()]
        self.fields["recipients"].queryset = Agency.objects.filter(
            Q(is_active=True) | Q(pk__in=named)
        ).order_by("name")


class ConsentWithdrawForm(forms.Form):
    method = forms.ChoiceField(label="撤回の方法", choices=ConsentMethod.choices)
    note = forms.CharField(label="撤回の内容", max_length=500, required=False)


class SupportDecisionForm(forms.Form):
    decided_on = DateField(label="決定日", widget=DateInput())
    decision_number = forms.CharField(label="決定番号", max_length=40, required=False)
    note = forms.CharField(label="備考", max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decided_on"].initial = timezone.localdate()


class CaseReturnForm(forms.Form):
    reason = forms.CharField(label="主担当機関へ戻す理由", max_length=500)


class CaseAcceptForm(forms.Form):
    reason = forms.CharField(label="受理のメモ", max_length=500, required=False)


class PlanForm(forms.Form):
    person_wishes = forms.CharField(label="本人の意向", widget=forms.Textarea(attrs={"rows": 2}))
    household_wishes = forms.CharField(
        label="世帯の意向", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    issues_summary = forms.CharField(label="課題の整理", widget=forms.Textarea(attrs={"rows": 3}))
    long_term_goal = forms.CharField(label="長期目標", widget=forms.Textarea(attrs={"rows": 2}))
    goals = forms.CharField(label="短期目標（1行に1つ）", widget=forms.Textarea(attrs={"rows": 3}))
    needs_participation = forms.BooleanField(label="参加支援が必要", required=False)
    needs_outreach = forms.BooleanField(label="アウトリーチが必要", required=False)
    review_on = DateField(label="見直し予定日", widget=DateInput())
    members = forms.ModelMultipleChoiceField(
        label="本人のほかに対象とする世帯員",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="承認には、対象者それぞれの本人同意（役割分担のすべての機関を共有先に含むもの）が必要です。",
    )
    # The 版 the page was filled from (0: none yet): a page older than the latest 版 is refused.
    based_on = VersionField(label="もとにした版")

    def __init__(self, *args, members=None, relationships=None, **kwargs):
        """`members`: the household members other than the case's 本人 (a queryset of Person)."""
        super().__init__(*args, **kwargs)
        from cases.models import Person

        self.fields["members"].queryset = members if members is not None else Person.objects.none()
        relationships = relationships or {}
        self.fields["members"].label_from_instance = lambda p: f"{relationships.get(p.pk, '世帯員')} {p.name}"
        if members is not None and not members.exists():
            del self.fields["members"]


class PlanTaskForm(forms.Form):
    agency = forms.ModelChoiceField(
        label="機関", queryset=Agency.objects.filter(is_active=True).order_by("name")
    )
    person_in_charge = forms.CharField(label="担当者", max_length=100, required=False)
    role = forms.CharField(label="役割", max_length=200)
    content = forms.CharField(label="内容", widget=forms.Textarea(attrs={"rows": 2}))
    frequency = forms.CharField(label="頻度", max_length=100, required=False)
    starts_on = DateField(label="開始日", required=False, widget=DateInput())
    ends_on = DateField(label="終了日", required=False, widget=DateInput())


PlanTaskFormSet = forms.formset_factory(PlanTaskForm, extra=3, min_num=1, validate_min=True)


class ConferenceForm(forms.Form):
    held_at = DateTimeField(label="開催日時")
    title = forms.CharField(label="名称", max_length=200, initial="重層的支援会議")
    agencies = forms.ModelMultipleChoiceField(
        label="出席機関",
        queryset=Agency.objects.filter(is_active=True).order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    minutes = forms.CharField(label="議事録", widget=forms.Textarea(attrs={"rows": 4}), required=False)


class PlanDecisionForm(forms.Form):
    plan = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(label="結果", choices=[("approve", "承認"), ("send_back", "差し戻し")])
    notes = forms.CharField(
        label="協議内容・差し戻しの理由", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class EvaluationForm(forms.Form):
    plan = forms.IntegerField(widget=forms.HiddenInput)
    person_change = forms.CharField(label="本人・世帯の変化", widget=forms.Textarea(attrs={"rows": 2}))
    next_step = forms.ChoiceField(label="今後の方針", choices=NextStep.choices)
    close_reason = forms.ModelChoiceField(label="終結理由", queryset=None, required=False)
    suspend_reason = forms.ModelChoiceField(label="中断理由", queryset=None, required=False)
    next_lead_agency = forms.ModelChoiceField(
        label="今後の主担当機関（引継ぎ先）",
        queryset=Agency.objects.filter(is_active=True).order_by("name"),
        required=False,
        help_text="終結理由が「主担当機関へ移行」のときは必ず選びます。包括的相談支援へ戻すときに"
        "今の主担当機関とは別の機関が支援を続ける場合も選びます。選んだ機関にケースを引き継ぎます",
    )
    notes = forms.CharField(label="協議内容", widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, goals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["close_reason"].queryset = codes(CodeKind.CLOSE_REASON)
        self.fields["suspend_reason"].queryset = codes(CodeKind.SUSPEND_REASON)
        self.goals = list(goals)
        for goal in self.goals:
            self.fields[f"goal_{goal.pk}"] = forms.ChoiceField(
                label=f"目標: {goal.text}", choices=GoalResult.choices
            )
            self.fields[f"goal_{goal.pk}_comment"] = forms.CharField(
                label="コメント", max_length=300, required=False
            )

    def goal_results(self):
        return {
            g.pk: (self.cleaned_data[f"goal_{g.pk}"], self.cleaned_data[f"goal_{g.pk}_comment"])
            for g in self.goals
        }


class ResourceGapForm(forms.Form):
    plan = forms.IntegerField(widget=forms.HiddenInput)
    category = forms.CharField(label="分野", max_length=100, help_text="例: 居場所、就労体験先、移動手段")
    area = forms.ModelChoiceField(label="圏域", queryset=Area.objects.all(), required=False)
    description = forms.CharField(label="内容", widget=forms.Textarea(attrs={"rows": 2}))


class TaskStatusForm(forms.Form):
    status = forms.ChoiceField(label="状況", choices=TaskStatus.choices)
    version = VersionField()


def member_label(user) -> str:
    """A 支援会議 member as offered to the host: 「氏名 ／ 機関」 for staff, 「氏名 ／ 外部の構成員」 for a
    民生委員 or other external member (who has no agency), so the host sees who will get the
    pseudonymised briefing."""
    from jusou.models import Role

    parts = [user.get_full_name() or user.username] + [a.name for a in user.agencies]
    if any(m.role == Role.MEETING_MEMBER for m in user.active_memberships):
        parts.append("外部の構成員")
    return " ／ ".join(parts)


class MeetingForm(forms.Form):
    held_at = DateTimeField(label="開催日時")
    title = forms.CharField(label="名称", max_length=200, initial="支援会議")
    acting_body = forms.ChoiceField(label="兼ねる会議体", choices=ActingBody.choices, required=False)
    access_from = DateTimeField(label="閲覧期間（開始）")
    access_until = DateTimeField(label="閲覧期間（終了）")
    members = forms.ModelMultipleChoiceField(
        label="構成員", queryset=None, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from jusou.models import Role, StaffMembership, User
        from jusou.staff.selectors import person_accounts

        # People only: neither システム管理者 nor an API client's service account (福祉総合システム …).
        staff = StaffMembership.objects.active().exclude(role__in=[Role.SYSTEM_ADMIN, Role.API_CLIENT])
        self.fields["members"].queryset = (
            person_accounts(User.objects.filter(is_active=True, pk__in=staff.values("user_id")))
            .prefetch_related(User.prefetch_active_memberships())
            .order_by("last_name", "first_name")
        )
        self.fields["members"].label_from_instance = member_label

    def clean(self):
        data = super().clean()
        if (
            data.get("access_from")
            and data.get("access_until")
            and data["access_until"] <= data["access_from"]
        ):
            self.add_error("access_until", "閲覧期間の終了は開始より後にしてください。")
        return data


class BriefingCaseForm(PickerFormMixin, forms.Form):
    """The first step of putting a case on the agenda: which case (the choice follows on its own page)."""

    case = CasePickField(label="ケース", help_text="ケース番号（C-000123）、または本人の氏名・ふりがなで検索")


class BriefingForm(forms.Form):
    """What the host shares of one case, item by item (meetings.briefings): the case's categories, and
    for each household member whether they appear and which of their own categories go with them."""

    categories = forms.MultipleChoiceField(
        label="共有する情報（このケースの本人）",
        choices=[],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    external_named = forms.BooleanField(
        label="外部の構成員にも氏名・ケース番号を示す",
        required=False,
        help_text="既定では、外部の構成員には仮名化した内容（氏名・ケース番号・連絡先・宛名番号なし、年齢は年代）が共有されます。",
    )
    pseudonymised = forms.BooleanField(label="職員の構成員にも仮名化した内容を示す", required=False)
    previewed = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, options, **kwargs):
        from meetings.briefings import BRIEFING_CATEGORIES, MEMBER_CATEGORIES

        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = [(c.value, c.label) for c in BRIEFING_CATEGORIES]
        self.members = []
        for option in options:
            if option.is_subject:
                continue
            include, own = f"member_{option.person_id}", f"member_{option.person_id}_categories"
            self.fields[include] = forms.BooleanField(
                label=f"{option.relationship} {option.name}を世帯の構成に含める", required=False
            )
            self.fields[own] = forms.MultipleChoiceField(
                label=f"{option.relationship}の情報（この方について明示的に選んだものだけ）",
                required=False,
                choices=[(c.value, c.label) for c in MEMBER_CATEGORIES if c in option.available],
                widget=forms.CheckboxSelectMultiple,
            )
            unavailable = [c.label for c in MEMBER_CATEGORIES if c not in option.available]
            self.members.append((option, self[include], self[own], unavailable))

    def initial_from(self, choice) -> None:
        """Pre-fill the form with `choice` (the default one, on first opening)."""
        self.initial["categories"] = sorted(choice.categories)
        for option, include, own, _ in self.members:
            self.initial[include.name] = option.person_id in choice.members
            self.initial[own.name] = sorted(choice.members.get(option.person_id, frozenset()) - {"household"})

    def choice(self):
        from meetings.briefings import BriefingChoice

        data = self.cleaned_data
        members = {
            option.person_id: frozenset(data.get(own.name) or ())
            for option, include, own, _ in self.members
            if data.get(include.name)
        }
        return BriefingChoice(
            frozenset(data.get("categories") or ()),
            members,
            data.get("external_named", False),
            data.get("pseudonymised", False),
        )


class MeetingWindowForm(forms.Form):
    access_from = DateTimeField(label="閲覧期間（開始）")
    access_until = DateTimeField(label="閲覧期間（終了）")
    reason = forms.CharField(label="変更の理由", max_length=300)


class MeetingDecisionForm(forms.Form):
    kind = forms.ChoiceField(label="決定の種類", choices=DecisionKind.choices)
    text = forms.CharField(label="内容", widget=forms.Textarea(attrs={"rows": 2}))


class MinutesForm(forms.Form):
    minutes = forms.CharField(label="議事録", widget=forms.Textarea(attrs={"rows": 6}), required=False)
