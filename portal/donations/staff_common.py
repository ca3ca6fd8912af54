"""What the staff pages of donations share: the branches and projects a staff member
may choose from, and the role they act through."""

from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import select

from portal.branches.models import Branch
from portal.branches.scope import (
    REVIEW_ROLES,
    acting_role,
    scoped_branch_ids,
)
from portal.donations.models import (
    CLOSED,
    Project,
)
from portal.extensions import db

BRANCH_CHOICES_MAX = 300
DONOR_FIELDS = ("donor_name", "donor_phone")


def branch_choices(roles=REVIEW_ROLES) -> list[tuple[str, str]]:
    """(id, name) of the open branches where the user holds one of `roles`."""
    locale = str(get_locale())
    branches = db.session.scalars(
        select(Branch)
        .where(Branch.id.in_(scoped_branch_ids(current_user, roles)), Branch.closed_at.is_(None))
        .order_by(Branch.path)
        .limit(BRANCH_CHOICES_MAX)
    )
    return [(str(b.id), b.name(locale)) for b in branches]


def projects_in_scope(open_only=True) -> list[Project]:
    """Projects of the branches where the user records (open ones unless told)."""
    stmt = select(Project).where(
        Project.branch_id.in_(scoped_branch_ids(current_user, REVIEW_ROLES))
    )
    if open_only:
        stmt = stmt.where(Project.status != CLOSED)
    return list(db.session.scalars(stmt.order_by(Project.code).limit(BRANCH_CHOICES_MAX)))


def recording_role(branch) -> str | None:
    """The role through which the user records at `branch` (for the audit log)."""
    return acting_role(current_user, branch, REVIEW_ROLES)
