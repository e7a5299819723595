from django.urls import path

from jusou.sso import views

urlpatterns = [
    path("oidc/<slug:key>/login/", views.oidc_login, name="sso_oidc_login"),
    path("oidc/<slug:key>/callback/", views.oidc_callback, name="sso_oidc_callback"),
    path(
        "oidc/<slug:key>/backchannel-logout/",
        views.oidc_backchannel_logout,
        name="sso_oidc_backchannel_logout",
    ),
]
