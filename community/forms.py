from django import forms

from community.models import (
    WEEKDAYS,
    Activity,
    CommunityResource,
    CoordinatorActivity,
    ParticipationKind,
    Platform,
)
from jusou.forms import DateInput
from jusou.models import ResourceGap, ResourceGapStatus


class ResourceForm(forms.ModelForm):
    days = forms.TypedMultipleChoiceField(label="曜日", choices=WEEKDAYS, coerce=int, required=False,
                                          widget=forms.CheckboxSelectMultiple)  # fmt: skip
    participation_kinds = forms.MultipleChoiceField(label="受け入れできる参加支援の種類", choices=ParticipationKind.choices,
                                                    required=False, widget=forms.CheckboxSelectMultiple)  # fmt: skip

    class Meta:
        model = CommunityResource
        fields = ["name", "kind", "operator", "area", "target", "schedule", "days", "contact", "public_description",
                  "internal_notes", "accepts_participants", "participation_kinds", "acceptance_conditions", "capacity",
                  "is_partner", "is_active"]  # fmt: skip
        widgets = {
            f: forms.Textarea(attrs={"rows": 2})
            for f in ("public_description", "internal_notes", "acceptance_conditions")
        }


class ActivityForm(forms.ModelForm):
    class Meta:
        model = Activity
        fields = ["held_on", "participants", "participant_visits", "organisations", "local_issues"]
        widgets = {"held_on": DateInput(), "local_issues": forms.Textarea(attrs={"rows": 2})}


class PlatformForm(forms.ModelForm):
    class Meta:
        model = Platform
        fields = ["held_on", "name", "area", "participants", "organisations", "outcomes"]
        widgets = {"held_on": DateInput(), "outcomes": forms.Textarea(attrs={"rows": 2})}


class CoordinatorActivityForm(forms.ModelForm):
    class Meta:
        model = CoordinatorActivity
        fields = ["done_on", "area", "kind", "content"]
        widgets = {"done_on": DateInput(), "content": forms.Textarea(attrs={"rows": 2})}


class GapForm(forms.ModelForm):
    class Meta:
        model = ResourceGap
        fields = ["category", "area", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class GapAdvanceForm(forms.Form):
    to_status = forms.ChoiceField(label="変更後の状況", choices=ResourceGapStatus.choices)
    resource = forms.ModelChoiceField(label="新しく生まれた地域資源（開発済の場合）",
                                      queryset=CommunityResource.objects.filter(is_active=True), required=False)  # fmt: skip
    reason = forms.CharField(label="メモ", max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Rendered once per gap on the list page: evaluate the choices once, not per row.
        self.fields["resource"].choices = list(self.fields["resource"].choices)
