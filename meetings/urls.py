from django.urls import path

from meetings import views

app_name = "meetings"

urlpatterns = [
    path("multi-agency/", views.inbox, name="inbox"),
    path("multi-agency/cases/<int:pk>/accept/", views.case_accept, name="case_accept"),
    path("multi-agency/cases/<int:pk>/return/", views.case_return, name="case_return"),
    path("multi-agency/cases/<int:pk>/consents/new/", views.consent_new, name="consent_new"),
    path("multi-agency/consents/<int:pk>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("multi-agency/cases/<int:pk>/decision/", views.decision_new, name="decision_new"),
]
