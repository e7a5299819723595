"""The demo's 二要素認証: a known 認証アプリ secret for `supervisor` and `admin`."""

from base64 import b32decode

from django_otp.plugins.otp_totp.models import TOTPDevice

from jusou.models import User

# The demo's 認証アプリ secret for `supervisor` and `admin` (base32, 20 bytes), documented like the
# demo password; `loaddemo` prints it only with DEBUG on and refuses to run with DEBUG off.
DEMO_TOTP_SECRET = "MIDORIDEMOTOTPSECRETJUSOUKEY2345"  # noqa: S105
DEMO_TOTP_USERS = ("supervisor", "admin")
DEMO_DEVICE_NAME = "デモ用認証アプリ"


def load_twofactor_demo() -> None:
    """`supervisor` and `admin` get a confirmed 認証アプリ with DEMO_TOTP_SECRET (idempotent), so the
    demo stays usable with 2FA required."""
    key = b32decode(DEMO_TOTP_SECRET).hex()
    for user in User.objects.filter(username__in=DEMO_TOTP_USERS):
        TOTPDevice.objects.update_or_create(
            user=user, name=DEMO_DEVICE_NAME, defaults={"key": key, "confirmed": True}
        )


def demo_announcement() -> list[str]:
    """What `loaddemo` prints with DEBUG on: the secret and an otpauth:// URI to add to an app."""
    lines = [
        f"デモ用 二要素認証（{'・'.join(DEMO_TOTP_USERS)}）のシークレット: {DEMO_TOTP_SECRET}"
        f"（認証アプリに登録するか、oathtool --totp -b {DEMO_TOTP_SECRET} で確認コードを表示）"
    ]
    for device in TOTPDevice.objects.filter(
        name=DEMO_DEVICE_NAME, user__username__in=DEMO_TOTP_USERS
    ).select_related("user"):
        lines.append(f"  {device.user.username}: {device.config_url}")
    return lines
