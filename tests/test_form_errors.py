"""A refused form says so at the top of the page: 「入力内容を確認してください（n件）」, each error a link to
its field (errors of the whole form included), the box focused on load (static/js/forms.js); the widgets'
aria-describedby (Django's id_<field>_helptext / id_<field>_error) name elements of the page."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


class _Page(HTMLParser):
    def __init__(self, html):
        super().__init__()
        self.ids, self.described, self.links, self.summaries = set(), [], [], 0
        self._in_summary = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if attrs.get("aria-describedby"):
            self.described.append((attrs.get("id") or attrs.get("name"), attrs["aria-describedby"].split()))
        if "data-error-summary" in attrs:
            self.summaries += 1
            self._in_summary = 1
        elif self._in_summary and tag == "div":
            self._in_summary += 1
        if self._in_summary and tag == "a":
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if self._in_summary and tag == "div":
            self._in_summary -= 1


def assert_descriptions_exist(page):
    for element, ids in page.described:
        missing = [i for i in ids if i not in page.ids]
        assert not missing, f"{element}: aria-describedby names {missing}, not on the page"


def test_a_refused_login_is_summarised_at_the_top_once(client):
    response = client.post(reverse("login"), {"username": "nobody", "password": "x"})
    html = response.content.decode()
    assert "入力内容を確認してください（1件）" in html
    assert html.count("ユーザー名またはパスワードが正しくありません。") == 1
    assert 'role="alert"' not in html  # the summary is focused instead (one announcement)
    page = _Page(html)
    assert page.summaries == 1
    assert '<script src="/static/js/forms.js" defer></script>' in html


def test_a_page_form_links_each_error_to_its_field(client, personas):
    client.force_login(personas["intake_a"])
    response = client.post(
        reverse("cases:intake"), {"person_choice": "new", "birth_date": "平成31年5月1日", "received_at": "x"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    form = response.context["form"]
    field_errors = sum(len(e) for name, e in form.errors.items() if name != "__all__")
    count = int(re.search(r"入力内容を確認してください（(\d+)件）", html)[1])
    assert count >= field_errors > 3
    page = _Page(html)
    assert "#id_birth_date" in page.links and "#id_received_at" in page.links
    for href in page.links:
        assert href[1:] in page.ids, f"{href} leads nowhere"
    assert "生年月日: 平成は平成31年4月30日までです" in html
    assert_descriptions_exist(page)
    # the field's own errors: one element of the id its widget names
    assert 'id="id_birth_date_error"' in html
    assert re.search(r'<input[^>]*aria-describedby="[^"]*id_birth_date_error', html)
    # help text: the id its widget names
    assert any(i.endswith("_helptext") for i in page.ids)


def test_a_choice_list_error_links_to_its_first_choice():
    from django import forms

    from jusou.templatetags.jusou_tags import field_anchor

    class Form(forms.Form):
        kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
        tags = forms.MultipleChoiceField(choices=[("a", "A")], widget=forms.CheckboxSelectMultiple)
        name = forms.CharField()

    form = Form({})
    assert [field_anchor(form[f]) for f in ("kind", "tags", "name")] == ["id_kind_0", "id_tags_0", "id_name"]
