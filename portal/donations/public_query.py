"""What the public accounts show, read from the tallies (sums) and the entries (lists).

A scope is the whole society (no branch), a branch with its subtree, or one project.
Sums come from `DonationTally` rows (a few per branch and month), so a page costs the
same with a thousand gifts or a million; lists are read one page at a time."""

from dataclasses import dataclass, field

from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager

from portal.branches.models import Branch
from portal.branches.scope import ids_under
from portal.donations.models import CLOSED, Donation, DonationTally, Expense, Project
from portal.donations.tallies import ALLOCATED, SPENT
from portal.extensions import db

PER_PAGE = 30


@dataclass(frozen=True)
class Scope:
    branch: Branch | None = None
    project: Project | None = None

    def where_tally(self):
        """The tally rows holding this scope's sums (rolled up: a branch's own rows)."""
        if self.project is not None:
            return [
                DonationTally.branch_id == self.project.branch_id,
                DonationTally.project_id == self.project.id,
            ]
        if self.branch is not None:
            return [DonationTally.branch_id == self.branch.id, DonationTally.project_id == 0]
        roots = select(Branch.id).where(Branch.parent_id.is_(None))
        return [DonationTally.branch_id.in_(roots), DonationTally.project_id == 0]

    def where(self, model):
        if self.project is not None:
            return [model.project_id == self.project.id]
        if self.branch is not None:
            return [model.branch_id.in_(ids_under([self.branch.path]))]
        return []


@dataclass
class Figures:
    received: int = 0
    allocated: int = 0
    spent: int = 0
    gifts: int = 0
    expenses: int = 0

    @property
    def unallocated(self) -> int:
        return self.received - self.allocated

    @property
    def balance(self) -> int:
        return self.allocated - self.spent


@dataclass
class Month:
    month: str
    received: int = 0
    allocated: int = 0
    spent: int = 0


@dataclass
class Accounts:
    figures: Figures
    months: list[Month] = field(default_factory=list)
    channels: list[tuple[str, int, int]] = field(default_factory=list)  # (key, fen, gifts)


def accounts(scope: Scope) -> Accounts:
    """Totals, by month and by channel, from one grouped read of the tallies."""
    rows = db.session.execute(
        select(
            DonationTally.month,
            DonationTally.measure,
            func.sum(DonationTally.fen),
            func.sum(DonationTally.n),
        )
        .where(*scope.where_tally())
        .group_by(DonationTally.month, DonationTally.measure)
    )
    figures, months, channels = Figures(), {}, {}
    for month, measure, fen, n in rows:
        fen, n = int(fen or 0), int(n or 0)
        m = months.setdefault(month, Month(month))
        if measure == ALLOCATED:
            figures.allocated += fen
            m.allocated += fen
        elif measure == SPENT:
            figures.spent += fen
            figures.expenses += n
            m.spent += fen
        else:
            # A project's page counts only gifts restricted to it as received by it.
            figures.received += fen
            figures.gifts += n
            m.received += fen
            key = measure.split(":", 1)[1]
            got = channels.get(key, (0, 0))
            channels[key] = (got[0] + fen, got[1] + n)
    return Accounts(
        figures,
        [months[k] for k in sorted(months)],
        sorted(((k, f, n) for k, (f, n) in channels.items()), key=lambda c: -c[1]),
    )


PROJECTS_SHOWN = 20


def projects_in(branch: Branch | None, include_closed: bool = True) -> list[Project]:
    """Projects of the branch's subtree (or all), newest first, with their branch: the
    latest PROJECTS_SHOWN (a province runs thousands; each has its own page)."""
    stmt = select(Project).join(Project.branch).options(contains_eager(Project.branch))
    if branch is not None:
        stmt = stmt.where(Project.branch_id.in_(ids_under([branch.path])))
    if not include_closed:
        stmt = stmt.where(Project.status != CLOSED)
    stmt = stmt.order_by(Project.starts_on.desc(), Project.id.desc()).limit(PROJECTS_SHOWN)
    return list(db.session.scalars(stmt))


def child_branches(branch: Branch | None) -> list[Branch]:
    """The open branches right below `branch` (below the national society when None)
    that have anything in their ledger: a county's hundred grassroots units without a
    gift are not listed (each has its own page all the same)."""
    if branch is None:
        roots = list(db.session.scalars(select(Branch).where(Branch.parent_id.is_(None))))
        if len(roots) != 1:
            return roots
        branch = roots[0]
    active = (
        select(DonationTally.branch_id)
        .where(DonationTally.branch_id == Branch.id, DonationTally.project_id == 0)
        .exists()
    )
    stmt = select(Branch).where(Branch.parent_id == branch.id, Branch.closed_at.is_(None), active)
    return list(db.session.scalars(stmt.order_by(Branch.code, Branch.id)))


@dataclass
class Page:
    rows: list
    number: int
    has_next: bool


def _page(stmt: Select, number: int, per_page: int = PER_PAGE) -> Page:
    rows = list(db.session.scalars(stmt.offset((number - 1) * per_page).limit(per_page + 1)))
    return Page(rows[:per_page], number, len(rows) > per_page)


def donations_page(scope: Scope, q: str, number: int, per_page: int = PER_PAGE) -> Page:
    """Every gift and reversal in the scope, newest first; `q` finds a receipt number."""
    stmt = (
        select(Donation)
        .join(Donation.branch)
        .outerjoin(Donation.project)
        .options(contains_eager(Donation.branch), contains_eager(Donation.project))
        .where(*scope.where(Donation))
    )
    if q:
        stmt = stmt.where(Donation.receipt_number == q.strip().upper())
    return _page(stmt.order_by(Donation.received_on.desc(), Donation.id.desc()), number, per_page)


def expenses_page(scope: Scope, number: int) -> Page:
    """Every expense and reversal in the scope, newest first, with its evidence."""
    stmt = (
        select(Expense)
        .join(Expense.project)
        .options(contains_eager(Expense.project))
        .where(*scope.where(Expense))
        .order_by(Expense.spent_on.desc(), Expense.id.desc())
    )
    return _page(stmt, number)
