"""Membership applications (a review kind) and the members they make."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.review.models import ReviewMixin, one_pending_per_applicant, review_indexes
from portal.timeutil import utcnow

TEXT_MAX = 100
REASON_MAX = 200

# Stored statuses; "expiring" is computed from valid_until (see services.lifecycle).
ACTIVE, EXPIRED, RESIGNED, REVOKED = "active", "expired", "resigned", "revoked"


class MembershipApplication(ReviewMixin, db.Model):
    """A citizen asks a branch to take them on as a member."""

    __tablename__ = "membership_applications"
    __table_args__ = (*review_indexes(__tablename__), one_pending_per_applicant(__tablename__))

    member_type: Mapped[str] = mapped_column(String(20), default="ordinary")
    occupation: Mapped[str] = mapped_column(String(TEXT_MAX), default="")
    work_unit: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    address: Mapped[str] = mapped_column(String(TEXT_MAX), default="")
    motivation: Mapped[str | None] = mapped_column(String(REASON_MAX))
    charter_version: Mapped[str] = mapped_column(String(20), default="")


class Member(db.Model):
    """A person's membership of a branch: numbered, with a term and a card token."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("membership_applications.id"))
    number: Mapped[str] = mapped_column(String(40), unique=True)
    member_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default=ACTIVE, index=True)
    valid_from: Mapped[date]
    valid_until: Mapped[date] = mapped_column(index=True)
    card_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    renewed_at: Mapped[datetime | None]
    expiring_notice_at: Mapped[datetime | None]
    expired_notice_at: Mapped[datetime | None]

    user = relationship("User", foreign_keys=[user_id])
    branch = relationship("Branch", foreign_keys=[branch_id])
