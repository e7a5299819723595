from django.urls import path

from participation import views

app_name = "participation"

urlpatterns = [
    path("participation/cases/<int:pk>/plans/new/", views.plan_new, name="plan_new"),
    path("participation/plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("participation/plans/<int:pk>/propose/<int:host_pk>/", views.propose, name="propose"),
    path("participation/proposals/<int:pk>/answer/", views.answer, name="answer"),
    path("participation/proposals/<int:pk>/placement/", views.placement_start, name="placement_start"),
    path("participation/placements/<int:pk>/move/", views.placement_move, name="placement_move"),
    path("participation/placements/<int:pk>/follow-up/", views.follow_up, name="follow_up"),
    path("participation/development/", views.development, name="development"),
    path("participation/candidates/<int:pk>/join/", views.candidate_join, name="candidate_join"),
    path("participation/candidates/<int:pk>/edit/", views.candidate_edit, name="candidate_edit"),
    path("participation/candidates/<int:pk>/move/", views.candidate_move, name="candidate_move"),
]
