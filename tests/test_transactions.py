"""How a request's transaction ends when the request did not commit (portal/transactions.py):
a transaction that only read is committed, so psycopg keeps its prepared statements;
one that wrote anything, or failed, is rolled back and leaves nothing behind."""

import os

import pytest
from sqlalchemy import func, select, text

from portal import plainrows
from portal.accounts.models import User
from portal.extensions import db
from portal.transactions import WROTE
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
        "with x as (select 1) update users set locale = 'en'",
        "WITH x AS (SELECT 1)\nDELETE FROM users WHERE id IN (SELECT 1 FROM x)",
        "UPDATE users SET locale = 'en' WHERE id < 0",
    ],
)
def test_raw_sql_that_may_write_is_rolled_back(app, statement):
    with transaction_ends() as seen:
        with app.app_context():
            db.session.execute(text(statement))
    assert seen == ["rollback"]


@pytest.mark.parametrize("statement", ["SELECT 1", "  select * from users", "EXPLAIN SELECT 1"])
def test_raw_sql_that_only_reads_is_committed(app, statement):
    with transaction_ends() as seen:
        with app.app_context():
            db.session.execute(text(statement)).all()
    assert seen == ["commit"]


def test_driver_sql_is_told_by_its_text(app):
    with transaction_ends() as seen:
        with app.app_context():
            db.session.connection().exec_driver_sql("SELECT 1").all()
        with app.app_context():
            db.session.connection().exec_driver_sql("UPDATE users SET locale = 'en' WHERE id < 0")
    assert seen == ["commit", "rollback"]


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="a DELETE inside a CTE is PostgreSQL's",
)
def test_a_select_over_a_deleting_cte_is_rolled_back(app, make_user):
    make_user()
    db.session.commit()
    users = User.__table__
    gone = users.delete().returning(users.c.id).cte("gone")
    with transaction_ends() as seen:
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(gone)) == 1
    assert seen == ["rollback"]
    assert users_count() == 1


def test_another_engine_in_the_process_is_left_alone(app):
    """The listeners sit on the app's engine, not on every Engine."""
    from sqlalchemy import create_engine

    other = create_engine("sqlite://")
    with other.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        assert WROTE not in conn.info
    other.dispose()


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
