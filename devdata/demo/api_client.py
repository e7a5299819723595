"""The demo world's machine client: 「福祉総合システム」, acting for intake_a's agency."""

from jusou.api.auth import token_issue
from jusou.models import Agency, ApiClient, ApiScope
from jusou.staff import services

DEMO_CLIENT = "福祉総合システム"


def load_demo_api_client() -> str:
    """Register the demo client (idempotent) and give it a fresh token; earlier demo tokens end.
    Returns the token in clear text, for loaddemo to print with DEBUG on only."""
    from knox.models import AuthToken

    client = ApiClient.objects.filter(name=DEMO_CLIENT).select_related("user").first()
    if client is None:
        client = services.api_client_register(
            name=DEMO_CLIENT,
            department="福祉部 福祉総務課",
            agency=Agency.objects.get(code="chuo-houkatsu"),
            scopes=[ApiScope.CONSULTATIONS_WRITE],
            acting_user=None,
        )
    AuthToken.objects.filter(user=client.user).delete()
    _, token = token_issue(user=client.user)
    return token
