"""Writes in 多機関協働: taking up referred cases, 本人同意 and its withdrawal, 支援決定.

Case moves go through cases.services.case_transition, so the state machine, locking and history
stay in one place.
"""

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cases import services as case_services
from cases.models import Case, CaseStatus, HouseholdMember, Person
from cases.selectors import case_can_change
from jusou import access
from jusou.models import AccessBasis, AccessGrant, Agency, Role, User
from meetings.models import Consent, ConsentingParty, InformationCategory, SupportDecision


def _require_coordinator(user: User) -> None:
    if not user.has_role(Role.COORDINATOR):
        raise PermissionDenied("この操作は相談支援包括化推進員が行います。")


def _save(obj, *, acting_user, reason="", **kwargs):
    obj.full_clean(exclude=kwargs.pop("exclude", None))
    obj._history_user = acting_user
    if reason:
        obj._change_reason = reason
    obj.save(**kwargs)
    return obj


def case_accept(*, case: Case, acting_user: User, reason: str = "") -> Case:
    """The coordinator takes a referred case into 多機関協働 (つなぎ依頼 → 多機関協働中)."""
    _require_coordinator(acting_user)
    return case_services.case_transition(
        case=case,
        to_status=CaseStatus.COORDINATING,
        acting_user=acting_user,
        reason=reason or "多機関協働として受理",
    )


def case_return(*, case: Case, acting_user: User, reason: str) -> Case:
    """Return to 包括的相談支援: the owning agency leads again and the coordinators' 担当 ends."""
    _require_coordinator(acting_user)
    return case_services.case_transition(
        case=case, to_status=CaseStatus.SUPPORTING, acting_user=acting_user, reason=reason
    )


def case_people(case: Case) -> set[int]:
    """The case's person and the current members of its household."""
    ids = {case.person_id}
    if case.household_id:
        ids |= set(
            HouseholdMember.objects.filter(household_id=case.household_id, left_on__isnull=True).values_list(
                "person_id", flat=True
            )
        )
    return ids


@transaction.atomic
def consent_record(
    *,
    case: Case,
    person: Person,
    acting_user: User,
    consenting_party: str,
    consented_on: date,
    method: str,
    recipients: list[Agency],
    categories: list[str],
    purpose: str,
    proxy_name: str = "",
    proxy_relation: str = "",
    expires_on: date | None = None,
) -> Consent:
    """Record a person's consent (each household member consents separately).

    Refused: a person outside the case's household, a future date, no agency, no category."""
    if not case_can_change(acting_user, case):
        raise PermissionDenied("このケースを更新する権限がありません。")
    errors = {}
    if person.pk not in case_people(case):
        errors["person"] = "このケースの本人または世帯員を選んでください。"
    if consented_on > timezone.localdate():
        errors["consented_on"] = "同意日に未来の日付は入力できません。"
    if not recipients:
        errors["recipients"] = "情報を共有する機関を選んでください。"
    if not categories or not set(categories) <= set(InformationCategory.values):
        errors["categories"] = "共有する情報の範囲を選んでください。"
    if errors:
        raise ValidationError(errors)
    consent = Consent(
        case=case, person=person, consenting_party=consenting_party,
        proxy_name=proxy_name if consenting_party == ConsentingParty.PROXY else "",
        proxy_relation=proxy_relation if consenting_party == ConsentingParty.PROXY else "",
        consented_on=consented_on, taken_by=acting_user, method=method, categories=list(categories),
        purpose=purpose, expires_on=expires_on,
    )  # fmt: skip
    _save(consent, acting_user=acting_user, reason="本人同意の記録")
    consent.recipients.set(recipients)
    return consent


def agencies_without_consent(case: Case, agencies, on=None) -> list[Agency]:
    """Of `agencies`, those that no valid consent of the case's person names (DOMAIN.md §2 step 5)."""
    covered = set(
        Consent.objects.valid(on)
        .filter(case=case, person_id=case.person_id)
        .values_list("recipients", flat=True)
    )
    return [agency for agency in agencies if agency.pk not in covered]


@transaction.atomic
def consent_withdraw(
    *,
    consent: Consent,
    acting_user: User,
    method: str,
    note: str = "",
    withdrawn_at: datetime | None = None,
) -> Consent:
    """Withdrawal takes effect at once: every 本人同意-based grant on the case that no remaining
    valid consent still covers is revoked in the same transaction."""
    if not case_can_change(acting_user, consent.case):
        raise PermissionDenied("このケースを更新する権限がありません。")
    consent = Consent.objects.select_for_update().select_related("case").get(pk=consent.pk)
    if consent.withdrawn_at is not None:
        raise ValidationError("この同意はすでに撤回されています。")
    consent.withdrawn_at = withdrawn_at or timezone.now()
    consent.withdrawal_method = method
    consent.withdrawal_received_by = acting_user
    consent.withdrawal_note = note
    _save(consent, acting_user=acting_user, reason=f"同意の撤回（{method}）")
    case = consent.case
    granted = AccessGrant.objects.valid().filter(
        content_type__model="case", content_type__app_label="cases", object_id=case.pk,
        basis=AccessBasis.CONSENT, agency__isnull=False,
    ).select_related("agency")  # fmt: skip
    uncovered = {a.pk for a in agencies_without_consent(case, {g.agency for g in granted})}
    for grant in granted:
        if grant.agency_id in uncovered:
            access.access_revoke(grant=grant, acting_user=acting_user, reason="本人同意の撤回")
    return consent


@transaction.atomic
def support_decision_record(
    *, case: Case, acting_user: User, decided_on: date, decision_number: str = "", note: str = ""
) -> SupportDecision:
    """支援決定 for a case in 多機関協働 (recorded by the municipality's coordinator)."""
    _require_coordinator(acting_user)
    if not case_can_change(acting_user, case):
        raise PermissionDenied("このケースを更新する権限がありません。")
    if case.status != CaseStatus.COORDINATING:
        raise ValidationError(
            "支援決定は多機関協働中のケースに記録します。先につなぎ依頼を受理してください。"
        )
    if decided_on > timezone.localdate():
        raise ValidationError({"decided_on": "決定日に未来の日付は入力できません。"})
    decision = SupportDecision(
        case=case, decided_on=decided_on, decided_by=acting_user, decision_number=decision_number, note=note
    )
    return _save(decision, acting_user=acting_user, reason="支援決定")
