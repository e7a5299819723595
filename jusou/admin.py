"""The Django admin is for システム管理者: accounts, memberships, agencies, 圏域.

Memberships are changed through the services so that admin access (is_staff) follows the
システム管理者 role; history views come from django-simple-history.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from jusou import services
from jusou.api.auth import token_issue
from jusou.forms import apply_service_errors
from jusou.models import (
    Agency,
    ApiClient,
    ApiScope,
    Area,
    ExportJob,
    SsoEvent,
    SsoGroupMapping,
    SsoIdentity,
    SsoSession,
    StaffMembership,
    User,
)
from jusou.retention.models import RetentionPolicy
from jusou.staff import services as staff_services


class ReadOnlyAdmin(admin.ModelAdmin):
    """A log in the admin: listed and read, never added, changed or deleted there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SsoIdentityInline(admin.TabularInline):
    """On the account page: the IdP subjects that log in as this account (registered here, by the
    システム管理者, before the person's first SSO login)."""

    model = SsoIdentity
    extra = 0
    fields = ("provider", "subject", "created_at", "last_login_at")
    readonly_fields = ("created_at", "last_login_at")


class StaffMembershipInline(admin.TabularInline):
    model = StaffMembership
    fk_name = "user"
    extra = 0
    fields = ["agency", "role", "started_on", "ended_on"]
    readonly_fields = ["agency", "role", "started_on", "ended_on"]
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # added from 職員の所属, which goes through the service


class ExternalMemberForm(forms.Form):
    """外部の構成員 on one page: the account and its membership together (jusou.services)."""

    username = forms.CharField(
        label="ユーザー名", max_length=150, help_text="ログインに使います（半角英数字）"
    )
    last_name = forms.CharField(label="姓", max_length=150)
    first_name = forms.CharField(label="名", max_length=150, required=False)
    email = forms.EmailField(label="メール", required=False)
    password1 = forms.CharField(
        label="パスワード", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="パスワード（確認）",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("このユーザー名はすでに使われています。")
        return username

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "確認用のパスワードが一致しません。")
        elif data.get("password1"):
            from django.contrib.auth.password_validation import validate_password

            try:
                validate_password(
                    data["password1"],
                    User(username=data.get("username", ""), last_name=data.get("last_name", "")),
                )
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, BaseUserAdmin):
    list_display = ["username", "last_name", "first_name", "email", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", "memberships__role", "memberships__agency"]
    readonly_fields = ["is_staff", "is_superuser", "last_login", "date_joined"]
    inlines = [StaffMembershipInline, SsoIdentityInline]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("氏名・連絡先", {"fields": ("last_name", "first_name", "email")}),
        ("状態", {"fields": ("is_active", "is_staff", "is_superuser", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "last_name", "first_name", "password1", "password2"),
                "description": "職員のアカウントを作ったあと、「職員の所属」で機関と役割を追加してください。"
                "支援会議の外部の構成員は「外部の構成員を登録」から一度に登録できます。",
            },
        ),
    )

    def get_urls(self):
        from django.urls import path

        extra = [
            path(
                "add-external/",
                self.admin_site.admin_view(self.external_member_add),
                name="jusou_user_add_external",
            )
        ]
        return extra + super().get_urls()

    def external_member_add(self, request):
        """支援会議の外部の構成員: the account and its membership on one page."""
        from django.core.exceptions import PermissionDenied, ValidationError
        from django.shortcuts import redirect
        from django.template.response import TemplateResponse

        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ExternalMemberForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                user = staff_services.external_member_register(
                    username=data["username"],
                    last_name=data["last_name"],
                    first_name=data["first_name"],
                    email=data["email"],
                    password=data["password1"],
                    acting_user=request.user,
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                self.message_user(
                    request,
                    f"外部の構成員「{user.get_full_name()}」を登録しました。支援会議の構成員に選べます。",
                )
                return redirect("admin:jusou_user_change", user.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "支援会議の外部の構成員を登録",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/jusou/user/add_external.html", context)

    def response_add(self, request, obj, post_url_continue=None):
        from django.urls import reverse

        if not obj.active_memberships:
            url = reverse("admin:jusou_staffmembership_add") + f"?user={obj.pk}"
            self.message_user(
                request, f"次に「職員の所属」で {obj} の機関と役割を追加してください: {url}", messages.WARNING
            )
        return super().response_add(request, obj, post_url_continue)


@admin.register(StaffMembership)
class StaffMembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "agency", "role", "started_on", "ended_on"]
    list_filter = ["role", "agency"]
    search_fields = ["user__username", "user__last_name", "user__first_name", "agency__name"]
    autocomplete_fields = ["user", "agency"]

    def get_readonly_fields(self, request, obj=None):
        # Who, where and in which role is fixed once recorded; a change is an end and a new grant.
        return ["user", "agency", "role", "started_on"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            if "ended_on" in form.changed_data and obj.ended_on:
                staff_services.membership_end(membership=obj, acting_user=request.user, ended_on=obj.ended_on)
        else:
            saved = staff_services.membership_grant(
                user=obj.user,
                agency=obj.agency,
                role=obj.role,
                acting_user=request.user,
                started_on=obj.started_on,
            )
            obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False  # memberships are ended, never deleted: the audit trail needs them


@admin.register(Agency)
class AgencyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "area", "is_active"]
    list_filter = ["kind", "is_active", "area"]
    search_fields = ["name", "code"]


@admin.register(Area)
class AreaAdmin(SimpleHistoryAdmin):
    list_display = ["name", "level", "parent", "code"]
    list_filter = ["level"]
    search_fields = ["name", "code"]


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label="許可する操作", choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiClient
        fields = ["name", "department", "agency", "scopes"]


@admin.register(ApiClient)
class ApiClientAdmin(SimpleHistoryAdmin):
    """Machine clients: registered through the service (which makes the service account), tokens
    issued here or with `manage.py api_client_token`, shown once, stored only as a hash."""

    form = ApiClientForm
    list_display = ["name", "department", "agency", "is_active", "created_at"]
    list_filter = ["is_active", "agency"]
    search_fields = ["name", "department"]
    actions = ["issue_token", "suspend", "resume"]

    def get_readonly_fields(self, request, obj=None):
        # Which agency a client acts for is fixed: a different agency is a different registration.
        return ["agency", "is_active"] if obj else ["is_active"]

    def save_model(self, request, obj, form, change):
        if change:
            services.save_with_history(obj, acting_user=request.user, reason="API連携システムの変更")
        else:
            saved = staff_services.api_client_register(
                name=obj.name,
                department=obj.department,
                agency=obj.agency,
                scopes=obj.scopes,
                acting_user=request.user,
            )
            obj.pk, obj.user = saved.pk, saved.user

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="トークンを発行する（一度だけ表示）")
    def issue_token(self, request, queryset):
        for client in queryset.filter(is_active=True):
            instance, token = token_issue(user=client.user)
            self.message_user(
                request,
                f"{client.name}: {token}（{instance.expiry:%Y-%m-%d} まで有効。この画面を離れると再表示できません）",
                messages.WARNING,
            )

    @admin.action(description="停止する（すべてのトークンが無効になります）")
    def suspend(self, request, queryset):
        for client in queryset:
            staff_services.api_client_set_active(client=client, active=False, acting_user=request.user)

    @admin.action(description="再開する")
    def resume(self, request, queryset):
        for client in queryset:
            staff_services.api_client_set_active(client=client, active=True, acting_user=request.user)


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(SimpleHistoryAdmin):
    """保存年限 per record type, as the municipality's 文書管理規程 sets it (seeded with 10 years for
    cases and 5 for one-off consultations and アウトリーチ). A shorter period takes effect at the next
    daily run; nothing is disposed without a 管理者's approval."""

    list_display = ["record_type", "years", "starts", "basis"]

    def get_readonly_fields(self, request, obj=None):
        return ["record_type"] if obj else []

    def save_model(self, request, obj, form, change):
        services.save_with_history(obj, acting_user=request.user, reason="保存年限の設定")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    """出力ジョブ, read-only: who asked for which export, when, how it went and when its file was
    deleted (EXPORT_FILE_KEEP_DAYS). The file itself is downloaded only by its owner, from 出力."""

    list_display = [
        "pk",
        "owner",
        "kind",
        "description",
        "format",
        "status",
        "created_at",
        "finished_at",
        "downloaded_at",
        "expired_at",
    ]
    list_filter = ["status", "kind", "format"]
    search_fields = ["owner__username", "description"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in ExportJob._meta.fields]


