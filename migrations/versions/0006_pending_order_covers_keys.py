"""review tables: the "oldest first" index covers what the inbox's page keys need

The inbox walks (status, created_at) for a whole province's pending items. With id and
branch_id in the index too, that walk is index-only: a deep page (offset 380) no
longer fetches every skipped row from the table to read its branch.

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


def downgrade():
    _recreate(['status', 'created_at'])
