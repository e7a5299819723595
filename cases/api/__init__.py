"""The 包括的相談支援 routes of the API (jusou.api.urls includes them as "cases.api")."""

from rest_framework.routers import SimpleRouter

from cases.api.cases import (
    CaseViewSet,
    ConsultationViewSet,
    HandoverViewSet,
    HouseholdViewSet,
    PersonViewSet,
)

router = SimpleRouter()
router.register("people", PersonViewSet, basename="person")
router.register("households", HouseholdViewSet, basename="household")
router.register("consultations", ConsultationViewSet, basename="consultation")
router.register("cases", CaseViewSet, basename="case")
router.register("handovers", HandoverViewSet, basename="handover")
urlpatterns = router.urls
