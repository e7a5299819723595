"""Charts for the dashboards, drawn on the server as SVG: no JavaScript, no CDN, nothing the Content
Security Policy has to allow. Colours and sizes are SVG presentation attributes (fill="…"), never
style attributes, so `style-src 'self'` holds.

Every chart is an image with a name and a description (`role="img"`, `aria-labelledby` pointing at
its <title> and <desc>); the figures themselves are given to screen readers by `data_table`, a
visually hidden table placed under the chart. Each bar and point also carries its label and value
as data-* attributes, which is what tests read.
"""

import math
from collections.abc import Callable, Sequence

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from jusou.ja.wareki import month_era, month_label, month_year_label


def city_wide(name: str, compute: Callable):
    """Figures over the whole city (a supervisor's charts: supervisors see every case, so the figures
    are the same for each of them), computed at most once per DASHBOARD_FIGURES_SECONDS and shared
    through the cache (Redis in production) — not recounted from 500,000 consultations on every visit
    to the start page. 0 turns the sharing off."""
    seconds = settings.DASHBOARD_FIGURES_SECONDS
    if not seconds:
        return compute()
    return cache.get_or_set(f"dashboard:{name}:{timezone.localdate():%Y%m%d}", compute, seconds)


# Okabe–Ito based: distinguishable with the common colour-vision deficiencies, dark enough for
# white value labels to be avoided altogether (labels sit outside the marks).
PALETTE = ("#0b5394", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#7a5c00")
OTHER_COLOUR = "#8a939c"
INK, MUTED, GRID = "#1b1f24", "#4d5661", "#d5dbe1"
FONT_SIZE = 13
_CLOSE = SafeString("</svg>")


def _join(parts) -> SafeString:
    """Concatenate markup that is already safe (every part comes from format_html)."""
    return format_html_join("", "{}", ((part,) for part in parts))


def _text_width(text: str, size: int = FONT_SIZE) -> float:
    """Rough advance width: CJK characters are a full em, Latin and digits about half."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.6 for ch in text)


def _number(value: float | int | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return f"{int(value):,}"


def _nice_ticks(maximum: float, count: int = 4) -> list[float]:
    """0 and a few round steps (1, 2, 5 × 10^n) up to at least `maximum`."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if step < 1:
        step = 1
    top = math.ceil(maximum / step) * step
    return [i * step for i in range(round(top / step) + 1)]


def _open(chart_id: str, title: str, description: str, width: int, height: int) -> SafeString:
    return format_html(
        '<svg class="chart__svg" role="img" aria-labelledby="{0}-title {0}-desc" viewBox="0 0 {1} {2}" '
        'width="{1}" height="{2}" font-size="{3}" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{0}-title">{4}</title><desc id="{0}-desc">{5}</desc>',
        chart_id,
        width,
        height,
        FONT_SIZE,
        title,
        description,
    )


def _label_lines(x: float, y: float, label: str, anchor: str = "middle") -> SafeString:
    """A label that may hold a line break ("4月\\n令和7年"): one <tspan> per line."""
    lines = label.split("\n")
    spans = format_html_join(
        "",
        '<tspan x="{}" dy="{}">{}</tspan>',
        ((f"{x:.1f}", "0" if i == 0 else "1.2em", line) for i, line in enumerate(lines)),
    )
    return format_html(
        '<text x="{}" y="{}" text-anchor="{}" fill="{}">{}</text>',
        f"{x:.1f}",
        f"{y:.1f}",
        anchor,
        MUTED,
        spans,
    )


def _empty(chart_id: str, title: str, description: str, width: int = 640, height: int = 120) -> SafeString:
    message = format_html(
        '<text x="{}" y="{}" text-anchor="middle" fill="{}">表示するデータがありません</text>',
        width // 2,
        height // 2,
        MUTED,
    )
    return _join([_open(chart_id, title, description, width, height), message, _CLOSE])


def _y_axis(ticks, left, right, top, bottom, unit) -> SafeString:
    """Horizontal grid lines with their values, and the unit above the axis."""
    span = ticks[-1] or 1
    parts = []
    for tick in ticks:
        y = bottom - (bottom - top) * tick / span
        line = format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"/>'
            '<text x="{}" y="{}" text-anchor="end" fill="{}">{}</text>',
            left,
            f"{y:.1f}",
            right,
            f"{y:.1f}",
            GRID,
            left - 6,
            f"{y + 4:.1f}",
            MUTED,
            _number(tick),
        )
        parts.append(line)
    unit_label = format_html(
        '<text x="{}" y="{}" text-anchor="end" fill="{}">（{}）</text>', left - 6, top - 10, MUTED, unit
    )
    return _join([*parts, unit_label])


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[int | float],
    unit: str = "件",
    colour: str = PALETTE[0],
    width: int = 460,
) -> SafeString:
    """Horizontal bars, one per label (long Japanese category names read best on the left)."""
    if not labels or not any(values):
        return _empty(chart_id, title, description, width)
    row, gap, top = 26, 8, 8
    label_width = min(max(_text_width(label) for label in labels) + 12, width * 0.4)
    left, right = label_width, width - 56
    height = top + len(labels) * (row + gap) + 4
    maximum = max(values) or 1
    parts = [_open(chart_id, title, description, width, height)]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * (row + gap)
        length = (right - left) * value / maximum
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" fill="{}">{}</text>'
                '<rect class="chart__bar" x="{}" y="{}" width="{}" height="{}" fill="{}" data-label="{}" data-value="{}">'
                "<title>{}: {}{}</title></rect>"
                '<text x="{}" y="{}" fill="{}">{}</text>',
                left - 8,
                y + row / 2 + 4,
                INK,
                label,
                left,
                y,
                f"{length:.1f}",
                row,
                colour,
                label,
                value,
                label,
                _number(value),
                unit,
                f"{left + length + 6:.1f}",
                y + row / 2 + 4,
                INK,
                _number(value),
            )
        )
    parts.append(
        format_html(
            '<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{3}"/>', left, top - 4, height - 4, MUTED
        )
    )
    parts.append(_CLOSE)
    return _join(parts)


