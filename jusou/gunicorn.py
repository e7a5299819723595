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
