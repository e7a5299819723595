"""The 管理者's pages for 保存年限 and disposal (under 監査): the candidates with filters, approval of
many at once after a confirmation step, 保存延長 with a reason, and what was disposed and when.

Only 管理者 use them (403 for everyone else). The candidates hold no personal data; the link to a
record opens its own page, where the usual rules (and the read log) apply."""

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jusou.audit.readlog import read_log
from jusou.exports.files import TABLE_FORMATS, table_file
from jusou.exports.views import attachment
from jusou.forms import DateField, DateInput
from jusou.ja.wareki import to_wareki
from jusou.models import Agency, ReadLog
from jusou.pdf import pdf_response
from jusou.registry import retention_type, retention_types
from jusou.retention import services
from jusou.retention.models import DisposalCandidate, DisposalStatus
from jusou.retention.selectors import (
    REGISTER_COLUMNS,
    candidate_filters,
    candidate_record_url,
    candidates_list,
    disposal_register,
    is_retention_supervisor,
    register_lines,
    retention_policies,
)

PAGE = 50
REGISTER_FORMATS = {**TABLE_FORMATS, "pdf": "PDF"}  # the 廃棄簿's downloads
CONFIRM_LIMIT = 500  # one approval covers at most this many records (the confirmation lists them all)


def _require_supervisor(request):
    if not is_retention_supervisor(request.user):
        raise PermissionDenied("保存年限と廃棄の画面は管理者が使います。")


class KeepForm(forms.Form):
    reason = forms.CharField(
        label="保存延長の理由",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="例: 訴訟対応のため。個人が特定できることは書かないでください。",
    )
    until = DateField(
        label="保存延長の期限",
        required=False,
        widget=DateInput(),
        help_text="空欄のときは解除するまで保存します。期限の翌日に廃棄候補へ戻ります。",
    )


def _type_labels() -> dict[str, str]:
    return {kind.code: kind.label for kind in retention_types()}


@require_GET
def retention_list(request):
    """廃棄候補: filter by status, record type, agency and 満了日; select and approve, or keep."""
    _require_supervisor(request)
    filters = candidate_filters(request.GET)
    page = Paginator(candidates_list(filters), PAGE).get_page(request.GET.get("page"))
    labels = _type_labels()
    for candidate in page.object_list:
        candidate.type_label = labels.get(candidate.record_type, candidate.record_type)
    policies = retention_policies()
    counts = dict(DisposalCandidate.objects.values_list("status").annotate(n=Count("pk")).order_by())
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "jusou/retention_list.html",
        {
            "page": page,
            "filters": filters,
            "errors": filters.errors,
            "querystring": query.urlencode(),
            "statuses": [(value, label, counts.get(value, 0)) for value, label in DisposalStatus.choices],
            "types": list(labels.items()),
            "policies": [
                (labels[code], policy) for code, policy in sorted(policies.items()) if code in labels
            ],
            "agencies": Agency.objects.order_by("name").values_list("pk", "name"),
            "approvable": filters.status == DisposalStatus.LISTED,
            "notice_days": settings.RETENTION_NOTICE_DAYS,
        },
    )


@require_POST
def retention_approve(request):
    """Approve the selected candidates: first a confirmation page listing them, then the approval."""
    _require_supervisor(request)
    ids = sorted({int(pk) for pk in request.POST.getlist("candidate") if pk.isdigit()})
    if not ids:
        messages.error(request, "承認する記録を選んでください。")
        return redirect("retention_list")
    if len(ids) > CONFIRM_LIMIT:
        messages.error(request, f"一度に承認できるのは {CONFIRM_LIMIT} 件までです。")
        return redirect("retention_list")
    if request.POST.get("confirm") != "yes":
        candidates = list(
            DisposalCandidate.objects.filter(pk__in=ids).select_related("agency").order_by("expires_on", "pk")
        )
        labels = _type_labels()
        for candidate in candidates:
            candidate.type_label = labels.get(candidate.record_type, candidate.record_type)
        return render(request, "jusou/retention_confirm.html", {"candidates": candidates})
    try:
        approved = services.disposal_approve(candidate_ids=ids, acting_user=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            f"{len(approved)}件の廃棄を承認しました。廃棄（匿名化）は続けて実行され、結果は「廃棄済」で確認できます。",
        )
    return redirect("retention_list")


@require_http_methods(["GET", "POST"])
def retention_keep(request, pk):
    """保存延長 with a reason (and optionally until a date)."""
    _require_supervisor(request)
    candidate = get_object_or_404(DisposalCandidate, pk=pk)
    form = KeepForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.disposal_keep(candidate=candidate, acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, f"{candidate.number} の保存を延長しました。")
            return redirect("retention_detail", pk=candidate.pk)
    return render(request, "jusou/retention_keep.html", {"candidate": candidate, "form": form})


@require_POST
def retention_relist(request, pk):
    """End a 保存延長: the record is a candidate again."""
    _require_supervisor(request)
    candidate = get_object_or_404(DisposalCandidate, pk=pk)
    try:
        services.disposal_relist(candidate=candidate, acting_user=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"{candidate.number} の保存延長を解除し、廃棄候補に戻しました。")
    return redirect("retention_detail", pk=candidate.pk)