# --- Single sign-on (jusou.sso) --------------------------------------------------------------------


@admin.register(SsoGroupMapping)
class SsoGroupMappingAdmin(SimpleHistoryAdmin):
    """IdP group → agency + role, applied at every login through that IdP (never システム管理者)."""

    list_display = ("provider", "group", "agency", "role", "note")
    list_filter = ("provider", "role", "agency")
    search_fields = ("group", "note")


@admin.register(SsoSession)
class SsoSessionAdmin(ReadOnlyAdmin):
    """The open and ended SSO sessions; the システム管理者 can end a session at once (a lost device, a
    departure before the IdP has caught up): the person is logged out at the next request."""

    list_display = ("identity", "started_at", "mfa", "expires_at", "ended_at", "end_reason")
    list_filter = ("identity__provider", "mfa", ("ended_at", admin.EmptyFieldListFilter))
    search_fields = ("identity__subject", "identity__user__username")
    fields = list_display
    readonly_fields = list_display
    actions = ["end_sessions"]

    @admin.action(description="選択した統合認証のセッションを終了する")
    def end_sessions(self, request, queryset):
        from jusou.sso.services import sessions_end

        ended = sessions_end(queryset, reason=f"システム管理者（{request.user.username}）が終了")
        self.message_user(request, f"{ended}件のセッションを終了しました。")


@admin.register(SsoEvent)
class SsoEventAdmin(ReadOnlyAdmin):
    """The sign-in log of SSO: read only."""

    list_display = ("at", "provider", "kind", "user", "subject", "detail", "address")
    list_filter = ("provider", "kind")
    search_fields = ("subject", "user__username", "detail")
