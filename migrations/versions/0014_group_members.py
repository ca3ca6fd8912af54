"""group membership (团体会员): applications (a review kind) and group members

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")
APPS = 'group_membership_applications'
GROUPS = 'group_members'


def _organisation():
    return [
        sa.Column('org_name', sa.String(length=100), nullable=False),
        sa.Column('uscc', sa.String(length=18), nullable=False),
        sa.Column('org_type', sa.String(length=20), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=100), nullable=False),
    ]


def upgrade():
    op.create_table(
        APPS,
        *_organisation(),
        sa.Column('charter_version', sa.String(length=20), nullable=False),
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
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f(f'fk_{APPS}_branch_id_branches')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f(f'fk_{APPS}_decided_by_id_users')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f(f'fk_{APPS}_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{APPS}')),
    )
    with op.batch_alter_table(APPS, schema=None) as batch_op:
        batch_op.create_index(
            f'ix_{APPS}_pending_branch', ['branch_id', 'created_at', 'id'], unique=False,
            postgresql_where=PENDING, sqlite_where=PENDING,
        )
        batch_op.create_index(
            f'ix_{APPS}_pending_path', ['branch_path', 'created_at', 'id'], unique=False,
            postgresql_ops={'branch_path': 'varchar_pattern_ops'},
            postgresql_where=PENDING, sqlite_where=PENDING,
        )
        batch_op.create_index(
            f'ix_{APPS}_status_created',
            ['status', 'created_at', 'id', 'branch_id', 'branch_path'], unique=False,
        )
        batch_op.create_index(batch_op.f(f'ix_{APPS}_user_id'), ['user_id'], unique=False)
        batch_op.create_index(
            f'uq_{APPS}_pending_user', ['user_id'], unique=True,
            postgresql_where=PENDING, sqlite_where=PENDING,
        )
        batch_op.create_index(
            f'uq_{APPS}_pending_uscc', ['uscc'], unique=True,
            postgresql_where=PENDING, sqlite_where=PENDING,
        )

    op.create_table(
        GROUPS,
        *_organisation(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=False),
        sa.Column('card_token', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('end_reason', sa.String(length=200), nullable=True),
        sa.Column('renewed_at', sa.DateTime(), nullable=True),
        sa.Column('expiring_notice_at', sa.DateTime(), nullable=True),
        sa.Column('expired_notice_at', sa.DateTime(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['application_id'], [f'{APPS}.id'], name=op.f(f'fk_{GROUPS}_application_id_{APPS}')),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f(f'fk_{GROUPS}_branch_id_branches')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f(f'fk_{GROUPS}_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{GROUPS}')),
        sa.UniqueConstraint('card_token', name=op.f(f'uq_{GROUPS}_card_token')),
        sa.UniqueConstraint('number', name=op.f(f'uq_{GROUPS}_number')),
        sa.UniqueConstraint('uscc', name='uq_group_members_uscc'),
    )
    with op.batch_alter_table(GROUPS, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{GROUPS}_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f(f'ix_{GROUPS}_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f(f'ix_{GROUPS}_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f(f'ix_{GROUPS}_valid_until'), ['valid_until'], unique=False)


def downgrade():
    op.drop_table(GROUPS)
    op.drop_table(APPS)
