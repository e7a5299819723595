"""二要素認証 (TOTP) with django-otp: who must use it, checking a code, enrolment, and the middleware
that keeps an unverified session on the 2FA pages.

総務省「地方公共団体における情報セキュリティポリシーに関するガイドライン」: 多要素認証 for accounts that
reach 要配慮個人情報 in bulk. 管理者 (who read every case) and システム管理者 (who grant access) must
use it while settings.TWO_FACTOR_REQUIRED is on (the default); any other staff member may enrol, and
once enrolled is asked for a code at every login too.

Devices are django-otp's own: one or more TOTPDevice (認証アプリ) and one StaticDevice holding the
回復コード. django-otp keeps no history of them, so enrolment and removal are logged (INFO) with the
acting user.
"""

import logging
import unicodedata
from base64 import b32encode
from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from jusou.models import Role, User

logger = logging.getLogger(__name__)

REQUIRED_ROLES = frozenset({Role.SUPERVISOR, Role.SYSTEM_ADMIN})
RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "認証アプリ"
RECOVERY_DEVICE_NAME = "回復コード"
INVALID_CODE = "確認コードが正しくありません。"


# --- Who must use it -------------------------------------------------------------------------------


def role_requires_otp(user) -> bool:
    """The requirement itself: 管理者 and システム管理者 (and a Django superuser, who can do everything
    a システム管理者 can) must use 2FA while the setting is on."""
    if not settings.TWO_FACTOR_REQUIRED or not user.is_authenticated:
        return False
    return user.is_superuser or bool(user.roles & REQUIRED_ROLES)


def has_confirmed_device(user) -> bool:
    return user.is_authenticated and django_otp.user_has_device(user, confirmed=True)


def otp_required(user) -> bool:
    """Whether this user's session must be verified with a second factor.

    True for 管理者 and システム管理者, and for anyone who has enrolled a device (a worker who chose
    2FA must use it too). TWO_FACTOR_REQUIRED=false switches 2FA off altogether: nobody is asked,
    enrolled devices are kept for when it is switched on again.
    """
    if not settings.TWO_FACTOR_REQUIRED or not user.is_authenticated:
        return False
    return role_requires_otp(user) or has_confirmed_device(user)


# --- Checking a code ---------------------------------------------------------------------------------


def normalize_code(code) -> str:
    """Codes typed through a Japanese IME arrive as full-width digits; spaces and hyphens are
    decoration (回復コード are shown in two groups)."""
    if not isinstance(code, str):
        return ""
    code = unicodedata.normalize("NFKC", code).strip().lower()
    return code.replace(" ", "").replace("-", "")


def _device_model_for(code: str):
    # A 6-digit TOTP code and a recovery code never look alike (recovery codes are 8 base32 letters
    # and digits), so only one kind of device is tried and only its throttle counts the failure.
    return TOTPDevice if code.isdigit() else StaticDevice


def device_for_code(user, code) -> TOTPDevice | StaticDevice | None:
    """The confirmed device of `user` that accepts `code`, or None.

    Verification and throttling are django-otp's (Device.verify_token: a TOTP code is not accepted
    twice, a recovery code is deleted on use, failures back off exponentially); the devices are
    locked while a code is checked so that two requests cannot both use the same code.
    """
    code = normalize_code(code)
    if not code or len(code) > 16 or not getattr(user, "is_authenticated", False):
        return None
    model = _device_model_for(code)
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            if device.verify_token(code):
                return device
    return None


def verify_code(user, code: str) -> bool:
    """True if `code` is a valid TOTP code or an unused 回復コード of one of the user's confirmed
    devices (the 回復コード is used up). False on anything else: wrong, reused, throttled, malformed,
    anonymous user, no device."""
    return device_for_code(user, code) is not None


def code_locked_until(user, code):
    """When every device that could take `code` is still backing off after failures: until when
    (a datetime); otherwise None."""
    code = normalize_code(code)
    devices = list(_device_model_for(code).objects.devices_for_user(user, confirmed=True)) if code else []
    waits = []
    for device in devices:
        allowed, details = device.verify_is_allowed()
        if allowed:
            return None
        waits.append(details["locked_until"])
    return min(waits) if waits else None


# --- Devices --------------------------------------------------------------------------------------


