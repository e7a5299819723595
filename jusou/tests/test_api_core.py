"""The API's own parts: tokens (staff and machine clients), 2FA on token requests, the session path,
rate limiting, the OpenAPI schema and docs, and the token page."""

import pytest
from django.core.management import call_command
from django_otp.oath import totp
from knox.models import AuthToken
from rest_framework.test import APIClient

from jusou.models import ApiClient, ApiScope, Role
from jusou.staff import services
from jusou.tests.api import api_as, machine_client
from jusou.tests.factories import TEST_PASSWORD, AgencyFactory, staff_user

pytestmark = pytest.mark.django_db


def _token_request(username, password=TEST_PASSWORD, **extra):
    return APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password, **extra}, format="json"
    )


def test_staff_obtain_a_token_and_use_it_as_bearer_or_token():
    worker = staff_user(Role.WORKER, username="worker1")
    answer = _token_request("worker1")
    assert answer.status_code == 201, answer.content
    token = answer.json()["token"]
    for scheme in ("Bearer", "Token"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
        me = client.get("/api/v1/me/").json()
        assert me["username"] == worker.username and me["roles"] == ["worker"] and me["client"] is None
    stored = AuthToken.objects.get(user=worker)
    assert token not in (stored.digest, stored.token_key)  # only a hash is kept


def test_wrong_password_and_inactive_accounts_get_no_token():
    staff_user(Role.WORKER, username="worker1")
    refused = _token_request("worker1", "wrong password")
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_credentials"
    gone = staff_user(Role.WORKER, username="gone", is_active=False)
    assert _token_request(gone.username).status_code == 401


def test_token_request_needs_the_one_time_code_where_2fa_is_required(settings):
    settings.TWO_FACTOR_REQUIRED = True
    from jusou.staff import twofactor

    supervisor = staff_user(Role.SUPERVISOR, username="boss")
    device = twofactor.totp_device_start(acting_user=supervisor)
    twofactor.totp_device_confirm(device=device, code=f"{totp(device.bin_key):06d}", acting_user=supervisor)
    assert _token_request("boss").json()["code"] == "otp_required"
    assert _token_request("boss", otp_code="000000").json()["code"] == "otp_invalid"
    device.refresh_from_db()
    device.last_t = -1  # the confirmation used this time step; a fresh one is needed
    device.throttle_reset()  # django-otp slows retries after the wrong code; that is its own test
    assert _token_request("boss", otp_code=f"{totp(device.bin_key):06d}").status_code == 201


def test_session_without_the_second_factor_is_refused_where_2fa_is_required(client, settings):
    settings.TWO_FACTOR_REQUIRED = True
    supervisor = staff_user(Role.SUPERVISOR)
    client.force_login(supervisor)
    response = client.get("/api/v1/me/")
    assert response.status_code in (401, 403) and response.json()["code"] == "otp_required"
    worker = staff_user(Role.WORKER)
    client.force_login(worker)
    assert client.get("/api/v1/me/").status_code == 200


def test_revoking_a_token_ends_it():
    worker = staff_user(Role.WORKER)
    api = api_as(worker)
    assert api.get("/api/v1/me/").status_code == 200
    assert api.post("/api/v1/auth/tokens/logout/").status_code == 204
    assert api.get("/api/v1/me/").status_code == 401


def test_expired_tokens_are_refused(time_machine):
    worker = staff_user(Role.WORKER)
    api = api_as(worker)
    time_machine.move_to("2099-01-01")
    assert api.get("/api/v1/me/").json()["code"] == "invalid_token"


def test_machine_client_acts_for_its_agency_within_scopes_and_stops_when_suspended():
    agency = AgencyFactory()
    registered, api = machine_client(agency, [ApiScope.CONSULTATIONS_WRITE, ApiScope.AGENCIES_READ])
    me = api.get("/api/v1/me/").json()
    assert me["agencies"] == [agency.code] and me["client"]["scopes"] == sorted(registered.scopes)
    assert api.get("/api/v1/cases/").json()["code"] == "scope_missing"
    services.api_client_set_active(client=registered, active=False, acting_user=None)
    assert api.get("/api/v1/me/").status_code == 401
    # A service account can never log in to the pages nor get a token with a password.
    assert not registered.user.has_usable_password()


def test_unknown_scopes_are_refused_at_registration():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.api_client_register(
            name="x", department="y", agency=AgencyFactory(), scopes=["cases:delete"], acting_user=None
        )


def test_api_client_token_command_prints_a_working_token(capsys):
    _registered, _ = machine_client(AgencyFactory(), [ApiScope.AGENCIES_READ], name="住民記録システム")
    call_command("api_client_token", "住民記録システム", "--days", "7")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/agencies/").status_code == 200


def test_demo_registers_the_welfare_system_client(personas):
    from devdata.demo.api_client import DEMO_CLIENT, load_demo_api_client

    token = load_demo_api_client()
    registered = ApiClient.objects.get(name=DEMO_CLIENT)
    assert registered.agency == personas["intake_a"].agencies[0]
    assert registered.scopes == [ApiScope.CONSULTATIONS_WRITE]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/cases/").status_code == 403  # pushes consultations, reads nothing
    load_demo_api_client()
    assert AuthToken.objects.filter(user=registered.user).count() == 1  # idempotent: one live demo token


def test_rate_limit_answers_429_with_a_body(settings):
    settings.API_RATE_LIMIT = "3/minute"
    api = api_as(staff_user(Role.WORKER))
    codes = [api.get("/api/v1/agencies/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = api.get("/api/v1/agencies/")
    assert response.json()["code"] == "throttled" and "Retry-After" in response


def test_schema_and_docs_are_for_logged_in_users_only_and_load_no_cdn(client):
    assert client.get("/api/v1/schema/").status_code in (401, 403)
    client.force_login(staff_user(Role.WORKER))
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"/api/v1/cases/{id}/refer/" in schema.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "/static/drf_spectacular_sidecar/" in html


def test_token_page_issues_once_and_revokes(client):
    worker = staff_user(Role.WORKER)
    client.force_login(worker)
    page = client.post("/accounts/tokens/", {"issue": "1"})
    token = page.context["issued"]
    assert token and token in page.content.decode()
    assert token not in client.get("/accounts/tokens/").content.decode()  # shown once
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/me/").status_code == 200
    key = AuthToken.objects.get(user=worker).token_key
    client.post("/accounts/tokens/", {"revoke": key})
    assert api.get("/api/v1/me/").status_code == 401


def test_repeated_failed_token_requests_lock_the_account_with_a_json_answer(settings):
    settings.API_TOKEN_RATE_LIMIT = "1000/minute"
    staff_user(Role.WORKER, username="worker1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _token_request("worker1", "wrong password")
    locked = _token_request("worker1")  # even the right password, until the lockout ends
    assert locked.status_code == 429
    assert locked.json()["code"] == "account_locked"
