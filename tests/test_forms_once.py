"""Forms keep work (issue 17): every POST form carries a one-time token (jusou.once), and a form sent
twice with it does its work once and answers the second time as it did the first."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import Assessment, CodeKind, HouseholdMember, ProgressNote
from cases.tests.conftest import code, world  # noqa: F401
from jusou.models import IdempotencyKey
from jusou.once import FIELD, REPLAYED
from tests import leak_routes as routes
from tests.leak_world import build

POST_FORM = re.compile(r"<form\b[^>]*\bmethod=\"post\"[^>]*>(.*?)</form>", re.S | re.I)
TOKEN_INPUT = re.compile(rf'<input type="hidden" name="{FIELD}" value="[\w-]{{20,}}">')
#: forms that need no token, each with its reason
EXEMPT_TEMPLATES = {
    "templates/base.html": "ログアウト: sending it twice logs out once",
}


def test_every_post_form_in_the_templates_carries_the_token():
    missing = []
    for path in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        name = str(path.relative_to(settings.BASE_DIR))
        if name in EXEMPT_TEMPLATES:
            continue
        for form in POST_FORM.finditer(path.read_text()):
            if "{% submission_token %}" not in form.group(1):
                missing.append(name)
    assert missing == [], "POST forms without {% submission_token %} (jusou.once)"


WALKERS = ("owner", "host", "member_before_pledge", "supervisor")


def test_every_post_form_on_every_page_carries_a_fresh_token(db):
    """Walks the URL conf (tests/leak_routes.py) over the seeded world as the personas who write, and
    reads every POST form of every page: each carries a token, and no two forms share one."""
    seeded = build()
    labels = list(seeded.records)
    seen, missing, forms = set(), [], 0
    for persona in WALKERS:
        client = Client()
        client.force_login(seeded.users[persona])
        for route in routes.page_routes():
            if routes.allow_listed(route) is not None or route.pattern.startswith(("admin/", "accounts/")):
                continue
            for filled in routes.fill(route, seeded.records, labels):
                response = client.get(filled.url)
                if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
                    continue
                for form in POST_FORM.finditer(response.content.decode()):
                    if 'action="/accounts/logout/"' in form.group(0):
                        continue  # base.html's ログアウト (EXEMPT_TEMPLATES)
                    forms += 1
                    tokens = TOKEN_INPUT.findall(form.group(1))
                    if len(tokens) != 1:
                        missing.append(f"{persona} {filled.url}: {form.group(0)[:120]}")
                    elif tokens[0] in seen:
                        missing.append(f"{persona} {filled.url}: a token issued twice")
                    seen.update(tokens)
    assert missing == []
    assert forms > 100  # the walk did reach the pages' forms


# --- sending twice -------------------------------------------------------------------------------


def _page_token(client, url) -> str:
    body = client.get(url).content.decode()
    return re.search(rf'name="{FIELD}" value="([\w-]+)"', body).group(1)


def _twice(client, url, data, token):
    first = client.post(url, {**data, FIELD: token})
    second = client.post(url, {**data, FIELD: token}, follow=True)
    return first, second


def _assert_replayed(first, second):
    assert first.status_code == 302
    assert second.redirect_chain[0][0] == first["Location"]
    assert REPLAYED in [str(m) for m in second.context["messages"]]


@pytest.fixture
def writer(world):  # noqa: F811
    client = Client()
    client.force_login(world.assigned)
    return client


def test_a_progress_note_sent_twice_is_recorded_once(world, writer):  # noqa: F811
    url = reverse("cases:note_add", args=[world.case.pk])
    token = _page_token(writer, world.case.get_absolute_url())
    data = {
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "kind": "phone",
        "content": "電話した",
    }
    first, second = _twice(writer, url, data, token)
    _assert_replayed(first, second)
    assert ProgressNote.objects.filter(case=world.case, content="電話した").count() == 1


def test_another_rendering_of_the_form_is_another_submission(world, writer):  # noqa: F811
    url = reverse("cases:note_add", args=[world.case.pk])
    data = {
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "kind": "phone",
        "content": "電話した",
    }
    for _ in range(2):
        writer.post(url, {**data, FIELD: _page_token(writer, world.case.get_absolute_url())})
    assert ProgressNote.objects.filter(case=world.case, content="電話した").count() == 2


def test_a_refused_form_keeps_no_claim_and_may_be_sent_again_corrected(world, writer):  # noqa: F811
    url = reverse("cases:note_add", args=[world.case.pk])
    token = _page_token(writer, world.case.get_absolute_url())
    writer.post(url, {"kind": "phone", "content": "", FIELD: token})  # 内容 missing: refused
    assert not IdempotencyKey.objects.filter(key=f"form:{token}").exists()
    data = {
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "kind": "phone",
        "content": "訂正後",
    }
    assert writer.post(url, {**data, FIELD: token}).status_code == 302
    assert ProgressNote.objects.filter(case=world.case, content="訂正後").count() == 1


def test_an_assessment_sent_twice_is_one_version(world, writer):  # noqa: F811
    url = reverse("cases:assessment_new", args=[world.case.pk])
    data = {"issues": [code(CodeKind.ISSUE, "care").pk], "issues_detail": "介護負担", "formulation": "見立て"}
    first, second = _twice(writer, url, data, _page_token(writer, url))
    _assert_replayed(first, second)
    assert Assessment.objects.filter(case=world.case).count() == 1


def test_a_household_member_sent_twice_is_added_once(world, writer):  # noqa: F811
    url = reverse("cases:household_detail", args=[world.household.pk])
    data = {
        "name": "山田 次郎",
        "kana": "やまだ じろう",
        "sex": "male",
        "relationship": "次男",
        "lives_together": "on",
    }
    first, second = _twice(writer, url, data, _page_token(writer, url))
    _assert_replayed(first, second)
    assert HouseholdMember.objects.filter(household=world.household, person__name="山田 次郎").count() == 1


def test_the_same_token_from_another_user_is_theirs(world, writer):  # noqa: F811
    """Tokens are claimed per user: someone else's claim neither blocks nor replays."""
    url = reverse("cases:note_add", args=[world.case.pk])
    token = _page_token(writer, world.case.get_absolute_url())
    data = {
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "kind": "phone",
        "content": "二人目",
    }
    writer.post(url, {**data, FIELD: token})
    colleague = Client()
    colleague.force_login(world.colleague)
    colleague.post(url, {**data, FIELD: token})
    assert ProgressNote.objects.filter(case=world.case, content="二人目").count() == 2


def test_an_intake_sent_twice_records_one_consultation_and_one_case(world, writer):  # noqa: F811
    from cases.models import Case, Consultation
    from cases.tests.test_intake import post_data

    url = reverse("cases:intake")
    first, second = _twice(
        writer, url, post_data(name="二重 送信", kana="にじゅう そうしん"), _page_token(writer, url)
    )
    _assert_replayed(first, second)
    assert Consultation.objects.filter(person__name="二重 送信").count() == 1
    assert Case.objects.filter(person__name="二重 送信").count() == 1
