"""document numbers are masked down to their first and last character

The stored masked numbers kept 4 characters at each end of a resident ID
("6103**********123X"): beside the birth date and home county that gave the whole
number back. Each is rewritten from itself (its first and last character are still
there), so nothing needs decrypting. Not reversible: the hidden characters are gone,
so the downgrade leaves the shorter masks in place.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

MASK_MIN_LENGTH = 6  # as portal.accounts.identity: shorter numbers are all stars


def remask(masked: str) -> str:
    if len(masked) < MASK_MIN_LENGTH or masked[0] == "*":
        return "*" * len(masked)
    return masked[0] + "*" * (len(masked) - 2) + masked[-1]


def upgrade():
    conn = op.get_bind()
    profiles = sa.table(
        "real_name_profiles", sa.column("id", sa.Integer), sa.column("doc_number_masked", sa.String)
    )
    rows = conn.execute(sa.select(profiles.c.id, profiles.c.doc_number_masked)).all()
    for row_id, masked in rows:
        new = remask(masked or "")
        if new != masked:
            conn.execute(
                profiles.update().where(profiles.c.id == row_id).values(doc_number_masked=new)
            )


def downgrade():
    pass
