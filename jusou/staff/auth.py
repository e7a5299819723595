"""Authentication of staff accounts."""

from django.contrib.auth.backends import ModelBackend


class StaffBackend(ModelBackend):
    """ModelBackend that lets the login form tell an inactive account apart from a wrong password.

    `authenticate` accepts inactive users so that StaffLoginForm can refuse them with a clear
    message; `get_user` still refuses them, so deactivating an account ends its open sessions.
    """

    def user_can_authenticate(self, user):
        return True

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked account: the Japanese page for the login form, and the API's
    JSON error body for /api/ (a machine must be able to read why it was refused)."""
    from django.http import JsonResponse
    from django.shortcuts import render

    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "status": 429,
                "code": "account_locked",
                "errors": [],
                "message": "ログインの失敗が続いたため、このアカウントは一時的にロックされています。",
            },
            status=429,
            json_dumps_params={"ensure_ascii": False},
        )
    return render(request, "registration/locked_out.html", status=429)
