"""The 多機関協働 routes of the API (jusou.api.urls includes them as "meetings.api")."""

from rest_framework.routers import SimpleRouter

from meetings.api.plans import (
    ConferenceViewSet,
    ConsentViewSet,
    PlanViewSet,
    ReferralViewSet,
    SupportMeetingViewSet,
)

router = SimpleRouter()
router.register("referrals", ReferralViewSet, basename="referral")
router.register("consents", ConsentViewSet, basename="consent")
router.register("plans", PlanViewSet, basename="plan")
router.register("support-meetings", SupportMeetingViewSet, basename="support-meeting")
router.register("conferences", ConferenceViewSet, basename="conference")
urlpatterns = router.urls
