"""Work for the Celery worker, queued once the transaction commits.

A service names the task it needs run later and never imports the tasks module, which imports the
services: the core has no import circle. `JusouConfig.ready` imports `jusou.tasks`, so every process
(web, worker, management command) knows the names.
"""

from django.db import transaction

from jusou.celery import app


def after_commit(task: str, *args) -> None:
    """Queue the task named `task` with `args` when the current transaction commits (at once outside
    one). A rolled-back transaction queues nothing. Eager without Redis: it then runs in this process."""
    transaction.on_commit(lambda: app.tasks[task].delay(*args))
