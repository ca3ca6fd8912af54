"""Sample seats under contention: thirty confirmed registrants go for eight places at
once and exactly eight get one; one registrant pressing "book" on two sessions at once
gets one appointment. Needs PostgreSQL (SQLite serialises every writer)."""

import os
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.donors import marrow
from portal.donors.models import CONFIRMED, MarrowRegistration, SampleBooking, SampleSession
from portal.extensions import db
from tests.conftest import add_profile
from tests.donors_world import make_session

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="real concurrent transactions need PostgreSQL (set TEST_DATABASE_URL)",
    ),
]


def _confirmed(user, branch) -> int:
    reg = MarrowRegistration(
        user_id=user.id,
        branch_id=branch.id,
        status=CONFIRMED,
        health_consent_version="1",
        registry_consent_version="1",
        registered_on=date.today() - timedelta(days=10),
        cooling_off_until=date.today() - timedelta(days=3),
    )
    db.session.add(reg)
    db.session.commit()
    return reg.id


def _race(app, attempts):
    """Run each (registration id, session id) booking in its own thread and session,
    released together; returns the number that succeeded."""
    barrier = threading.Barrier(len(attempts))
    won, errors = [], []

    def attempt(reg_id, session_id):
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                reg = db.session.get(MarrowRegistration, reg_id)
                user = db.session.get(User, reg.user_id)
                try:
                    marrow.book(reg, session_id, user)
                    db.session.commit()
                    won.append(reg_id)
                except marrow.MarrowError:
                    db.session.rollback()
        except Exception as exc:  # surfaced below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=attempt, args=a) for a in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return won


def test_thirty_registrants_for_eight_places(app, tree, make_user):
    session = make_session(tree.a, capacity=8)
    regs = []
    for i in range(30):
        user = make_user(home_branch_id=tree.a.id)
        add_profile(user, f"王{i}明")
        regs.append(_confirmed(user, tree.a))
    won = _race(app, [(r, session.id) for r in regs])
    assert len(won) == 8
    db.session.expire_all()
    assert db.session.get(SampleSession, session.id).seats_taken == 8
    booked = db.session.scalar(select(func.count()).select_from(SampleBooking))
    assert booked == 8


def test_one_registrant_two_sessions_at_once_gets_one(app, tree, make_user):
    first, second = make_session(tree.a, capacity=5), make_session(tree.a, capacity=5)
    user = make_user(home_branch_id=tree.a.id)
    add_profile(user)
    reg_id = _confirmed(user, tree.a)
    won = _race(app, [(reg_id, first.id), (reg_id, second.id)] * 3)
    assert len(won) == 1
    db.session.expire_all()
    taken = (
        db.session.get(SampleSession, first.id).seats_taken
        + db.session.get(SampleSession, second.id).seats_taken
    )
    assert taken == 1  # the losers' seats were given back with their rollback


def test_pressing_cancel_and_withdraw_at_once_gives_the_seat_back_once(app, tree, make_user):
    """Two other people hold seats, so a seat given back twice would show (and a
    negative count would be refused)."""
    session = make_session(tree.a, capacity=5)
    ids = []
    for i in range(3):
        user = make_user(home_branch_id=tree.a.id)
        add_profile(user, f"李{i}华")
        ids.append(_confirmed(user, tree.a))
    for reg_id in ids:
        reg = db.session.get(MarrowRegistration, reg_id)
        marrow.book(reg, session.id, db.session.get(User, reg.user_id))
        db.session.commit()
    target = ids[0]
    barrier = threading.Barrier(6)
    errors = []

    def press(action):
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                reg = db.session.get(MarrowRegistration, target)
                user = db.session.get(User, reg.user_id)
                try:
                    if action == "cancel":
                        marrow.cancel_booking(reg, user)
                    else:
                        marrow.withdraw(reg, user)
                    db.session.commit()
                except marrow.MarrowError:
                    db.session.rollback()
        except Exception as exc:  # surfaced below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=press, args=(a,)) for a in ["cancel", "withdraw"] * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    db.session.expire_all()
    assert db.session.get(SampleSession, session.id).seats_taken == 2
