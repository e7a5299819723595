from django import forms

from community.models import (
    NO_PERSONAL_DETAILS,
    NO_PERSONAL_INFO,
    WEEKDAYS,
    Activity,
    CommunityResource,
    CoordinatorActivity,
    ParticipationKind,
    Platform,
)
from jusou.forms import DateInput, date_formfield
from jusou.models import Agency, ResourceGap, ResourceGapStatus
from jusou.versions import VersionField


class NoPersonalInfo:
    """Every free-text field of these forms is published to all staff: each carries the warning. Those
    named in `restricted_fields` are read by fewer (their help text says by whom): they carry only the
    warning against personal details, not the "all staff read this" one that would contradict it."""

    restricted_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if is_free_text(field):
                warning = NO_PERSONAL_DETAILS if name in self.restricted_fields else NO_PERSONAL_INFO
                field.help_text = f"{field.help_text} {warning}".strip() if field.help_text else warning


def is_free_text(field) -> bool:
    return (
        isinstance(field, forms.CharField)
        and not isinstance(field, forms.TypedChoiceField | forms.ChoiceField)
        and not field.widget.is_hidden
    )


class ResourceForm(NoPersonalInfo, forms.ModelForm):
    #: the 内部メモ is read only by those who may change the place (selectors.resource_can_change)
    restricted_fields = ("internal_notes",)
    days = forms.TypedMultipleChoiceField(
        label="曜日", choices=WEEKDAYS, coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    participation_kinds = forms.MultipleChoiceField(
        label="受け入れできる参加支援の種類",
        choices=ParticipationKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        formfield_callback = date_formfield  # 和暦 input for every date
        model = CommunityResource
        fields = [
            "name",
            "kind",
            "operator",
            "operating_agency",
            "area",
            "target",
            "schedule",
            "days",
            "contact",
            "public_description",
            "internal_notes",
            "accepts_participants",
            "participation_kinds",
            "acceptance_conditions",
            "capacity",
            "is_partner",
            "is_active",
            "inactive_reason",
        ]
        widgets = {
            f: forms.Textarea(attrs={"rows": 2})
            for f in ("public_description", "internal_notes", "acceptance_conditions")
        }
        help_texts = {
            "capacity": "0 にすると「受け入れ停止」。空欄は上限なし。",
            "inactive_reason": "「活動中」を外すときは必須です。",
            "internal_notes": "この資源を更新できる職員だけが読みます。",
        }

    def __init__(self, *args, keeper: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["operating_agency"].queryset = Agency.objects.filter(is_active=True).order_by("name")
        if not keeper:
            # the 運営する機関 decides who may change the place: only the register's keepers set it
            del self.fields["operating_agency"]


class ActivityForm(NoPersonalInfo, forms.ModelForm):
    class Meta:
        formfield_callback = date_formfield  # 和暦 input for every date
        model = Activity
        fields = ["held_on", "participants", "participant_visits", "organisations", "local_issues"]
        widgets = {"held_on": DateInput(), "local_issues": forms.Textarea(attrs={"rows": 2})}


class PlatformForm(NoPersonalInfo, forms.ModelForm):
    class Meta:
        formfield_callback = date_formfield  # 和暦 input for every date
        model = Platform
        fields = ["held_on", "name", "area", "participants", "organisations", "outcomes"]
        widgets = {"held_on": DateInput(), "outcomes": forms.Textarea(attrs={"rows": 2})}


class CoordinatorActivityForm(NoPersonalInfo, forms.ModelForm):
    class Meta:
        formfield_callback = date_formfield  # 和暦 input for every date
        model = CoordinatorActivity
        fields = ["done_on", "area", "kind", "content"]
        widgets = {"done_on": DateInput(), "content": forms.Textarea(attrs={"rows": 2})}


CORRECTION_FORMS = {
    "activity": ActivityForm,
    "platform": PlatformForm,
    "coordinator": CoordinatorActivityForm,
}


class CorrectionReasonForm(NoPersonalInfo, forms.Form):
    reason = forms.CharField(label="訂正の理由", max_length=200, required=False)
    version = VersionField()  # the version the correction page was filled from (jusou.versions)


class RemoveForm(NoPersonalInfo, forms.Form):
    reason = forms.CharField(label="削除の理由", max_length=200)


class GapForm(NoPersonalInfo, forms.ModelForm):
    class Meta:
        formfield_callback = date_formfield  # 和暦 input for every date
        model = ResourceGap
        fields = ["category", "area", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {"description": ""}


class GapAdvanceForm(forms.Form):
    to_status = forms.ChoiceField(label="変更後の状況", choices=ResourceGapStatus.choices)
    resources = forms.TypedMultipleChoiceField(
        label="この不足に応える地域資源（開発済の場合。ほかの不足への紐づけはそのまま残ります）",
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    reason = forms.CharField(label="メモ", max_length=300, required=False, help_text=NO_PERSONAL_INFO)

    def __init__(self, *args, resource_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Rendered once per gap on the list page: the choices are read once (selectors.resource_choices_for_gaps).
        self.fields["resources"].choices = resource_choices

    def clean_resources(self):
        ids = self.cleaned_data["resources"]
        return list(CommunityResource.objects.filter(pk__in=ids, is_active=True)) if ids else []


class GapLinkForm(GapAdvanceForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["to_status"], self.fields["reason"]
        self.fields["resources"].label = "この不足に応える地域資源を追加する"
        self.fields["resources"].required = True
