"""review items keep their branch's path

The inbox asked, for each pending item it walked, whether the item's branch lies in
the staff member's scope: one probe into branches per item, 400 for page 20 of a
province. Each item now keeps its branch's path (rewritten when a branch moves), so the
scope test is a filter on the item's own index, and a county's items are one prefix
range of the new partial index of pending rows by path.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TABLE = 'branch_attachment_requests'
PENDING = sa.text("status = 'pending'")


def upgrade():
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column('branch_path', sa.String(length=255), nullable=True))
    op.execute(
        f"UPDATE {TABLE} SET branch_path = "
        f"(SELECT branches.path FROM branches WHERE branches.id = {TABLE}.branch_id)"
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.alter_column('branch_path', existing_type=sa.String(length=255), nullable=False)
        batch_op.drop_index(f'ix_{TABLE}_status_created')
        batch_op.create_index(
            f'ix_{TABLE}_status_created',
            ['status', 'created_at', 'id', 'branch_id', 'branch_path'],
            unique=False,
        )
        batch_op.create_index(
            f'ix_{TABLE}_pending_path',
            ['branch_path', 'created_at', 'id'],
            unique=False,
            postgresql_ops={'branch_path': 'varchar_pattern_ops'},
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )


def downgrade():
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(
            f'ix_{TABLE}_pending_path',
            postgresql_ops={'branch_path': 'varchar_pattern_ops'},
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )
        batch_op.drop_index(f'ix_{TABLE}_status_created')
        batch_op.create_index(
            f'ix_{TABLE}_status_created', ['status', 'created_at', 'id', 'branch_id'], unique=False
        )
        batch_op.drop_column('branch_path')
