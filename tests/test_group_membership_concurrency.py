"""Group membership under concurrency, on PostgreSQL (SQLite serialises every writer, so
it would pass without proving anything): ten contacts of one organisation apply with the
same code at the same moment and exactly one application is kept (the others are told
beside the field); twenty group approvals at one branch give TT- numbers 1 to 20 without
a gap."""

import os
import threading

import pytest
from sqlalchemy import func, select
from stdnum.cn import uscc

from portal.accounts.models import User
from portal.branches.models import Branch
from portal.extensions import db
from portal.membership import groups
from portal.membership.charter import CHARTER_VERSION
from portal.membership.models import GroupMember, GroupMembershipApplication
from portal.review.services import decide
from tests.conftest import add_profile

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="real concurrent transactions need PostgreSQL (set TEST_DATABASE_URL)",
    ),
]


def code(n: int) -> str:
    body = f"91610302MA6X{n:05d}"
    return body + uscc.calc_check_digit(body)


def _run(app, n: int, work) -> list:
    barrier = threading.Barrier(n)
    outcomes: list = []

    def one(i: int) -> None:
        with app.app_context():  # its teardown ends the session, committed or not
            try:
                barrier.wait(timeout=30)
                outcomes.append(work(i))
                db.session.commit()
            except Exception as exc:  # surfaced by the caller
                outcomes.append(exc)
                db.session.rollback()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def _contacts(make_user, branch, n):
    ids = []
    for i in range(n):
        user = make_user(home_branch_id=branch.id)
        add_profile(user, f"王{i}明")
        ids.append(user.id)
    db.session.commit()
    return ids


def test_one_application_per_code_when_contacts_race(app, tree, make_user):
    n = 10
    ids = _contacts(make_user, tree.a, n)
    branch_id = tree.a.id

    def apply(i):
        user = db.session.get(User, ids[i])
        branch = db.session.get(Branch, branch_id)
        return groups.apply(
            user,
            branch,
            "宝鸡秦岭机床有限公司",
            code(1),
            "enterprise",
            300,
            "清姜路 8 号",
            CHARTER_VERSION,
        ).id

    outcomes = _run(app, n, apply)
    kept = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, groups.CodeError)]
    assert len(kept) == 1 and len(refused) == n - 1, outcomes
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(GroupMembershipApplication)) == 1


def test_twenty_concurrent_group_approvals_number_without_gaps(app, tree, make_user, grant_role):
    n = 20
    officer_id = grant_role(make_user(), tree.a, "officer").id
    apps = []
    for i, user_id in enumerate(_contacts(make_user, tree.a, n)):
        user = db.session.get(User, user_id)
        apps.append(
            groups.apply(
                user,
                tree.a,
                f"宝鸡第{i}机械厂",
                code(100 + i),
                "enterprise",
                50,
                "宝鸡",
                CHARTER_VERSION,
            ).id
        )
        db.session.commit()

    def approve(i):
        application = db.session.get(GroupMembershipApplication, apps[i])
        return decide(application, db.session.get(User, officer_id), "approve")

    outcomes = _run(app, n, approve)
    assert outcomes == [True] * n, outcomes
    db.session.expire_all()
    numbers = sorted(db.session.scalars(select(GroupMember.number)))
    prefix = f"TT-{tree.a.code or tree.a.id}-"
    assert numbers == [f"{prefix}{k:06d}" for k in range(1, n + 1)]
