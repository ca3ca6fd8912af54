"""The month-end summary of a branch (with its subtree): per project and for gifts not
yet allocated, what came in, was allocated and was spent in the month, and the balances
at its end. Read from the tallies, so it is exact and quick whatever the ledger's size."""

from dataclasses import dataclass

from sqlalchemy import case, func, select

from portal.donations.models import DonationTally, Project
from portal.donations.tallies import ALLOCATED, SPENT
from portal.extensions import db


@dataclass
class Line:
    project: Project | None  # None: unrestricted gifts
    received: int = 0
    allocated: int = 0
    spent: int = 0
    received_to_date: int = 0
    allocated_to_date: int = 0
    spent_to_date: int = 0

    @property
    def balance(self) -> int:
        return self.allocated_to_date - self.spent_to_date


def month_summary(branch, month: str) -> list[Line]:
    """One line per project of the subtree with any entry up to `month` (YYYY-MM), and a
    first line for unrestricted gifts (project None)."""
    in_month = DonationTally.month == month
    incoming = DonationTally.measure.like("in:%")

    def total(cond, within=None):
        test = cond if within is None else (cond & within)
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
        .where(DonationTally.branch_id == branch.id, DonationTally.month <= month)
        .group_by(DonationTally.project_id)
    ).all()
    by_id = {r[0]: r for r in rows}
    projects = {
        p.id: p
        for p in db.session.scalars(select(Project).where(Project.id.in_([k for k in by_id if k])))
    }
    lines = []
    for project_id in sorted(by_id, key=lambda k: (k != 0, projects[k].code if k else "")):
        r = by_id[project_id]
        lines.append(Line(projects.get(project_id), *(int(v or 0) for v in r[1:])))
    return lines
