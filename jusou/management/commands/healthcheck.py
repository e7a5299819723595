"""Container healthcheck: asks the local web server's /healthz as the proxy would."""

import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "ローカルの Web サーバーが応答するか確認します（docker-compose の healthcheck 用）。"

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/healthz")

    def handle(self, *args, url, **options):
        host = next((h for h in settings.ALLOWED_HOSTS if not h.startswith(".") and h != "*"), "localhost")
        request = urllib.request.Request(url, headers={"Host": host, "X-Forwarded-Proto": "https"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                if response.status != 200:
                    raise CommandError(f"unhealthy: HTTP {response.status}")
        except OSError as error:
            raise CommandError(f"unhealthy: {error}") from None
        self.stdout.write("ok")