def stacked_bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    unit: str = "件",
    colours: Sequence[str] | None = None,
    axis_labels: Sequence[str] | None = None,
    width: int = 620,
    height: int = 300,
) -> SafeString:
    """Vertical columns (one per label, e.g. a month) stacked by series, with a legend on the right.
    `axis_labels` (default: the labels) are the shorter texts under the columns and may hold a line
    break. `colours` defaults to the palette in order."""
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    if not labels or not any(totals):
        return _empty(chart_id, title, description, width)
    colours = list(colours or PALETTE)
    legend_width = min(max(_text_width(name) for name, _ in series) + 28, width * 0.35)
    left, right, top, bottom = 48, width - legend_width - 16, 28, height - 40
    ticks = _nice_ticks(max(totals))
    scale = (bottom - top) / ticks[-1]
    slot = (right - left) / len(labels)
    bar = min(slot * 0.66, 40)
    parts = [
        _open(chart_id, title, description, width, height),
        _y_axis(ticks, left, right, top, bottom, unit),
    ]
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar) / 2
        y = bottom
        for s, (name, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            h = value * scale
            y -= h
            parts.append(
                format_html(
                    '<rect class="chart__bar" x="{}" y="{}" width="{}" height="{}" fill="{}" data-label="{}" '
                    'data-series="{}" data-value="{}"><title>{} {}: {}{}</title></rect>',
                    f"{x:.1f}",
                    f"{y:.1f}",
                    f"{bar:.1f}",
                    f"{h:.1f}",
                    colours[s % len(colours)],
                    label,
                    name,
                    value,
                    label,
                    name,
                    _number(value),
                    unit,
                )
            )
        if totals[i]:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                    f"{x + bar / 2:.1f}",
                    f"{y - 4:.1f}",
                    INK,
                    _number(totals[i]),
                )
            )
        parts.append(_label_lines(left + slot * i + slot / 2, bottom + 16, (axis_labels or labels)[i]))
    parts.append(
        format_html('<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="{3}"/>', left, bottom, right, MUTED)
    )
    legend_x = right + 20
    for s, (name, _) in enumerate(series):
        y = top + s * 22
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}" fill="{}">{}</text>',
                legend_x,
                y,
                colours[s % len(colours)],
                legend_x + 18,
                y + 11,
                INK,
                name,
            )
        )
    parts.append(_CLOSE)
    return _join(parts)


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    unit: str = "日",
    colour: str = PALETTE[0],
    axis_labels: Sequence[str] | None = None,
    width: int = 720,
    height: int = 260,
) -> SafeString:
    """A line through the values; None leaves a gap (a month with nothing to measure). `axis_labels`
    as for stacked_bar_chart."""
    if not labels or all(v is None for v in values):
        return _empty(chart_id, title, description, width)
    left, right, top, bottom = 48, width - 24, 28, height - 40
    ticks = _nice_ticks(max(v for v in values if v is not None))
    scale = (bottom - top) / ticks[-1]
    slot = (right - left) / len(labels)
    parts = [
        _open(chart_id, title, description, width, height),
        _y_axis(ticks, left, right, top, bottom, unit),
    ]
    points = [
        None if v is None else (left + slot * i + slot / 2, bottom - v * scale) for i, v in enumerate(values)
    ]
    segment: list[tuple[float, float]] = []
    for point in [*points, None]:
        if point is not None:
            segment.append(point)
            continue
        if len(segment) > 1:
            parts.append(
                format_html(
                    '<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5"/>',
                    " ".join(f"{x:.1f},{y:.1f}" for x, y in segment),
                    colour,
                )
            )
        segment = []
    for label, value, point in zip(labels, values, points, strict=True):
        if point is None:
            continue
        x, y = point
        parts.append(
            format_html(
                '<circle class="chart__point" cx="{}" cy="{}" r="4" fill="{}" data-label="{}" data-value="{}">'
                "<title>{}: {}{}</title></circle>"
                '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                f"{x:.1f}",
                f"{y:.1f}",
                colour,
                label,
                _number(value),
                label,
                _number(value),
                unit,
                f"{x:.1f}",
                f"{y - 9:.1f}",
                INK,
                _number(value),
            )
        )
    for i, label in enumerate(axis_labels or labels):
        parts.append(_label_lines(left + slot * i + slot / 2, bottom + 16, label))
    parts.append(
        format_html('<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="{3}"/>', left, bottom, right, MUTED)
    )
    parts.append(_CLOSE)
    return _join(parts)


