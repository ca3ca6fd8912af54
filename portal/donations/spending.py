"""Allocations (money from gifts to projects) and expenses (what projects spent).

Two guards hold under concurrency, each a single conditional UPDATE whose row lock makes
racing writers queue (with a CHECK constraint as the backstop):
- a gift is never allocated beyond its amount (`Donation.allocated_fen`);
- a project never spends beyond what was allocated to it (`Project.spent_fen`).
Unrestricted gifts are allocated by staff from the branch's pool, oldest gift first, to
a project of the same branch, so every branch's figures add up on their own:
received = allocated + unallocated, balance = allocated - spent. Services flush only."""

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from portal import audit
from portal.donations import tallies
from portal.donations.errors import LedgerError
from portal.donations.models import CLOSED, Allocation, Donation, Expense, Project
from portal.extensions import db

MSG_OVERSPEND = _l("This is more than the project has left of what was allocated to it.")


def _advance_gift(donation_id: int, fen: int) -> bool:
    return bool(
        db.session.execute(
            update(Donation)
            .where(
                Donation.id == donation_id,
                Donation.allocated_fen + fen <= Donation.amount_fen,
                Donation.allocated_fen + fen >= 0,
            )
            .values(allocated_fen=Donation.allocated_fen + fen)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def _move_project(project_id: int, allocated: int = 0, spent: int = 0) -> bool:
    """Move a project's figures unless spending would pass what is allocated."""
    new_allocated = Project.allocated_fen + allocated
    new_spent = Project.spent_fen + spent
    return bool(
        db.session.execute(
            update(Project)
            .where(Project.id == project_id, new_spent <= new_allocated, new_spent >= 0)
            .values(allocated_fen=new_allocated, spent_fen=new_spent)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def allocate_gift(donation: Donation, project: Project, fen: int, on: date, actor) -> Allocation:
    """Give `fen` of `donation` to `project` (same branch). Refuses more than the gift
    has left unallocated."""
    if not _advance_gift(donation.id, fen):
        raise LedgerError(_l("This gift has less left to allocate."))
    _move_project(project.id, allocated=fen)
    allocation = Allocation(
        donation_id=donation.id,
        project_id=project.id,
        branch_id=project.branch_id,
        amount_fen=fen,
        allocated_on=on,
        allocated_by_id=actor.id if actor is not None else None,
    )
    db.session.add(allocation)
    db.session.flush()
    tallies.bump(project.branch.path, project.id, on, tallies.ALLOCATED, fen, 1)
    return allocation


def reverse_allocation(allocation: Allocation, on: date, actor) -> Allocation:
    """Take an allocation back (a negative entry). Refuses when the project has spent it."""
    if not _move_project(allocation.project_id, allocated=-allocation.amount_fen):
        raise LedgerError(
            _l("The project has already spent this money. Reverse its expenses first.")
        )
    _advance_gift(allocation.donation_id, -allocation.amount_fen)
    entry = Allocation(
        donation_id=allocation.donation_id,
        project_id=allocation.project_id,
        branch_id=allocation.branch_id,
        amount_fen=-allocation.amount_fen,
        allocated_on=on,
        allocated_by_id=actor.id if actor is not None else None,
        reverses_id=allocation.id,
    )
    db.session.add(entry)
    db.session.flush()
    tallies.bump(
        allocation.project.branch.path,
        allocation.project_id,
        on,
        tallies.ALLOCATED,
        -allocation.amount_fen,
        -1,
    )
    return entry


def _pool(branch_id: int):
    """Unrestricted, unreversed gifts of the branch with money left to allocate."""
    reversal = aliased(Donation)
    return select(Donation).where(
        Donation.branch_id == branch_id,
        Donation.project_id.is_(None),
        Donation.reverses_id.is_(None),
        Donation.allocated_fen < Donation.amount_fen,
        ~select(reversal.id).where(reversal.reverses_id == Donation.id).exists(),
    )


def pool_left(branch_id: int) -> int:
    """Unrestricted money of the branch not yet allocated."""
    sub = _pool(branch_id).subquery()
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(sub.c.amount_fen - sub.c.allocated_fen), 0))
        )
        or 0
    )


