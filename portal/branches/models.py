"""The branch tree and the staff roles held at its branches."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.review.models import ReviewMixin, one_pending_per_applicant, review_indexes
from portal.timeutil import utcnow

LEVELS = ("national", "province", "city", "county", "grassroots")
UNIT_TYPES = ("township", "community", "school", "hospital", "company")
ROLES = ("admin", "officer", "auditor")
HOME_BRANCH_NOTE_MAX = 200


def name_in(locale: str, name_zh: str, name_en: str) -> str:
    """A branch's name in the page's language (Branch, and the light rows pages read)."""
    return name_en if locale == "en" else name_zh


class Branch(db.Model):
    """A Red Cross branch. `path` is a materialized path of ids ("/1/4/17/") so a
    whole subtree is one indexed prefix match."""

    __tablename__ = "branches"
    __table_args__ = (
        # varchar_pattern_ops lets PostgreSQL use the index for LIKE 'prefix%'
        # whatever the database collation; other backends ignore the option. The id
        # rides along so "ids of this subtree" is an index-only scan, not one heap
        # page per branch.
        Index(
            "ix_branches_path",
            "path",
            postgresql_ops={"path": "varchar_pattern_ops"},
            postgresql_include=["id"],
        ),
        # The other way round: "is this item's branch in the scope?" for each item on
        # the way to a deep inbox page reads the path from the index, not the table.
        Index("ix_branches_id_path", "id", "path"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)
    level: Mapped[str] = mapped_column(String(12))
    unit_type: Mapped[str | None] = mapped_column(String(12))
    code: Mapped[str | None] = mapped_column(String(20), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(255), default="")
    depth: Mapped[int] = mapped_column(default=0)
    address: Mapped[str | None] = mapped_column(String(255))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    parent: Mapped["Branch | None"] = relationship(remote_side=[id])

    def name(self, locale: str) -> str:
        return name_in(locale, self.name_zh, self.name_en)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class StaffRole(db.Model):
    """A role held at one branch; it reaches that branch's whole subtree."""

    __tablename__ = "staff_roles"
    __table_args__ = (
        Index("ix_staff_roles_user_active", "user_id", "revoked_at"),
        # At most one live grant of a role per user and branch, even if two admins
        # press "grant" at the same moment (partial unique index on both backends).
        Index(
            "uq_staff_roles_live",
            "user_id",
            "branch_id",
            "role",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
            sqlite_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    role: Mapped[str] = mapped_column(String(12))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None]

    user = relationship("User", foreign_keys=[user_id])
    branch: Mapped[Branch] = relationship()


class HomeBranchRequest(ReviewMixin, db.Model):
    """A citizen asks a branch to be their home branch (review kind "home_branch").
    `branch_id` is the branch asked to receive the citizen (it decides);
    `from_branch_id` is the citizen's home branch at the time, for a transfer."""

    __tablename__ = "home_branch_requests"
    __table_args__ = (
        *review_indexes("home_branch_requests"),
        one_pending_per_applicant("home_branch_requests"),
    )

    from_branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    note: Mapped[str | None] = mapped_column(String(HOME_BRANCH_NOTE_MAX))

    from_branch = relationship("Branch", foreign_keys=[from_branch_id])

    @property
    def is_transfer(self) -> bool:
        return self.from_branch_id is not None