def data_table(
    *,
    caption: str,
    header: str,
    columns: Sequence[str],
    rows: Sequence[tuple[str, Sequence]],
    hidden: bool = True,
) -> SafeString:
    """The chart's figures as a table (visually hidden by default, read by screen readers)."""
    head = format_html_join("", '<th scope="col">{}</th>', ((c,) for c in columns))
    body = format_html_join(
        "",
        '<tr><th scope="row">{}</th>{}</tr>',
        (
            (label, format_html_join("", "<td>{}</td>", ((_number(v),) for v in values)))
            for label, values in rows
        ),
    )
    table = format_html(
        '<table class="{}"><caption>{}</caption><thead><tr><th scope="col">{}</th>{}</tr></thead>'
        "<tbody>{}</tbody></table>",
        "chart__table" if hidden else "table table--compact chart__table",
        caption,
        header,
        head,
        body,
    )
    # A table ignores width: 1px, so the hiding is done by a wrapper.
    return format_html('<div class="visually-hidden">{}</div>', table) if hidden else table


def month_axis_labels(days) -> list[str]:
    """Axis labels for consecutive months: 「4月」, with the year in 和暦 on a second line (「1月\\n令和7年」)
    under each January, under a month whose era differs from the month before (「5月\\n令和元年」 after
    平成31年4月), and under the first month — unless that is a December, whose year would run into
    January's. Years as in wareki.month_label, the label of the same month elsewhere."""
    labels, previous = [], None
    for i, d in enumerate(days):
        era = month_era(d)
        changed = previous is not None and era is not None and era[0] != previous[0]
        shown = d.month == 1 or changed or (i == 0 and d.month != 12)
        labels.append(f"{d.month}月\n{month_year_label(d)}" if shown else f"{d.month}月")
        previous = era
    return labels


def month_name(day) -> str:
    """「令和7年4月」 for the month of `day` (table rows and descriptions; wareki.month_label)."""
    return month_label(day)
