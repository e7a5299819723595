"""Who is who at which identity provider, the mapping of IdP groups to agencies and roles, the open
SSO sessions, and the sign-in log.

Imported by jusou.models, so these are models of the jusou app. They refer to other models by name."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

# Roles an IdP group may give. Never システム管理者 (issue 20: a mapping can never make someone one),
# nor the API clients' service role.
MAPPABLE_ROLES = ("worker", "coordinator", "supervisor", "community_welfare", "meeting_member")
# Roles held at an agency; the others are held without one.
AGENCY_ROLES = ("worker", "coordinator")


def _mappable_role_choices():
    from jusou.models import Role  # defined before jusou.models imports this module

    return [(role, Role(role).label) for role in MAPPABLE_ROLES]


class SsoIdentity(models.Model):
    """A jusou account's stable subject at one IdP (OIDC `sub` of that issuer; SAML persistent NameID or
    the IdP's subject attribute). Matched on this only,
    never on an e-mail address: the システム管理者 registers it (or a mapping creates the account)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="職員", on_delete=models.PROTECT, related_name="sso_identities"
    )
    provider = models.CharField("IdP", max_length=20)
    subject = models.CharField("IdPでの識別子（sub）", max_length=255)
    created_at = models.DateTimeField("登録日時", default=timezone.now)
    last_login_at = models.DateTimeField("最終ログイン", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "統合認証の識別子"
        verbose_name_plural = "統合認証の識別子"
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "subject"],
                name="sso_identity_unique",
                violation_error_message="このIdPの識別子はすでに別の職員に登録されています。",
            )
        ]

    def __str__(self):
        return f"{self.provider}: {self.subject}"


class SsoGroupMapping(models.Model):
    """An IdP group gives a role (at an agency): applied at every login through that IdP. The
    memberships it makes are marked with the IdP (StaffMembership.source) and end when the group
    no longer maps to them; memberships the システム管理者 entered by hand are left as they are."""

    provider = models.CharField("IdP", max_length=20)
    group = models.CharField("IdPのグループ", max_length=200, help_text="IdP が groups クレームで送る名前")
    agency = models.ForeignKey(
        "jusou.Agency", verbose_name="所属機関", on_delete=models.PROTECT, null=True, blank=True
    )
    role = models.CharField("役割", max_length=20, choices=_mappable_role_choices())
    note = models.CharField("メモ", max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "IdPグループの割当て"
        verbose_name_plural = "IdPグループの割当て"
        ordering = ["provider", "group", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=MAPPABLE_ROLES), name="sso_mapping_role_allowed"),
            models.UniqueConstraint(
                fields=["provider", "group", "agency", "role"],
                name="sso_mapping_unique",
                violation_error_message="同じグループ・機関・役割の割当てがすでにあります。",
            ),
        ]

    def __str__(self):
        return f"{self.provider}:{self.group} → {self.agency or '—'} / {self.get_role_display()}"

    def clean(self):
        if self.role not in MAPPABLE_ROLES:
            raise ValidationError({"role": "この役割はIdPのグループからは割り当てられません。"})
        if self.role in AGENCY_ROLES and self.agency_id is None:
            raise ValidationError({"agency": "相談員・相談支援包括化推進員には所属機関が必要です。"})
        if self.provider not in settings.SSO_OIDC and self.provider not in settings.SSO_SAML:
            raise ValidationError({"provider": "設定されていないIdPです。"})


class SsoSession(models.Model):
    """A jusou session that began with an IdP login: what ends it from the IdP's side (OIDC back-channel
    logout naming its `sid` or subject, a SAML LogoutRequest naming its NameID and SessionIndex; beat
    finding the subject disabled or the session past `expires_at`) and what logout at the IdP sends back
    (the ID token as hint; the NameID and SessionIndex). The session holds this row's id; jusou.sso.middleware logs it
    out at its next request once `ended_at` is set."""

    identity = models.ForeignKey(
        SsoIdentity, verbose_name="識別子", on_delete=models.PROTECT, related_name="+"
    )
    # the jusou session's key, kept current by jusou.sso.middleware (a 2FA step gives a new key)
    session_key = models.CharField(max_length=40, blank=True)
    idp_session = models.CharField("IdPのセッション（sid）", max_length=255, blank=True, db_index=True)
    mfa = models.BooleanField("IdPが多要素認証を表明", default=False)
    id_token = models.TextField(blank=True)
    refresh_token = models.TextField(blank=True)
    # SAML: the NameID as the IdP sent it (XML), named again in the LogoutRequest; idp_session holds the
    # SessionIndex
    name_id = models.TextField(blank=True)
    # the latest the session may last (SAML: SessionNotOnOrAfter or the IdP's SESSION_HOURS)
    expires_at = models.DateTimeField("有効期限", null=True, blank=True)
    started_at = models.DateTimeField("開始", default=timezone.now)
    checked_at = models.DateTimeField("IdPに確認", default=timezone.now)
    ended_at = models.DateTimeField("終了", null=True, blank=True)
    end_reason = models.CharField("終了の理由", max_length=200, blank=True)

    class Meta:
        verbose_name = "統合認証のセッション"
        verbose_name_plural = "統合認証のセッション"
        indexes = [models.Index(fields=["ended_at", "checked_at"])]

    def __str__(self):
        return f"{self.identity} ({self.started_at:%Y-%m-%d %H:%M})"


class SsoEvent(models.Model):
    """The sign-in log of SSO: every login, refusal (with why), logout and session ended by the IdP."""

    class Kind(models.TextChoices):
        LOGIN = "login", "ログイン"
        REFUSED = "refused", "ログイン拒否"
        LOGOUT = "logout", "ログアウト"
        ENDED = "ended", "IdPによる終了"
        MAPPED = "mapped", "所属の反映"
        LOGOUT_REFUSED = "lo_refused", "ログアウト要求の拒否"

    at = models.DateTimeField("日時", default=timezone.now, db_index=True)
    provider = models.CharField("IdP", max_length=20)
    subject = models.CharField("識別子", max_length=255, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="職員",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField("種別", max_length=10, choices=Kind.choices)
    detail = models.CharField("内容", max_length=500, blank=True)
    address = models.GenericIPAddressField("接続元", null=True, blank=True)

    class Meta:
        verbose_name = "統合認証の記録"
        verbose_name_plural = "統合認証の記録"
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.provider}:{self.subject}"
