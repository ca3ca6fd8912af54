"""The ledger under real concurrency (PostgreSQL): a hundred gifts recorded at once in one
branch get a hundred distinct, gapless receipt numbers; racing expenses never spend more
than was allocated; racing allocations never take more than the pool holds."""

import os
import threading
from datetime import date

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.branches.models import Branch
from portal.donations import ledger, spending, tallies
from portal.donations.errors import LedgerError
from portal.donations.models import Donation, Expense, Project
from portal.extensions import db
from tests.donations_helpers import donations_world, gift, person

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="real concurrent transactions need PostgreSQL (set TEST_DATABASE_URL)",
    ),
]


def _race(app, n, work):
    barrier = threading.Barrier(n)
    errors, refused = [], []

    def run(i):
        try:
            barrier.wait()
            with app.app_context():
                try:
                    work(i)
                    db.session.commit()
                except LedgerError:
                    db.session.rollback()
                    refused.append(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return refused


def test_hundred_concurrent_gifts_get_hundred_gapless_receipts(
    app, make_branch, make_user, grant_role
):
    world = donations_world(make_branch, make_user, grant_role)
    officer_id, county_id = world.officer.id, world.county.id

    def work(i):
        branch = db.session.get(Branch, county_id)
        actor = db.session.get(User, officer_id)
        ledger.record(branch, None, gift(100 + i), person(f"捐赠人{i}", None), actor, "officer")

    assert _race(app, 100, work) == []
    numbers = sorted(db.session.scalars(select(Donation.receipt_number)))
    assert numbers == [f"JZ-610302-2026-{k:06d}" for k in range(1, 101)]
    assert tallies.check() == []


def test_racing_expenses_never_pass_the_allocation(app, make_branch, make_user, grant_role):
    world = donations_world(make_branch, make_user, grant_role)
    ledger.record(world.county, world.home, gift(100_000), person(), world.officer, "officer")
    db.session.commit()
    officer_id, project_id = world.officer.id, world.home.id

    def work(i):
        project = db.session.get(Project, project_id)
        actor = db.session.get(User, officer_id)
        spending.record_expense(project, date(2026, 3, 9), 30_000, "物资", "10户", actor, "officer")

    refused = _race(app, 20, work)
    assert len(refused) == 17
    project = db.session.get(Project, project_id)
    db.session.refresh(project)
    assert project.spent_fen == 90_000
    assert len(db.session.scalars(select(Expense)).all()) == 3
    assert tallies.check() == []


def test_racing_allocations_never_take_more_than_the_pool(app, make_branch, make_user, grant_role):
    world = donations_world(make_branch, make_user, grant_role)
    for _i in range(5):
        ledger.record(world.county, None, gift(10_000), person(), world.officer, "officer")
    db.session.commit()
    officer_id, project_id, county_id = world.officer.id, world.home.id, world.county.id

    def work(i):
        project = db.session.get(Project, project_id)
        actor = db.session.get(User, officer_id)
        branch = db.session.get(Branch, county_id)
        spending.allocate_from_pool(branch, project, 15_000, date(2026, 3, 9), actor, "officer")

    refused = _race(app, 10, work)
    assert len(refused) == 7
    assert spending.pool_left(county_id) == 5_000
    gifts = db.session.scalars(select(Donation)).all()
    assert all(0 <= g.allocated_fen <= g.amount_fen for g in gifts)
    assert tallies.check() == []
