"""Forms keep work (issue 17): a save from a page filled before someone else's change is refused,
with what the user typed kept in the fields and what the other person changed shown in words."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Assessment, CodeKind
from cases.tests.conftest import code, world  # noqa: F401
from jusou.versions import STALE, version_of


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _hidden(body: str, name: str) -> str:
    return re.search(rf'name="{name}" value="(\d+)"', body).group(1)


def _person_form(person, **changes) -> dict:
    data = {
        "name": person.name,
        "kana": person.kana,
        "birth_date": person.birth_date.isoformat(),
        "birth_date_precision": person.birth_date_precision,
        "sex": person.sex,
        "address": person.address,
        "phone": person.phone,
        "email": person.email,
        "atena_number": "",
        "notes": "",
        "reason": "",
    }
    return data | changes


def test_a_stale_person_save_is_refused_with_the_input_kept_and_the_other_change_shown(world):  # noqa: F811
    person = world.person
    url = reverse("cases:person_edit", args=[person.pk])
    mine, theirs = _client(world.assigned), _client(world.colleague)
    version = _hidden(mine.get(url).content.decode(), "version")
    # The colleague saves a new phone number first, from their own page.
    their_version = _hidden(theirs.get(url).content.decode(), "version")
    saved = theirs.post(url, _person_form(person, phone="090-1111-2222", version=their_version))
    assert saved.status_code == 302

    refused = mine.post(url, _person_form(person, address="みどり市中央1-2-3", version=version))

    assert refused.status_code == 409
    body = refused.content.decode()
    assert STALE in body
    assert "みどり市中央1-2-3" in body  # what I typed is still in the field
    notice = body[body.index("ほかの人が先に変更した内容") :]
    assert "電話" in notice and "090-1111-2222" in notice  # their change, in words
    assert world.colleague.get_full_name() or world.colleague.username in notice
    person.refresh_from_db()
    assert person.phone == "090-1111-2222" and person.address != "みどり市中央1-2-3"  # nothing overwritten
    # Saving again from the refused page (its version moved on) applies my input over theirs, knowingly.
    again = mine.post(
        url, _person_form(person, address="みどり市中央1-2-3", version=_hidden(body, "version"))
    )
    assert again.status_code == 302
    person.refresh_from_db()
    assert person.address == "みどり市中央1-2-3" and person.phone == "090-1111-2222"


def test_a_person_save_from_the_current_page_is_not_refused(world):  # noqa: F811
    person = world.person
    url = reverse("cases:person_edit", args=[person.pk])
    mine = _client(world.assigned)
    version = _hidden(mine.get(url).content.decode(), "version")
    assert mine.post(url, _person_form(person, phone="03-0000-0000", version=version)).status_code == 302
    person.refresh_from_db()
    assert person.phone == "03-0000-0000"


def test_the_person_version_is_the_apis_etag(world):  # noqa: F811
    """Pages and the API name one version: the ETag the API sends is the page form's version."""
    from jusou.api.base import etag_of

    assert etag_of(world.person) == f'"h{version_of(world.person)}"'


def _case_form(case, **changes) -> dict:
    return {
        "lead_worker": case.lead_worker_id,
        "next_follow_up_on": "",
        "version": case.version,
        "issues": [i.pk for i in case.issues.all()],
    } | changes


def test_a_stale_case_update_is_refused_with_the_input_kept_and_the_other_change_shown(world):  # noqa: F811
    case = world.case
    url = reverse("cases:case_update", args=[case.pk])
    stale_form = _case_form(case, risk_suicide="on", next_follow_up_on="2030-01-15")
    services.case_update(
        case=case,
        acting_user=world.colleague,
        expected_version=case.version,
        risk_abuse=True,
        risk_suicide=False,
        risk_life=False,
        next_follow_up_on=None,
        issues=list(case.issues.all()),
    )

    refused = _client(world.assigned).post(url, stale_form)

    assert refused.status_code == 409
    body = refused.content.decode()
    assert STALE in body
    assert 'value="2030-01-15"' in body and re.search(r'name="risk_suicide"[^>]*checked', body)
    notice = body[body.index("ほかの人が先に変更した内容") :]
    assert "虐待" in notice and "はい" in notice
    case.refresh_from_db()
    assert case.risk_abuse and not case.risk_suicide


