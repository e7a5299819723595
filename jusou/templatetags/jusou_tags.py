from django import template
from django.utils import timezone
from django.utils.html import format_html

from jusou.wareki import as_date, fiscal_year_choice_label, to_seireki, to_wareki, to_wareki_datetime

register = template.Library()


@register.filter
def wareki(value):
    """<time> showing 令和7年4月1日, with the Western date beside it for screen readers and on hover."""
    if value in (None, ""):
        return ""
    day = as_date(value)
    return format_html(
        '<time datetime="{}" title="{}">{}<span class="seireki">（{}年）</span></time>',
        day.isoformat(),
        to_seireki(day),
        to_wareki(day),
        day.year,
    )


@register.filter
def wareki_text(value):
    """Plain 令和7年4月1日, for places where markup does not belong (titles, CSV)."""
    return to_wareki(value)


@register.filter
def wareki_datetime(value):
    """令和7年4月1日 14:05 in Asia/Tokyo."""
    if value in (None, ""):
        return ""
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{} {}</time>',
        local.isoformat(),
        to_seireki(local),
        to_wareki(local),
        local.strftime("%H:%M"),
    )


@register.filter
def fiscal_year_choice(year):
    """A 年度 picker's option: 令和7年度（2025年度） (jusou.wareki.fiscal_year_label)."""
    return fiscal_year_choice_label(int(year))


@register.filter
def check(value):
    """A printed form's check box: ■ when set, □ when not."""
    return "■" if value else "□"


@register.filter
def wareki_datetime_text(value):
    """Plain 令和7年4月1日 14:05 (Asia/Tokyo), for printed forms."""
    return to_wareki_datetime(value or None)
