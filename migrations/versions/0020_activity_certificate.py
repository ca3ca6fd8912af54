"""volunteer activities: an optional certificate (a training course's) the volunteer must hold

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 16:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: every activity already published keeps asking for no certificate.
    with op.batch_alter_table('volunteer_activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('required_course_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_volunteer_activities_required_course_id_training_courses'),
            'training_courses',
            ['required_course_id'],
            ['id'],
        )


def downgrade():
    with op.batch_alter_table('volunteer_activities', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_volunteer_activities_required_course_id_training_courses'),
            type_='foreignkey',
        )
        batch_op.drop_column('required_course_id')
