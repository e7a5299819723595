import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jusou.settings")

application = get_wsgi_application()

# What is loaded by now (Django, the apps, the URL configuration) lives as long as the process. Moved
# out of the collector's reach, it is no longer scanned by every full collection, which otherwise
# takes ~90 ms in the middle of some request (measured on the case page: p95 ≈ max 184 ms → 118 ms).
gc.freeze()
