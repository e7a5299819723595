from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from jusou import views
from jusou.audit import views as audit
from jusou.exports import views as export_views
from jusou.notifications import views as notifications_views
from jusou.reports import views as statistics_views
from jusou.sso import views as sso_views
from jusou.staff import views as staff_views
from jusou.staff import views as twofactor_views

admin.site.site_header = "jusou システム管理"
admin.site.site_title = "jusou システム管理"
admin.site.index_title = "マスタ・アカウント管理"

handler403 = "jusou.views.permission_denied"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accounts/login/", staff_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", sso_views.logout, name="logout"),
    path("sso/", include("jusou.sso.urls")),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/2fa/", twofactor_views.twofactor_settings, name="twofactor_settings"),
    path("accounts/2fa/enrol/", twofactor_views.twofactor_enrol, name="twofactor_enrol"),
    path("accounts/2fa/verify/", twofactor_views.twofactor_verify, name="twofactor_verify"),
    path("accounts/tokens/", staff_views.api_tokens, name="api_tokens"),
    path("notifications/", notifications_views.notification_list, name="notification_list"),
    path("notifications/<int:pk>/open/", notifications_views.notification_open, name="notification_open"),
    path("notifications/read-all/", notifications_views.notification_read_all, name="notification_read_all"),
    path("healthz", views.healthz, name="healthz"),
    path("statistics/", statistics_views.statistics_page, name="statistics"),
    path("audit/access-log/", audit.access_log, name="audit_access_log"),
    path("audit/access-log/export.<str:fmt>", audit.access_log_export, name="audit_access_log_export"),
    path("audit/history/", audit.history, name="audit_history"),
    path("audit/sign-ins/", audit.sign_ins, name="audit_sign_ins"),
    path("audit/retention/", include("jusou.retention.urls")),
    path("audit/history/export.<str:fmt>", audit.history_export, name="audit_history_export"),
    path("audit/history/<str:label>/<int:pk>/", audit.history, name="audit_record_history"),
    path("audit/case/<int:pk>/", audit.case_history, name="audit_case_history"),
    path("exports/", export_views.export_list, name="export_list"),
    path("exports/statistics/", export_views.export_statistics, name="export_statistics"),
    path("exports/<int:pk>/", export_views.export_detail, name="export_detail"),
    path("exports/<int:pk>/status.json", export_views.export_status, name="export_status"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export_download"),
    path("api/v1/", include(("jusou.api.urls", "api"), namespace="api")),
    path("admin/", admin.site.urls),
    path("", include("cases.urls")),
    path("", include("meetings.urls")),
    path("", include("community.urls")),
    path("", include("outreach.urls")),
    path("", include("participation.urls")),
]
