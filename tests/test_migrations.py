"""The schema comes only from migrations: they upgrade an empty database to head,
match the models exactly, and downgrade back to nothing."""

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from portal import create_app
from portal.extensions import db
from tests.conftest import drop_worker_database, worker_database


@pytest.fixture
def empty_db_url(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url.startswith("postgresql"):
        # A database of its own: the suite's shared schema must not be touched.
        migration_url = worker_database(url, "_migrations")
        yield migration_url
        drop_worker_database(migration_url)
    else:
        yield f"sqlite:///{tmp_path / 'migrate.sqlite3'}"


def test_upgrade_to_head_matches_models_and_downgrades(empty_db_url):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_db_url})
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "branches", "audit_entries", "server_sessions"} <= tables
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_upgrade_keeps_data_written_under_the_first_schema(empty_db_url):
    """A live database at 0001 (users, a branch, a queued SMS, the same role
    granted twice) upgrades to head without losing a row."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_db_url})
    with app.app_context():
        upgrade(revision="0001")
        now = "2026-01-05 08:00:00"
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, phone, created_at, care_mode, is_active_account) "
                    "VALUES (1, '+8613900000001', :now, false, true)"
                ),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO branches (id, level, name_zh, name_en, path, depth, created_at) "
                    "VALUES (1, 'city', '宝鸡市红十字会', 'Baoji', '0001.', 0, :now)"
                ),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO notifications (id, channel, recipient, kind, body, status, attempts, created_at) "
                    "VALUES (1, 'sms', '+8613900000001', 'sms_code', '验证码 123456', 'queued', 0, :now)"
                ),
                {"now": now},
            )
            for role_id in (1, 2):
                conn.execute(
                    text(
                        "INSERT INTO staff_roles (id, user_id, branch_id, role, granted_at) "
                        "VALUES (:id, 1, 1, 'officer', :now)"
                    ),
                    {"id": role_id, "now": now},
                )
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT body FROM notifications")).scalar() == "验证码 123456"
            live = (
                conn.execute(text("SELECT id FROM staff_roles WHERE revoked_at IS NULL"))
                .scalars()
                .all()
            )
            assert live == [1]
            assert conn.execute(text("SELECT count(*) FROM home_branch_requests")).scalar() == 0
        downgrade(revision="base")
        db.engine.dispose()


def test_requests_already_waiting_get_tallies_and_their_branch_path(empty_db_url):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_db_url})
    with app.app_context():
        upgrade(revision="0002")
        now = "2026-03-01 02:00:00"
        with db.engine.begin() as conn:
            for uid in (1, 2, 3):
                conn.execute(
                    text(
                        "INSERT INTO users (id, phone, created_at, care_mode, is_active_account) "
                        "VALUES (:id, :phone, :now, false, true)"
                    ),
                    {"id": uid, "phone": f"1390000000{uid}", "now": now},
                )
            conn.execute(
                text(
                    "INSERT INTO branches (id, level, name_zh, name_en, path, depth, created_at) VALUES "
                    "(1, 'national', '中国红十字会总会', 'RCSC', '/1/', 0, :now), "
                    "(2, 'province', '陕西省红十字会', 'Shaanxi', '/1/2/', 1, :now)"
                ),
                {"now": now},
            )
            for uid, status in ((1, "pending"), (2, "pending"), (3, "approved")):
                conn.execute(
                    text(
                        "INSERT INTO branch_attachment_requests "
                        "(user_id, branch_id, status, created_at, submitted_at) "
                        "VALUES (:uid, 2, :status, :now, :now)"
                    ),
                    {"uid": uid, "status": status, "now": now},
                )
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT branch_id, kind, n FROM pending_tallies ORDER BY branch_id")
            ).all()
        assert [tuple(r) for r in rows] == [
            (1, "home_branch", 2),
            (2, "home_branch", 2),
        ]
        with db.engine.connect() as conn:
            paths = conn.execute(text("SELECT branch_path FROM home_branch_requests"))
            assert paths.scalars().all() == ["/1/2/"] * 3
        downgrade(revision="base")
        db.engine.dispose()


def test_attachment_requests_become_home_branch_requests_with_their_history(empty_db_url):
    """0008 renames the table and the kind key: rows, ids and tallies carry over, and
    new rows get ids after the copied ones."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_db_url})
    with app.app_context():
        upgrade(revision="0007")
        now = "2026-03-01 02:00:00"
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, phone, created_at, care_mode, is_active_account) "
                    "VALUES (1, '13900000001', :now, false, true)"
                ),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO branches (id, level, name_zh, name_en, path, depth, created_at) "
                    "VALUES (1, 'national', '中国红十字会总会', 'RCSC', '/1/', 0, :now)"
                ),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO branch_attachment_requests (id, user_id, branch_id, status, "
                    "created_at, submitted_at, branch_path, note) "
                    "VALUES (7, 1, 1, 'pending', :now, :now, '/1/', '请批准')"
                ),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO pending_tallies (branch_id, kind, n) "
                    "VALUES (1, 'branch_attachment', 1)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO audit_entries (at, action, object_kind, object_id, changes) "
                    "VALUES (:now, 'review_withdrawn', 'branch_attachment', '7', '{}')"
                ),
                {"now": now},
            )
        upgrade()
        with db.engine.begin() as conn:
            row = conn.execute(text("SELECT id, note, status FROM home_branch_requests")).one()
            assert tuple(row) == (7, "请批准", "pending")
            assert conn.execute(text("SELECT kind FROM pending_tallies")).scalar() == "home_branch"
            # History is not rewritten: the audit log keeps the key it was written with.
            kind = conn.execute(text("SELECT object_kind FROM audit_entries")).scalar()
            assert kind == "branch_attachment"
            conn.execute(
                text(
                    "INSERT INTO home_branch_requests (user_id, branch_id, status, "
                    "created_at, submitted_at, branch_path) "
                    "VALUES (1, 1, 'withdrawn', :now, :now, '/1/')"
                ),
                {"now": now},
            )
            ids = conn.execute(text("SELECT id FROM home_branch_requests ORDER BY id"))
            assert ids.scalars().all() == [7, 8]
        downgrade(revision="base")
        db.engine.dispose()


