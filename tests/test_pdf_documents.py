"""The paper forms as PDFs (jusou.pdf, FORMS.md) for the demo world: each one's sections, the header on
every page, n / m, 和暦 dates, nothing outside the reader's scope, one 印刷 row with its basis — and the
refused side. A PNG of each first page is kept under $JUSOU_TEST_ARTIFACTS/pdf for CI."""

import io
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from cases.models import Case, Person
from cases.selectors import case_get_for_user
from jusou.ja.wareki import to_wareki
from jusou.models import AccessBasis, ReadLog

ARTIFACTS = Path(os.environ.get("JUSOU_TEST_ARTIFACTS", "test-artifacts")) / "pdf"


def pdf_pages(response) -> list[str]:
    """Each page's text with the white space removed (pdftotext and pypdf space CJK differently)."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    return ["".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.content)).pages]


def keep_first_page(response, name: str) -> None:
    """page 1 as PNG, a CI artifact (poppler's pdftoppm; skipped where it is not installed)."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = ARTIFACTS / f"{name}.pdf"
    source.write_bytes(response.content)
    arguments = ["-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(source), str(ARTIFACTS / name)]
    subprocess.run([pdftoppm, *arguments], check=True)  # noqa: S603 — our own file names, no shell
    source.unlink()


def assert_every_page_has_header(pages, *, form_name, case_number=""):
    for number, text in enumerate(pages, start=1):
        for expected in ("みどり市", form_name, "要配慮個人情報・取扱注意", f"{number}/{len(pages)}", "令和"):
            assert expected in text, (number, expected)
        if case_number:
            assert case_number in text


def print_rows(obj=None):
    rows = ReadLog.objects.filter(action=ReadLog.Action.PRINT)
    if obj is not None:
        rows = rows.filter(object_id=obj.pk)
    return list(rows)


@pytest.fixture
def yamamoto(personas):
    return Case.objects.get(person__name="山本 トシ子")


@pytest.mark.parametrize(
    ("form", "form_name", "sections"),
    [
        (
            "intake",
            "相談受付・申込票",
            ["A票受付", "本人", "来談者", "相談内容", "主訴", "B票生活の状況", "署名欄", "本人署名"],
        ),
        (
            "assessment",
            "インテーク・アセスメントシート",
            [
                "基本情報",
                "相談に至った経緯",
                "生活歴",
                "家族状況",
                "領域ごとの状況と課題",
                "本人の強み",
                "見立て",
                "作成者",
                "承認者",
            ],
        ),
        (
            "progress",
            "支援経過記録シート",
            ["経過一覧", "日時", "手段", "対応者", "内容", "次回予定", "記録者", "確認者"],
        ),
    ],
)
def test_case_forms_for_the_assigned_worker(client, personas, yamamoto, form, form_name, sections):
    client.force_login(personas["intake_a"])
    response = client.get(reverse("cases:case_document", args=[yamamoto.pk, form]))
    pages = pdf_pages(response)
    keep_first_page(response, form)
    assert_every_page_has_header(pages, form_name=form_name, case_number=yamamoto.number)
    whole = "".join(pages)
    for section in sections:
        assert section in whole, section
    assert "山本トシ子" in whole
    [row] = print_rows(yamamoto)
    assert row.basis == AccessBasis.ASSIGNMENT and form_name in row.detail


@pytest.fixture
def plan(yamamoto):
    from meetings.models import SupportPlan

    return SupportPlan.objects.get(case=yamamoto)


def evaluate(plan, coord):
    from meetings import services
    from meetings.models import GoalResult, NextStep

    conference = services.conference_create(
        acting_user=coord,
        held_at=timezone.now() - timedelta(hours=1),
        title="第2回 重層的支援会議",
        agencies=[],
    )
    results = {goal.pk: (GoalResult.PARTLY, "週1回は利用できた") for goal in plan.goals.all()}
    services.plan_evaluate(
        conference=conference,
        plan=plan,
        acting_user=coord,
        goal_results=results,
        person_change="母の表情が明るくなった",
        next_step=NextStep.CONTINUE,
        notes="目標は継続",
    )
    return conference


@pytest.mark.parametrize(
    ("form", "form_name", "sections"),
    [
        (
            "plan",
            "プラン兼事業等利用申込書",
            [
                "本人の意向・課題",
                "本人の目標",
                "長期目標",
                "短期目標1",
                "支援内容・役割分担",
                "利用する事業",
                "■多機関協働",
                "■参加支援",
                "□アウトリーチ",
                "プラン期間・評価予定日",
                "承認日",
                "本人署名",
                "作成者",
                "承認者",
            ],
        ),
        (
            "evaluation",
            "評価シート",
            [
                "目標ごとの評価",
                "達成度",
                "■一部達成",
                "状況の変化",
                "週1回は利用できた",
                "今後の方針",
                "■継続",
                "評価日",
                "第2回重層的支援会議",
                "承認者",
            ],
        ),
    ],
)
def test_plan_forms_for_the_coordinator(client, personas, plan, form, form_name, sections):
    evaluate(plan, personas["coord"])
    client.force_login(personas["coord"])
    response = client.get(reverse("meetings:plan_document", args=[plan.pk, form]))
    pages = pdf_pages(response)
    keep_first_page(response, form)
    assert_every_page_has_header(pages, form_name=form_name, case_number=plan.case.number)
    whole = "".join(pages)
    for section in sections:
        assert section in whole, section
    [row] = print_rows(plan)
    assert row.basis and form_name in row.detail


def test_blank_evaluation_sheet_before_any_evaluation(client, personas, plan):
    client.force_login(personas["coord"])
    whole = "".join(pdf_pages(client.get(reverse("meetings:plan_document", args=[plan.pk, "evaluation"]))))
    assert "母がデイサービスを週2回利用する" in whole and "□達成" in whole and "■" not in whole


def test_support_meeting_minutes_with_attendance_pledge_times_and_minutes_text(client, personas):
    from meetings import services
    from meetings.models import ConfidentialityPledge, SupportMeeting

    coord, intake_a = personas["coord"], personas["intake_a"]
    meeting = SupportMeeting.objects.get(title="第1回 みどり市支援会議")
    services.pledge_acknowledge(meeting=meeting, acting_user=intake_a)
    services.meeting_minutes_update(
        meeting=meeting, acting_user=coord, minutes="ヤングケアラーの負担軽減を検討した"
    )
    client.force_login(coord)
    response = client.get(reverse("meetings:meeting_document", args=[meeting.pk]))
    pages = pdf_pages(response)
    keep_first_page(response, "meeting-minutes")
    assert_every_page_has_header(pages, form_name="会議録（支援会議）")
    whole = "".join(pages)
    pledged = ConfidentialityPledge.objects.get(meeting=meeting, user=intake_a)
    local = timezone.localtime(pledged.acknowledged_at)
    for expected in (
        "非公開",
        "第106条の6",
        "出席者（構成員）と守秘義務の確認",
        "青木春香",
        "上田真理",
        "未確認",
        f"{to_wareki(local)}{local:%H:%M}",
        "検討ケース",
        "中村",
        "議事録",
        "ヤングケアラーの負担軽減を検討した",
        "記録者",
        "確認者",
    ):
        assert expected in whole, expected
    [row] = print_rows(meeting)
    assert row.basis == AccessBasis.ASSIGNMENT
    # the host's print view prints the 議事録 text too (the edit form itself is not printed)
    print_view = client.get(
        reverse("meetings:meeting_detail", args=[meeting.pk]) + "?print=1"
    ).content.decode()
    assert "ヤングケアラーの負担軽減を検討した" in printed_text(print_view)


def test_a_member_prints_the_minutes_on_the_support_meeting_basis_only_after_the_pledge(client, personas):
    from meetings import services
    from meetings.models import SupportMeeting

    meeting = SupportMeeting.objects.get(title="第1回 みどり市支援会議")
    client.force_login(personas["member_c"])
    url = reverse("meetings:meeting_document", args=[meeting.pk])
    assert client.get(url).status_code == 404
    assert not print_rows()
    services.pledge_acknowledge(meeting=meeting, acting_user=personas["member_c"])
    pdf_pages(client.get(url))
    [row] = print_rows(meeting)
    assert row.basis == AccessBasis.SUPPORT_MEETING


def test_conference_minutes_in_words(client, personas, yamamoto):
    from meetings.models import PlanConference

    conference = PlanConference.objects.get(title="第1回 重層的支援会議")
    client.force_login(personas["coord"])
    response = client.get(reverse("meetings:conference_document", args=[conference.pk]))
    pages = pdf_pages(response)
    keep_first_page(response, "conference-minutes")
    assert_every_page_has_header(pages, form_name="会議録（重層的支援会議）")
    whole = "".join(pages)
    for expected in (
        "出席機関",
        "みどり障害者相談支援センター",
        "議題と結果",
        yamamoto.number,
        "プランの適切性の協議",
        "承認",
        "役割分担と目標は適切",
        "不足する社会資源",
        "議事録",
        "記録者",
    ):
        assert expected in whole, expected
    assert "approved" not in whole
    assert len(print_rows(conference)) == 1
    client.force_login(personas["intake_a"])
    assert client.get(reverse("meetings:conference_document", args=[conference.pk])).status_code == 403


def test_consent_form_prefilled_for_signature_before_the_consent_is_recorded(client, personas, yamamoto):
    from jusou.models import Agency

    npo = Agency.objects.get(code="npo-midori-no-ie")
    client.force_login(personas["coord"])
    url = reverse("meetings:consent_print", args=[yamamoto.pk])
    response = client.post(
        url,
        {
            "person": yamamoto.person_id,
            "recipients": [npo.pk],
            "categories": ["basic", "plan"],
            "purpose": "参加支援先との調整のため",
            "expires_on": "2027-03-31",
        },
    )
    pages = pdf_pages(response)
    keep_first_page(response, "consent")
    assert_every_page_has_header(pages, form_name="同意書", case_number=yamamoto.number)
    whole = "".join(pages)
    for expected in (
        "個人情報の共有に関する同意書",
        "山本トシ子",
        npo.name.replace(" ", ""),
        "■基本情報",
        "□世帯の状況",
        "■支援プラン",
        "参加支援先との調整のため",
        "令和9年3月31日まで",
        "本人署名",
        "代理人署名",
        "スキャン",
    ):
        assert expected in whole, expected
    [row] = print_rows(yamamoto)
    assert row.basis == AccessBasis.ASSIGNMENT
    # blank but for the case: every line left to fill in by hand
    whole = "".join(pdf_pages(client.get(url)))
    assert "令和年月日まで" in whole and "■" not in whole
    # what was typed never travels in a URL (logs, browser history): a query string is not read
    whole = "".join(
        pdf_pages(client.get(url, {"purpose": "参加支援先との調整のため", "categories": ["basic"]}))
    )
    assert "参加支援先との調整のため" not in whole and "■" not in whole
    client.force_login(personas["outsider"])
    assert client.get(url).status_code == 404


def test_recorded_consent_prints_as_the_form_to_sign(client, personas, yamamoto):
    from meetings.models import Consent

    consent = Consent.objects.valid().get(case=yamamoto)
    client.force_login(personas["coord"])
    whole = "".join(pdf_pages(client.get(reverse("meetings:consent_record_print", args=[consent.pk]))))
    assert "みどり障害者相談支援センター" in whole and "■支援経過" in whole and "□病歴・障害の状況" in whole
    assert len(print_rows(consent)) == 1


# --- the reader's scope ----------------------------------------------------------------------------


@pytest.fixture
def plan_only_reader(personas, yamamoto):
    """intake_b (みどり障害者相談支援センター, in the plan's 役割分担), to whose agency the 本人 now consents
    to share 支援プラン only: the demo's broader consent withdrawn, a narrower one recorded."""
    from jusou.models import Agency
    from meetings import services
    from meetings.models import Consent

    coord = personas["coord"]
    services.consent_withdraw(
        consent=Consent.objects.valid().get(case=yamamoto),
        acting_user=coord,
        method="written",
        note="範囲を見直すため",
    )
    case = case_get_for_user(coord, yamamoto.pk)
    services.consent_record(
        case=case,
        person=case.person,
        acting_user=coord,
        consenting_party="self",
        consented_on=timezone.localdate(),
        method="written",
        recipients=[Agency.objects.get(code="shogai-soudan")],
        categories=["plan"],
        purpose="支援プランの実施のため",
        expires_on=timezone.localdate() + timedelta(days=90),
    )
    return personas["intake_b"]


def test_consent_scoped_reader_prints_only_what_the_consent_covers(client, plan_only_reader, yamamoto, plan):
    client.force_login(plan_only_reader)
    person = yamamoto.person
    intake = "".join(pdf_pages(client.get(reverse("cases:case_document", args=[yamamoto.pk, "intake"]))))
    assert "山本トシ子" in intake and "（共有範囲外）" in intake and "共有範囲" in intake
    for outside in (
        person.address.replace(" ", ""),
        person.phone,
        to_wareki(person.birth_date),
        "民生委員より",
    ):
        assert outside not in intake, outside
    whole = "".join(pdf_pages(client.get(reverse("meetings:plan_document", args=[plan.pk, "plan"]))))
    assert "母がデイサービスを週2回利用する" in whole
    assert person.address.replace(" ", "") not in whole
    rows = print_rows()
    assert [row.basis for row in rows] == [AccessBasis.CONSENT, AccessBasis.CONSENT]
    assert all("範囲: plan" in row.detail for row in rows)
    # 課題・アセスメント and 支援経過 are outside the consent: refused like their sections, nothing printed
    for form in ("assessment", "progress"):
        assert client.get(reverse("cases:case_document", args=[yamamoto.pk, form])).status_code == 403
    assert len(print_rows()) == 2


def test_the_intake_forms_b_sheet_ticks_what_is_recorded_within_the_readers_scope(client, personas, yamamoto):
    """B票 (生活の状況) prints the person's recorded answers (■ 持家, ■ 要介護2), not blank boxes; a reader
    whose consent leaves out 病歴・障害の状況 gets （共有範囲外） for 要介護度・障害支援区分・手帳 (issue 18 walk)."""
    Person.objects.filter(pk=yamamoto.person_id).update(
        care_level="care2", housing="owned", pension="old_age", handbook_physical=True
    )
    url = reverse("cases:case_document", args=[yamamoto.pk, "intake"])
    client.force_login(personas["intake_a"])
    owner = "".join(pdf_pages(client.get(url)))
    for ticked in ("■持家", "■老齢年金", "■要介護2", "■身体", "□療育"):
        assert ticked in owner, ticked
    client.force_login(personas["intake_b"])  # the demo's consent: everything but 病歴・障害の状況
    reader = "".join(pdf_pages(client.get(url)))
    assert "■持家" in reader and "■老齢年金" in reader
    assert "要介護度（共有範囲外）" in reader and "手帳（共有範囲外）" in reader
    assert "要介護2" not in reader and "■身体" not in reader


def test_outsider_without_a_basis_gets_404_and_nothing_is_printed(client, personas, yamamoto, plan):
    client.force_login(personas["outsider"])
    for url in (
        reverse("cases:case_document", args=[yamamoto.pk, "intake"]),
        reverse("cases:case_document", args=[yamamoto.pk, "progress"]),
        reverse("meetings:plan_document", args=[plan.pk, "plan"]),
    ):
        assert client.get(url).status_code == 404
    assert client.get(reverse("cases:case_document", args=[yamamoto.pk, "nothing"])).status_code == 404
    assert not print_rows()


def test_address_confidentiality_stays_masked_in_print(client, personas):
    from cases.models import Person

    misaki = Person.objects.get(name="佐藤 美咲")
    case = misaki.cases.first()
    client.force_login(personas["supervisor"])
    whole = "".join(pdf_pages(client.get(reverse("cases:case_document", args=[case.pk, "intake"]))))
    assert "秘匿" in whole
    for where in (misaki.address, misaki.phone):
        assert where and where.replace(" ", "") not in whole
    [row] = print_rows(case)
    assert row.basis == AccessBasis.SUPERVISOR
    client.force_login(personas["intake_a"])  # personally assigned: sees it, and the print says so
    whole = "".join(pdf_pages(client.get(reverse("cases:case_document", args=[case.pk, "intake"]))))
    assert misaki.address.replace(" ", "") in whole
    assert (
        "住所秘匿: 所在情報を表示" in ReadLog.objects.filter(action=ReadLog.Action.PRINT).latest("pk").detail
    )


# --- printing a page with the browser's own print ---------------------------------------------------


def printed_text(html: str) -> str:
    """What a browser prints of a page: rendered for print media with the page's own stylesheets
    (WeasyPrint fetches /static/ from the finders, nothing else)."""
    from django.contrib.staticfiles import finders
    from weasyprint import HTML
    from weasyprint.urls import URLFetcherResponse

    def fetch(url, *args, **kwargs):
        path = finders.find(url.split("/static/", 1)[1])
        return URLFetcherResponse(url, body=Path(path).read_bytes(), headers={"Content-Type": "text/css"})

    pdf = HTML(string=html, base_url="http://testserver/", url_fetcher=fetch, media_type="print").write_pdf()
    return "".join("".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_page_printed_from_the_browser_prints_only_where_to_print_from(client, personas, yamamoto, plan):
    client.force_login(personas["intake_a"])
    case_page = client.get(reverse("cases:case_detail", args=[yamamoto.pk])).content.decode()
    assert reverse("cases:case_document", args=[yamamoto.pk, "intake"]) in case_page
    assert printed_text(case_page) == "印刷は各画面の「印刷」から行ってください（記録されます）"
    # a print view (logged as 印刷) prints its content
    client.force_login(personas["coord"])
    print_view = printed_text(
        client.get(reverse("meetings:plan_detail", args=[plan.pk]) + "?print=1").content.decode()
    )
    assert "母がデイサービスを週2回利用する" in print_view and "印刷は各画面" not in print_view
    plan_page = client.get(reverse("meetings:plan_detail", args=[plan.pk])).content.decode()
    assert reverse("meetings:plan_document", args=[plan.pk, "plan"]) in plan_page
    assert printed_text(plan_page) == "印刷は各画面の「印刷」から行ってください（記録されます）"


@pytest.mark.parametrize("form", ["progress", "intake", "assessment"])
def test_a_case_form_reads_the_case_in_a_bounded_number_of_queries(client, personas, yamamoto, form):
    """More notes, more household members' rows: the same number of queries (no N+1 in a long record)."""
    from cases import services
    from cases.models import NoteKind

    client.force_login(personas["intake_a"])
    url = reverse("cases:case_document", args=[yamamoto.pk, form])
    with CaptureQueriesContext(connection) as before:
        pdf_pages(client.get(url))
    case = case_get_for_user(personas["intake_a"], yamamoto.pk)
    for day in range(1, 9):
        services.progress_note_add(
            case=case,
            acting_user=personas["intake_a"],
            kind=NoteKind.PHONE,
            content=f"電話で様子を確認（{day}回目）",
            occurred_at=timezone.now() - timedelta(days=day),
        )
    with CaptureQueriesContext(connection) as after:
        pdf_pages(client.get(url))
    assert len(after) == len(before)
