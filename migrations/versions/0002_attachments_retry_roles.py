"""attachment requests, notification retry, live role uniqueness

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('branch_attachment_requests',
    sa.Column('from_branch_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_reason', sa.String(length=200), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_branch_attachment_requests_branch_id_branches')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_branch_attachment_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['from_branch_id'], ['branches.id'], name=op.f('fk_branch_attachment_requests_from_branch_id_branches')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_branch_attachment_requests_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_branch_attachment_requests'))
    )
    with op.batch_alter_table('branch_attachment_requests', schema=None) as batch_op:
        batch_op.create_index('ix_branch_attachment_requests_pending_branch', ['branch_id', 'created_at', 'id'], unique=False, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
        batch_op.create_index('ix_branch_attachment_requests_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_branch_attachment_requests_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_branch_attachment_requests_pending_user', ['user_id'], unique=True, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(), nullable=True))

    # A database from 0001 may hold the same live role granted twice; keep the
    # oldest grant and close the later copies so the unique index can be built.
    op.execute(
        """
        UPDATE staff_roles SET revoked_at = granted_at
        WHERE revoked_at IS NULL AND id NOT IN (
            SELECT MIN(id) FROM staff_roles WHERE revoked_at IS NULL
            GROUP BY user_id, branch_id, role
        )
        """
    )
    with op.batch_alter_table('staff_roles', schema=None) as batch_op:
        batch_op.create_index('uq_staff_roles_live', ['user_id', 'branch_id', 'role'], unique=True, postgresql_where=sa.text('revoked_at IS NULL'), sqlite_where=sa.text('revoked_at IS NULL'))



def downgrade():
    with op.batch_alter_table('staff_roles', schema=None) as batch_op:
        batch_op.drop_index('uq_staff_roles_live', postgresql_where=sa.text('revoked_at IS NULL'), sqlite_where=sa.text('revoked_at IS NULL'))

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('next_attempt_at')

    with op.batch_alter_table('branch_attachment_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_branch_attachment_requests_pending_user', postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_branch_attachment_requests_user_id'))
        batch_op.drop_index('ix_branch_attachment_requests_status_created')
        batch_op.drop_index('ix_branch_attachment_requests_pending_branch', postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))

    op.drop_table('branch_attachment_requests')
