"""Refused access, audited. When scope.py refuses a staff member an object that exists in
a branch outside their scope, the caller still gets the plain 404; an "access_refused"
entry (who, what, when, from where) goes to the audit log under the object's branch, so
the auditors above that branch see who is looking.

The entry is written in a session of its own and committed at once: the request that
was refused ends in an error and rolls back, and the record must outlive it. Repeated
attempts are summarised rather than logged one by one: the first attempt on an object in
an hour is written, then the 10th, the 100th, ... with the running count, so a script
hammering ids cannot flood the log.
"""

import logging

from flask import current_app, has_request_context, request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portal.audit.log import mask_id_numbers
from portal.audit.models import AuditEntry
from portal.branches.signals import access_refused
from portal.extensions import db, limiter

log = logging.getLogger(__name__)

WINDOW_SECONDS = 3600


def _attempts(actor_id, object_kind: str, object_id) -> int:
    """This attempt's number within the window, counted where the rate limits count
    (Redis when configured, so every worker agrees)."""
    key = f"access-refused/{actor_id}/{object_kind}/{object_id}"
    try:
        return limiter.storage.incr(key, WINDOW_SECONDS)
    except Exception:  # the counter is a nicety; the refusal is recorded regardless
        log.warning("refusal counter unavailable", exc_info=True)
        return 1


def _worth_recording(n: int) -> bool:
    while n >= 10 and n % 10 == 0:
        n //= 10
    return n == 1


@access_refused.connect
def record_refusal(user, object_kind: str, object_id, branch_id: int | None, **_) -> None:
    actor_id = getattr(user, "id", None)
    attempts = _attempts(actor_id, object_kind, object_id)
    if not _worth_recording(attempts):
        return
    entry = AuditEntry(
        action="access_refused",
        actor_id=actor_id,
        branch_id=branch_id,
        object_kind=object_kind,
        object_id=str(object_id),
        ip=request.remote_addr if has_request_context() else None,
        changes=mask_id_numbers(
            {
                "attempts": attempts,
                "within_minutes": WINDOW_SECONDS // 60,
                "path": request.path if has_request_context() else None,
            }
        ),
    )
    try:
        with Session(db.engine) as session:
            session.add(entry)
            session.commit()
    except SQLAlchemyError:
        # Never turn the caller's 404 into a 500 because the log could not be written.
        current_app.logger.warning("could not record a refused access", exc_info=True)
