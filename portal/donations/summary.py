"""The month-end summary of a branch (with its subtree): per project and for gifts not
restricted to a project, what came in, was allocated and was spent in the month, and
the figures to date. Read from the tallies (the subtree's sums and each project's own),
so it is exact and quick whatever the ledger's size."""

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from portal.branches.scope import ids_under
from portal.donations.models import DonationTally, Project
from portal.donations.tallies import ALLOCATED, SPENT
from portal.extensions import db


@dataclass
class Line:
    project: Project | None  # None: gifts not restricted to a project
    received: int = 0
    allocated: int = 0
    spent: int = 0
    received_to_date: int = 0
    allocated_to_date: int = 0
    spent_to_date: int = 0

    @property
    def balance(self) -> int:
        return self.allocated_to_date - self.spent_to_date


def _sums(month: str, *where) -> dict[int, list[int]]:
    in_month = DonationTally.month == month
    incoming = DonationTally.measure.like("in:%")

    def total(cond, within=None):
        test = cond if within is None else and_(cond, within)
        return func.sum(case((test, DonationTally.fen), else_=0))

    rows = db.session.execute(
        select(
            DonationTally.project_id,
            total(incoming, in_month),
            total(DonationTally.measure == ALLOCATED, in_month),
            total(DonationTally.measure == SPENT, in_month),
            total(incoming),
            total(DonationTally.measure == ALLOCATED),
            total(DonationTally.measure == SPENT),
        )
        .where(DonationTally.month <= month, *where)
        .group_by(DonationTally.project_id)
    )
    return {r[0]: [int(v or 0) for v in r[1:]] for r in rows}


def month_summary(branch, month: str) -> list[Line]:
    """A first line for gifts not restricted to a project, then one line per project
    of the subtree with any entry up to `month` (YYYY-MM)."""
    whole = _sums(month, DonationTally.branch_id == branch.id, DonationTally.project_id == 0)
    per_project = _sums(
        month,
        DonationTally.branch_id.in_(ids_under([branch.path])),
        DonationTally.project_id != 0,
    )
    projects = {
        p.id: p
        for p in db.session.scalars(select(Project).where(Project.id.in_(list(per_project))))
    }
    lines = []
    total = whole.get(0)
    if total is not None:
        # Received without a project = all received less what projects received.
        restricted = [sum(v[i] for v in per_project.values()) for i in (0, 3)]
        lines.append(
            Line(None, received=total[0] - restricted[0], received_to_date=total[3] - restricted[1])
        )
    for project_id in sorted(per_project, key=lambda k: projects[k].code):
        lines.append(Line(projects[project_id], *per_project[project_id]))
    return lines
