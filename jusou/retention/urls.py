from django.urls import path

from jusou.retention import views

urlpatterns = [
    path("", views.retention_list, name="retention_list"),
    path("approve/", views.retention_approve, name="retention_approve"),
    path("scan/", views.retention_scan_now, name="retention_scan_now"),
    path("register/", views.retention_register, name="retention_register"),
    path("register/export.<str:fmt>", views.retention_register_export, name="retention_register_export"),
    path("<int:pk>/", views.retention_detail, name="retention_detail"),
    path("<int:pk>/keep/", views.retention_keep, name="retention_keep"),
    path("<int:pk>/relist/", views.retention_relist, name="retention_relist"),
]
