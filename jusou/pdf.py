"""Printed documents: a template rendered to an A4 PDF on the server (WeasyPrint), logged as 印刷.

A print is a disclosure (DOMAIN.md §8): the record leaves the screen for paper. So every PDF
- is rendered from what the selector returned — the record already projected through the reader's
  access decision (`obj.decision`, jusou.access.decision / jusou.access.fieldpolicy.project), never re-decided here;
- is refused when the record carries no decision (PermissionDenied, 403);
- is logged to the read log as 印刷 with that decision's basis (jusou.audit.readlog.read_log), after it rendered;
- carries on every page, in the page margins (CSS @page margin boxes, so a long record's page 3 has
  them too): the municipality, the form's name, the case number, the print date in 和暦,
  「要配慮個人情報・取扱注意」 and 「n / m」.

Templates extend "pdf/base.html" and fill `{% block body %}`; the form macros (check boxes, ◎, signature
boxes) are in "pdf/_style.css" and the includes beside it.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import content_disposition_header

from jusou.audit.readlog import read_log
from jusou.ja.wareki import to_wareki
from jusou.models import ReadLog

CONFIDENTIAL_NOTICE = "要配慮個人情報・取扱注意"


def _url_fetcher():
    """Nothing outside the document is fetched while rendering (no file://, no http: a value typed
    into a record can never make the server read a file or call a host); data: URIs only."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=["data"])


def render_pdf_bytes(template_name: str, context: dict) -> bytes:
    """The PDF of `template_name` rendered with `context` (no logging: callers go through pdf_response)."""
    from weasyprint import HTML  # imported on use: the library loads Pango, which pages do not need

    html = render_to_string(template_name, context)
    return HTML(string=html, url_fetcher=_url_fetcher(), media_type="print").write_pdf()


def pdf_response(
    request,
    template_name: str,
    context: dict,
    *,
    form_name: str,
    filename: str,
    obj: models.Model | None = None,
    model: type[models.Model] | None = None,
    case_number: str = "",
    detail: str = "",
) -> HttpResponse:
    """Render `template_name` to a PDF answer and log it as 印刷.

    `obj` is the record printed, as the selector returned it (projected, with `obj.decision`); the
    read log takes that decision's basis. A record without a decision is refused: no basis, no print.
    A document that is not one person's record (a register, a list) passes `model=` instead of `obj`
    and is logged without a basis, like a list read.
    `form_name` (相談受付・申込票 …) and `case_number` go in every page's header; `filename` is what
    the browser saves it as (Japanese is fine); `detail` is added to the read-log row."""
    decision = getattr(obj, "decision", None) if obj is not None else None
    if obj is not None and decision is None:
        raise PermissionDenied("印刷する根拠が確認できません。")
    if obj is None and model is None:
        raise ValueError("pdf_response needs the printed record (obj=) or its model (model=)")
    now = timezone.localtime()
    header = {
        "municipality": settings.MUNICIPALITY_NAME,
        "form_name": form_name,
        "case_number": case_number,
        "printed_on": to_wareki(now),
        "printed_at": now.strftime("%H:%M"),
        "printed_by": str(request.user),
        "notice": CONFIDENTIAL_NOTICE,
        "basis": decision.basis_label if decision is not None else "",
    }
    content = render_pdf_bytes(template_name, {**context, "pdf": header, "request": request})
    read_log(
        user=request.user,
        action=ReadLog.Action.PRINT,
        obj=obj,
        model=model,
        decision=decision,
        detail=" ".join(part for part in (f"PDF {form_name}", case_number, detail) if part),
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, filename)
    return response