def test_stored_masked_numbers_are_cut_to_their_first_and_last_character(empty_db_url):
    """0010 rewrites each stored mask from itself: the old ones kept four characters at
    each end of a resident ID, enough beside a birth date and county to give it back."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_db_url})
    with app.app_context():
        upgrade(revision="0008")
        now = "2026-03-01 02:00:00"
        old = {
            1: "6103**********123X",  # resident ID
            2: "E1*****78",  # passport
            3: "****",  # too short to show anything: stays so
        }
        with db.engine.begin() as conn:
            for user_id, masked in old.items():
                conn.execute(
                    text(
                        "INSERT INTO users (id, phone, created_at, care_mode, "
                        "is_active_account) VALUES (:id, :phone, :now, false, true)"
                    ),
                    {"id": user_id, "phone": f"1390000000{user_id}", "now": now},
                )
                conn.execute(
                    text(
                        "INSERT INTO real_name_profiles (id, user_id, full_name, doc_type, "
                        "doc_number_enc, doc_number_hmac, doc_number_masked, birth_date, "
                        "created_at, updated_at) VALUES (:id, :id, '张丽娟', 'passport', "
                        ":enc, :hmac, :masked, '1960-05-01', :now, :now)"
                    ),
                    {
                        "id": user_id,
                        "enc": b"x",
                        "hmac": f"{user_id:064d}",
                        "masked": masked,
                        "now": now,
                    },
                )
        upgrade()
        with db.engine.begin() as conn:
            rows = conn.execute(
                text("SELECT id, doc_number_masked FROM real_name_profiles ORDER BY id")
            ).all()
        assert [tuple(r) for r in rows] == [
            (1, "6****************X"),
            (2, "E*******8"),
            (3, "****"),
        ]
        downgrade(revision="base")
        db.engine.dispose()
