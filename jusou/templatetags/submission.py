"""``{% submission_token %}``: the one-time token of a POST form (jusou.once). A template builtin."""

from django import template

from jusou.once import token_input

register = template.Library()


@register.simple_tag
def submission_token():
    """A fresh token for each rendering of the form (a form shown again after an error included: the
    refused submission claimed nothing)."""
    return token_input()
