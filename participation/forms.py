from django import forms

from community.forms import NoPersonalInfo
from community.models import WEEKDAYS, ParticipationKind
from jusou.forms import DateField, DateInput, date_formfield
from jusou.models import Area
from jusou.versions import VersionField
from participation.models import (
    CandidateOutcome,
    FollowUpWith,
    HostAgreement,
    HostCandidate,
    PersonChoice,
    PlacementStatus,
)
from participation.services import CANDIDATE_FIELDS


class PlanForm(forms.Form):
    wishes = forms.CharField(label="本人の希望", widget=forms.Textarea(attrs={"rows": 2}))
    strengths = forms.CharField(label="得意なこと", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    weaknesses = forms.CharField(label="苦手なこと", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    health = forms.CharField(label="体調", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    mobility = forms.CharField(label="移動手段", max_length=100, required=False)
    kinds = forms.MultipleChoiceField(
        label="希望する参加の種類", choices=ParticipationKind.choices, widget=forms.CheckboxSelectMultiple
    )
    goals = forms.CharField(label="目標", widget=forms.Textarea(attrs={"rows": 2}))
    review_on = DateField(label="見直し予定日", widget=DateInput())


class MatchForm(forms.Form):
    area = forms.ModelChoiceField(label="圏域", queryset=Area.objects.order_by("code"), required=False)
    day = forms.TypedChoiceField(
        label="曜日", choices=[("", "指定なし"), *WEEKDAYS], coerce=int, empty_value=None, required=False
    )


class AnswerForm(forms.Form):
    person_choice = forms.ChoiceField(label="本人の選択", choices=PersonChoice.choices)
    host_agreement = forms.ChoiceField(label="受け入れ先の了承", choices=HostAgreement.choices)


class PlacementForm(forms.Form):
    starts_on = DateField(label="開始日", widget=DateInput())
    frequency = forms.CharField(label="頻度", max_length=100, required=False)
    host_contact = forms.CharField(label="受け入れ先の担当者", max_length=100, required=False)


class PlacementMoveForm(forms.Form):
    to_status = forms.ChoiceField(label="変更後の状況", choices=PlacementStatus.choices)
    reason = forms.CharField(label="理由（終了の場合は必須）", max_length=300, required=False)


class FollowUpForm(forms.Form):
    done_on = DateField(label="日付", widget=DateInput())
    with_whom = forms.ChoiceField(label="相手", choices=FollowUpWith.choices)
    content = forms.CharField(label="内容", widget=forms.Textarea(attrs={"rows": 2}))


class CandidateForm(NoPersonalInfo, forms.ModelForm):
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
        model = HostCandidate
        fields = list(CANDIDATE_FIELDS)  # what the services take
        widgets = {
            "approached_on": DateInput(),
            "note": forms.Textarea(attrs={"rows": 2}),
            "acceptance_conditions": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {"capacity": "0 にすると「受け入れ停止」。空欄は上限なし。"}


class CandidateEditForm(CandidateForm):
    """A candidate's record corrected: with the version the page was filled from (jusou.versions)."""

    version = VersionField()


class CandidateMoveForm(NoPersonalInfo, forms.Form):
    to_outcome = forms.ChoiceField(label="結果", choices=CandidateOutcome.choices)
    reason = forms.CharField(label="メモ", max_length=200, required=False)


class JoinForm(CandidateForm):
    """Joining the register: the candidate's record, prefilled, to complete or correct."""

    close_gap = forms.BooleanField(label="きっかけの不足する社会資源を「開発済」にする", required=False)

    class Meta(CandidateForm.Meta):
        fields = [name for name in CANDIDATE_FIELDS if name not in ("approached_on", "note")]

    def __init__(self, *args, candidate=None, closes_gaps: bool = False, **kwargs):
        super().__init__(
            *args, instance=candidate, prefix=f"join-{candidate.pk}" if candidate else "join", **kwargs
        )
        self.fields["participation_kinds"].required = True
        # closing the gap is for those who move gaps (community.selectors.gap_can_move)
        if (
            not closes_gaps
            or candidate is None
            or candidate.gap_id is None
            or candidate.gap.status == "developed"
        ):
            del self.fields["close_gap"]
        else:
            self.fields["close_gap"].initial = True
            self.fields[
                "close_gap"
            ].help_text = f"{candidate.gap.category}（{candidate.gap.area.name if candidate.gap.area else '圏域未設定'}）"
