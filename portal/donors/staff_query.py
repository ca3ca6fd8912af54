"""Staff lists of donor registrations and sample sessions: in the staff member's scope
(scope.py only), searched by name, filtered by status, one page at a time. The lists
read no encrypted column: no health data, contacts or choices."""

from dataclasses import dataclass

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from portal.accounts.models import RealNameProfile, User
from portal.branches.scope import scoped_branch_ids
from portal.donors.models import MarrowRegistration, SampleBooking, SampleSession
from portal.extensions import db

PER_PAGE = 50


def registrations_query(model, user, q: str = "", status: str = "") -> Select:
    """`model` (MarrowRegistration or OrganRegistration) rows in `user`'s scope, newest
    first, matching `q` (a part of the name, or the last four digits of the phone) and
    `status`."""
    stmt = (
        select(model)
        .join(User, User.id == model.user_id)
        .outerjoin(RealNameProfile, RealNameProfile.user_id == User.id)
        .options(
            contains_eager(model.user).contains_eager(User.profile),
            joinedload(model.branch),
        )
        .where(model.branch_id.in_(scoped_branch_ids(user)))
    )
    if q:
        terms = [RealNameProfile.full_name.contains(q, autoescape=True)]
        if q.isdigit() and len(q) == 4:
            terms.append(User.phone.endswith(q, autoescape=True))
        stmt = stmt.where(or_(*terms))
    if status:
        stmt = stmt.where(model.status == status)
    return stmt.order_by(model.created_at.desc(), model.id.desc())


def sessions_query(user, upcoming_only: bool, now) -> Select:
    stmt = (
        select(SampleSession)
        .options(joinedload(SampleSession.branch))
        .where(SampleSession.branch_id.in_(scoped_branch_ids(user)))
    )
    if upcoming_only:
        stmt = stmt.where(SampleSession.ends_at > now)
        return stmt.order_by(SampleSession.starts_at, SampleSession.id)
    return stmt.order_by(SampleSession.starts_at.desc(), SampleSession.id.desc())


def roster(session: SampleSession) -> list[SampleBooking]:
    """The session's appointments (booked, attended, cancelled), by name."""
    return list(
        db.session.scalars(
            select(SampleBooking)
            .where(SampleBooking.session_id == session.id)
            .options(
                joinedload(SampleBooking.registration)
                .joinedload(MarrowRegistration.user)
                .joinedload(User.profile)
            )
            .order_by(SampleBooking.status, SampleBooking.created_at, SampleBooking.id)
        ).unique()
    )


@dataclass
class Page:
    rows: list
    number: int
    has_next: bool


def page_of(stmt: Select, page: int) -> Page:
    rows = list(db.session.scalars(stmt.offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)).unique())
    return Page(rows[:PER_PAGE], page, len(rows) > PER_PAGE)
