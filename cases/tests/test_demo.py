from cases.models import CaseStatus, Consultation
from cases.selectors import cases_visible_to, person_search, persons_visible_to
from devdata.demo.world import load_demo


def test_demo_households_belong_to_the_right_agencies_and_none_to_the_outsider(personas):
    load_demo()  # idempotent: a second run adds nothing
    visible = {
        name: set(cases_visible_to(personas[name]).values_list("person__name", flat=True))
        for name in personas
        if name != "admin"
    }
    assert visible["intake_a"] == {"山本 トシ子", "木村 勇", "佐藤 美咲"}
    # 8050: consent and the approved plan give 障害者相談支援センター the case; ヤングケアラー waits in the inbox.
    assert visible["intake_b"] == {"中村 由紀", "山本 トシ子"}
    assert visible["coord"] == {"中村 由紀", "山本 トシ子"}
    assert visible["member_c"] == set()
    assert visible["outsider"] == set()
    assert len(visible["supervisor"]) == 4
    assert not persons_visible_to(personas["outsider"]).exists()
    # member_c's agency knows the DV victim's child, not the mother nor her case.
    assert [p.name for p in person_search(personas["member_c"], "さとう")] == ["佐藤 蓮"]
    assert Consultation.objects.filter(person__isnull=True, outcome="advice").count() == 1
    assert {c.status for c in cases_visible_to(personas["coord"])} == {
        CaseStatus.REFERRED,
        CaseStatus.COORDINATING,
    }


def test_demo_case_histories_only_move_forward(personas):
    """loaddemo changes cases through the services: no history row records a stale copy of the case
    (the 8050 case once read 支援中 → 受付, 更新番号 3 → 1, 理由「ケース開始」 on its audit page)."""
    from cases.models import Case

    load_demo()
    for case in Case.objects.all():
        rows = list(case.history.order_by("history_date", "history_id"))
        versions = [row.version for row in rows]
        assert versions == sorted(versions), (case.number, versions)
        assert [row.history_change_reason for row in rows].count("ケース開始") <= 2, (
            case.number
        )  # save + issues
    kimura = Case.objects.get(person__name="木村 勇")
    assert kimura.risk_life and kimura.history.latest().history_change_reason == "ケース情報の更新"
    assert Case.objects.get(person__name="山本 トシ子").next_follow_up_on is not None
