"""The audit log. Append-only: the application has no update or delete path for it."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

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
