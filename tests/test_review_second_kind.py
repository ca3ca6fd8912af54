"""A second kind on a model and table of its own, registered the way a feature registers
one (portal/review/README.md), goes through the whole engine with no change to it: the
inbox lists it, the tallies count it, bulk approval, the CSV export, the audit log, the
rule that nobody decides their own application and `flask review check-tallies`.

The model is built inside a fixture, so its table exists for one test only and leaves
nothing behind in the metadata or the registry (tests/test_migrations.py compares the
metadata with the migrations in the same worker)."""

import itertools
import re
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import String, select, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.branches.home_branch import KIND as HOME_BRANCH
from portal.branches.models import HomeBranchRequest
from portal.extensions import db
from portal.review import kinds as review_kinds
from portal.review.inbox import pending_counts_by_kind
from portal.review.kinds import ReviewKind, card_select, register_kind
from portal.review.models import ReviewMixin, one_pending_per_applicant, review_indexes
from portal.timeutil import utcnow

KEY = "zz_membership"
TABLE = "zz_membership_applications"
_CLASSES = itertools.count()
_PHONES = itertools.count()


def _model():
    """A fresh mapped class each time, named apart (a class name mapped twice makes
    SQLAlchemy warn), on the same table name: the fixture drops and forgets the table."""
    return type(
        f"MembershipApplication{next(_CLASSES)}",
        (ReviewMixin, db.Model),
        {
            "__module__": __name__,
            "__tablename__": TABLE,
            "__table_args__": (*review_indexes(TABLE), one_pending_per_applicant(TABLE)),
            "__annotations__": {"unit": Mapped[str], "member_since": Mapped[datetime | None]},
            "unit": mapped_column(String(80)),
        },
    )


@pytest.fixture
def membership(app):
    """The kind "zz_membership" on its own table, for this test only."""
    model = _model()
    model.__table__.create(db.engine)

    def summaries(rows):
        return [f"{row.phone} wants to join as a member of {row.unit}" for row in rows]

    def welcome(application, actor):
        application.member_since = utcnow()

    kind = register_kind(
        ReviewKind(
            key=KEY,
            label="Membership application",
            model=model,
            cards=card_select(model, model.unit, User.phone).join(User, User.id == model.user_id),
            summaries=summaries,
            facts=lambda obj: [("Unit", obj.unit)],
            on_approved=welcome,
        )
    )
    yield SimpleNamespace(kind=kind, model=model)
    db.session.remove()  # PostgreSQL's DROP waits for every open transaction on the table
    review_kinds.unregister_kind(KEY)
    model.__table__.drop(db.engine)
    db.metadata.remove(model.__table__)


@pytest.fixture
def apply(app, membership):
    """A pending membership application by `applicant` (a fresh citizen by default)."""

    def make(branch, applicant=None, age=timedelta(0), unit="经二路社区"):
        if applicant is None:
            applicant = User(phone=f"136{next(_PHONES):08d}")
            db.session.add(applicant)
            db.session.flush()
        when = utcnow() - age
        item = membership.model(
            user_id=applicant.id, branch_id=branch.id, unit=unit, created_at=when, submitted_at=when
        )
        db.session.add(item)
        db.session.commit()
        return item

    return make


@pytest.fixture
def officer(tree, make_user, grant_role):
    return grant_role(make_user(locale="en"), tree.a, "officer")


def keys(page: str) -> list[str]:
    return re.findall(r'name="item" value="([^"]+)"', page)


def status_of(membership, item) -> str:
    db.session.expire_all()
    return db.session.get(membership.model, item.id).status


