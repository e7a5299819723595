"""Celery for jusou. Worker: `celery -A jusou worker -l info`; beat (exactly one): `celery -A jusou beat`.

Configuration comes from settings.py (CELERY_*): Redis when REDIS_URL is set, otherwise tasks run
eagerly in-process.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jusou.settings")

app = Celery("jusou")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
