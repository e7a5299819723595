from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("consultations/new/", views.intake, name="intake"),
    path("persons/search/", views.person_search, name="person_search"),
    path("pick/", views.pick, name="pick"),
    path("consultations/", views.consultation_list, name="consultation_list"),
    path("persons/<int:pk>/", views.person_detail, name="person_detail"),
    path("persons/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("persons/<int:pk>/confidentiality/", views.confidentiality_set, name="confidentiality_set"),
    path("persons/<int:pk>/confidentiality/lift/", views.confidentiality_lift, name="confidentiality_lift"),
    path("household-members/<int:pk>/leave/", views.household_member_leave, name="household_member_leave"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/emergency/", views.emergency_access, name="emergency_access"),
    path("audit/emergency/", views.emergency_review, name="emergency_review"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/print/<slug:form>.pdf", views.case_document, name="case_document"),
    path("cases/<int:pk>/transition/", views.case_transition, name="case_transition"),
    path("cases/<int:pk>/update/", views.case_update, name="case_update"),
    path("cases/<int:pk>/handover/", views.case_handover, name="case_handover"),
    path("handovers/<int:pk>/accept/", views.handover_accept, name="handover_accept"),
    path("handovers/<int:pk>/decline/", views.handover_decline, name="handover_decline"),
    path("cases/<int:pk>/assessment/new/", views.assessment_new, name="assessment_new"),
    path("cases/<int:pk>/notes/new/", views.note_add, name="note_add"),
    path("notes/<int:pk>/correct/", views.note_correct, name="note_correct"),
]
