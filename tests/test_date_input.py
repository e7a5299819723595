"""Every date the pages ask for is typed through jusou.forms.DateField: 西暦 or 和暦 (昭和19年5月10日,
S19.5.10, R7.4.1, 元年, full-width), a day outside its era refused in Japanese, the reading beside the
field. The API keeps ISO dates (its serializers are untouched)."""

import importlib
from datetime import date

import pytest
from django import forms

from jusou.forms import DateField, DateInput

FORM_MODULES = [
    "cases.forms",
    "meetings.forms",
    "outreach.forms",
    "participation.forms",
    "community.forms",
    "jusou.forms",
    "jusou.retention.views",
    "jusou.twofactor_views",
]


def _project_forms():
    for name in FORM_MODULES:
        importlib.import_module(name)
    seen, stack = set(), [forms.BaseForm]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
    prefixes = tuple(f"{m.split('.')[0]}." for m in FORM_MODULES)
    return [f for f in seen if f.__module__.startswith(prefixes) and "tests" not in f.__module__]


def test_every_date_field_of_every_page_form_reads_wareki():
    dated = []
    for form in _project_forms():
        for name, field in form.base_fields.items():
            if isinstance(field, forms.DateField):
                assert isinstance(field, DateField), f"{form.__module__}.{form.__name__}.{name}"
                assert isinstance(field.widget, DateInput), f"{form.__module__}.{form.__name__}.{name}"
                dated.append(f"{form.__name__}.{name}")
    # the walk did find the forms (a rename would otherwise let it pass on nothing)
    assert {"PersonForm.birth_date", "IntakeForm.birth_date", "ConsentForm.consented_on",
            "ActivityForm.held_on", "CandidateForm.approached_on", "EngagementForm.next_contact_on",
            "KeepForm.until"} <= set(dated)  # fmt: skip


class BirthForm(forms.Form):
    birth_date = DateField(label="生年月日", required=False)


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("昭和19年5月10日", date(1944, 5, 10)),
        ("S19.5.10", date(1944, 5, 10)),
        ("Ｓ１９．５．１０", date(1944, 5, 10)),
        ("R7.4.1", date(2025, 4, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("H31.4.30", date(2019, 4, 30)),
        ("1944-05-10", date(1944, 5, 10)),
        ("", None),
    ],
)
def test_the_field_reads_western_and_wareki(typed, day):
    form = BirthForm({"birth_date": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["birth_date"] == day


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("平成31年5月1日", "平成は平成31年4月30日までです（平成31年5月1日は令和元年5月1日）。"),
        ("平成32年4月1日", "平成は平成31年4月30日までです（平成32年4月1日は令和2年4月1日）。"),
        ("R1.4.30", "令和は令和元年5月1日からです（令和元年4月30日は平成31年4月30日）。"),
        ("昭和19年", "日付は 1944-05-10、昭和19年5月10日、S19.5.10 のように入力してください。"),
    ],
)
def test_the_field_refuses_in_japanese_and_keeps_what_was_typed(typed, message):
    form = BirthForm({"birth_date": typed})
    assert not form.is_valid()
    assert form.errors["birth_date"] == [message]
    assert f'value="{typed}"' in str(form["birth_date"])


def test_the_widget_is_a_text_box_with_the_reading_beside_it():
    html = str(BirthForm(initial={"birth_date": date(1944, 5, 10)})["birth_date"])
    assert 'type="text"' in html and 'value="1944-05-10"' in html and "data-wareki=" in html
    assert 'aria-describedby="id_birth_date_reading"' in html
    assert (
        '<p class="field__reading" id="id_birth_date_reading" aria-live="polite">'
        "昭和19年5月10日（1944年5月10日）</p>"
    ) in html


def test_the_reading_script_is_on_every_page_from_this_origin(client):
    page = client.get("/accounts/login/").content.decode()
    assert '<script src="/static/js/wareki.js" defer></script>' in page
