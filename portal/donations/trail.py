"""The donor's trail: where one gift went. Its allocations, each funded project's
totals and expenses (with evidence), and the donor's proportional share of what those
projects have spent, in one plain sentence.

The share: a project that has spent S of the A allocated to it has spent S/A of every
part of it, so the donor's share of the spending is (what of the gift went there) × S/A,
rounded down to the fen; the figures come from the project's own counters."""

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from stdnum.cn import uscc

from portal.donations.ledger import phone_index
from portal.donations.models import ORGANISATION, Allocation, Donation, Expense, Project
from portal.donations.receipts import reversal_of
from portal.extensions import db

EXPENSES_SHOWN = 10


@dataclass
class Funded:
    project: Project
    from_gift: int  # fen of this gift allocated to the project (net of reversals)
    share_spent: int  # fen of that spent, proportionally
    expenses: list[Expense] = field(default_factory=list)

    @property
    def spent_percent(self) -> int:
        p = self.project
        return (p.spent_fen * 100 // p.allocated_fen) if p.allocated_fen > 0 else 0


@dataclass
class Trail:
    donation: Donation
    reversal: Donation | None
    funded: list[Funded]

    @property
    def allocated(self) -> int:
        return sum(f.from_gift for f in self.funded)

    @property
    def share_spent(self) -> int:
        return sum(f.share_spent for f in self.funded)

    @property
    def waiting(self) -> int:
        """Of the gift, what is not yet allocated to any project."""
        return self.donation.amount_fen - self.allocated if self.reversal is None else 0


def find_gift(receipt_number: str) -> Donation | None:
    """The gift (never a reversal entry) with this receipt number."""
    number = (receipt_number or "").strip().upper()
    if not number or len(number) > 40:
        return None
    return db.session.scalar(
        select(Donation).where(Donation.receipt_number == number, Donation.reverses_id.is_(None))
    )


def credit_code_matches(donation: Donation, typed: str) -> bool:
    """Whether `typed` is the organisation donor's unified social credit code."""
    if donation.donor_kind != ORGANISATION or not donation.org_uscc:
        return False
    try:
        return uscc.compact(typed or "") == uscc.compact(donation.org_uscc)
    except Exception:  # noqa: BLE001 - any junk typed simply does not match
        return False


def trail_of(donation: Donation) -> Trail:
    rows = db.session.execute(
        select(Allocation.project_id, func.sum(Allocation.amount_fen))
        .where(Allocation.donation_id == donation.id)
        .group_by(Allocation.project_id)
    ).all()
    funded = []
    for project_id, fen in rows:
        fen = int(fen or 0)
        if fen <= 0:
            continue
        project = db.session.get(Project, project_id)
        share = fen * project.spent_fen // project.allocated_fen if project.allocated_fen else 0
        expenses = list(
            db.session.scalars(
                select(Expense)
                .where(Expense.project_id == project_id)
                .order_by(Expense.spent_on.desc(), Expense.id.desc())
                .limit(EXPENSES_SHOWN)
            )
        )
        funded.append(Funded(project, fen, share, expenses))
    return Trail(donation, reversal_of(donation), funded)


def owns(user, donation: Donation) -> bool:
    """Whether the signed-in `user` is this gift's donor (by account or verified phone)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if donation.donor_user_id == user.id:
        return True
    return bool(
        user.phone
        and donation.donor_phone_hmac == phone_index(user.phone)
        and user.phone_verified_at is not None
    )


def gifts_of(user, limit: int = 50) -> list[Donation]:
    """The signed-in donor's gifts, newest first: recorded against their account, or
    against their verified phone before they had one."""
    terms = [Donation.donor_user_id == user.id]
    if user.phone and user.phone_verified_at is not None:
        terms.append(Donation.donor_phone_hmac == phone_index(user.phone))
    return list(
        db.session.scalars(
            select(Donation)
            .where(or_(*terms), Donation.reverses_id.is_(None))
            .order_by(Donation.received_on.desc(), Donation.id.desc())
            .limit(limit)
        )
    )
