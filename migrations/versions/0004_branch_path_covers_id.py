"""branch path index covers the id: subtree id look-ups become index-only scans

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _recreate(include):
    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.drop_index('ix_branches_path')
        batch_op.create_index(
            'ix_branches_path', ['path'], unique=False,
            postgresql_ops={'path': 'varchar_pattern_ops'},
            postgresql_include=include,
        )


def upgrade():
    _recreate(['id'])


def downgrade():
    _recreate([])
