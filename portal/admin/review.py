"""The shared review life cycle: pending -> approved / rejected (with a reason) /
withdrawn (by the applicant). Every kind of application uses `ReviewMixin` and is
decided through `decide()` so that who, when and why, the audit entry and the SMS to
the applicant never differ between kinds.

Services add/flush only; the view commits.
"""

from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    event,
    func,
    inspect,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from portal.admin import audit, tallies
from portal.admin.workbench import kind_for
from portal.branches.models import Branch
from portal.branches.scope import REVIEW_ROLES, path_under
from portal.branches.scope import acting_role as scope_acting_role
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


class ReviewError(ValueError):
    """A review step that breaks a rule; the message is translated text to show."""


def review_indexes(tablename: str) -> tuple:
    """The indexes every review table needs. "Oldest first" walks (status, created_at),
    index-only: id, branch_id and branch_path (whether the item is in scope) come with
    it. A small scope's pending items come from the partial index of pending rows by
    branch path, a prefix range read in order of path; counting a branch's pending
    items reads the one by branch. Both index-only, however many decided rows pile up.
    Queries must compare status with a literal 'pending' for a planner to match it
    (see `workbench.pending_clause`)."""
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
    return connection.scalar(select(Branch.path).where(Branch.id == item.branch_id))


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


def move_paths(old_prefix: str, new_prefix: str) -> list[type]:
    """A branch's path changes from `old_prefix` to `new_prefix` (a move): rewrite the
    branch_path of every review item at it or below, of every kind, one UPDATE per
    table, in the moving transaction (branches.services.move_branch). Returns the models
    updated: the ORM did not see these UPDATEs, so the caller expires their loaded rows."""
    from portal.admin.workbench import kinds

    models = sorted({kind.model for kind in kinds()}, key=lambda m: m.__name__)
    for model in models:
        db.session.execute(
            update(model)
            .where(path_under(old_prefix, model.branch_path))
            .values(
                branch_path=literal(new_prefix)
                + func.substr(model.branch_path, len(old_prefix) + 1)
            )
            .execution_options(synchronize_session=False)
        )
    return models


def acting_role(actor, branch) -> str | None:
    """The reviewing role through which `actor` reaches `branch` (admin before officer),
    or None when the branch is outside their review scope. Kept under this name for
    callers of review; the rule itself is scope.acting_role's."""
    return scope_acting_role(actor, branch, REVIEW_ROLES)


def _compare_and_set(obj, **values) -> bool:
    """UPDATE ... WHERE id=:id AND status='pending'. The database decides who wins when
    two requests race: the loser's UPDATE matches no row (PostgreSQL re-checks the
    WHERE after the winner commits; SQLite serialises writers)."""
    model = type(obj)
    result = db.session.execute(
        update(model)
        .where(model.id == obj.id, model.status == PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    won = result.rowcount == 1
    if won:
        # The item left the pending state: its branch and every ancestor count one less.
        tallies.adjust(kind_for(obj).key, obj.branch.path, -1)
    # Reload either way: on success to see the new values, on failure to see the winner's.
    db.session.refresh(obj)
    return won


def decide(obj, actor, decision: str, reason: str | None = None) -> bool:
    """Approve or reject a pending item as `actor`.

    Promises: the change happens only from pending and only once, however many officers
    decide at the same moment; on success it records decided_by/at and the reason, writes
    the audit entry (review_approved / review_rejected), queues an SMS to the applicant in
    their language and, on approval, runs the kind's on_approved hook. Returns True when
    this call made the decision, False when the item was no longer pending.
    Refuses (ReviewError): an actor without a reviewing role over the item's branch, a
    rejection without a reason, a reason longer than REASON_MAX. ValueError for an unknown
    decision word.
    """
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    kind = kind_for(obj)
    role = acting_role(actor, obj.branch)
    if role is None:
        raise ReviewError(_l("You cannot decide on this item."))
    reason = (reason or "").strip()
    if decision == "reject" and not reason:
        raise ReviewError(_l("Please write the reason, so the applicant knows why."))
    if len(reason) > REASON_MAX:
        raise ReviewError(_l("Please keep the reason under %(n)d characters.", n=REASON_MAX))

    status = DECISIONS[decision]
    now = utcnow()
    if not _compare_and_set(
        obj, status=status, decided_at=now, decided_by_id=actor.id, decision_reason=reason or None
    ):
        return False

    audit.record(
        "review_approved" if status == APPROVED else "review_rejected",
        actor=actor,
        actor_role=role,
        branch_id=obj.branch_id,
        object_kind=kind.key,
        object_id=obj.id,
        changes={"reason": reason},
    )
    _notify_applicant(obj, kind, status, reason)
    if status == APPROVED and kind.on_approved is not None:
        kind.on_approved(obj, actor)
    db.session.flush()
    return True


def withdraw(obj, user) -> bool:
    """The applicant takes back their own pending item. Returns True when withdrawn,
    False when it was no longer pending (already decided). Refuses (ReviewError)
    anyone but the applicant."""
    if user is None or obj.user_id != getattr(user, "id", None):
        raise ReviewError(_l("Only the person who applied can withdraw this."))
    now = utcnow()
    if not _compare_and_set(obj, status=WITHDRAWN, withdrawn_at=now):
        return False
    audit.record(
        "review_withdrawn",
        actor=user,
        branch_id=obj.branch_id,
        object_kind=kind_for(obj).key,
        object_id=obj.id,
    )
    db.session.flush()
    return True


def _notify_applicant(obj, kind, status: str, reason: str) -> None:
    from portal.notifications.services import queue_sms

    applicant = obj.user
    if applicant is None or not applicant.phone:
        return
    locale = applicant.locale or current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")
    with force_locale(locale):
        branch = obj.branch.name(locale) if obj.branch else ""
        what = str(kind.label)
        if status == APPROVED:
            body = _(
                "Red Cross: %(branch)s approved your request (%(what)s).", branch=branch, what=what
            )
        else:
            body = _(
                "Red Cross: %(branch)s could not approve your request (%(what)s). Reason: %(reason)s",
                branch=branch,
                what=what,
                reason=reason,
            )
    queue_sms(applicant.phone, body, kind="review_decision")
