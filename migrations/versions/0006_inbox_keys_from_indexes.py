"""the inbox's page keys are read from indexes alone

The inbox walks (status, created_at) for a whole province's pending items. With id and
branch_id in that index too, the walk is index-only; and (id, path) on branches answers
"is this item's branch in the scope?" without the table. A deep page (offset 380) no
longer fetches each skipped item and its branch from the tables.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TABLE = 'branch_attachment_requests'


def _recreate(columns):
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(f'ix_{TABLE}_status_created')
        batch_op.create_index(f'ix_{TABLE}_status_created', columns, unique=False)


def upgrade():
    _recreate(['status', 'created_at', 'id', 'branch_id'])
    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.create_index('ix_branches_id_path', ['id', 'path'], unique=False)


def downgrade():
    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.drop_index('ix_branches_id_path')
    _recreate(['status', 'created_at'])
