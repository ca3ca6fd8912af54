"""What a reviewer reads about the applicant beside an item: the earlier decisions on
the same person's applications of the same kind. Read-only, and only within the
reviewer's own scope: a decision taken by a branch they do not oversee stays hidden."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.branches.scope import REVIEW_ROLES, scope_clause
from portal.extensions import db
from portal.review.kinds import ReviewKind
from portal.review.models import APPROVED, REJECTED

EARLIER_LIMIT = 10


def earlier_decisions(reviewer, kind: ReviewKind, obj, limit: int = EARLIER_LIMIT) -> list:
    """The applicant's other items of `kind` that were approved or not approved, newest
    decision first, at most `limit`, each decided by a branch in `reviewer`'s review
    scope (their branch loaded). Empty for an item without an applicant."""
    if obj.user_id is None:
        return []
    model = kind.model
    return list(
        db.session.scalars(
            select(model)
            .where(
                model.user_id == obj.user_id,
                model.id != obj.id,
                model.status.in_((APPROVED, REJECTED)),
                scope_clause(reviewer, REVIEW_ROLES, model.branch_path),
            )
            .options(joinedload(model.branch))
            .order_by(model.decided_at.desc(), model.id.desc())
            .limit(limit)
        )
    )
