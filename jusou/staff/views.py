"""Staff pages: the login page, personal API tokens, and 二要素認証 — settings (status, recovery codes,
removal), enrolment, and the code page after the password. The rules are in jusou/staff/twofactor.py;
TwoFactorMiddleware sends unverified sessions here."""

import logging
from urllib.parse import urlencode

import django_otp
import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_static.models import StaticDevice

from jusou.api.auth import api_client_of, token_issue
from jusou.staff import twofactor
from jusou.staff.forms import StaffLoginForm

logger = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    form_class = StaffLoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return self.request.user.home_url()

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **sso_buttons(self.request, self.get_redirect_url())}


def sso_buttons(request, next_url: str = "", *, force: bool = False) -> dict:
    """The login page's IdP buttons (each starts that IdP's login, returning to `next_url`; with
    `force`, asking the IdP to authenticate again) and whether the password form is for everyone or
    only the システム管理者's break-glass account."""
    params = {**({"next": next_url} if next_url else {}), **({"force": "1"} if force else {})}
    query = f"?{urlencode(params)}" if params else ""
    return {
        "sso_providers": [
            (provider.label, reverse("sso_oidc_login", args=[key]) + query)
            for key, provider in settings.SSO_OIDC.items()
        ]
        + [
            (provider.label, reverse("sso_saml_login", args=[key]) + query)
            for key, provider in settings.SSO_SAML.items()
        ],
        "local_login": settings.LOCAL_LOGIN_ENABLED,
    }


def api_tokens(request):
    """APIトークン: staff see their own personal tokens, issue one (shown once) or revoke one."""
    from knox.models import AuthToken

    if not request.user.roles or api_client_of(request.user) is not None:
        raise PermissionDenied("この画面を使う権限がありません。")
    tokens = AuthToken.objects.filter(user=request.user).order_by("-created")
    issued = None
    if request.method == "POST":
        if request.POST.get("revoke"):
            deleted, _ = tokens.filter(token_key=request.POST["revoke"][:20]).delete()
            if deleted:
                messages.success(request, "トークンを無効にしました。")
            return redirect("api_tokens")
        instance, issued = token_issue(user=request.user)
        logger.info("API token issued for %s (%s)", request.user.username, instance.token_key)
    return render(
        request, "jusou/api_tokens.html", {"tokens": list(tokens), "issued": issued, "now": timezone.now()}
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="確認コード",
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
    )


class EnrolForm(CodeForm):
    code = forms.CharField(
        label="確認コード（6桁）",
        max_length=32,
        help_text="認証アプリに表示されている6桁の数字を入力してください。",
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )


def _next_url(request) -> str:
    """The local page to return to after the 2FA step; anything else goes to the user's home."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return target
    return request.user.home_url()


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


def _session_verified(request, device) -> None:
    django_otp.login(request, device)
    # A new session key once the session is fully authenticated (as Django's login() does).
    request.session.cycle_key()


def _recovery_codes_page(request, codes, next_url):
    return render(request, "jusou/twofactor_recovery_codes.html", {"codes": codes, "next": next_url})


@never_cache
@require_http_methods(["GET", "POST"])
def twofactor_settings(request):
    """Every staff member's 2FA page: whether it is required, the apps, 回復コード left; regenerate
    codes or remove an app (POST `action`). An unverified session never gets here: the middleware
    sends it to the code page first."""
    user = request.user
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "regenerate":
                codes = twofactor.recovery_codes_regenerate(acting_user=user)
                return _recovery_codes_page(request, codes, reverse("twofactor_settings"))
            if action == "remove":
                try:
                    device_id = int(request.POST.get("device", ""))
                except ValueError:
                    device_id = 0
                twofactor.totp_device_remove(device_id=device_id, acting_user=user)
                messages.success(request, "認証アプリの登録を削除しました。")
            else:
                messages.error(request, "操作を選んでください。")
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        return redirect("twofactor_settings")
    return render(
        request,
        "jusou/twofactor_settings.html",
        {
            "enabled": twofactor.otp_required(user),
            "required": twofactor.role_requires_otp(user),
            "switched_off": not settings.TWO_FACTOR_REQUIRED,
            "devices": twofactor.totp_devices(user),
            "recovery_codes_left": twofactor.recovery_codes_left(user),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def twofactor_enrol(request):
    """Register an authenticator app: QR code and the secret, then a first code confirms it and the
    回復コード are shown once. Someone who already has an app must verify this session first, or a
    stolen password alone could add an attacker's app."""
    user = request.user
    next_url = _next_url(request)
    if twofactor.has_confirmed_device(user) and not twofactor.session_verified(request):
        return redirect(_with_next("twofactor_verify", next_url))
    device = twofactor.totp_device_start(acting_user=user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = twofactor.totp_device_confirm(
                device=device, code=form.cleaned_data["code"], acting_user=user
            )
        except ValidationError as error:
            form.add_error("code", error)
        else:
            device.refresh_from_db()
            _session_verified(request, device)
            return _recovery_codes_page(request, codes, next_url)
    return render(
        request,
        "jusou/twofactor_enrol.html",
        {
            "form": form,
            "next": next_url,
            "required": twofactor.role_requires_otp(user),
            "qr_svg": segno.make(device.config_url, error="m").svg_inline(scale=4),
            "secret": twofactor.base32_secret(device),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def twofactor_verify(request):
    """The second step of login: a code from the app or one 回復コード."""
    user = request.user
    next_url = _next_url(request)
    if twofactor.session_verified(request) or not twofactor.otp_required(user):
        return redirect(next_url)
    if not twofactor.has_confirmed_device(user):
        return redirect(_with_next("twofactor_enrol", next_url))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        locked_until = twofactor.code_locked_until(user, code)
        device = None if locked_until else twofactor.device_for_code(user, code)
        if device is not None:
            _session_verified(request, device)
            if isinstance(device, StaticDevice):
                left = twofactor.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"回復コードを使いました（残り {left} 件）。使ったコードは二度と使えません。"
                    "認証アプリが使えない場合は、二要素認証の設定で回復コードを発行し直してください。",
                )
            return redirect(next_url)
        logger.warning("2FA: code refused for user %s", user.pk)
        if locked_until:
            seconds = max(1, int((locked_until - timezone.now()).total_seconds()) + 1)
            form.add_error(
                "code",
                f"続けて間違えたため、しばらく入力できません。{seconds}秒ほど待ってからもう一度入力してください。",
            )
        else:
            form.add_error("code", twofactor.INVALID_CODE)
    return render(request, "jusou/twofactor_verify.html", {"form": form, "next": next_url})