def test_an_assessment_from_a_stale_page_does_not_silently_become_the_next_version(world):  # noqa: F811
    case = world.case
    url = reverse("cases:assessment_new", args=[case.pk])
    mine = _client(world.assigned)
    based_on = _hidden(mine.get(url).content.decode(), "based_on")
    assert based_on == "0"
    services.assessment_record(
        case=case,
        acting_user=world.colleague,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="同僚の整理",
        formulation="同僚の見立て",
    )

    refused = mine.post(
        url,
        {
            "issues": [code(CodeKind.ISSUE, "8050").pk],
            "issues_detail": "私の整理",
            "formulation": "私の見立て",
            "based_on": based_on,
        },
    )

    assert refused.status_code == 409
    body = refused.content.decode()
    assert "ほかの人が先に第1版を記録しました" in body
    assert "私の見立て" in body and "私の整理" in body  # kept
    notice = body[body.index("ほかの人が先に変更した内容") :].split("<form")[0]
    assert "同僚の見立て" in notice and "見立て" in notice
    assert Assessment.objects.filter(case=case).count() == 1
    # Sent again from the refused page it becomes 第2版, knowingly.
    again = mine.post(
        url,
        {
            "issues": [code(CodeKind.ISSUE, "8050").pk],
            "issues_detail": "私の整理",
            "formulation": "私の見立て",
            "based_on": _hidden(body, "based_on"),
        },
    )
    assert again.status_code == 302
    assert Assessment.objects.get(case=case, version=2).formulation == "私の見立て"


@pytest.mark.parametrize("based_on", [None, 0])
def test_an_assessment_service_call_without_a_page_still_writes_the_next_version(world, based_on):  # noqa: F811
    services.assessment_record(
        case=world.case,
        acting_user=world.assigned,
        issues=[code(CodeKind.ISSUE, "care")],
        issues_detail="a",
        formulation="b",
    )
    if based_on is None:
        services.assessment_record(
            case=world.case, acting_user=world.assigned, issues=[], issues_detail="c", formulation="d"
        )
        assert world.case.assessments.count() == 2
    else:
        with pytest.raises(services.versions.StaleEdit):
            services.assessment_record(
                case=world.case,
                acting_user=world.assigned,
                issues=[],
                issues_detail="c",
                formulation="d",
                based_on=based_on,
            )


def test_a_stale_candidate_edit_is_refused_with_the_input_kept(world):  # noqa: F811
    from jusou.tests.factories import AreaFactory
    from participation import services as participation_services
    from participation.models import HostCandidate

    area = AreaFactory(code="chuo")
    candidate = participation_services.candidate_record(
        acting_user=world.assigned,
        approached_on=timezone.localdate(),
        name="八百屋",
        kind="work_experience",
        area=area,
    )
    page = _client(world.assigned).get(reverse("participation:development")).content.decode()
    prefix = f"edit-{candidate.pk}"
    version = _hidden(page, f"{prefix}-version")
    participation_services.candidate_update(
        candidate=candidate, acting_user=world.coordinator, contact="商店街事務所 03-0000-0000"
    )

    refused = _client(world.assigned).post(
        reverse("participation:candidate_edit", args=[candidate.pk]),
        {
            f"{prefix}-name": "八百屋",
            f"{prefix}-kind": "work_experience",
            f"{prefix}-area": area.pk,
            f"{prefix}-acceptance_conditions": "見学してから",
            f"{prefix}-version": version,
            f"{prefix}-approached_on": timezone.localdate().isoformat(),
        },
    )

    assert refused.status_code == 409
    body = refused.content.decode()
    assert STALE in body and "見学してから" in body
    assert "商店街事務所 03-0000-0000" in body.split("ほかの人が先に変更した内容")[1].split("<form")[0]
    assert HostCandidate.objects.get().acceptance_conditions == ""


def test_a_version_sent_by_hand_does_not_read_the_history(world):  # noqa: F811
    """The version comes from the page: one typed by hand (0, before the record existed) is refused as
    stale, but the notice names only each field's latest change — values since overwritten (the
    history, which is for the 管理者) are not shown."""
    person = world.person
    url = reverse("cases:person_edit", args=[person.pk])
    theirs = _client(world.colleague)
    for phone in ("03-1111-0001", "03-1111-0002"):
        version = _hidden(theirs.get(url).content.decode(), "version")
        assert theirs.post(url, _person_form(person, phone=phone, version=version)).status_code == 302

    refused = _client(world.assigned).post(url, _person_form(person, address="みどり市中央9-9", version="0"))

    assert refused.status_code == 409
    body = refused.content.decode()
    start = body.index("ほかの人が先に変更した内容")
    notice = body[start : body.index("<form", start)]
    assert "03-1111-0002" in notice
    assert "03-1111-0001" not in notice
    assert notice.count("電話") == 1


def test_the_person_form_carries_its_version_once_and_hidden(world):  # noqa: F811
    body = _client(world.assigned).get(reverse("cases:person_edit", args=[world.person.pk])).content.decode()
    assert body.count('id="id_version"') == 1
    assert ">Version<" not in body
