"""jusou.pdf: every PDF carries the header, the notice and n / m on each page, and is logged as 印刷
with the basis of the decision the selector attached; without a decision there is no print."""

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from pypdf import PdfReader

from jusou.access.decision import AccessDecision
from jusou.models import AccessBasis, ReadLog
from jusou.pdf import pdf_response
from jusou.tests.factories import AgencyFactory, staff_user


def pages_text(response) -> list[str]:
    return ["".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.content)).pages]


@pytest.fixture
def request_for(db):
    def make(user):
        request = RequestFactory().get("/print/")
        request.user = user
        return request

    return make


def test_pdf_has_header_notice_and_page_numbers_on_every_page_and_is_logged_with_basis(request_for, settings):
    settings.MUNICIPALITY_NAME = "みどり市"
    agency = AgencyFactory(name="みどり中央地域包括支援センター")
    user = staff_user(agency=agency, username="printer")
    agency.decision = AccessDecision.own_agency()
    response = pdf_response(
        request_for(user),
        "pdf/base.html",
        {},
        obj=agency,
        form_name="試験票",
        case_number="R7-0001",
        filename="試験票.pdf",
    )
    assert response["Content-Type"] == "application/pdf"
    assert "filename*=utf-8''" in response["Content-Disposition"]
    texts = pages_text(response)
    for number, text in enumerate(texts, start=1):
        for expected in (
            "みどり市",
            "試験票",
            "R7-0001",
            "令和",
            "要配慮個人情報・取扱注意",
            f"{number}/{len(texts)}",
        ):
            assert expected in text
    row = ReadLog.objects.get()
    assert (row.action, row.basis, row.object_id) == (ReadLog.Action.PRINT, AccessBasis.ASSIGNMENT, agency.pk)
    assert "試験票" in row.detail


def test_pdf_of_a_record_without_a_decision_is_refused_and_not_logged(request_for):
    agency = AgencyFactory()
    user = staff_user(agency=agency, username="printer")
    with pytest.raises(PermissionDenied):
        pdf_response(request_for(user), "pdf/base.html", {}, obj=agency, form_name="試験票", filename="x.pdf")
    assert not ReadLog.objects.exists()
