"""For random ledgers (hypothesis): at every level of the tree (society, province, city,
county) and for every project, the public totals equal the sums of the entries;
received = allocated + unallocated (unallocated counted gift by gift); each project's
balance = allocated - spent and never negative; the tallies equal a recount."""

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.donations import ledger, spending, tallies
from portal.donations.errors import LedgerError
from portal.donations.models import Allocation, Donation, Expense, Project
from portal.donations.public_query import Scope, accounts
from portal.extensions import db
from tests.donations_helpers import donations_world, gift, make_project, person

amounts = st.integers(min_value=1, max_value=500_000)
days = st.dates(min_value=date(2025, 11, 1), max_value=date(2026, 6, 30))
operation = st.one_of(
    st.tuples(st.just("gift"), st.integers(0, 3), st.booleans(), amounts, days),
    st.tuples(st.just("allocate"), st.integers(0, 3), st.booleans(), amounts, days),
    st.tuples(st.just("expense"), st.integers(0, 3), st.booleans(), amounts, days),
    st.tuples(st.just("reverse_gift"), st.integers(0, 50), st.booleans(), amounts, days),
    st.tuples(st.just("reverse_expense"), st.integers(0, 50), st.booleans(), amounts, days),
)


@pytest.fixture
def world(app, make_branch, make_user, grant_role):
    w = donations_world(make_branch, make_user, grant_role)
    w.branches = [w.county, w.other, w.city, w.province]
    w.projects = [
        w.home,
        make_project(w.other, "BAJY-610323-2026"),
        w.angel,
        make_project(w.province, "JSS-610000-2026", title="地震救灾"),
    ]
    return w


def _apply(w, op):
    kind, i, flag, fen, on = op
    o = w.officer
    if kind == "gift":
        project = w.projects[i] if flag else None
        ledger.record(
            w.branches[i],
            project,
            gift(fen, on=on, channel="bank" if flag else "cash"),
            person(),
            o,
            "officer",
        )
    elif kind == "allocate":
        spending.allocate_from_pool(w.branches[i], w.projects[i], fen, on, o, "officer")
    elif kind == "expense":
        spending.record_expense(w.projects[i], on, fen, "物资", "若干户", o, "officer")
    elif kind == "reverse_gift":
        gifts = db.session.scalars(
            select(Donation).where(Donation.amount_fen > 0).order_by(Donation.id)
        ).all()
        if gifts:
            ledger.reverse(gifts[i % len(gifts)], o, "officer", "更正", on)
    else:
        rows = db.session.scalars(
            select(Expense).where(Expense.amount_fen > 0).order_by(Expense.id)
        ).all()
        if rows:
            spending.reverse_expense(rows[i % len(rows)], on, "更正", o, "officer")


def _sum(column, *where) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(column), 0)).where(*where)) or 0)


def _check(w):
    assert tallies.check() == []
    reversed_ids = select(Donation.reverses_id).where(Donation.reverses_id.is_not(None))
    for branch in (None, w.national, w.province, w.city, w.county, w.other):
        scope = Scope(branch=branch)
        figures = accounts(scope).figures
        d_where, a_where, e_where = (scope.where(m) for m in (Donation, Allocation, Expense))
        assert figures.received == _sum(Donation.amount_fen, *d_where)
        assert figures.allocated == _sum(Allocation.amount_fen, *a_where)
        assert figures.spent == _sum(Expense.amount_fen, *e_where)
        unallocated = _sum(
            Donation.amount_fen - Donation.allocated_fen,
            *d_where,
            Donation.reverses_id.is_(None),
            Donation.id.not_in(reversed_ids),
        )
        assert figures.received == figures.allocated + unallocated
        assert figures.balance == figures.allocated - figures.spent >= 0
    for project in db.session.scalars(select(Project)):
        db.session.refresh(project)
        figures = accounts(Scope(branch=project.branch, project=project)).figures
        assert figures.allocated == project.allocated_fen
        assert figures.spent == project.spent_fen
        assert project.balance_fen == figures.balance >= 0
        assert figures.received == project.received_fen


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=12))
def test_random_ledgers_add_up_at_every_level(world, ops):
    # Examples accumulate in one database: the invariants hold for any ledger, so each
    # example checks the ledger left by all before it too.
    for op in ops:
        try:
            _apply(world, op)
            db.session.commit()
        except LedgerError:
            db.session.rollback()
    _check(world)
