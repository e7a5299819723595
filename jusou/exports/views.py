"""出力: ask for an export from the statistics page, watch its progress, download the file.

Thin views over jusou.exports.jobs. Only the job's owner sees it; anyone else gets 404, as for a job
that does not exist."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from jusou.exports.files import CONTENT_TYPES, attachment_header
from jusou.exports.jobs import (
    export_file,
    export_get_for_user,
    export_mark_downloaded,
    export_request,
    exports_for_user,
)
from jusou.models import ExportJob, ExportStatus

RECENT = 50


@require_POST
def export_statistics(request):
    """The statistics page's 出力 buttons: its current parameters and the format (fmt)."""
    params = {key: value for key, value in request.POST.items() if key not in ("csrfmiddlewaretoken", "fmt")}
    try:
        job = export_request(
            acting_user=request.user,
            kind=ExportJob.Kind.STATISTICS,
            params=params,
            fmt=request.POST.get("fmt", ""),
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect(f"{reverse('statistics')}?{urlencode(params)}")
    return redirect(job)


@require_GET
def export_list(request):
    jobs = list(exports_for_user(request.user)[:RECENT])
    return render(request, "jusou/export_list.html", {"jobs": jobs})


@never_cache
@require_GET
def export_detail(request, pk):
    """The progress page: a <progress> bar kept current by static/js/export_progress.js, or without
    JavaScript by a refresh every two seconds until the job has finished."""
    job = export_get_for_user(request.user, pk)
    return render(request, "jusou/export_detail.html", {"job": job, "download_url": _download_url(job)})


@never_cache
@require_GET
def export_status(request, pk):
    job = export_get_for_user(request.user, pk)
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "progress": job.progress,
            "message": job.message,
            "download_url": _download_url(job),
            "filename": job.filename,
        }
    )


@require_GET
def export_download(request, pk):
    job = export_get_for_user(request.user, pk)
    path = export_file(job)
    if path is None:
        raise Http404("出力ファイルがありません。")
    export_mark_downloaded(job=job)
    response = FileResponse(path.open("rb"), content_type=CONTENT_TYPES[job.format])
    response["Content-Disposition"] = attachment_header(
        job.filename or path.name, f"export-{job.pk}.{job.format}"
    )
    response["Cache-Control"] = "no-store"  # figures about people: kept in no cache on the way
    return response


def _download_url(job: ExportJob) -> str | None:
    return reverse("export_download", args=[job.pk]) if job.status == ExportStatus.DONE else None


def attachment(content: bytes, fmt: str, name: str) -> HttpResponse:
    """A file made on the spot (jusou.exports.files.table_file) as a download named 「name-YYYYmmdd-HHMM.fmt」."""
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    # A Japanese name (廃棄簿) as RFC 6266 filename*: a raw non-ASCII header value would be MIME-encoded
    # (=?utf-8?b?…?=), which no browser reads as a file name.
    response["Content-Disposition"] = content_disposition_header(True, f"{name}-{stamp}.{fmt}")
    response["Cache-Control"] = "no-store"  # personal data: not kept in any cache on the way
    return response
