"""donation projects: an index in the public pages' order (latest first)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 18:15:00

"""
from alembic import op


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('donation_projects', schema=None) as batch_op:
        batch_op.create_index('ix_donation_projects_latest', ['starts_on', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('donation_projects', schema=None) as batch_op:
        batch_op.drop_index('ix_donation_projects_latest')
