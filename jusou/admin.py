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
from jusou.models import Agency, ApiClient, ApiScope, Area, ExportJob, StaffMembership, User
from jusou.retention.models import RetentionPolicy


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


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, BaseUserAdmin):
    list_display = ["username", "last_name", "first_name", "email", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", "memberships__role", "memberships__agency"]
    readonly_fields = ["is_staff", "is_superuser", "last_login", "date_joined"]
    inlines = [StaffMembershipInline]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("氏名・連絡先", {"fields": ("last_name", "first_name", "email")}),
        ("状態", {"fields": ("is_active", "is_staff", "is_superuser", "last_login", "date_joined")}),
    )


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
                services.membership_end(membership=obj, acting_user=request.user, ended_on=obj.ended_on)
        else:
            saved = services.membership_grant(
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
            saved = services.api_client_register(
                name=obj.name, department=obj.department, agency=obj.agency, scopes=obj.scopes,
                acting_user=request.user,
            )  # fmt: skip
            obj.pk, obj.user = saved.pk, saved.user

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="トークンを発行する（一度だけ表示）")
    def issue_token(self, request, queryset):
        for client in queryset.filter(is_active=True):
            instance, token = token_issue(user=client.user)
            self.message_user(
                request, f"{client.name}: {token}（{instance.expiry:%Y-%m-%d} まで有効。この画面を離れると再表示できません）",
                messages.WARNING,
            )  # fmt: skip

    @admin.action(description="停止する（すべてのトークンが無効になります）")
    def suspend(self, request, queryset):
        for client in queryset:
            services.api_client_set_active(client=client, active=False, acting_user=request.user)

    @admin.action(description="再開する")
    def resume(self, request, queryset):
        for client in queryset:
            services.api_client_set_active(client=client, active=True, acting_user=request.user)


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
class ExportJobAdmin(admin.ModelAdmin):
    """出力ジョブ, read-only: who asked for which export, when, how it went and when its file was
    deleted (EXPORT_FILE_KEEP_DAYS). The file itself is downloaded only by its owner, from 出力."""

    list_display = ["pk", "owner", "kind", "description", "format", "status", "created_at", "finished_at",
                    "downloaded_at", "expired_at"]  # fmt: skip
    list_filter = ["status", "kind", "format"]
    search_fields = ["owner__username", "description"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in ExportJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
