"""The rolled-up pending tallies always equal a direct count of the applications, after
every kind of change (new, decided, withdrawn, edited, deleted, branch moved), and under
concurrent writers on PostgreSQL."""

import os
import random
import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.branches.home_branch import KIND, HomeBranchRequest, request_home_branch
from portal.branches.models import Branch
from portal.branches.services import move_branch
from portal.extensions import db
from portal.review import tallies
from portal.review.inbox import pending_counts_by_kind
from portal.review.models import PendingTally
from portal.review.services import decide, withdraw


def direct_counts() -> dict[int, int]:
    """For every branch: pending requests at it or below, counted the slow way."""
    result = {}
    for branch in db.session.scalars(select(Branch)):
        result[branch.id] = db.session.scalar(
            select(func.count())
            .select_from(HomeBranchRequest)
            .join(Branch, Branch.id == HomeBranchRequest.branch_id)
            .where(
                HomeBranchRequest.status == "pending",
                Branch.path.startswith(branch.path),
            )
        )
    return result


def tallied() -> dict[int, int]:
    counts = dict.fromkeys(db.session.scalars(select(Branch.id)), 0)
    for row in db.session.scalars(select(PendingTally).where(PendingTally.kind == KIND)):
        counts[row.branch_id] = row.n
    return counts


def assert_consistent():
    db.session.expire_all()
    assert tallied() == direct_counts()


@pytest.fixture
def tree(make_branch, make_user, grant_role):
    n = make_branch(name="总会")
    shaanxi = make_branch(n, name="陕西省")
    gansu = make_branch(n, name="甘肃省")
    baoji = make_branch(shaanxi, name="宝鸡市")
    xian = make_branch(shaanxi, name="西安市")
    counties = [make_branch(baoji, name=name) for name in ("渭滨区", "金台区", "岐山县")]
    tianshui = make_branch(gansu, name="天水市")
    return SimpleNamespace(
        n=n,
        shaanxi=shaanxi,
        gansu=gansu,
        baoji=baoji,
        xian=xian,
        counties=counties,
        tianshui=tianshui,
        targets=[*counties, xian, tianshui, baoji],
        admin=grant_role(make_user(), n, "admin"),
    )


def test_every_kind_of_change_keeps_the_tallies_exact(tree, make_user):
    rnd = random.Random(20261123)
    requests = []
    for _ in range(12):
        requests.append(request_home_branch(make_user(), rnd.choice(tree.targets)))
        db.session.commit()
    assert_consistent()

    for req in requests[:3]:
        assert decide(req, tree.admin, "approve")
    assert decide(requests[3], tree.admin, "reject", reason="请到户籍所在地红十字会办理")
    assert withdraw(requests[4], requests[4].user)
    db.session.commit()
    assert_consistent()

    # A decided item that is decided again changes nothing.
    assert not decide(requests[0], tree.admin, "approve")
    db.session.commit()
    assert_consistent()

    # Edits through the ORM: back to pending, another branch, deleted.
    requests[1].status = "pending"
    db.session.commit()
    assert_consistent()
    requests[5].branch = tree.tianshui
    db.session.commit()
    assert_consistent()
    db.session.delete(requests[6])
    db.session.commit()
    assert_consistent()

    # A county with waiting requests moves to another city: both chains follow.
    move_branch(tree.counties[0], tree.xian, actor=tree.admin)
    db.session.commit()
    assert_consistent()
    move_branch(tree.baoji, tree.gansu, actor=tree.admin)
    db.session.commit()
    assert_consistent()

    before = tallied()
    tallies.rebuild()
    db.session.commit()
    db.session.expire_all()
    assert tallied() == before


def test_scope_counts_read_the_tallies(tree, make_user, grant_role):
    request_home_branch(make_user(), tree.counties[0])
    request_home_branch(make_user(), tree.counties[1])
    request_home_branch(make_user(), tree.tianshui)
    db.session.commit()
    county_officer = grant_role(make_user(), tree.counties[0], "officer")
    both = grant_role(grant_role(make_user(), tree.baoji, "officer"), tree.counties[1], "admin")
    assert pending_counts_by_kind(county_officer)[KIND] == 1
    assert pending_counts_by_kind(both)[KIND] == 2  # the county is inside the city: once
    assert pending_counts_by_kind(tree.admin)[KIND] == 3
    assert pending_counts_by_kind(tree.admin, within=tree.shaanxi)[KIND] == 2
    assert pending_counts_by_kind(both, within=tree.counties[1])[KIND] == 1
    assert pending_counts_by_kind(county_officer, within=tree.shaanxi)[KIND] == 1


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="real concurrent transactions need PostgreSQL (set TEST_DATABASE_URL)",
)
def test_concurrent_submissions_and_decisions_keep_the_tallies_exact(app, tree, make_user):
    """Eight threads at once, each submitting or deciding under the same ancestors:
    no lost update, no deadlock."""
    waiting = []
    for branch in tree.targets[:4]:
        waiting.append(request_home_branch(make_user(), branch).id)
    applicants = [make_user().id for _ in range(4)]
    db.session.commit()
    admin_id = tree.admin.id
    targets = [b.id for b in tree.targets[:4]]
    barrier = threading.Barrier(8)
    errors = []

    def submit(user_id, branch_id):
        with app.app_context():
            user, branch = db.session.get(User, user_id), db.session.get(Branch, branch_id)
            barrier.wait(timeout=10)
            request_home_branch(user, branch)
            db.session.commit()

    def approve(request_id):
        with app.app_context():
            req = db.session.get(HomeBranchRequest, request_id)
            actor = db.session.get(User, admin_id)
            assert req.branch is not None
            barrier.wait(timeout=10)
            decide(req, actor, "approve")
            db.session.commit()

    def guarded(fn, *args):
        try:
            fn(*args)
        except Exception as exc:  # reported below with the others
            errors.append(exc)

    threads = [
        threading.Thread(target=guarded, args=(submit, u, b))
        for u, b in zip(applicants, targets, strict=True)
    ]
    threads += [threading.Thread(target=guarded, args=(approve, r)) for r in waiting]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert_consistent()
    assert tallied()[tree.n.id] == 4
