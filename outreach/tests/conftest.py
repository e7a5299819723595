from datetime import timedelta

import pytest
from django.utils import timezone

from cases.tests.conftest import World, code, fresh, world  # noqa: F401  (the cases personas, reused)
from outreach import services


def start(world, **fields):  # noqa: F811
    """An engagement started by the assigned worker on a 民生委員's word, before any person is known."""
    return services.engagement_start(
        acting_user=world.assigned,
        provisional_name="60代の男性（川沿いのアパート）",
        how_known="minsei",
        background="民生委員より。新聞がたまり、夜も明かりがつかない。",
        purpose="relationship",
        approximate_location="中央二丁目の川沿い",
        **fields,
    )


@pytest.fixture
def engagement(world):  # noqa: F811
    return start(world, next_contact_on=timezone.localdate() + timedelta(days=3))
