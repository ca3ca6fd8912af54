"""Membership applications (a review kind) and the members they make."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
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


class TermMixin:
    """A numbered membership with a term and a card token: what individual members and
    group members share (the life cycle over these columns is in membership.terms)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
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


class Member(TermMixin, db.Model):
    """A person's membership of a branch: numbered, with a term and a card token."""

    __tablename__ = "members"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("membership_applications.id"))
    member_type: Mapped[str] = mapped_column(String(20))

    user = relationship("User", foreign_keys=[user_id])
    branch = relationship("Branch", foreign_keys="Member.branch_id")


# --- group membership (团体会员) -----------------------------------------------------------

ORG_NAME_MAX = 100
USCC_LENGTH = 18
SIZE_MAX = 10_000_000


class _Organisation:
    """What an organisation says about itself, on the application and on the group."""

    org_name: Mapped[str] = mapped_column(String(ORG_NAME_MAX))
    uscc: Mapped[str] = mapped_column(String(USCC_LENGTH))  # 统一社会信用代码, validated
    org_type: Mapped[str] = mapped_column(String(20))  # a key of groups.ORG_TYPES
    size: Mapped[int]  # people working or enrolled there
    address: Mapped[str] = mapped_column(String(TEXT_MAX))


class GroupMembershipApplication(_Organisation, ReviewMixin, db.Model):
    """An organisation asks a branch to take it on as a group member, through a citizen
    who is its contact (the applicant). One application waits per contact and per code."""

    __tablename__ = "group_membership_applications"
    __table_args__ = (
        *review_indexes(__tablename__),
        one_pending_per_applicant(__tablename__),
        # One organisation, one application waiting (a second contact cannot slip in).
        Index(
            "uq_group_membership_applications_pending_uscc",
            "uscc",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    charter_version: Mapped[str] = mapped_column(String(20), default="")


class GroupMember(_Organisation, TermMixin, db.Model):
    """An organisation's group membership: one row per code (a former group admitted
    again keeps its row), numbered in the group series of its branch; `user_id` is the
    contact who applied and who renews, resigns and holds the card page."""

    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("uscc", name="uq_group_members_uscc"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("group_membership_applications.id")
    )

    user = relationship("User", foreign_keys=[user_id])
    branch = relationship("Branch", foreign_keys="GroupMember.branch_id")
