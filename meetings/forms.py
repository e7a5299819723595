from django import forms
from django.utils import timezone

from cases.forms import DateInput
from jusou.models import Agency
from meetings.models import ConsentingParty, ConsentMethod, InformationCategory


class ConsentForm(forms.Form):
    person = forms.ModelChoiceField(label="同意した本人（世帯員ごとに記録）", queryset=None)
    consenting_party = forms.ChoiceField(label="同意者", choices=ConsentingParty.choices, widget=forms.RadioSelect,
                                         initial=ConsentingParty.SELF)  # fmt: skip
    proxy_name = forms.CharField(label="代理人氏名", max_length=100, required=False)
    proxy_relation = forms.CharField(label="代理人の続柄・関係", max_length=50, required=False)
    consented_on = forms.DateField(label="同意日", widget=DateInput())
    method = forms.ChoiceField(label="方法", choices=ConsentMethod.choices, widget=forms.RadioSelect)
    recipients = forms.ModelMultipleChoiceField(
        label="情報を共有する機関",
        queryset=Agency.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
    )
    categories = forms.MultipleChoiceField(
        label="共有する情報の範囲", choices=InformationCategory.choices, widget=forms.CheckboxSelectMultiple
    )
    purpose = forms.CharField(label="利用目的", widget=forms.Textarea(attrs={"rows": 2}),
                              initial="重層的支援会議での支援プランの協議と、関係機関による支援の実施のため")  # fmt: skip
    expires_on = forms.DateField(label="有効期限", required=False, widget=DateInput())

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["recipients"].queryset = Agency.objects.filter(is_active=True).order_by("name")
        self.fields["consented_on"].initial = timezone.localdate()

    def clean(self):
        data = super().clean()
        if data.get("consenting_party") == ConsentingParty.PROXY and not data.get("proxy_name", "").strip():
            self.add_error("proxy_name", "代理人が同意した場合は、代理人の氏名を入力してください。")
        return data


class ConsentWithdrawForm(forms.Form):
    method = forms.ChoiceField(label="撤回の方法", choices=ConsentMethod.choices)
    note = forms.CharField(label="撤回の内容", max_length=500, required=False)


class SupportDecisionForm(forms.Form):
    decided_on = forms.DateField(label="決定日", widget=DateInput())
    decision_number = forms.CharField(label="決定番号", max_length=40, required=False)
    note = forms.CharField(label="備考", max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decided_on"].initial = timezone.localdate()


class CaseReturnForm(forms.Form):
    reason = forms.CharField(label="主担当機関へ戻す理由", max_length=500)


class CaseAcceptForm(forms.Form):
    reason = forms.CharField(label="受理のメモ", max_length=500, required=False)
