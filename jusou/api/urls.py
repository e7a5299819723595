"""/api/v1/: the API's own endpoints, each programme app's resources, and the OpenAPI schema and docs
(for logged-in users only; Swagger UI's assets come from drf-spectacular-sidecar, no CDN)."""

from django.urls import URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from jusou.api import statistics, views

router = SimpleRouter()
router.register("agencies", views.AgencyViewSet, basename="agency")
router.register("auth/tokens", views.TokenViewSet, basename="token")

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="token_obtain"),
    path("me/", views.MeView.as_view(), name="me"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
    path("statistics/report/", statistics.StatisticsReportView.as_view(), name="statistics_report"),
    path(
        "statistics/consultations/",
        statistics.RetiredConsultationStatisticsView.as_view(),
        name="statistics_consultations_retired",
    ),  # 410 Gone
    path("", include("cases.api")),
    path("", include("meetings.api")),
    path("", include("outreach.api")),
    path("", include("participation.api")),
    path("", include("community.api")),
    # Anything else under /api/v1/ answers 404 in the API's JSON shape, not with the HTML page.
    re_path(r"^", views.NotFoundView.as_view()),
]


def _authenticated_by_the_api(patterns) -> None:
    """The API authenticates every request itself (token or session, 401 in JSON): exempt it from
    LoginRequiredMiddleware, which would answer a machine client with a redirect to the login page."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _authenticated_by_the_api(pattern.url_patterns)
        else:
            pattern.callback.login_required = False


_authenticated_by_the_api(urlpatterns)
