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