@require_GET
def retention_detail(request, pk):
    """One candidate: its steps (who listed, approved, kept, disposed, when and why) and, once
    disposed, how many rows of which kind were anonymised."""
    _require_supervisor(request)
    candidate = get_object_or_404(
        DisposalCandidate.objects.select_related("agency", "approved_by", "kept_by", "disposed_by"), pk=pk
    )
    kind = retention_type(candidate.record_type)
    steps = candidate.history.select_related("history_user").order_by("history_date", "history_id")
    disposed = []
    for label, ids in sorted(candidate.disposed_rows.items()):
        try:
            name = apps.get_model(label)._meta.verbose_name
        except LookupError:
            name = label
        disposed.append((name, len(ids)))
    return render(
        request,
        "jusou/retention_detail.html",
        {
            "candidate": candidate,
            "type_label": kind.label if kind else candidate.record_type,
            "record_url": candidate_record_url(candidate)
            if candidate.status != DisposalStatus.WITHDRAWN
            else None,
            "steps": steps,
            "disposed": disposed,
            "keep_form": KeepForm(),
            "can_keep": candidate.status in (DisposalStatus.LISTED, DisposalStatus.APPROVED),
            "can_relist": candidate.status == DisposalStatus.KEPT,
        },
    )


@require_POST
def retention_scan_now(request):
    """「今すぐ確認」: the daily scan, run now (the records past retention are listed, the 管理者 told)."""
    _require_supervisor(request)
    result = services.retention_scan()
    parts = [f"新たに廃棄候補になった記録 {len(result.listed)}件"]
    if result.withdrawn:
        parts.append(f"対象外に戻した記録 {len(result.withdrawn)}件")
    if result.relisted:
        parts.append(f"保存延長の期限が過ぎて候補に戻した記録 {len(result.relisted)}件")
    if result.upcoming:
        parts.append(
            f"{settings.RETENTION_NOTICE_DAYS}日以内に保存期間が満了する記録 {sum(result.upcoming.values())}件"
        )
    messages.success(request, "保存期間を確認しました: " + "、".join(parts) + "。")
    return redirect("retention_list")


class RegisterForm(forms.Form):
    disposed_from = DateField(label="廃棄日（から）", required=False, widget=DateInput())
    disposed_until = DateField(label="廃棄日（まで）", required=False, widget=DateInput())

    def clean(self):
        data = super().clean()
        start, end = data.get("disposed_from"), data.get("disposed_until")
        if start and end and start > end:
            raise ValidationError("廃棄日の期間は「から」が「まで」より前になるように指定してください。")
        return data


@require_GET
def retention_register(request):
    """廃棄簿: every disposal with who approved, who executed, when, the record type, how many rows of
    which kind were anonymised, and the 根拠条項; filtered by the day of disposal."""
    _require_supervisor(request)
    form = RegisterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = disposal_register(**filters)
    page = Paginator(rows, PAGE).get_page(request.GET.get("page"))
    lines = list(register_lines(rows.filter(pk__in=[c.pk for c in page.object_list])))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "jusou/retention_register.html",
        {
            "form": form,
            "page": page,
            "lines": lines,
            "columns": [name for name, _ in REGISTER_COLUMNS],
            "querystring": query.urlencode(),
            "formats": REGISTER_FORMATS,
        },
    )


@require_GET
def retention_register_export(request, fmt):
    """廃棄簿 as CSV, xlsx or PDF (the rows the page lists for the same query string). It holds no
    personal data (record numbers, types, counts, staff); the export is logged like every other (the
    PDF as 印刷, by jusou.pdf)."""
    _require_supervisor(request)
    if fmt not in REGISTER_FORMATS:
        raise Http404("出力の形式が見つかりません。")
    form = RegisterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return HttpResponseBadRequest("廃棄日の指定が正しくありません。")
    filters = form.cleaned_data if request.GET else {}
    if fmt == "pdf":
        return _register_pdf(request, filters)
    content, written = table_file(
        fmt, "廃棄簿", REGISTER_COLUMNS, register_lines(disposal_register(**filters))
    )
    read_log(
        user=request.user,
        action=ReadLog.Action.EXPORT,
        model=DisposalCandidate,
        detail=f"廃棄簿（{TABLE_FORMATS[fmt]}） {written}件",
    )
    return attachment(content, fmt, "廃棄簿")


def _register_pdf(request, filters):
    start, end = filters.get("disposed_from"), filters.get("disposed_until")
    period = f"{to_wareki(start) if start else '最初'} 〜 {to_wareki(end) if end else '現在'}"
    lines = list(register_lines(disposal_register(**filters)))
    return pdf_response(
        request,
        "jusou/retention_register_pdf.html",
        {"lines": lines, "period": period},
        form_name="廃棄簿",
        filename=f"廃棄簿_{to_wareki(timezone.localdate())}.pdf",
        model=DisposalCandidate,
        detail=f"廃棄簿（PDF） {len(lines)}件",
    )
