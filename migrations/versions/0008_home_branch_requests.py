"""branch attachment requests are home-branch requests

"Branch attachment request" read as a file upload. The table, its indexes and
constraints, and the kind key the pending tallies store, take the name of what it is.
The audit log is append-only (0005) and keeps the key its entries were written with. The rows are copied into a table created under the new name (the
one way that renames constraints alike on SQLite and PostgreSQL), ids kept.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")
COLUMNS = (
    'id, status, created_at, submitted_at, decided_at, decision_reason, withdrawn_at, '
    'branch_path, user_id, branch_id, decided_by_id, from_branch_id, note'
)


def _create(table: str, with_path_indexes: bool = True) -> None:
    op.create_table(
        table,
        sa.Column('from_branch_id', sa.Integer(), nullable=True),
        sa.Column('note', sa.String(length=200), nullable=True),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decision_reason', sa.String(length=200), nullable=True),
        sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
        sa.Column('branch_path', sa.String(length=255), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f(f'fk_{table}_branch_id_branches')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f(f'fk_{table}_decided_by_id_users')),
        sa.ForeignKeyConstraint(['from_branch_id'], ['branches.id'], name=op.f(f'fk_{table}_from_branch_id_branches')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f(f'fk_{table}_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}')),
    )
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(
            f'ix_{table}_pending_branch', ['branch_id', 'created_at', 'id'], unique=False,
            postgresql_where=PENDING, sqlite_where=PENDING,
        )
        batch_op.create_index(
            f'ix_{table}_pending_path', ['branch_path', 'created_at', 'id'], unique=False,
            postgresql_ops={'branch_path': 'varchar_pattern_ops'},
            postgresql_where=PENDING, sqlite_where=PENDING,
        )
        batch_op.create_index(
            f'ix_{table}_status_created',
            ['status', 'created_at', 'id', 'branch_id', 'branch_path'], unique=False,
        )
        batch_op.create_index(batch_op.f(f'ix_{table}_user_id'), ['user_id'], unique=False)
        batch_op.create_index(
            f'uq_{table}_pending_user', ['user_id'], unique=True,
            postgresql_where=PENDING, sqlite_where=PENDING,
        )


def _move(old: str, new: str, old_kind: str, new_kind: str) -> None:
    _create(new)
    op.execute(f'INSERT INTO {new} ({COLUMNS}) SELECT {COLUMNS} FROM {old}')
    if op.get_bind().dialect.name == 'postgresql':
        # The new table's id sequence starts after the copied ids.
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{new}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {new}), 0) + 1, false)"
        )
    op.drop_table(old)
    op.execute(f"UPDATE pending_tallies SET kind = '{new_kind}' WHERE kind = '{old_kind}'")


def upgrade():
    _move('branch_attachment_requests', 'home_branch_requests', 'branch_attachment', 'home_branch')


def downgrade():
    _move('home_branch_requests', 'branch_attachment_requests', 'home_branch', 'branch_attachment')
