"""The audit log. Append-only: the application has no update or delete path for it."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_object", "object_kind", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_role: Mapped[str | None] = mapped_column(String(12))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_kind: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    ip: Mapped[str | None] = mapped_column(String(45))
    # What changed; never a secret or an unmasked ID number (see admin.audit.record).
    changes: Mapped[dict] = mapped_column(JSON, default=dict)


class AuditLogIsAppendOnly(RuntimeError):
    pass


_UNCOMMITTED = "audit_entries_not_yet_committed"


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session, flush_context, instances) -> None:
    """No code path may rewrite history: once an entry is committed, editing or deleting
    it stops the flush. (The transaction that writes an entry may still fill it in.)"""
    fresh = session.info.get(_UNCOMMITTED, ())
    for obj in (*session.dirty, *session.deleted):
        if not isinstance(obj, AuditEntry) or obj in fresh:
            continue
        if obj in session.deleted or session.is_modified(obj):
            raise AuditLogIsAppendOnly(f"audit entry {obj.id} cannot be changed or deleted")


@event.listens_for(Session, "after_flush")
def _remember_fresh_entries(session, flush_context) -> None:
    new = [obj for obj in session.new if isinstance(obj, AuditEntry)]
    if new:
        session.info.setdefault(_UNCOMMITTED, set()).update(new)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_fresh_entries(session) -> None:
    session.info.pop(_UNCOMMITTED, None)
