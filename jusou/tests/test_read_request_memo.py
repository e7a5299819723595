"""visible_q is asked once per GET request (jusou.access.grants.per_request): the answer is each user's own,
and a request that may write keeps nothing."""

from django.http import HttpResponse
from django.test import RequestFactory

from cases.models import Case
from cases.selectors import cases_visible_to
from cases.tests.conftest import world  # noqa: F401
from jusou.access.grants import ReadRequestMemoMiddleware, _read_request_memo


def _within(method: str, view):
    seen = {}

    def get_response(request):
        seen["result"] = view()
        seen["memo"] = _read_request_memo.get()
        return HttpResponse()

    ReadRequestMemoMiddleware(get_response)(getattr(RequestFactory(), method)("/"))
    return seen


def test_one_get_request_keeps_each_users_visible_cases_apart(world):  # noqa: F811
    case = world.case

    def both():
        return (
            set(cases_visible_to(world.assigned).values_list("pk", flat=True)),
            set(cases_visible_to(world.outsider).values_list("pk", flat=True)),
            set(cases_visible_to(world.assigned).values_list("pk", flat=True)),
        )

    seen = _within("get", both)
    assigned, outsider, assigned_again = seen["result"]
    assert case.pk in assigned and assigned_again == assigned
    assert case.pk not in outsider  # the outsider is not answered from the assigned worker's memo
    assert len(seen["memo"]) == 2  # asked once for each of the two users
    assert _read_request_memo.get() is None  # nothing outlives the request


def test_a_post_keeps_nothing(world):  # noqa: F811
    seen = _within("post", lambda: Case.objects.filter(pk__in=cases_visible_to(world.assigned)).count())
    assert seen["result"] >= 1
    assert seen["memo"] is None
