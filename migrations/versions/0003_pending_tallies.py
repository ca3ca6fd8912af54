"""pending tallies: rolled-up pending counts per branch and review kind

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

"""
from collections import Counter

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# The review tables that exist at this revision, with their kind keys.
REVIEW_TABLES = {"branch_attachment_requests": "branch_attachment"}


def upgrade():
    op.create_table('pending_tallies',
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_pending_tallies_branch_id_branches')),
    sa.PrimaryKeyConstraint('branch_id', 'kind', name=op.f('pk_pending_tallies'))
    )
    # Count what is already pending, rolled up every ancestor's path.
    conn = op.get_bind()
    paths = dict(conn.execute(sa.text("SELECT id, path FROM branches")).all())
    totals = Counter()
    for table, kind in REVIEW_TABLES.items():
        rows = conn.execute(sa.text(
            f"SELECT branch_id, count(*) FROM {table} WHERE status = 'pending' GROUP BY branch_id"
        ))
        for branch_id, n in rows:
            for part in paths[branch_id].strip("/").split("/"):
                totals[(int(part), kind)] += n
    if totals:
        op.bulk_insert(
            sa.table('pending_tallies', sa.column('branch_id', sa.Integer),
                     sa.column('kind', sa.String), sa.column('n', sa.Integer)),
            [{"branch_id": b, "kind": k, "n": n} for (b, k), n in sorted(totals.items())],
        )


def downgrade():
    op.drop_table('pending_tallies')
