from django.urls import path

from community import views

app_name = "community"

urlpatterns = [
    path("community/resources/", views.resource_list, name="resource_list"),
    path("community/resources/<int:pk>/", views.resource_detail, name="resource_detail"),
    path("community/areas/", views.area_view, name="area_view"),
    path("community/areas/<int:pk>/", views.area_view, name="area_detail"),
    path("community/activities/", views.activity_list, name="activity_list"),
    path("community/platforms/", views.platform_list, name="platform_list"),
    path("community/coordinator-log/", views.coordinator_log, name="coordinator_log"),
    path("community/records/<slug:kind>/<int:pk>/correct/", views.record_correct, name="record_correct"),
    path("community/records/<slug:kind>/<int:pk>/remove/", views.record_remove, name="record_remove"),
    path("community/gaps/", views.gap_list, name="gap_list"),
    path("community/gaps/<int:pk>/advance/", views.gap_advance, name="gap_advance"),
    path("community/gaps/<int:pk>/link/", views.gap_link, name="gap_link"),
]
