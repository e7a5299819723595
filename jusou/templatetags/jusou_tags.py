from django import forms, template
from django.forms.formsets import BaseFormSet
from django.utils import timezone
from django.utils.html import format_html

from jusou.ja.wareki import as_date, fiscal_year_choice_label, to_seireki, to_wareki, to_wareki_datetime

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
    """A 年度 picker's option: 令和7年度（2025年度） (jusou.ja.wareki.fiscal_year_label)."""
    return fiscal_year_choice_label(int(year))


@register.filter
def check(value):
    """A printed form's check box: ■ when set, □ when not."""
    return "■" if value else "□"


@register.filter
def wareki_datetime_text(value):
    """Plain 令和7年4月1日 14:05 (Asia/Tokyo), for printed forms."""
    return to_wareki_datetime(value or None)


# --- Form errors: one summary at the top of every page ---------------------------------------------------


def _forms_in(value, depth=0):
    """The forms (and formsets' forms) in a context value: a form, a formset, or a list/dict of them."""
    if isinstance(value, forms.BaseForm):
        yield value
    elif isinstance(value, BaseFormSet):
        yield value
        if value.is_bound:
            yield from value.forms
    elif depth == 0 and isinstance(value, list | tuple | dict):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _forms_in(item, depth + 1)


def field_anchor(bound_field) -> str:
    """The id of the element an error link moves to: the field's input, or the first of its choices
    (a radio or checkbox list has no element of the field's own id)."""
    auto_id = bound_field.auto_id
    if not auto_id:
        return ""
    return bound_field.field.widget.id_for_label(auto_id) or f"{auto_id}_0"


def form_errors(context) -> list[dict]:
    """Every error of every bound form on the page, in the page's order: {"text", "anchor"} — the
    anchor is the field's id (empty for errors of the whole form and of hidden fields)."""
    errors, seen = [], set()
    for value in context.flatten().values():
        for form in _forms_in(value):
            if id(form) in seen or not form.is_bound:
                continue
            seen.add(id(form))
            if isinstance(form, BaseFormSet):
                errors += [{"text": str(e), "anchor": ""} for e in form.non_form_errors()]
                continue
            if not form.errors:
                continue
            errors += [{"text": str(e), "anchor": ""} for e in form.non_field_errors()]
            for bound_field in form:
                for error in bound_field.errors:
                    label = bound_field.label or bound_field.name
                    if bound_field.is_hidden:
                        errors.append({"text": f"{label}: {error}", "anchor": ""})
                    else:
                        errors.append({"text": f"{label}: {error}", "anchor": field_anchor(bound_field)})
    return errors


@register.inclusion_tag("jusou/_error_summary.html", takes_context=True)
def error_summary(context):
    """「入力内容を確認してください（n件）」 above the page's content when a form on it was refused: each
    error a link to its field; focus moves to the box on load (static/js/forms.js)."""
    return {"errors": form_errors(context)}
