from datetime import date, datetime

from django import forms
from django.db import models
from django.forms.utils import from_current_timezone
from django.utils import timezone
from django.utils.html import format_html

from jusou.ja import wareki


class _ReadingBeside:
    """A text box with its reading shown beside it (<p id="<id>_reading">), updated as the user types
    by static/js/wareki.js from the era table written here (wareki.eras_json). The server's reading
    (the form field's) is the one that counts; the script only shows it early."""

    input_type = "text"

    def _defaults(self, example: str) -> dict:
        return {
            "data-wareki": wareki.eras_json(),
            "autocomplete": "off",
            "spellcheck": "false",
            "placeholder": f"例: {example}",
        }

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        if widget_attrs.get("id"):
            described = [widget_attrs.get("aria-describedby", ""), f"{widget_attrs['id']}_reading"]
            widget_attrs["aria-describedby"] = " ".join(part for part in described if part)
        return context

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        element_id = (attrs or {}).get("id") or self.attrs.get("id")
        if not element_id:
            return html
        return format_html(
            '{}<p class="field__reading" id="{}_reading" aria-live="polite">{}</p>',
            html,
            element_id,
            self.reading_of(value),
        )


class DateInput(_ReadingBeside, forms.DateInput):
    """A date typed as 西暦 or 和暦 (1944-05-10, 昭和19年5月10日, S19.5.10 …) in a text box — a native date
    picker takes neither 和暦 nor 元年 — with its reading (昭和19年5月10日（1944年5月10日）) beside it."""

    def __init__(self, attrs=None, **kwargs):
        defaults = self._defaults(wareki.INPUT_EXAMPLE)
        super().__init__(attrs={**defaults, **(attrs or {})}, format="%Y-%m-%d", **kwargs)

    @staticmethod
    def reading_of(value) -> str:
        return _reading_of(value)


class DateTimeInput(_ReadingBeside, forms.DateTimeInput):
    """A date and time typed as 西暦 or 和暦 with the time after it (2025-04-01 14:00, 令和7年4月1日 14時00分,
    R7.4.1 14:00) in a text box — a native datetime-local picker takes no 和暦 — with its reading
    (令和7年4月1日 14:00（2025年4月1日）) beside it."""

    def __init__(self, attrs=None, **kwargs):
        defaults = {**self._defaults(wareki.DATETIME_INPUT_EXAMPLE), "data-wareki-time": ""}
        super().__init__(attrs={**defaults, **(attrs or {})}, format="%Y-%m-%d %H:%M", **kwargs)

    @staticmethod
    def reading_of(value) -> str:
        if isinstance(value, datetime):
            return wareki.reading_datetime(value)
        if isinstance(value, str) and value.strip():
            try:
                return wareki.reading_datetime(wareki.parse_datetime(value))
            except wareki.DateInputError:
                return ""
        return ""


def _reading_of(value) -> str:
    """The reading shown before the script runs: of a date, or of typed text the parser reads."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return wareki.reading(value)
    if isinstance(value, str) and value.strip():
        try:
            return wareki.reading(wareki.parse_date(value))
        except wareki.DateInputError:
            return ""
    return ""


class DateField(forms.DateField):
    """A date field for every date the pages ask for: reads 西暦 and 和暦 (jusou.ja.wareki.parse_date) and
    refuses, in Japanese, text that is not a date and a 和暦 day outside its era (平成31年5月1日). Whether
    the date is plausible (from 1900, not in the future for what has happened) is the model's rule
    (jusou.plausible), checked when the record is saved and shown on this field."""

    widget = DateInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return wareki.parse_date(str(value))
        except wareki.DateInputError as error:
            raise forms.ValidationError(error.message, code=error.code) from None


class DateTimeField(forms.DateTimeField):
    """A date and time for every one the pages ask for (受付日時, 開催日時, 閲覧期間 …): reads 西暦 and 和暦
    with the time after the date (jusou.ja.wareki.parse_datetime) in the page's time zone (Asia/Tokyo), and
    refuses in Japanese text that is not a date and time, a 和暦 day outside its era, a time that does not
    exist and a year before 1000. Whether the moment is plausible for what it records (not in the future
    for what has happened, from RECORDS_START_DATE) is the model's rule (jusou.plausible), as for DateField."""

    widget = DateTimeInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return from_current_timezone(value) if timezone.is_naive(value) else value
        if isinstance(value, date):
            return from_current_timezone(datetime(value.year, value.month, value.day))
        try:
            return from_current_timezone(wareki.parse_datetime(str(value)))
        except wareki.DateInputError as error:
            raise forms.ValidationError(error.message, code=error.code) from None


def date_formfield(db_field, **kwargs):
    """ModelForm `Meta.formfield_callback`: a model's DateField and DateTimeField become the fields above."""
    if isinstance(db_field, models.DateTimeField):
        kwargs["form_class"] = DateTimeField
        kwargs.setdefault("widget", DateTimeInput)
    elif isinstance(db_field, models.DateField):
        kwargs["form_class"] = DateField
        kwargs.setdefault("widget", DateInput)
    return db_field.formfield(**kwargs)


def apply_service_errors(form: forms.Form, error) -> None:
    """Show a service's ValidationError on the form: on its field where the form has one."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
