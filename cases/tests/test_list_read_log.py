"""The lists that show names are reads too: each page view writes one read-log row naming the listed
model, how many rows it showed and their ids (as the API's lists do); a search stays a search."""

from types import SimpleNamespace

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Consultation
from cases.tests.conftest import record_case
from jusou.models import ReadLog
from jusou.views import log_list

pytestmark = pytest.mark.django_db


def rows_about(user, model):
    return ReadLog.objects.filter(user=user, content_type=ContentType.objects.get_for_model(model))


def test_the_case_list_logs_the_ids_on_the_page(client, world):
    other = record_case(world.assigned, name="川口 次郎", kana="かわぐち じろう")
    client.force_login(world.assigned)
    assert client.get(reverse("cases:case_list"), {"scope": "all"}).status_code == 200
    row = rows_about(world.assigned, Case).get()
    assert (row.action, row.object_id, row.basis) == (ReadLog.Action.VIEW, None, "")
    assert row.detail == f"ケース一覧（すべて） 2件 [{other.pk},{world.case.pk}]"


def test_a_case_search_logs_as_a_search_with_the_ids_found(client, world):
    record_case(world.assigned, name="川口 次郎", kana="かわぐち じろう")
    client.force_login(world.assigned)
    client.get(reverse("cases:case_list"), {"scope": "all", "q": "やまだ"})
    row = rows_about(world.assigned, Case).get()
    assert row.action == ReadLog.Action.SEARCH
    assert row.detail == f"ケース検索（すべて）: やまだ 1件 [{world.case.pk}]"


def test_an_outsider_list_logs_that_it_showed_nothing(client, world):
    client.force_login(world.outsider)
    client.get(reverse("cases:case_list"), {"scope": "all"})
    assert rows_about(world.outsider, Case).get().detail == "ケース一覧（すべて） 0件 []"


def test_the_consultation_list_logs_the_ids_on_the_page(client, world):
    client.force_login(world.colleague)
    assert client.get(reverse("cases:consultation_list")).status_code == 200
    shown = list(Consultation.objects.order_by("-received_at", "-pk").values_list("pk", flat=True))
    assert shown
    row = rows_about(world.colleague, Consultation).get()
    assert row.action == ReadLog.Action.VIEW
    assert row.detail == f"相談受付一覧 {len(shown)}件 [{','.join(map(str, shown))}]"


def test_the_dashboard_logs_the_cases_its_panels_list(client, world):
    Case.objects.filter(pk=world.case.pk).update(next_follow_up_on=timezone.localdate(), risk_abuse=True)
    client.force_login(world.assigned)
    html = client.get("/").content.decode()
    assert world.case.number in html
    row = rows_about(world.assigned, Case).get()  # one row, though the case is in two panels' lists
    assert (row.action, row.detail) == (ReadLog.Action.VIEW, f"ダッシュボード 1件 [{world.case.pk}]")


def test_a_dashboard_that_lists_no_case_logs_nothing(client, world):
    client.force_login(world.supervisor)
    assert client.get("/").status_code == 200
    assert not ReadLog.objects.filter(user=world.supervisor).exists()


def test_ids_that_do_not_fit_one_row_go_on_to_the_next(world):
    rows = [SimpleNamespace(pk=1_000_000 + i) for i in range(120)]
    log_list(SimpleNamespace(user=world.assigned), model=Case, rows=rows, what="ケース一覧")
    logged = list(rows_about(world.assigned, Case).order_by("pk"))
    assert len(logged) == 2
    assert all(len(row.detail) <= 500 and row.detail.startswith("ケース一覧 120件 [") for row in logged)
    found = [int(pk) for row in logged for pk in row.detail.split("[")[1].split("]")[0].split(",")]
    assert found == [row.pk for row in rows]


def test_the_case_list_names_its_filters_in_the_read_log_and_the_access_log_shows_them(client, world):
    client.force_login(world.assigned)
    client.get(reverse("cases:case_list"), {"scope": "mine", "status": world.case.status, "risk": "1"})
    row = rows_about(world.assigned, Case).get()
    assert row.detail.startswith(f"ケース一覧（担当・{world.case.get_status_display()}・リスクあり） ")
    client.force_login(world.supervisor)
    html = client.get(reverse("audit_access_log"), {"user": world.assigned.username}).content.decode()
    assert (
        f"ケース一覧（担当・{world.case.get_status_display()}・リスクあり）" in html and "#None" not in html
    )
