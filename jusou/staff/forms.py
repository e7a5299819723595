"""The login form."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm

from jusou.models import Role


def local_login_allowed(user) -> bool:
    """Whether `user` may log in with a password here: everyone while LOCAL_LOGIN_ENABLED, otherwise
    only a システム管理者 (the break-glass account, with its TOTP); everyone else uses an IdP."""
    return settings.LOCAL_LOGIN_ENABLED or Role.SYSTEM_ADMIN in user.roles


class StaffLoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "ユーザー名またはパスワードが正しくありません。続けて間違えると、しばらくログインできなくなります。",
        "inactive": "このアカウントは利用停止されています。システム管理者に連絡してください。",
        "no_membership": "有効な所属が登録されていません。システム管理者に連絡してください。",
        "local_off": "この環境では、パスワードでのログインはシステム管理者の緊急用アカウントに限られています。"
        "統合認証（IdP）のボタンからログインしてください。",
    }

    username = forms.CharField(
        label="ユーザー名",
        max_length=150,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        label="パスワード",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def confirm_login_allowed(self, user):
        if not user.is_active:
            raise forms.ValidationError(self.error_messages["inactive"], code="inactive")
        # Someone whose every membership has ended works nowhere any more (退職・異動).
        if not user.active_memberships and not user.is_superuser:
            raise forms.ValidationError(self.error_messages["no_membership"], code="no_membership")
        if not local_login_allowed(user):
            raise forms.ValidationError(self.error_messages["local_off"], code="local_off")
