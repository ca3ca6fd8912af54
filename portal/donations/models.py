"""The donations ledger. Nothing here is ever edited after the fact: a wrong entry is
cancelled by a reversal entry (negative amount, `reverses_id`) and, where needed,
replaced by a new entry (`corrects_id`). The few counters on rows (`allocated_fen`,
`spent_fen`) and the `DonationTally` table are derived sums kept in the same transaction
as each entry; `tallies.check()` recomputes them from the entries."""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import crypto
from portal.extensions import db
from portal.timeutil import utcnow

FUNDRAISING, RUNNING, CLOSED = "fundraising", "running", "closed"
PROJECT_STATUSES = (FUNDRAISING, RUNNING, CLOSED)

MONEY, GOODS = "money", "goods"
CHANNELS = ("bank", "wechat", "alipay", "cash", "online")
PERSON, ORGANISATION = "person", "organisation"
EVIDENCE_KINDS = ("invoice", "photo", "handover")

TEXT_MAX = 200


class Project(db.Model):
    """Something a branch raises and spends money for (博爱家园, 红十字天使计划, an appeal).
    `received_fen` is what donors restricted to it, `allocated_fen` all money given to it
    (restricted gifts and allocations from unrestricted funds), `spent_fen` its expenses;
    the CHECK keeps spending within what was allocated even against a racing writer."""

    __tablename__ = "donation_projects"
    __table_args__ = (
        CheckConstraint("spent_fen <= allocated_fen", name="spent_within_allocated"),
        CheckConstraint("spent_fen >= 0", name="spent_not_negative"),
        # The public pages list the latest projects: read in this order, not sorted.
        Index("ix_donation_projects_latest", "starts_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    title_zh: Mapped[str] = mapped_column(String(100))
    title_en: Mapped[str] = mapped_column(String(100))
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    target_fen: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default=FUNDRAISING)
    received_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    allocated_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    spent_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    branch = relationship("Branch", foreign_keys=[branch_id])

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" and self.title_en else self.title_zh

    def description(self, locale: str) -> str:
        return (
            self.description_en if locale == "en" and self.description_en else self.description_zh
        )

    @property
    def balance_fen(self) -> int:
        return self.allocated_fen - self.spent_fen


class Donation(db.Model):
    """One gift of money or goods as received (positive), or the reversal of one
    (negative, `reverses_id`). The donor's name and phone are personal information:
    encrypted, never shown in public; `public_label` is what the public sees (a masked
    name or an organisation's name; empty for an anonymous gift)."""

    __tablename__ = "donations"
    __table_args__ = (
        CheckConstraint(
            "allocated_fen >= 0 AND (amount_fen < 0 OR allocated_fen <= amount_fen)",
            name="allocated_within_amount",
        ),
        Index("ix_donations_branch_received", "branch_id", "received_on", "id"),
        Index("ix_donations_project_received", "project_id", "received_on", "id"),
        # The society's list, newest first, without sorting a million rows.
        Index("ix_donations_received", "received_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_number: Mapped[str] = mapped_column(String(40), unique=True)
    verify_token: Mapped[str] = mapped_column(String(64), unique=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("donation_projects.id"))
    kind: Mapped[str] = mapped_column(String(5))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    allocated_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    channel: Mapped[str | None] = mapped_column(String(10))
    channel_ref: Mapped[str | None] = mapped_column(String(60))
    goods_description: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    goods_quantity: Mapped[str | None] = mapped_column(String(20))
    goods_unit: Mapped[str | None] = mapped_column(String(10))
    valuation_basis: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    donor_kind: Mapped[str] = mapped_column(String(12))
    donor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    donor_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    donor_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    donor_phone_hmac: Mapped[str | None] = mapped_column(String(64), index=True)
    org_name: Mapped[str | None] = mapped_column(String(100))
    org_uscc: Mapped[str | None] = mapped_column(String(18))
    anonymous: Mapped[bool] = mapped_column(default=False)
    public_label: Mapped[str] = mapped_column(String(100), default="")
    received_on: Mapped[date]
    note: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), unique=True)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), index=True)

    branch = relationship("Branch", foreign_keys=[branch_id])
    project = relationship("Project", foreign_keys=[project_id])
    donor_user = relationship("User", foreign_keys=[donor_user_id])
    reverses = relationship("Donation", foreign_keys=[reverses_id], remote_side=[id])

    @property
    def donor_name(self) -> str:
        if self.donor_kind == ORGANISATION:
            return self.org_name or ""
        return crypto.decrypt(self.donor_name_enc, "donor_name") if self.donor_name_enc else ""

    @property
    def donor_phone(self) -> str:
        return crypto.decrypt(self.donor_phone_enc, "donor_phone") if self.donor_phone_enc else ""

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None

    @property
    def restricted(self) -> bool:
        return self.project_id is not None


class Allocation(db.Model):
    """Money from one gift given to a project (a restricted gift is allocated to its
    project when recorded). A reversal is a negative allocation with `reverses_id`."""

    __tablename__ = "donation_allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("donation_projects.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    allocated_on: Mapped[date]
    allocated_at: Mapped[datetime] = mapped_column(default=utcnow)
    allocated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("donation_allocations.id"), unique=True
    )

    donation = relationship("Donation", foreign_keys=[donation_id])
    project = relationship("Project", foreign_keys=[project_id])


class Expense(db.Model):
    """What a project spent: purpose and beneficiary group in words that never name a
    person ("12 户困难家庭，凤县"). A reversal is a negative expense with `reverses_id`."""

    __tablename__ = "donation_expenses"
    __table_args__ = (
        Index("ix_donation_expenses_project_spent", "project_id", "spent_on", "id"),
        Index("ix_donation_expenses_spent", "spent_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("donation_projects.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    spent_on: Mapped[date]
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(TEXT_MAX))
    beneficiary: Mapped[str] = mapped_column(String(TEXT_MAX))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("donation_expenses.id"), unique=True)

    project = relationship("Project", foreign_keys=[project_id])
    branch = relationship("Branch", foreign_keys=[branch_id])
    evidence = relationship(
        "Evidence", order_by="Evidence.id", back_populates="expense", lazy="selectin"
    )


class Evidence(db.Model):
    """An uploaded invoice, photo or handover list behind an expense. The file lives
    under the instance folder (never under static/) by a random key; it is served only
    through evidence views with its checked type."""

    __tablename__ = "donation_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    expense_id: Mapped[int] = mapped_column(ForeignKey("donation_expenses.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    expense = relationship("Expense", back_populates="evidence")


class DonationTally(db.Model):
    """Sums of the ledger per (branch, project, month, measure) over the branch's whole
    subtree, kept in the transaction of each entry (see tallies.py): the public pages read
    a few of these rows instead of summing a million gifts. `project_id` 0 means "no
    project" (an unrestricted gift).
    Measures: "in:<channel>" and "in:goods" (received), "allocated", "spent"."""

    __tablename__ = "donation_tallies"

    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    measure: Mapped[str] = mapped_column(String(12), primary_key=True)
    fen: Mapped[int] = mapped_column(BigInteger, default=0)
    n: Mapped[int] = mapped_column(default=0)
