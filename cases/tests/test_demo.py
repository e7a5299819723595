from cases.models import CaseStatus, Consultation
from cases.selectors import cases_visible_to, person_search, persons_visible_to
from jusou.demo import load_demo


def test_demo_households_belong_to_the_right_agencies_and_none_to_the_outsider(personas):
    load_demo()  # idempotent: a second run adds nothing
    visible = {name: set(cases_visible_to(personas[name]).values_list("person__name", flat=True)) for name in personas
               if name != "admin"}  # fmt: skip
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
