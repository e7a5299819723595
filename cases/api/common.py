"""Fields and serializers the API modules share (meetings.api and participation.api use them too)."""

from rest_framework import serializers

from cases.models import Code, Person
from jusou.models import Agency


def code_field(kind, **kwargs):
    """A code-list entry by its stable code (DOMAIN.md §6), e.g. "phone"; only active entries."""
    return serializers.SlugRelatedField(
        slug_field="code", queryset=Code.objects.filter(kind=kind, is_active=True), **kwargs
    )


def agency_field(**kwargs):
    return serializers.SlugRelatedField(
        slug_field="code", queryset=Agency.objects.filter(is_active=True), **kwargs
    )


class PersonRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Person
        fields = ["id", "name", "kana"]
