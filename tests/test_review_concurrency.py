"""Two officers deciding the same application at the same moment: exactly one decision,
one audit entry and one SMS. Real concurrency needs PostgreSQL (SQLite serialises every
writer on one file lock, so it would pass without proving anything)."""

import os
import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.branches.home_branch import HomeBranchRequest, request_home_branch
from portal.extensions import db
from portal.notifications.models import Notification
from portal.review.services import decide, withdraw

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="real concurrent transactions need PostgreSQL (set TEST_DATABASE_URL)",
    ),
]

ROUNDS = 5


@pytest.fixture
def scene(make_branch, make_user, grant_role):
    n = make_branch(name="总会")
    city = make_branch(make_branch(n, name="陕西省"), name="宝鸡市")
    county = make_branch(city, name="渭滨区")
    return SimpleNamespace(
        county=county,
        # Two officers who both reach the county: one at the county, one above it.
        officers=[
            grant_role(make_user(), county, "officer"),
            grant_role(make_user(), city, "admin"),
        ],
        make_user=make_user,
    )


def race(app, request_id: int, steps):
    """Run each step(obj, actor_session_user) in its own thread, app context and database
    session, all released together by a barrier. Returns each step's result."""
    barrier = threading.Barrier(len(steps))
    results: list = [None] * len(steps)
    errors: list = []

    def run(index, user_id, action):
        try:
            with app.app_context():
                obj = db.session.get(HomeBranchRequest, request_id)
                user = db.session.get(User, user_id)
                # Load now, so after the barrier only the race itself runs.
                assert obj.branch is not None and obj.user is not None
                barrier.wait(timeout=10)
                results[index] = action(obj, user)
                db.session.commit()
        except Exception as exc:  # surfaced in the main thread below
            errors.append(exc)
            barrier.abort()

    threads = [
        threading.Thread(target=run, args=(i, uid, act)) for i, (uid, act) in enumerate(steps)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    return results


def test_two_officers_deciding_at_once_make_exactly_one_decision(app, scene):
    one, two = scene.officers
    for _ in range(ROUNDS):
        req = request_home_branch(scene.make_user(), scene.county)
        db.session.commit()
        results = race(
            app,
            req.id,
            [
                (one.id, lambda obj, actor: decide(obj, actor, "approve")),
                (two.id, lambda obj, actor: decide(obj, actor, "reject", "资料不全")),
            ],
        )
        assert sorted(results) == [False, True]

        db.session.expire_all()
        req = db.session.get(HomeBranchRequest, req.id)
        winner = one if results[0] else two
        assert req.decided_by_id == winner.id
        assert req.status == ("approved" if winner is one else "rejected")
        entries = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_id == str(req.id),
                AuditEntry.action.in_(["review_approved", "review_rejected"]),
            )
        ).all()
        assert len(entries) == 1 and entries[0].actor_id == winner.id
        notes = db.session.scalars(
            select(Notification).where(
                Notification.recipient == req.user.phone, Notification.kind == "review_decision"
            )
        ).all()
        assert len(notes) == 1
        # The home branch changed only if the approval won.
        assert (req.user.home_branch_id == scene.county.id) is (winner is one)


def test_withdrawing_while_an_officer_approves_leaves_one_outcome(app, scene):
    officer = scene.officers[0]
    for _ in range(ROUNDS):
        citizen = scene.make_user()
        req = request_home_branch(citizen, scene.county)
        db.session.commit()
        results = race(
            app,
            req.id,
            [
                (officer.id, lambda obj, actor: decide(obj, actor, "approve")),
                (citizen.id, lambda obj, user: withdraw(obj, user)),
            ],
        )
        assert sorted(results) == [False, True]
        db.session.expire_all()
        req = db.session.get(HomeBranchRequest, req.id)
        assert req.status == ("approved" if results[0] else "withdrawn")
        assert (req.decided_at is None) is (req.status == "withdrawn")
        assert (req.withdrawn_at is None) is (req.status == "approved")
