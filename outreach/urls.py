from django.urls import path

from outreach import views

app_name = "outreach"

urlpatterns = [
    path("outreach/", views.engagement_list, name="engagement_list"),
    path("outreach/<int:pk>/", views.engagement_detail, name="engagement_detail"),
    path("outreach/<int:pk>/contacts/", views.contact_add, name="contact_add"),
    path("outreach/<int:pk>/stage/", views.stage_change, name="stage_change"),
    path("outreach/<int:pk>/link/", views.link, name="link"),
    path("outreach/<int:pk>/end/", views.end, name="end"),
]
