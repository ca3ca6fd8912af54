"""What every application under review has in common (`ReviewMixin`: who applied,
which branch decides, the status and the decision), the indexes the inbox needs, and
the rolled-up pending counts (`PendingTally`, kept by `tallies`).

Imports nothing from the feature packages: their models.py files build on this one.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, event, inspect, select, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from portal.extensions import db
from portal.timeutil import utcnow

PENDING, APPROVED, REJECTED, WITHDRAWN = "pending", "approved", "rejected", "withdrawn"
STATUSES = (PENDING, APPROVED, REJECTED, WITHDRAWN)
DECISIONS = {"approve": APPROVED, "reject": REJECTED}
REASON_MAX = 200

STATUS_LABELS = {
    PENDING: _l("Waiting for a decision"),
    APPROVED: _l("Approved"),
    REJECTED: _l("Not approved"),
    WITHDRAWN: _l("Withdrawn"),
}


def review_indexes(tablename: str) -> tuple:
    """The indexes every review table needs. "Oldest first" walks (status, created_at),
    index-only: id, branch_id and branch_path (whether the item is in scope) come with
    it. A small scope's pending items come from the partial index of pending rows by
    branch path, a prefix range read in order of path; counting a branch's pending
    items reads the one by branch. Both index-only, however many decided rows pile up.
    Queries must compare status with a literal 'pending' for a planner to match it
    (see `inbox.pending_clause`)."""
    where = text("status = 'pending'")
    return (
        Index(
            f"ix_{tablename}_status_created",
            "status",
            "created_at",
            "id",
            "branch_id",
            "branch_path",
        ),
        Index(
            f"ix_{tablename}_pending_branch",
            "branch_id",
            "created_at",
            "id",  # covering: a branch's oldest items come from the index alone
            postgresql_where=where,
            sqlite_where=where,
        ),
        Index(
            f"ix_{tablename}_pending_path",
            "branch_path",
            "created_at",
            "id",
            postgresql_ops={"branch_path": "varchar_pattern_ops"},  # for LIKE 'prefix%'
            postgresql_where=where,
            sqlite_where=where,
        ),
    )


def one_pending_per_applicant(tablename: str) -> Index:
    """A partial unique index: at most one pending item per applicant (works on
    PostgreSQL and SQLite), so a double submit cannot slip past the service check."""
    where = text("status = 'pending'")
    return Index(
        f"uq_{tablename}_pending_user",
        "user_id",
        unique=True,
        postgresql_where=where,
        sqlite_where=where,
    )


class ReviewMixin:
    """Columns of an application under review. `user_id` is the applicant; `branch_id`
    is the branch that decides (its staff, and staff above it, see it in the inbox).
    `branch_path` is that branch's path, kept with the item so the inbox finds a
    scope's items from the item's own index without visiting each one's branch: set on
    every flush that writes branch_id (_path_on_insert/_update) and rewritten when a branch
    moves (move_paths). Subclasses set `__table_args__` including
    `review_indexes(__tablename__)`."""

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    withdrawn_at: Mapped[datetime | None]
    branch_path: Mapped[str] = mapped_column(String(255))

    @declared_attr
    def user_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("users.id"), index=True)

    @declared_attr
    def branch_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("branches.id"))

    @declared_attr
    def decided_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id"))

    @declared_attr
    def user(cls):
        return relationship("User", foreign_keys=lambda: [cls.user_id])

    @declared_attr
    def branch(cls):
        return relationship("Branch", foreign_keys=lambda: [cls.branch_id])

    @declared_attr
    def decided_by(cls):
        return relationship("User", foreign_keys=lambda: [cls.decided_by_id])

    @property
    def is_pending(self) -> bool:
        return self.status == PENDING

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))


def _branch_path(connection, item) -> str:
    # The Branch model through the mixin's relationship: this module sits below the
    # branches package (whose models use the mixin), so it cannot import it.
    branch = inspect(type(item)).relationships["branch"].mapper.class_
    return connection.scalar(select(branch.path).where(branch.id == item.branch_id))


# The item's branch_path is read when its branch_id is written (at flush, after the ORM
# has filled branch_id in from `item.branch` if that was set instead). A path handed in
# by the caller is not trusted: the scope of every inbox depends on it.
@event.listens_for(ReviewMixin, "before_insert", propagate=True)
def _path_on_insert(mapper, connection, item) -> None:
    item.branch_path = _branch_path(connection, item)


@event.listens_for(ReviewMixin, "before_update", propagate=True)
def _path_on_update(mapper, connection, item) -> None:
    if inspect(item).attrs.branch_id.history.has_changes():
        item.branch_path = _branch_path(connection, item)


class PendingTally(db.Model):
    """How many items of one review kind wait at a branch *and every branch below it*.

    Kept up to date in the same transaction as each change (see admin.tallies), so the
    inbox and dashboard read a scope's counts from a few rows instead of counting
    thousands of applications across thousands of branches."""

    __tablename__ = "pending_tallies"

    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)
