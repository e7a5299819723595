"""gunicorn settings for the web process: `gunicorn -c python:jusou.gunicorn jusou.wsgi:application`.

Threads, not gunicorn's default sync workers: a sync worker serves one connection at a time and
waits for that client to send its request, so browsers that open a connection and send nothing yet
(pre-connects, slow networks, keep-alive) hold whole workers idle; gunicorn's own documentation
asks for a buffering proxy in front of sync workers, and the compose file has none. With threads a
worker keeps serving while some of its connections are idle. Measured with bench/load.py (50 staff,
think time 2–6 s): sync workers p95 3.1 s with idle CPU; threads see bench/RESULTS.md.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Browsers keep a connection open between a member of staff's pages; closing it after gunicorn's
# default 2 s makes each page pay a new connection (and a request sent just as it closes, an error).
keepalive = 75
timeout = 60
accesslog = "-"

# No `Server` banner: gunicorn writes `Server: gunicorn` itself, before the application's headers, and
# has no setting to leave it out (benoitc/gunicorn#825: the maintainers dropped the version in 20.1
# and keep the name). A response names no server software at all — a scanner learns nothing from it
# (issue 15). The status line and the other default headers stay exactly as gunicorn writes them;
# the reverse proxy in front adds its own Server header or none, as it is configured.
from gunicorn.http.wsgi import Response  # noqa: E402


def _without_server_header(default_headers):
    def headers(self):
        return [line for line in default_headers(self) if not line.lower().startswith("server:")]

    headers.jusou_without_server = True
    return headers


if not getattr(Response.default_headers, "jusou_without_server", False):  # the file is read again on reload
    Response.default_headers = _without_server_header(Response.default_headers)