def allocate_from_pool(
    branch, project: Project, fen: int, on: date, actor, actor_role: str
) -> list[Allocation]:
    """Allocate `fen` of the branch's unrestricted gifts to `project` (of the same
    branch, not closed), oldest gift first. Refuses more than the pool holds; the gifts
    taken are locked until commit, so two staff allocating at once cannot both use them."""
    if project.branch_id != branch.id:
        raise LedgerError(_l("Unrestricted money goes to projects of the branch that received it."))
    if project.status == CLOSED:
        raise LedgerError(_l("This project is closed."))
    if fen <= 0:
        raise LedgerError(_l("The amount must be more than zero."))
    gifts = db.session.scalars(
        _pool(branch.id)
        .order_by(Donation.received_on, Donation.id)
        .with_for_update()
        # The locked rows as they are now, not as this session may have loaded them.
        .execution_options(populate_existing=True)
    ).all()
    left = fen
    pieces: list[tuple[Donation, int]] = []
    for gift in gifts:
        if left == 0:
            break
        piece = min(left, gift.amount_fen - gift.allocated_fen)
        if piece > 0:
            pieces.append((gift, piece))
            left -= piece
    if left:
        raise LedgerError(_l("The branch has less unrestricted money left to allocate."))
    made = [allocate_gift(gift, project, piece, on, actor) for gift, piece in pieces]
    audit.record(
        "donation_allocated",
        actor=actor,
        actor_role=actor_role,
        branch_id=branch.id,
        object_kind="donation_project",
        object_id=project.id,
        changes={"project": project.code, "amount_fen": fen, "gifts": len(made)},
    )
    return made


def record_expense(
    project: Project,
    spent_on: date,
    fen: int,
    purpose: str,
    beneficiary: str,
    actor,
    actor_role: str,
) -> Expense:
    """Record what `project` spent. Refuses an amount beyond what the project has left of
    its allocations (checked and moved in one UPDATE, so racing expenses cannot both pass)."""
    if fen <= 0:
        raise LedgerError(_l("The amount must be more than zero."))
    if not _move_project(project.id, spent=fen):
        raise LedgerError(MSG_OVERSPEND)
    expense = Expense(
        project_id=project.id,
        branch_id=project.branch_id,
        spent_on=spent_on,
        amount_fen=fen,
        purpose=purpose,
        beneficiary=beneficiary,
        recorded_by_id=actor.id if actor is not None else None,
    )
    db.session.add(expense)
    db.session.flush()
    tallies.bump(project.branch.path, project.id, spent_on, tallies.SPENT, fen, 1)
    audit.record(
        "expense_recorded",
        actor=actor,
        actor_role=actor_role,
        branch_id=project.branch_id,
        object_kind="donation_expense",
        object_id=expense.id,
        changes={"project": project.code, "amount_fen": fen, "spent_on": spent_on.isoformat()},
    )
    return expense


def reverse_expense(expense: Expense, on: date, reason: str, actor, actor_role: str) -> Expense:
    """Cancel an expense recorded in error with a negative entry; the original stays."""
    if expense.reverses_id is not None:
        raise LedgerError(_l("A reversal cannot be reversed."))
    if db.session.scalar(select(Expense.id).where(Expense.reverses_id == expense.id)):
        raise LedgerError(_l("This expense has been reversed already."))
    _move_project(expense.project_id, spent=-expense.amount_fen)
    entry = Expense(
        project_id=expense.project_id,
        branch_id=expense.branch_id,
        spent_on=on,
        amount_fen=-expense.amount_fen,
        purpose=expense.purpose,
        beneficiary=reason,
        recorded_by_id=actor.id if actor is not None else None,
        reverses_id=expense.id,
    )
    db.session.add(entry)
    db.session.flush()
    tallies.bump(
        expense.branch.path, expense.project_id, on, tallies.SPENT, -expense.amount_fen, -1
    )
    audit.record(
        "expense_reversed",
        actor=actor,
        actor_role=actor_role,
        branch_id=expense.branch_id,
        object_kind="donation_expense",
        object_id=expense.id,
        changes={"amount_fen": expense.amount_fen, "reason": reason},
    )
    return entry