def entries(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_the_kind_is_listed_in_the_inbox_and_filtered_by_its_key(
    tree, membership, apply, officer, client, login
):
    old = apply(tree.a, age=timedelta(days=2))
    below = apply(tree.g, age=timedelta(hours=1))
    apply(tree.b)  # the sibling county's: not this officer's
    citizen = User(phone="13900000042")
    db.session.add(citizen)
    db.session.flush()
    home = HomeBranchRequest(user_id=citizen.id, branch_id=tree.a.id)
    db.session.add(home)
    db.session.commit()
    login(client, officer)

    page = client.get("/admin/inbox").get_data(as_text=True)
    assert keys(page) == [f"{KEY}:{old.id}", f"{KEY}:{below.id}", f"{HOME_BRANCH}:{home.id}"]
    assert f"{old.user.phone[:3]}" in page and "wants to join as a member of 经二路社区" in page
    assert f'data-kind="{KEY}">2<' in page and f'data-kind="{HOME_BRANCH}">1<' in page

    response = client.get(f"/admin/inbox?kind={KEY}")
    assert response.status_code == 200
    assert keys(response.get_data(as_text=True)) == [f"{KEY}:{old.id}", f"{KEY}:{below.id}"]

    item_page = client.get(f"/admin/inbox/{KEY}/{old.id}")
    assert item_page.status_code == 200
    assert f"/admin/inbox/{KEY}/{old.id}/approve" in item_page.get_data(as_text=True)


def test_the_tallies_count_it_per_scope(tree, membership, apply, make_user, grant_role):
    apply(tree.a), apply(tree.g), apply(tree.b), apply(tree.x)
    county = grant_role(make_user(), tree.a, "officer")
    city = grant_role(make_user(), tree.c, "admin")
    national = grant_role(make_user(), tree.n, "admin")
    assert pending_counts_by_kind(county) == {HOME_BRANCH: 0, "membership": 0, KEY: 2}
    assert pending_counts_by_kind(city) == {HOME_BRANCH: 0, "membership": 0, KEY: 3}
    assert pending_counts_by_kind(national) == {HOME_BRANCH: 0, "membership": 0, KEY: 4}


def test_bulk_approval_decides_it_runs_its_hook_and_logs_its_key(
    tree, membership, apply, officer, client, login
):
    one, two, sibling = apply(tree.a), apply(tree.g), apply(tree.b)
    login(client, officer)
    picked = [f"{KEY}:{one.id}", f"{KEY}:{two.id}", f"{KEY}:{sibling.id}"]
    response = client.post("/admin/inbox/bulk", data={"item": picked}, follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Approved 2." in page and "1 could not be approved" in page
    assert status_of(membership, one) == status_of(membership, two) == "approved"
    assert status_of(membership, sibling) == "pending"
    assert db.session.get(membership.model, one.id).member_since is not None  # on_approved
    assert {(e.object_kind, e.object_id, e.actor_id) for e in entries("review_approved")} == {
        (KEY, str(one.id), officer.id),
        (KEY, str(two.id), officer.id),
    }
    assert pending_counts_by_kind(officer)[KEY] == 0


def test_a_single_rejection_is_logged_with_its_key(tree, membership, apply, officer, client, login):
    item = apply(tree.a)
    login(client, officer)
    response = client.post(f"/admin/inbox/{KEY}/{item.id}/reject", data={"reason": "不在本社区"})
    assert response.status_code == 302
    assert status_of(membership, item) == "rejected"
    [entry] = entries("review_rejected")
    assert (entry.object_kind, entry.object_id, entry.branch_id) == (KEY, str(item.id), tree.a.id)
    assert db.session.get(membership.model, item.id).member_since is None  # approval only


def test_the_csv_export_lists_it(tree, membership, apply, officer, client, login):
    item = apply(tree.a, unit="岐山县城关镇")
    apply(tree.b)
    login(client, officer)
    response = client.get(f"/admin/inbox?format=csv&kind={KEY}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.data.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2
    assert lines[1].startswith(f"Membership application,{item.id},")
    assert "wants to join as a member of 岐山县城关镇" in lines[1]
    [entry] = entries("inbox_exported")
    assert (entry.object_kind, entry.changes) == (KEY, {"format": "csv", "rows": 1})


def test_the_applicant_cannot_decide_their_own(
    tree, membership, apply, make_user, grant_role, client, login
):
    boss = grant_role(grant_role(make_user(locale="en"), tree.a, "admin"), tree.n, "admin")
    own = apply(tree.a, applicant=boss)
    login(client, boss)
    page = client.get(f"/admin/inbox/{KEY}/{own.id}").get_data(as_text=True)
    assert f'action="/admin/inbox/{KEY}/{own.id}/approve"' not in page
    response = client.post(f"/admin/inbox/{KEY}/{own.id}/approve")
    assert response.status_code == 403
    assert "You cannot decide on your own application." in response.get_data(as_text=True)
    assert status_of(membership, own) == "pending" and entries("review_approved") == []


def _check(app):
    result = app.test_cli_runner().invoke(args=["review", "check-tallies"])
    db.session.expire_all()
    return result


def test_check_tallies_counts_it_and_repairs_drift(
    app, tree, membership, apply, make_user, grant_role
):
    apply(tree.a), apply(tree.g)
    first = _check(app)
    assert (first.exit_code, first.output) == (0, "tallies match the applications\n")

    # Written behind the ORM's back, as a bulk load or a hand fix would: no tally moved.
    applicant = make_user()
    db.session.execute(
        text(
            f"INSERT INTO {TABLE} (user_id, branch_id, branch_path, unit, status, created_at, "
            "submitted_at) VALUES (:u, :b, :p, '渭滨区', 'pending', :now, :now)"
        ),
        {"u": applicant.id, "b": tree.a.id, "p": tree.a.path, "now": utcnow()},
    )
    db.session.commit()
    drifted = _check(app)
    assert drifted.exit_code == 1
    # The county and each branch above it were one short.
    for branch in (tree.a, tree.c, tree.p, tree.n):
        assert f"branch {branch.id} {KEY}: stored 2, counted 3\n" in drifted.output
    assert drifted.output.endswith("4 tallies drifted; repaired\n")

    again = _check(app)
    assert (again.exit_code, again.output) == (0, "tallies match the applications\n")
    assert pending_counts_by_kind(grant_role(make_user(), tree.a))[KEY] == 3
