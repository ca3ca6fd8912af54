"""number series: counters for gapless member, volunteer, certificate and receipt numbers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'number_series',
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_number_series')),
    )


def downgrade():
    op.drop_table('number_series')
