"""How every service saves a record (save_with_history), and the two refusals services raise.

Every service is keyword-only, runs in a transaction and records who acted, so that the history
(django-simple-history) names a person even outside a request (Celery, management commands).
"""

import logging

from django.core.exceptions import ValidationError

from jusou.models import User

log = logging.getLogger(__name__)


class EditConflict(ValidationError):
    """Someone else changed the record first: the edit was refused so nothing is overwritten. The
    API answers it as it answers an old If-Match, 412 `stale_version` — whether the race was lost at
    the header check or under the row lock; forms ask the user to reload."""


class InvalidTransition(ValidationError):
    """A move its state machine does not allow from the state the record is in now (often because
    someone moved it first). The API answers 409 `invalid_transition`; pages show the message."""


def save_with_history(obj, *, acting_user: User | None, reason: str = "", exclude=None, **save_kwargs):
    """The one way services save a domain record: validate (model and database constraints), then
    save with the acting user and the reason in django-simple-history (also outside a request)."""
    obj.full_clean(exclude=exclude)
    obj._history_user = acting_user
    if reason:
        obj._change_reason = reason
    obj.save(**save_kwargs)
    return obj
