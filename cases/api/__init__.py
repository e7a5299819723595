"""包括的相談支援 through the API: people, households, consultations, cases (with their transitions as
actions), assessments and progress notes. Aggregate counts are the statistics report's
(jusou.api.statistics).

Every read starts from the same selectors as the pages (a record outside the caller's basis answers
404), every write goes through the same services (403 where the caller may read but not write),
and whatever the lists and search results mask on the pages is masked here too.
"""

from rest_framework.routers import SimpleRouter

from cases.api.cases import CaseViewSet
from cases.api.consultations import ConsultationViewSet
from cases.api.handovers import HandoverViewSet
from cases.api.households import HouseholdViewSet
from cases.api.people import PersonViewSet

router = SimpleRouter()
router.register("people", PersonViewSet, basename="person")
router.register("households", HouseholdViewSet, basename="household")
router.register("consultations", ConsultationViewSet, basename="consultation")
router.register("cases", CaseViewSet, basename="case")
router.register("handovers", HandoverViewSet, basename="handover")
urlpatterns = router.urls
