"""Calling the API in tests the way other systems do: a real token in the Authorization header."""

from rest_framework.test import APIClient

from jusou.api.auth import token_issue
from jusou.models import ApiClient
from jusou.staff import services


def api_as(user, *, scheme="Bearer") -> APIClient:
    client = APIClient()
    _, token = token_issue(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    return client


def machine_client(agency, scopes, name=None) -> tuple[ApiClient, APIClient]:
    """A registered 外部システム acting for `agency`, and an API client holding its token."""
    registered = services.api_client_register(
        name=name or f"連携システム-{agency.code}-{len(scopes)}",
        department="情報政策課",
        agency=agency,
        scopes=list(scopes),
        acting_user=None,
    )
    return registered, api_as(registered.user)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]
