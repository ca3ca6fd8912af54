"""The staff member list: members in the staff member's scope, searched and filtered,
one page at a time. Scope comes only from scope.py."""

from dataclasses import dataclass

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import contains_eager

from portal.accounts.models import RealNameProfile, User
from portal.branches.models import Branch
from portal.branches.scope import ids_under, scoped_branch_ids
from portal.extensions import db
from portal.membership.models import Member
from portal.membership.terms import FILTERS, status_clause
from portal.timeutil import today_local

PER_PAGE = 50


def members_query(user, q: str = "", status: str = "", branch: Branch | None = None) -> Select:
    """Members in `user`'s scope (within `branch`'s subtree when given, which the caller
    has checked is in scope), matching `q`: a name, a number, or the last four digits of
    the phone."""
    branch_ids = ids_under([branch.path]) if branch is not None else scoped_branch_ids(user)
    stmt = (
        select(Member)
        .join(Member.user)
        .join(Member.branch)
        .outerjoin(RealNameProfile, RealNameProfile.user_id == User.id)
        .options(
            contains_eager(Member.branch),
            contains_eager(Member.user).contains_eager(User.profile),
        )
        .where(Member.branch_id.in_(branch_ids))
    )
    q = (q or "").strip()
    if q:
        terms = [
            Member.number == q.upper(),
            RealNameProfile.full_name.contains(q, autoescape=True),
        ]
        if q.isdigit() and len(q) == 4:
            terms.append(User.phone.endswith(q, autoescape=True))
        stmt = stmt.where(or_(*terms))
    if status in FILTERS:
        stmt = stmt.where(status_clause(Member, status, today_local()))
    return stmt.order_by(Member.created_at.desc(), Member.id.desc())


@dataclass
class MemberPage:
    members: list[Member]
    number: int
    has_next: bool


def members_page(stmt: Select, page: int) -> MemberPage:
    rows = list(db.session.scalars(stmt.offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)).unique())
    return MemberPage(rows[:PER_PAGE], page, len(rows) > PER_PAGE)
