"""Response headers the whole application carries, set in one place.

`Cache-Control: no-store, private` on every response Django makes — pages, the API, the login page,
redirects, errors and downloads alike. Nearly every response names people (a case page, a list, an
API body, a file), and a shared 庁内 PC's browser must keep none of them after the member of staff has
logged out; deciding per view would leave the next new view cached until someone noticed. The only
responses left cacheable are static files (CSS, JavaScript, the API documentation's assets): WhiteNoise
answers those before this middleware, at its place in MIDDLEWARE, and they carry nobody's data.
`private` is for caches on the way that ignore no-store (an older 庁内 proxy must not share a page).
"""

PERSONAL_DATA_CACHE_CONTROL = "no-store, private"


class NoStoreMiddleware:
    """Every response it sees is kept in no cache; it must stand right after WhiteNoise (settings)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Replaces what a view set (never_cache's max-age=0, a download's no-store): one rule, no
        # view can loosen it by accident.
        response["Cache-Control"] = PERSONAL_DATA_CACHE_CONTROL
        return response
