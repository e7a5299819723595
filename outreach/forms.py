from django import forms
from django.utils import timezone

from cases.forms import CasePickField, PersonPickField, PickerFormMixin
from jusou.forms import DateField, DateInput, DateTimeField, date_formfield
from jusou.models import Agency
from outreach.models import ContactKind, OutreachEngagement, Stage


class EngagementForm(forms.ModelForm):
    class Meta:
        formfield_callback = date_formfield  # 和暦 input for every date
        model = OutreachEngagement
        fields = [
            "provisional_name",
            "approximate_location",
            "how_known",
            "background",
            "purpose",
            "plan_frequency",
            "plan_visitors",
            "meeting_decision",
            "next_contact_on",
        ]
        widgets = {"background": forms.Textarea(attrs={"rows": 3}), "next_contact_on": DateInput()}


SAFETY_CHOICES = [("", "（該当なし）"), ("yes", "確認できた"), ("no", "確認できなかった")]


class ContactForm(forms.Form):
    contacted_at = DateTimeField(label="日時")
    kind = forms.ChoiceField(label="種別", choices=ContactKind.choices)
    met_whom = forms.CharField(label="会えた人・話した人", max_length=100, required=False)
    response = forms.CharField(label="反応・様子", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    safety = forms.ChoiceField(label="安否", choices=SAFETY_CHOICES, required=False)
    next_planned_on = DateField(label="次回予定日", required=False, widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacted_at"].initial = timezone.localtime().replace(second=0, microsecond=0)

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        safety = data.pop("safety")
        data["safety_confirmed"] = {"yes": True, "no": False}.get(safety)
        return data


class StageForm(forms.Form):
    stage = forms.ChoiceField(label="関係の段階", choices=Stage.choices)
    reason = forms.CharField(label="メモ", max_length=200, required=False)


class LinkForm(PickerFormMixin, forms.Form):
    person = PersonPickField(
        label="本人", required=False, help_text="氏名・ふりがな、または登録番号（P-000123）で検索"
    )
    case = CasePickField(
        label="ケース", required=False, help_text="ケース番号（C-000123）、または本人の氏名・ふりがなで検索"
    )


class EndForm(forms.Form):
    connected_agency = forms.ModelChoiceField(
        label="つなぎ先（つなぎ成立の場合）",
        queryset=Agency.objects.filter(is_active=True).order_by("name"),
        required=False,
    )
    note = forms.CharField(label="終了の理由（つなぎ以外の場合）", max_length=300, required=False)
