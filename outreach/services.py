"""Writes in アウトリーチ. The owning agency and the lead worker hold the engagement under 担当, and so
does each 相談支援包括化推進員 (as staff of the agency where they are one): they receive the outreach
alerts and step in — the same grant a referral to 多機関協働 gives them on a case."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cases.models import Case, Person
from cases.selectors import case_get_for_user, coordinators, person_get_for_user
from jusou.access import grants as access
from jusou.models import AccessBasis, Agency, Role, User
from jusou.notifications import services as core_services
from jusou.services import save_with_history as _save
from outreach.models import NO_CONTACT_KINDS, OutreachContact, OutreachEngagement, Stage


def no_contact_alert() -> int:
    """Contacts in a row without meeting anyone after which the coordinators hear about it: the
    municipality's setting (OUTREACH_NO_CONTACT_ALERT, two by default)."""
    return settings.OUTREACH_NO_CONTACT_ALERT


def _require_change(engagement: OutreachEngagement, user: User) -> None:
    from outreach.selectors import engagement_can_change

    if not engagement_can_change(user, engagement):
        raise PermissionDenied("このアウトリーチを更新する権限がありません。")


@transaction.atomic
def engagement_start(
    *,
    acting_user: User,
    provisional_name: str,
    how_known: str,
    background: str,
    purpose: str,
    approximate_location: str = "",
    plan_frequency: str = "",
    plan_visitors: str = "",
    meeting_decision: str = "",
    next_contact_on: date | None = None,
) -> OutreachEngagement:
    """Start an engagement, possibly before any person or case is known."""
    if not acting_user.roles & {Role.WORKER, Role.COORDINATOR}:
        raise PermissionDenied("アウトリーチを始められるのは相談員または相談支援包括化推進員です。")
    agency = acting_user.agencies[0] if acting_user.agencies else None
    if agency is None:
        raise PermissionDenied("所属機関がないため記録できません。")
    engagement = OutreachEngagement(
        provisional_name=provisional_name,
        how_known=how_known,
        background=background,
        purpose=purpose,
        approximate_location=approximate_location,
        plan_frequency=plan_frequency,
        plan_visitors=plan_visitors,
        meeting_decision=meeting_decision,
        next_contact_on=next_contact_on,
        owning_agency=agency,
        lead_worker=acting_user,
    )
    _save(engagement, acting_user=acting_user, reason="アウトリーチ開始")
    for grantee in ({"agency": agency}, {"user": acting_user, "on_behalf_of": agency}):
        access.access_grant(
            obj=engagement,
            basis=AccessBasis.ASSIGNMENT,
            permissions=("view", "change"),
            acting_user=acting_user,
            reason="担当",
            **grantee,
        )
    for coordinator in coordinators().exclude(pk=acting_user.pk):
        access.access_grant(
            obj=engagement,
            user=coordinator,
            on_behalf_of=coordinator.agency_in_role(Role.COORDINATOR),
            basis=AccessBasis.ASSIGNMENT,
            permissions=("view", "change"),
            acting_user=acting_user,
            reason=COORDINATION_REASON,
        )
    return engagement


#: the reason on the grant that lets each coordinator follow an engagement
COORDINATION_REASON = "アウトリーチの統括（相談支援包括化推進員）"


@transaction.atomic
def contact_record(
    *,
    engagement: OutreachEngagement,
    acting_user: User,
    kind: str,
    contacted_at: datetime | None = None,
    met_whom: str = "",
    response: str = "",
    safety_confirmed: bool | None = None,
    next_planned_on: date | None = None,
) -> OutreachContact:
    """Log a contact (quickly, also from a phone during a visit). A safety concern, or repeated visits
    without meeting anyone, is flagged to the coordinators."""
    _require_change(engagement, acting_user)
    if not engagement.is_open:
        raise ValidationError("終了したアウトリーチには記録できません。")
    contacted_at = contacted_at or timezone.now()
    if contacted_at > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"contacted_at": "未来の日時は入力できません。"})
    contact = OutreachContact(
        engagement=engagement,
        kind=kind,
        contacted_at=contacted_at,
        met_whom=met_whom,
        response=response,
        safety_confirmed=safety_confirmed,
        next_planned_on=next_planned_on,
        recorded_by=acting_user,
    )
    _save(contact, acting_user=acting_user)
    engagement = OutreachEngagement.objects.select_for_update().get(pk=engagement.pk)
    if next_planned_on:
        engagement.next_contact_on = next_planned_on
    if engagement.stage == Stage.NOT_CONTACTED and kind not in NO_CONTACT_KINDS and kind != "information":
        engagement.stage = Stage.CONTACTED
    _save(engagement, acting_user=acting_user, reason="接触記録", update_fields=["next_contact_on", "stage"])
    _flag(engagement, contact)
    return contact


