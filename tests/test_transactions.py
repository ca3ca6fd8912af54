"""How a request's transaction ends when the request did not commit (portal/transactions.py):
a transaction that only read is committed, so psycopg keeps its prepared statements;
one that wrote anything, or failed, is rolled back and leaves nothing behind."""

import os

import pytest
from sqlalchemy import func, select, text

from portal import plainrows
from portal.accounts.models import User
from portal.extensions import db
from portal.transactions import is_read_only
from tests.conftest import transaction_ends


def users_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_a_transaction_that_only_read_is_committed(app, make_user):
    make_user()
    db.session.commit()
    with transaction_ends() as seen:
        # A fresh app context is what a request in production gets: its own session,
        # ended by the teardown functions when the context pops.
        with app.app_context():
            assert users_count() == 1
            plainrows.rows(select(User.phone)).all()
    assert seen == ["commit"]


def test_orm_changes_left_uncommitted_are_rolled_back(app):
    with transaction_ends() as seen:
        with app.app_context():
            users_count()
            db.session.add(User(phone="13900000001"))
            db.session.flush()  # written to the database, never committed
    assert seen == ["rollback"]
    assert users_count() == 0


def test_pending_orm_changes_are_not_committed(app):
    with transaction_ends() as seen:
        with app.app_context():
            users_count()
            db.session.add(User(phone="13900000002"))  # added, not even flushed
    assert "commit" not in seen
    assert users_count() == 0


def test_a_core_write_left_uncommitted_is_rolled_back(app, make_user):
    user = make_user()
    db.session.commit()
    with transaction_ends() as seen:
        with app.app_context():
            plainrows.rows(User.__table__.update().where(User.id == user.id).values(locale="en"))
    assert seen == ["rollback"]
    db.session.expire_all()
    assert db.session.get(User, user.id).locale != "en"


def test_a_query_with_a_cte_that_only_reads_is_committed(app, make_user):
    make_user()
    db.session.commit()
    with transaction_ends() as seen:
        with app.app_context():
            found = db.session.execute(
                text("WITH few AS (SELECT id FROM users LIMIT 5) SELECT count(*) FROM few")
            ).scalar()
            assert found == 1
    assert seen == ["commit"]


@pytest.mark.parametrize(
    "statement",
    [
        "WITH gone AS (DELETE FROM users RETURNING id) SELECT count(*) FROM gone",
        "with x as (select 1) update users set locale = 'en'",
        "WITH x AS (SELECT 1)\nINSERT INTO users (phone) SELECT '13900000003' FROM x",
    ],
)
def test_a_cte_that_may_write_counts_as_a_write(statement):
    assert not is_read_only(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT 1",
        "  select * from users",
        "WITH a AS (SELECT 1) SELECT * FROM a",
        "EXPLAIN SELECT 1",
    ],
)
def test_reads_count_as_reads(statement):
    assert is_read_only(statement)


def test_a_failed_request_is_rolled_back(app):
    with transaction_ends() as seen:
        with pytest.raises(RuntimeError):
            with app.app_context():
                users_count()
                raise RuntimeError("the view failed")
    assert seen == ["rollback"]


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="prepared statements are psycopg's (PostgreSQL)",
)
def test_prepared_statements_outlive_read_only_requests(app):
    # psycopg prepares a statement on its sixth run on one connection and forgets them
    # all on ROLLBACK: only if read-only requests end in COMMIT does one survive them.
    marker = select(User.id).where(User.phone == "prepared-statement-probe")
    for _ in range(8):
        with app.app_context():
            plainrows.rows(marker).all()
    with app.app_context():
        kept = db.session.scalar(
            text(
                "SELECT count(*) FROM pg_prepared_statements "
                "WHERE statement LIKE '%users.phone = $1%'"
            )
        )
    assert kept >= 1
