"""volunteers: a minor's guardian (encrypted) and consent time, for volunteers imported
from a branch's records

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 17:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: approved applicants keep their guardian on the application.
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('guardian_enc', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('guardian_consent_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.drop_column('guardian_consent_at')
        batch_op.drop_column('guardian_enc')
