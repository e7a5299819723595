from django.urls import path

from meetings import views

app_name = "meetings"

urlpatterns = [
    path("multi-agency/", views.inbox, name="inbox"),
    path("multi-agency/cases/<int:pk>/accept/", views.case_accept, name="case_accept"),
    path("multi-agency/cases/<int:pk>/return/", views.case_return, name="case_return"),
    path("multi-agency/cases/<int:pk>/consents/new/", views.consent_new, name="consent_new"),
    path("multi-agency/cases/<int:pk>/consents/form.pdf", views.consent_print, name="consent_print"),
    path("multi-agency/consents/<int:pk>/form.pdf", views.consent_record_print, name="consent_record_print"),
    path("multi-agency/consents/<int:pk>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("multi-agency/consents/<int:pk>/amend/", views.consent_amend, name="consent_amend"),
    path("multi-agency/consents/<int:pk>/document/", views.consent_document, name="consent_document"),
    path("multi-agency/cases/<int:pk>/decision/", views.decision_new, name="decision_new"),
    path("multi-agency/cases/<int:pk>/plans/new/", views.plan_new, name="plan_new"),
    path("multi-agency/plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("multi-agency/plans/<int:pk>/print/<slug:sheet>.pdf", views.plan_document, name="plan_document"),
    path("multi-agency/tasks/<int:pk>/status/", views.task_status, name="task_status"),
    path("support-meetings/", views.meeting_list, name="meeting_list"),
    path("support-meetings/new/", views.meeting_new, name="meeting_new"),
    path("support-meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("support-meetings/<int:pk>/minutes.pdf", views.meeting_document, name="meeting_document"),
    path("support-meetings/<int:pk>/pledge/", views.meeting_pledge, name="meeting_pledge"),
    path("support-meetings/<int:pk>/briefings/", views.meeting_briefing, name="meeting_briefing"),
    path("support-meetings/<int:pk>/window/", views.meeting_window, name="meeting_window"),
    path(
        "support-meetings/<int:pk>/briefings/<int:briefing_pk>/decisions/",
        views.meeting_decision,
        name="meeting_decision",
    ),
    path("support-meetings/<int:pk>/minutes/", views.meeting_minutes, name="meeting_minutes"),
    path("multi-agency/conferences/", views.conference_list, name="conference_list"),
    path("multi-agency/conferences/<int:pk>/", views.conference_detail, name="conference_detail"),
    path(
        "multi-agency/conferences/<int:pk>/minutes.pdf", views.conference_document, name="conference_document"
    ),
    path(
        "multi-agency/conferences/<int:pk>/plans/<int:plan_pk>/decision/",
        views.conference_plan_decision,
        name="conference_plan_decision",
    ),
    path(
        "multi-agency/conferences/<int:pk>/plans/<int:plan_pk>/evaluation/",
        views.conference_evaluation,
        name="conference_evaluation",
    ),
    path(
        "multi-agency/conferences/<int:pk>/plans/<int:plan_pk>/resource-gap/",
        views.conference_resource_gap,
        name="conference_resource_gap",
    ),
]
