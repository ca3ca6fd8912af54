"""Writing the audit log. Services call `record()`; it only adds to db.session, so
the entry commits (or rolls back) with the action it describes."""

from flask import has_request_context, request

from portal.admin.models import AuditEntry
from portal.extensions import db

# Keys that must never reach the log, whatever a caller passes.
FORBIDDEN_KEYS = frozenset({"password", "password_hash", "code", "doc_number", "token", "secret"})


def record(
    action: str,
    *,
    actor=None,
    actor_role: str | None = None,
    branch_id: int | None = None,
    object_kind: str | None = None,
    object_id=None,
    changes: dict | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Add one audit entry. `changes` is a small dict of what changed; secret keys
    are dropped, so an ID number or password can never be logged through here."""
    clean = {k: v for k, v in (changes or {}).items() if k not in FORBIDDEN_KEYS}
    if ip is None and has_request_context():
        ip = request.remote_addr
    entry = AuditEntry(
        action=action,
        actor_id=getattr(actor, "id", actor) if actor is not None else None,
        actor_role=actor_role,
        branch_id=branch_id,
        object_kind=object_kind,
        object_id=str(object_id) if object_id is not None else None,
        ip=ip,
        changes=clean,
    )
    db.session.add(entry)
    return entry
