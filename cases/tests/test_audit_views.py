"""The supervisors' history browser and access log (jusou.audit.views) over case records."""

import pytest
from django.urls import reverse

from cases import services
from cases.models import CaseStatus, CodeKind
from cases.tests.conftest import code
from jusou.models import AccessBasis, ReadLog


def test_history_shows_the_change_the_user_and_the_reason(client, world):
    services.assessment_record(
        case=world.case,
        acting_user=world.assigned,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="介護",
        formulation="見立て",
    )
    services.case_transition(
        case=world.case, to_status=CaseStatus.REFERRED, acting_user=world.colleague, reason="複合課題のため"
    )
    client.force_login(world.supervisor)
    html = client.get(reverse("audit_record_history", args=["cases.case", world.case.pk])).content.decode()
    assert "アセスメント中→多機関協働へつなぎ依頼: 複合課題のため" in html
    assert "多機関協働へつなぎ依頼" in html and "アセスメント中" in html  # before → after of 状態
    assert world.colleague.get_full_name() in html


def test_history_of_a_jushohitoku_person_masks_the_address_even_for_supervisors(client, world):
    services.person_update(
        person=world.person, acting_user=world.assigned, address="みどり市秘密町9-9", reason="転居"
    )
    services.address_confidentiality_set(person=world.person, acting_user=world.assigned, reason="DV")
    client.force_login(world.supervisor)
    html = client.get(
        reverse("audit_record_history", args=["cases.person", world.person.pk])
    ).content.decode()
    assert "秘密町" not in html and "秘匿" in html and "転居" in html


@pytest.mark.parametrize("persona", ["assigned", "coordinator", "outsider"])
def test_only_supervisors_open_the_audit(client, world, persona):
    client.force_login(world.persona(persona))
    assert client.get(reverse("audit_history")).status_code == 403
    assert client.get(reverse("audit_access_log")).status_code == 403


def test_access_log_filters_by_user_and_action(client, world):
    client.force_login(world.colleague)
    client.get(world.case.get_absolute_url())
    client.get(reverse("cases:person_search"), {"q": "やまだ"})
    client.force_login(world.supervisor)
    html = client.get(
        reverse("audit_access_log"), {"user": world.colleague.username, "action": "search"}
    ).content.decode()
    assert "本人検索: やまだ" in html and "1 件" in html


def test_the_staff_filter_names_people_not_only_their_user_names(client, world):
    """The 職員 filter's options read 「氏名（ユーザー名）」 and still filter by the user name (issue 18 walk)."""
    client.force_login(world.supervisor)
    colleague = world.colleague
    option = f'<option value="{colleague.username}" selected>{colleague.get_full_name()}（{colleague.username}）</option>'
    for name in ("audit_access_log", "audit_history"):
        assert option in client.get(reverse(name), {"user": colleague.username}).content.decode(), name


def test_audit_pages_use_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    for i in range(20):
        services.progress_note_add(
            case=world.case, acting_user=world.assigned, kind="phone", content=f"記録{i}"
        )
        client.force_login(world.assigned)
        client.get(world.case.get_absolute_url())
    client.force_login(world.supervisor)
    # 15 for the page, and the 管理者's own read of it logged (advisory lock on PostgreSQL, previous hash, insert);
    # the history in words: one query per related model named (支援ケース, 職員) and one for the notes' own names.
    with django_assert_max_num_queries(21):
        assert client.get(reverse("audit_history"), {"type": "cases.progressnote"}).status_code == 200
    with django_assert_max_num_queries(18):
        assert client.get(reverse("audit_access_log")).status_code == 200


def test_supervisors_reads_of_the_audit_pages_are_logged_as_supervisor(client, world):
    """DOMAIN.md §4: supervisors read with every read logged — the history pages show note text."""
    services.progress_note_add(case=world.case, acting_user=world.assigned, kind="phone", content="記録")
    client.force_login(world.supervisor)
    client.get(reverse("audit_history"), {"type": "cases.progressnote"})
    client.get(reverse("audit_access_log"), {"basis": "consent"})
    rows = list(ReadLog.objects.filter(user=world.supervisor).order_by("pk"))
    assert [r.basis for r in rows] == [AccessBasis.SUPERVISOR, AccessBasis.SUPERVISOR]
    assert rows[0].content_type.model == "progressnote" and "変更履歴の確認" in rows[0].detail
    assert rows[1].content_type.model == "readlog" and "本人同意" in rows[1].detail
