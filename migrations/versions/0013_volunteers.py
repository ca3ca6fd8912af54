"""volunteer applications (review kind "volunteer") and volunteers

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")
APPS = 'volunteer_applications'


def _details():
    return [
        sa.Column('service_areas', sa.String(length=200), nullable=False),
        sa.Column('skills', sa.String(length=500), nullable=True),
        sa.Column('languages', sa.String(length=200), nullable=True),
        sa.Column('availability', sa.String(length=200), nullable=False),
        sa.Column('emergency_contact_enc', sa.LargeBinary(), nullable=False),
        sa.Column('health_enc', sa.LargeBinary(), nullable=True),
    ]


def upgrade():
    op.create_table(
        APPS,
        *_details(),
        sa.Column('code_version', sa.String(length=10), nullable=False),
        sa.Column('guardian_enc', sa.LargeBinary(), nullable=True),
        sa.Column('guardian_consent_at', sa.DateTime(), nullable=True),
        sa.Column('guardian_consent_version', sa.String(length=10), nullable=True),
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

    op.create_table(
        'volunteers',
        *_details(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=True),
        sa.Column('number', sa.String(length=30), nullable=False),
        sa.Column('card_token', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('status_reason', sa.String(length=200), nullable=True),
        sa.Column('registered_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], [f'{APPS}.id'], name=op.f('fk_volunteers_application_id_volunteer_applications')),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_volunteers_branch_id_branches')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_volunteers_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteers')),
        sa.UniqueConstraint('card_token', name=op.f('uq_volunteers_card_token')),
        sa.UniqueConstraint('number', name=op.f('uq_volunteers_number')),
        sa.UniqueConstraint('user_id', name=op.f('uq_volunteers_user_id')),
    )
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteers_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteers_registered_at'), ['registered_at'], unique=False)

    op.create_table(
        'volunteer_teams',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('service_area', sa.String(length=30), nullable=False),
        sa.Column('leader_name', sa.String(length=50), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_volunteer_teams_branch_id_branches')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_volunteer_teams_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_teams')),
        sa.UniqueConstraint('branch_id', 'name', name=op.f('uq_volunteer_teams_branch_id_name')),
    )
    with op.batch_alter_table('volunteer_teams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_teams_branch_id'), ['branch_id'], unique=False)

    op.create_table(
        'volunteer_team_members',
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('added_at', sa.DateTime(), nullable=False),
        sa.Column('added_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_volunteer_team_members_added_by_id_users')),
        sa.ForeignKeyConstraint(['team_id'], ['volunteer_teams.id'], name=op.f('fk_volunteer_team_members_team_id_volunteer_teams')),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_volunteer_team_members_volunteer_id_volunteers')),
        sa.PrimaryKeyConstraint('team_id', 'volunteer_id', name=op.f('pk_volunteer_team_members')),
    )
    with op.batch_alter_table('volunteer_team_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_team_members_volunteer_id'), ['volunteer_id'], unique=False)


def downgrade():
    op.drop_table('volunteer_team_members')
    op.drop_table('volunteer_teams')
    op.drop_table('volunteers')
    op.drop_table(APPS)
