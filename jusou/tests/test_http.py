"""Headers and pages every response shares."""

import pytest

from jusou.tests.factories import staff_user

pytestmark = pytest.mark.django_db


def test_health_endpoint_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_pages_carry_a_content_security_policy_and_deny_framing(client):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_unknown_page_is_a_japanese_404(client):
    client.force_login(staff_user())
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.content.decode()


def test_base_template_is_japanese_and_accessible(client):
    client.force_login(staff_user())
    html = client.get("/").content.decode()
    assert '<html lang="ja">' in html
    assert 'href="#main"' in html  # skip link
    assert 'aria-label="メインメニュー"' in html
    assert 'media="print"' in html
