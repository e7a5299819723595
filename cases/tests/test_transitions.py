"""The case state machine: every allowed move, each refused one with its message, and races."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse

from cases import services
from cases.models import ALLOWED_TRANSITIONS, Case, CaseStatus, CaseTransition, CodeKind
from cases.tests.conftest import code, fresh, record_case
from jusou.models import AccessGrant, Notification

S = CaseStatus


def assess(case, user):
    return services.assessment_record(
        case=case,
        acting_user=user,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="介護負担",
        formulation="母の介護負担が大きい",
    )


def move(case, to, user, **kwargs):
    return services.case_transition(
        case=Case.objects.get(pk=case.pk), to_status=to, acting_user=user, **kwargs
    )


def bring_to(world, status):
    """Put the world's case into `status` through the real services."""
    case, user = world.case, world.assigned
    if status == S.RECEIVED:
        return case
    assess(case, user)  # → ASSESSING
    if status == S.ASSESSING:
        return case
    if status == S.SUPPORTING:
        return move(case, S.SUPPORTING, user)
    if status == S.REFERRED:
        return move(case, S.REFERRED, user, reason="複合課題")
    if status == S.COORDINATING:
        move(case, S.REFERRED, user, reason="複合課題")
        return move(case, S.COORDINATING, fresh(world.coordinator), reason="受理")
    if status == S.CLOSED:
        return move(case, S.CLOSED, user, close_reason=code(CodeKind.CLOSE_REASON, "goal_achieved"))
    if status == S.SUSPENDED:
        return move(case, S.SUSPENDED, user, suspend_reason=code(CodeKind.SUSPEND_REASON, "lost_contact"))
    raise AssertionError(status)


ARGS = {
    S.CLOSED: {"close_reason": ("close_reason", "goal_achieved")},
    S.SUSPENDED: {"suspend_reason": ("suspend_reason", "lost_contact")},
}


def args_for(to_status):
    kwargs = {name: code(kind, value) for name, (kind, value) in ARGS.get(to_status, {}).items()}
    kwargs["reason"] = "理由"
    return kwargs


@pytest.mark.parametrize(
    ("start", "to"), [(start, to) for start, targets in ALLOWED_TRANSITIONS.items() for to in sorted(targets)]
)
def test_every_allowed_transition_succeeds_and_is_recorded(world, start, to):
    case = bring_to(world, start)
    actor = world.coordinator if start in (S.REFERRED, S.COORDINATING) else world.assigned
    case = move(case, to, fresh(actor), **args_for(to))
    assert case.status == to
    last = CaseTransition.objects.filter(case=case).last()
    assert (last.from_status, last.to_status, last.actor) == (start, to, actor)
    assert case.history.latest().history_user == actor


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (start, to)
        for start in S.values
        for to in S.values
        if to not in ALLOWED_TRANSITIONS[start] and to != start
    ],
)
def test_every_other_transition_is_refused_with_a_japanese_message(world, start, to):
    case = bring_to(world, start)
    actor = world.coordinator if start in (S.REFERRED, S.COORDINATING) else world.assigned
    with pytest.raises(services.CaseError) as refused:
        move(case, to, fresh(actor), **args_for(to))
    assert (
        f"「{S(start).label}」のケースを「{S(to).label}」にすることはできません。" in refused.value.messages
    )
    assert Case.objects.get(pk=case.pk).status == start


@pytest.mark.parametrize(
    ("start", "to", "kwargs", "message"),
    [
        (S.ASSESSING, S.CLOSED, {}, "終結理由を選んでください。"),
        (S.ASSESSING, S.SUSPENDED, {}, "中断理由を選んでください。"),
        (
            S.ASSESSING,
            S.REFERRED,
            {"reason": ""},
            "多機関協働へつなぐ理由（複雑化・複合化している点）を入力してください。",
        ),
        (S.SUSPENDED, S.SUPPORTING, {"reason": ""}, "支援を再開する理由を入力してください。"),
    ],
)
def test_preconditions_are_refused_with_their_message(world, start, to, kwargs, message):
    case = bring_to(world, start)
    with pytest.raises(services.CaseError, match=message.replace("（", ".").replace("）", ".")):
        move(case, to, world.assigned, **kwargs)


def test_support_and_referral_need_an_assessment(world):
    case = world.case
    services.case_transition(
        case=case,
        to_status=S.CLOSED,
        acting_user=world.assigned,
        close_reason=code(CodeKind.CLOSE_REASON, "goal_achieved"),
    )
    other = record_case(world.assigned, name="川口 次郎", kana="かわぐち じろう")
    move(other, S.ASSESSING, world.assigned)
    with pytest.raises(services.CaseError, match="支援を開始する前にアセスメントを記録してください"):
        move(other, S.SUPPORTING, world.assigned)
    with pytest.raises(services.CaseError, match="多機関協働へつなぐ前にアセスメントを記録してください"):
        move(other, S.REFERRED, world.assigned, reason="複合課題")


