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
    path("saml/<slug:key>/login/", views.saml_login, name="sso_saml_login"),
    path("saml/<slug:key>/acs/", views.saml_acs, name="sso_saml_acs"),
    path("saml/<slug:key>/sls/", views.saml_sls, name="sso_saml_sls"),
    path("saml/<slug:key>/slo/soap/", views.saml_soap, name="sso_saml_soap"),
    path("saml/<slug:key>/metadata/", views.saml_metadata, name="sso_saml_metadata"),
]