def totp_devices(user) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("created_at", "pk"))


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def base32_secret(device: TOTPDevice) -> str:
    """The key as users type it into an authenticator app: base32 in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def totp_device_start(*, acting_user: User) -> TOTPDevice:
    """The unconfirmed 認証アプリ the user is enrolling. The same one is returned until it is
    confirmed, so reloading the page keeps the QR code the app may already have scanned."""
    device = TOTPDevice.objects.devices_for_user(acting_user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=acting_user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_device_confirm(*, device: TOTPDevice, code: str, acting_user: User) -> list[str]:
    """Confirm the user's own unconfirmed device with a first valid code from the app.

    Returns fresh 回復コード (replacing any earlier ones); they are stored by django-otp and this
    return value is the only time they are shown. Raises ValidationError on a wrong code; the failure
    still counts for throttling (it is committed before the error is raised).
    """
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(pk=device.pk, user=acting_user, confirmed=False)
            .first()
        )
        verified = device is not None and device.verify_token(normalize_code(code))
        if verified:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            # Abandoned enrolments (a page opened and left) hold secrets nobody confirmed.
            TOTPDevice.objects.devices_for_user(acting_user, confirmed=False).delete()
            codes = _recovery_codes_replace(acting_user)
    if not verified:
        raise ValidationError(INVALID_CODE, code="invalid_code")
    logger.info("2FA: TOTP device %s confirmed for user %s by %s", device.pk, acting_user.pk, acting_user.pk)
    return codes


def _recovery_codes_replace(user) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    device.throttle_reset()  # a fresh set starts without the old set's failures
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def recovery_codes_regenerate(*, acting_user: User) -> list[str]:
    """New 回復コード for a user with a confirmed 認証アプリ; the old ones stop working. Returned once."""
    with transaction.atomic():
        if not TOTPDevice.objects.devices_for_user(acting_user, confirmed=True).exists():
            raise ValidationError("回復コードは認証アプリを登録してから発行できます。", code="no_device")
        codes = _recovery_codes_replace(acting_user)
    logger.info("2FA: recovery codes regenerated for user %s by %s", acting_user.pk, acting_user.pk)
    return codes


@transaction.atomic
def totp_device_remove(*, device_id: int, acting_user: User) -> None:
    """Remove one of the user's own 認証アプリ.

    A 管理者 or システム管理者 keeps at least one while 2FA is required for them (they add the new
    phone first, then remove the old one; a lost phone is removed by a システム管理者 in the admin).
    Removing anyone else's last app also removes their 回復コード, so they are no longer asked.
    """
    devices = list(TOTPDevice.objects.devices_for_user(acting_user, confirmed=True).select_for_update())
    device = next((d for d in devices if d.pk == device_id), None)
    if device is None:
        raise ValidationError("この認証アプリは登録されていません。", code="not_found")
    if len(devices) == 1 and role_requires_otp(acting_user):
        raise ValidationError(
            "管理者・システム管理者は二要素認証が必須のため、最後の認証アプリは削除できません。"
            "新しい認証アプリを追加してから削除してください。",
            code="last_device",
        )
    device.delete()
    if len(devices) == 1:
        StaticDevice.objects.filter(user=acting_user).delete()
    logger.info("2FA: TOTP device %s removed for user %s by %s", device_id, acting_user.pk, acting_user.pk)


# --- Middleware ------------------------------------------------------------------------------------


def session_verified(request) -> bool:
    """The session has its second factor: a code given here (django_otp), or an IdP login whose
    assertion the IdP's settings count as multi-factor (jusou.sso: its TOTP is not asked again)."""
    from jusou.sso.services import MFA_KEY

    return request.user.is_verified() or bool(request.session.get(MFA_KEY))


class TwoFactorMiddleware:
    """Keeps a session that must be verified (otp_required) and is not on the 2FA pages: to
    enrolment when the user has no confirmed device yet, otherwise to the code page.

    Exempt: the 2FA pages, logout, static files, /healthz and the API (/api/ authenticates each
    request itself and checks otp_required / is_verified there). The Django admin is not exempt.
    Must come after django_otp's OTPMiddleware, which sets request.user.is_verified().
    """

    EXEMPT_URL_NAMES = ("twofactor_enrol", "twofactor_verify", "logout", "admin:logout", "healthz")

    def __init__(self, get_response):
        self.get_response = get_response
        self._exempt_paths = None  # reversed on the first request, once the URLconf is loaded

    def __call__(self, request):
        return self.redirect_for(request) or self.get_response(request)

    def exempt(self, request) -> bool:
        if request.path_info.startswith(("/api/", "/" + settings.STATIC_URL.lstrip("/"))):
            return True
        if self._exempt_paths is None:
            self._exempt_paths = frozenset(reverse(name) for name in self.EXEMPT_URL_NAMES)
        return request.path in self._exempt_paths

    def redirect_for(self, request):
        if not settings.TWO_FACTOR_REQUIRED or self.exempt(request):
            return None
        user = request.user
        if not user.is_authenticated or session_verified(request) or not otp_required(user):
            return None
        url = reverse("twofactor_verify" if has_confirmed_device(user) else "twofactor_enrol")
        if request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(url)


# --- Demo ------------------------------------------------------------------------------------------
