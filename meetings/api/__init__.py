"""多機関協働 through the API: the coordinators' referral inbox (accept, return), 本人同意 (record,
withdraw), 支援プラン with goals and 役割分担 (each agency updates its own tasks), 支援会議 (社会福祉法
第106条の6: nothing before 守秘義務, only inside the access window) and 重層的支援会議.

Every read starts from the selectors the pages use (meetings.selectors, cases.selectors): a record
outside the caller's basis answers 404, a write outside it 403. Every write goes through the same
services as the pages. Machine clients may read with `meetings:read`; there is no write scope here,
so only staff write.
"""

from rest_framework.routers import SimpleRouter

from meetings.api.conferences import ConferenceViewSet
from meetings.api.consents import ConsentViewSet
from meetings.api.plans import PlanViewSet
from meetings.api.referrals import ReferralViewSet
from meetings.api.support_meetings import SupportMeetingViewSet

router = SimpleRouter()
router.register("referrals", ReferralViewSet, basename="referral")
router.register("consents", ConsentViewSet, basename="consent")
router.register("plans", PlanViewSet, basename="plan")
router.register("support-meetings", SupportMeetingViewSet, basename="support-meeting")
router.register("conferences", ConferenceViewSet, basename="conference")
urlpatterns = router.urls