def _flag(engagement: OutreachEngagement, contact: OutreachContact) -> None:
    today = timezone.localdate().isoformat()
    threshold = no_contact_alert()
    recent = list(engagement.contacts.order_by("-contacted_at", "-pk")[:threshold])
    reasons = []
    if contact.safety_confirmed is False:
        reasons.append("安否を確認できませんでした")
    if len(recent) == threshold and all(c.kind in NO_CONTACT_KINDS for c in recent):
        reasons.append(f"{threshold}回続けて会えていません")
    for reason in reasons:
        for coordinator in coordinators():
            core_services.notification_send(
                recipient=coordinator,
                kind="outreach_alert",
                title=f"アウトリーチ {engagement.number}: {reason}",
                link=engagement.get_absolute_url(),
                dedupe_key=f"outreach-alert:{engagement.pk}:{reason}:{today}",
            )


@transaction.atomic
def stage_set(
    *, engagement: OutreachEngagement, acting_user: User, stage: str, reason: str = ""
) -> OutreachEngagement:
    _require_change(engagement, acting_user)
    engagement = OutreachEngagement.objects.select_for_update().get(pk=engagement.pk)
    engagement.stage = stage
    return _save(
        engagement,
        acting_user=acting_user,
        reason=reason or f"段階: {Stage(stage).label}",
        update_fields=["stage"],
    )


@transaction.atomic
def engagement_link(
    *,
    engagement: OutreachEngagement,
    acting_user: User,
    person: Person | None = None,
    case: Case | None = None,
) -> OutreachEngagement:
    """Link to the person and case once known (or opened later); the engagement keeps its history."""
    _require_change(engagement, acting_user)
    if person is not None:
        person = person_get_for_user(acting_user, person.pk, log=False)
    if case is not None:
        case = case_get_for_user(acting_user, case.pk)
        if person is not None and case.person_id != person.pk:
            raise ValidationError({"case": "本人のケースを選んでください。"})
        person = person or case.person
    engagement = OutreachEngagement.objects.select_for_update().get(pk=engagement.pk)
    engagement.person, engagement.case = person or engagement.person, case or engagement.case
    return _save(
        engagement, acting_user=acting_user, reason="本人・ケースとの紐づけ", update_fields=["person", "case"]
    )


@transaction.atomic
def engagement_end(
    *,
    engagement: OutreachEngagement,
    acting_user: User,
    connected_agency: Agency | None = None,
    note: str = "",
) -> OutreachEngagement:
    """End with つなぎ成立 (to which agency) or a recorded reason."""
    _require_change(engagement, acting_user)
    if connected_agency is None and not note.strip():
        raise ValidationError({"end_note": "つなぎ先か、終了の理由を入力してください。"})
    engagement = OutreachEngagement.objects.select_for_update().get(pk=engagement.pk)
    if not engagement.is_open:
        raise ValidationError("このアウトリーチはすでに終了しています。")
    engagement.ended_at, engagement.connected_agency, engagement.end_note = (
        timezone.now(),
        connected_agency,
        note,
    )
    if connected_agency is not None:
        engagement.stage = Stage.CONNECTED
    return _save(
        engagement, acting_user=acting_user, reason="つなぎ成立" if connected_agency else f"終了: {note}"
    )


def overdue_reminders(on=None) -> int:
    """Beat: a planned contact that fell due with no contact logged since reminds the lead worker
    (once per engagement and due date)."""
    day = on or timezone.localdate()
    sent = 0
    due = OutreachEngagement.objects.filter(ended_at__isnull=True, next_contact_on__lt=day).select_related(
        "lead_worker"
    )
    for engagement in due:
        if engagement.contacts.filter(contacted_at__date__gte=engagement.next_contact_on).exists():
            continue
        note = core_services.notification_send(
            recipient=engagement.lead_worker,
            kind="outreach_due",
            title=f"アウトリーチ {engagement.number} の接触予定日（{engagement.next_contact_on:%Y-%m-%d}）を過ぎています",
            link=engagement.get_absolute_url(),
            dedupe_key=f"outreach-due:{engagement.pk}:{engagement.next_contact_on.isoformat()}",
        )
        sent += note is not None
    return sent
