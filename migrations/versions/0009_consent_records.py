"""the consent ledger: who gave or withdrew consent for which purpose, text version, when

Only a new table: existing rows are untouched. Profiles saved before this ledger existed
have no consent row; their owners are asked to tick the consent the next time they save
the profile (accounts.profiles.save_profile).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'consent_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=40), nullable=False),
        sa.Column('version', sa.String(length=20), nullable=False),
        sa.Column('action', sa.String(length=10), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('ip', sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_consent_records_user_id_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_records')),
    )
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.create_index(
            'ix_consent_records_user_purpose', ['user_id', 'purpose', 'id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_records_user_purpose')
    op.drop_table('consent_records')
