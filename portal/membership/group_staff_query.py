"""The staff list of group members: those of the staff member's scope, searched and
filtered, one page at a time. Scope comes only from scope.py."""

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import contains_eager

from portal.accounts.models import RealNameProfile, User
from portal.branches.models import Branch
from portal.branches.scope import ids_under, scoped_branch_ids
from portal.membership.models import GroupMember
from portal.membership.staff_query import members_page as groups_page
from portal.membership.terms import FILTERS, status_clause
from portal.timeutil import today_local

# One page of rows (any term table's statement): the member list's paging.
__all__ = ["FILTERS", "groups_page", "groups_query"]


def groups_query(user, q: str = "", status: str = "", branch: Branch | None = None) -> Select:
    """Group members in `user`'s scope (within `branch`'s subtree when given, which the
    caller checked is in scope) matching `q`: the organisation's name, the group number,
    the unified social credit code, the contact's name or the last four digits of the
    contact's phone."""
    branch_ids = ids_under([branch.path]) if branch is not None else scoped_branch_ids(user)
    stmt = (
        select(GroupMember)
        .join(GroupMember.user)
        .join(GroupMember.branch)
        .outerjoin(RealNameProfile, RealNameProfile.user_id == User.id)
        .options(
            contains_eager(GroupMember.branch),
            contains_eager(GroupMember.user).contains_eager(User.profile),
        )
        .where(GroupMember.branch_id.in_(branch_ids))
    )
    q = (q or "").strip()
    if q:
        terms = [
            GroupMember.number == q.upper(),
            GroupMember.uscc == q.upper(),
            GroupMember.org_name.contains(q, autoescape=True),
            RealNameProfile.full_name.contains(q, autoescape=True),
        ]
        if q.isdigit() and len(q) == 4:
            terms.append(User.phone.endswith(q, autoescape=True))
        stmt = stmt.where(or_(*terms))
    if status in FILTERS:
        stmt = stmt.where(status_clause(GroupMember, status, today_local()))
    return stmt.order_by(GroupMember.created_at.desc(), GroupMember.id.desc())
