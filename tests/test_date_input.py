"""Every date the pages ask for is typed through jusou.forms.DateField: 西暦 or 和暦 (昭和19年5月10日,
S19.5.10, R7.4.1, 元年, full-width), a day outside its era refused in Japanese, the reading beside the
field. The API keeps ISO dates (its serializers are untouched)."""

import importlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django import forms

from jusou.forms import DateField, DateInput, DateTimeField, DateTimeInput
from jusou.ja.wareki import DateInputError, parse_date, parse_datetime

FORM_MODULES = [
    "cases.forms",
    "meetings.forms",
    "outreach.forms",
    "participation.forms",
    "community.forms",
    "jusou.forms",
    "jusou.retention.views",
    "jusou.staff.views",
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
    assert {
        "PersonForm.birth_date",
        "IntakeForm.birth_date",
        "ConsentForm.consented_on",
        "ActivityForm.held_on",
        "CandidateForm.approached_on",
        "EngagementForm.next_contact_on",
        "KeepForm.until",
    } <= set(dated)


def test_every_datetime_field_of_every_page_form_reads_wareki():
    timed = []
    for form in _project_forms():
        for name, field in form.base_fields.items():
            if isinstance(field, forms.DateTimeField):
                assert isinstance(field, DateTimeField), f"{form.__module__}.{form.__name__}.{name}"
                assert isinstance(field.widget, DateTimeInput), f"{form.__module__}.{form.__name__}.{name}"
                timed.append(f"{form.__name__}.{name}")
    assert {
        "IntakeForm.received_at",
        "ProgressNoteForm.occurred_at",
        "ContactForm.contacted_at",
        "MeetingForm.held_at",
        "MeetingForm.access_from",
        "MeetingForm.access_until",
        "ConferenceForm.held_at",
        "MeetingWindowForm.access_until",
    } <= set(timed)


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


# --- 和暦 input parsing: era boundaries ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("平成31年4月30日", date(2019, 4, 30)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("R1.5.1", date(2019, 5, 1)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("大正15年12月24日", date(1926, 12, 24)),
        ("昭和元年12月25日", date(1926, 12, 25)),
        ("明治45年7月29日", date(1912, 7, 29)),
        ("大正元年7月30日", date(1912, 7, 30)),
        ("㍼19年5月10日", date(1944, 5, 10)),
        ("S190510", date(1944, 5, 10)),
    ],
)
def test_era_boundaries_are_read_by_the_exact_day(typed, day):
    assert parse_date(typed) == day


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("令和元年4月30日", "before_era"),
        ("平成31年5月1日", "after_era"),
        ("昭和64年1月8日", "after_era"),
        ("平成元年1月7日", "before_era"),
        ("平成0年1月1日", "era_year"),
        ("明治5年12月31日", "before_era"),
        ("2019-02-30", "no_such_date"),
    ],
)
def test_days_outside_their_era_are_refused(typed, code):
    with pytest.raises(DateInputError) as refused:
        parse_date(typed)
    assert refused.value.code == code


# --- Dates with a time (受付日時, 開催日時 …) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "moment"),
    [
        ("R7.4.1 14:00", datetime(2025, 4, 1, 14, 0)),
        ("令和7年4月1日 14時00分", datetime(2025, 4, 1, 14, 0)),
        ("令和7年4月1日14時", datetime(2025, 4, 1, 14, 0)),
        ("令和7年4月1日 午後2時30分", datetime(2025, 4, 1, 14, 30)),
        ("R7.4.1 午前12時", datetime(2025, 4, 1, 0, 0)),
        ("Ｒ７．４．１　１４：０５", datetime(2025, 4, 1, 14, 5)),
        ("2025-04-01T14:00", datetime(2025, 4, 1, 14, 0)),  # a browser's datetime-local
        ("2025-04-01 14:00:00", datetime(2025, 4, 1, 14, 0)),
        ("2025/4/1 9:05", datetime(2025, 4, 1, 9, 5)),
        ("平成31年4月30日 23:59", datetime(2019, 4, 30, 23, 59)),
        ("令和元年5月1日 0:00", datetime(2019, 5, 1, 0, 0)),
        ("1800-01-01 10:00", datetime(1800, 1, 1, 10, 0)),  # read; the model refuses it (jusou.plausible)
    ],
)
def test_a_moment_is_read_in_western_and_wareki(typed, moment):
    assert parse_datetime(typed) == moment


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("R7.4.1", "「R7.4.1」に時刻がありません。14:00 のように時刻も入力してください。"),
        ("R7.4.1 25:00", "「R7.4.1 25:00」は存在しない時刻です。"),
        ("R7.4.1 10:60", "「R7.4.1 10:60」は存在しない時刻です。"),
        ("R7.4.1 午後13時", "「R7.4.1 午後13時」は存在しない時刻です（午前・午後は12時まで）。"),
        ("平成31年5月1日 10:00", "平成は平成31年4月30日までです（平成31年5月1日は令和元年5月1日）。"),
        ("0001-01-01 00:00", "「0001-01-01 00:00」の年（1年）は日時として扱えません。"),
        ("14:00", "日時は 2025-04-01 14:00、令和7年4月1日 14時00分、R7.4.1 14:00 のように入力してください。"),
        (
            "あした",
            "日時は 2025-04-01 14:00、令和7年4月1日 14時00分、R7.4.1 14:00 のように入力してください。",
        ),
    ],
)
def test_a_moment_is_refused_in_japanese(typed, message):
    with pytest.raises(DateInputError) as refused:
        parse_datetime(typed)
    assert refused.value.message == message


class HeldForm(forms.Form):
    held_at = DateTimeField(label="開催日時")


def test_the_datetime_field_is_in_tokyo_time_and_keeps_what_was_typed():
    form = HeldForm({"held_at": "令和7年4月1日 14時00分"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["held_at"] == datetime(2025, 4, 1, 14, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    refused = HeldForm({"held_at": "平成31年5月1日 10:00"})
    assert not refused.is_valid()
    assert refused.errors["held_at"] == ["平成は平成31年4月30日までです（平成31年5月1日は令和元年5月1日）。"]
    assert 'value="平成31年5月1日 10:00"' in str(refused["held_at"])


def test_the_datetime_widget_is_a_text_box_with_the_reading_beside_it():
    moment = datetime(2025, 4, 1, 5, 0, tzinfo=ZoneInfo("UTC"))  # 14:00 in Tokyo
    html = str(HeldForm(initial={"held_at": moment})["held_at"])
    assert 'type="text"' in html and 'value="2025-04-01 14:00"' in html and "data-wareki-time" in html
    assert 'aria-describedby="id_held_at_reading"' in html
    assert (
        '<p class="field__reading" id="id_held_at_reading" aria-live="polite">令和7年4月1日 14:00（2025年4月1日）</p>'
        in html
    )
