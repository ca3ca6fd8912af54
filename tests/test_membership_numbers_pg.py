"""Member numbers under concurrent approvals (PostgreSQL): fifty officers' decisions at
once in one branch give fifty distinct numbers, 1..50 without gaps."""

import os
import threading

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.membership import services
from portal.membership.charter import CHARTER_VERSION
from portal.membership.models import Member, MembershipApplication
from portal.review.services import decide
from tests.conftest import add_profile


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="real concurrent transactions need PostgreSQL (set TEST_DATABASE_URL)",
)
def test_fifty_concurrent_approvals_give_fifty_gapless_numbers(
    app, make_branch, make_user, grant_role
):
    n = make_branch()
    p = make_branch(n)
    c = make_branch(p)
    county = make_branch(c, code="610302")
    officer = grant_role(make_user(), county, "officer")
    ids = []
    for i in range(50):
        user = User(phone=f"137{i:08d}", home_branch_id=county.id)
        db.session.add(user)
        db.session.commit()
        add_profile(user, f"测试{i}")
        application = services.apply(
            user, county, "ordinary", "教师", None, "地址", None, CHARTER_VERSION
        )
        ids.append(application.id)
        db.session.commit()

    officer_id = officer.id  # read here: the threads must not touch this session
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def work(application_id: int) -> None:
        try:
            # Released together before touching the database: a thread holding a pooled
            # connection must not wait at the barrier for threads waiting for the pool.
            barrier.wait()
            with app.app_context():
                application = db.session.get(MembershipApplication, application_id)
                actor = db.session.get(User, officer_id)
                assert decide(application, actor, "approve")
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = sorted(db.session.scalars(select(Member.number)))
    assert numbers == [f"HY-610302-{k:06d}" for k in range(1, 51)]
