"""Fifty approvals of volunteer applications at one branch at the same moment: fifty
distinct volunteer numbers, 1 to 50 without a gap. Needs PostgreSQL (SQLite serialises
every writer, so it would pass without proving anything)."""

import os
import threading

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.review.services import decide
from portal.volunteering import services
from portal.volunteering.models import Volunteer, VolunteerApplication
from tests.test_volunteering import add_profile, details

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="real concurrent transactions need PostgreSQL (set TEST_DATABASE_URL)",
    ),
]

N = 50


def test_fifty_concurrent_approvals_give_fifty_numbers_without_gaps(
    app, tree, make_user, grant_role
):
    officer = grant_role(make_user(), tree.a, "officer")
    ids = []
    for i in range(N):
        user = make_user(home_branch_id=tree.a.id)
        add_profile(user, name=f"王{i}明")
        ids.append(services.apply(user, tree.a, details(), agreed_code=True).id)
        db.session.commit()

    officer_id = officer.id  # read here: the test's session is not the threads'
    barrier = threading.Barrier(N)
    errors: list = []

    def approve(application_id: int) -> None:
        try:
            with app.app_context():
                # Released before any connection is taken: more threads than the pool has
                # connections would otherwise wait on each other at the barrier.
                barrier.wait(timeout=30)
                application = db.session.get(VolunteerApplication, application_id)
                actor = db.session.get(User, officer_id)
                assert decide(application, actor, "approve")
                db.session.commit()
        except Exception as exc:  # surfaced below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=approve, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    db.session.expire_all()
    numbers = sorted(db.session.scalars(select(Volunteer.number)))
    code = tree.a.code or tree.a.id
    assert numbers == [f"ZY-{code}-{n:06d}" for n in range(1, N + 1)]