def test_referral_gives_the_coordinator_the_case_and_a_notification_and_return_takes_it_back(
    client, world, django_capture_on_commit_callbacks
):
    case = bring_to(world, S.ASSESSING)
    client.force_login(world.coordinator)
    assert client.get(case.get_absolute_url()).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        move(case, S.REFERRED, world.assigned, reason="8050と障害の複合")
    assert client.get(case.get_absolute_url()).status_code == 200
    note = Notification.objects.get(recipient=world.coordinator, kind="referral")
    assert case.number in note.title and note.delivered_at
    with pytest.raises(services.CaseError, match="相談支援包括化推進員です"):
        move(case, S.SUPPORTING, world.assigned, reason="戻す")
    move(case, S.SUPPORTING, fresh(world.coordinator), reason="地域包括が主担当で対応可能と判断")
    case.refresh_from_db()
    assert case.status == S.SUPPORTING
    assert case.owning_agency == fresh(world.assigned).agencies[0]
    assert client.get(case.get_absolute_url()).status_code == 404
    assert AccessGrant.objects.filter(user=world.coordinator, revoked_at__isnull=False).exists()


def test_only_writers_may_transition(world):
    with pytest.raises(PermissionDenied):
        move(world.case, S.ASSESSING, world.supervisor)
    with pytest.raises(PermissionDenied):
        move(world.case, S.ASSESSING, world.outsider)


def test_a_stale_form_is_refused_not_silently_applied(client, world):
    case = world.case
    client.force_login(world.assigned)
    stale_version = case.version
    move(case, S.ASSESSING, world.colleague)
    response = client.post(
        reverse("cases:case_transition", args=[case.pk]),
        {
            "to_status": S.CLOSED,
            "close_reason": code(CodeKind.CLOSE_REASON, "goal_achieved").pk,
            "version": stale_version,
        },
    )
    # refused with the form kept and what the colleague changed (jusou.versions; tests/test_forms_stale.py)
    assert response.status_code == 409
    assert "ほかの人が先に変更しました" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == S.ASSESSING


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_transitions_exactly_one_wins(world):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; the stale-version test covers SQLite")
    case = bring_to(world, S.SUPPORTING)
    closing = code(CodeKind.CLOSE_REASON, "goal_achieved")
    suspending = code(CodeKind.SUSPEND_REASON, "lost_contact")
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt(to, kwargs):
        from django.db import connections

        try:
            barrier.wait()
            services.case_transition(
                case=case,
                to_status=to,
                acting_user=fresh(world.assigned),
                expected_version=case.version,
                **kwargs,
            )
            outcomes.append("ok")
        except services.CaseError as error:
            outcomes.append(error.messages[0])
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=attempt, args=(S.CLOSED, {"close_reason": closing})),
        threading.Thread(target=attempt, args=(S.SUSPENDED, {"suspend_reason": suspending})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[0] == "ok" and outcomes.count("ok") == 1, outcomes
    assert CaseTransition.objects.filter(case=case, from_status=S.SUPPORTING).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_handover_accepted_and_declined_at_once_is_decided_once(world):
    """主担当機関の移行 (issue 17): two staff of the next agency answer at the same moment; the handover row
    lock lets one through, the other hears it is decided already."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    from cases.models import CaseHandover, HandoverStatus
    from jusou.models import Role
    from jusou.tests.factories import staff_user

    case = bring_to(world, S.SUPPORTING)
    next_agency = fresh(world.other_worker).agencies[0]
    second = staff_user(Role.WORKER, next_agency, username="second_taker")
    handover = services.case_handover_start(
        case=case, acting_user=fresh(world.assigned), to_agency=next_agency
    )
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt(user, decline):
        from django.db import connections

        try:
            barrier.wait()
            if decline:
                services.case_handover_decline(handover=handover, acting_user=fresh(user), reason="対象外")
            else:
                services.case_handover_accept(handover=handover, acting_user=fresh(user))
            outcomes.append("ok")
        except services.CaseError as error:
            outcomes.append(error.messages[0])
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=attempt, args=(world.other_worker, False)),
        threading.Thread(target=attempt, args=(second, True)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 1 and any("すでに" in o for o in outcomes), outcomes
    decided = CaseHandover.objects.get(pk=handover.pk)
    case = Case.objects.get(pk=case.pk)
    if decided.status == HandoverStatus.ACCEPTED:
        assert case.owning_agency == next_agency and case.lead_worker == world.other_worker
    else:
        assert case.owning_agency == fresh(world.assigned).agencies[0] and case.lead_worker == world.assigned
