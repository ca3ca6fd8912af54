"""Recording gifts, reversing and correcting them.

A gift gets a receipt number gapless per branch per year (numbering.next_number, in the
transaction that records it) and an unguessable token for the QR code on its receipt.
A gift restricted to a project (定向) is allocated to it at once. Nothing recorded is
edited: `reverse()` adds a negative entry (and reverses the gift's allocations, which a
project that already spent the money refuses), `correct()` reverses and records anew.
Services flush only; the view commits."""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from portal import audit, crypto
from portal.accounts.models import User
from portal.cards.services import mask_name, new_token
from portal.donations import spending, tallies
from portal.donations.errors import LedgerError
from portal.donations.models import (
    CHANNELS,
    CLOSED,
    GOODS,
    MONEY,
    ORGANISATION,
    PERSON,
    Allocation,
    Donation,
    Project,
)
from portal.extensions import db
from portal.numbering.services import next_number


@dataclass(frozen=True)
class Donor:
    """Who gave: a person (name, optional phone) or an organisation (name, credit code)."""

    kind: str
    name: str
    phone: str | None = None  # normalised 11-digit mainland mobile
    uscc: str | None = None
    anonymous: bool = False


@dataclass(frozen=True)
class Gift:
    """What was given: money (amount, channel, reference) or goods (what, how many,
    unit, valuation and its basis; `amount_fen` is the valuation)."""

    kind: str
    amount_fen: int
    received_on: date
    channel: str | None = None
    channel_ref: str | None = None
    goods_description: str | None = None
    goods_quantity: str | None = None
    goods_unit: str | None = None
    valuation_basis: str | None = None
    note: str | None = None


def branch_series(branch) -> str:
    """The receipt series' branch part: the division code, else the branch id."""
    return branch.code if branch.code else f"B{branch.id}"


def receipt_number(branch, year: int) -> str:
    """The next receipt number of `branch` for `year`: JZ-610302-2026-000001."""
    series = branch_series(branch)
    return f"JZ-{series}-{year}-{next_number(f'receipt:{series}:{year}'):06d}"


def _reversal_number(branch, year: int) -> str:
    series = branch_series(branch)
    return f"CZ-{series}-{year}-{next_number(f'reversal:{series}:{year}'):06d}"


def public_label(donor: Donor) -> str:
    """What the public sees of a donor: nothing when anonymous (pages say 匿名), an
    organisation's name, or a person's masked name (王*, 张*明)."""
    if donor.anonymous:
        return ""
    if donor.kind == ORGANISATION:
        return donor.name
    return mask_name(donor.name)


def verified_account(phone: str | None) -> User | None:
    """The account whose verified mobile is `phone`, if any."""
    if not phone:
        return None
    return db.session.scalar(
        select(User).where(User.phone == phone, User.phone_verified_at.is_not(None))
    )


def phone_index(phone: str) -> str:
    return crypto.blind_index(phone, "donor_phone")


def _check_gift(gift: Gift) -> None:
    if gift.amount_fen <= 0:
        raise LedgerError(_l("The amount must be more than zero."))
    if gift.kind == MONEY:
        if gift.channel not in CHANNELS:
            raise LedgerError(_l("Please choose how the money arrived."))
    elif gift.kind == GOODS:
        if not (
            gift.goods_description
            and gift.goods_quantity
            and gift.goods_unit
            and gift.valuation_basis
        ):
            raise LedgerError(_l("Goods need a description, quantity, unit and valuation basis."))
    else:
        raise LedgerError(_l("Please choose money or goods."))


def record(
    branch,
    project: Project | None,
    gift: Gift,
    donor: Donor,
    actor,
    actor_role: str,
    corrects: Donation | None = None,
) -> Donation:
    """Record a gift received by `branch` (by the project's branch when restricted to
    `project`, which must not be closed), with its receipt number. Refuses bad amounts,
    channels and incomplete goods; links a person to their account when the phone is a
    verified account's."""
    _check_gift(gift)
    if donor.kind not in (PERSON, ORGANISATION) or not donor.name:
        raise LedgerError(_l("Please give the donor's name."))
    if project is not None:
        if project.status == CLOSED:
            raise LedgerError(_l("This project is closed and takes no more gifts."))
        branch = project.branch
    donation = Donation(
        receipt_number=receipt_number(branch, gift.received_on.year),
        verify_token=new_token(),
        branch_id=branch.id,
        project_id=project.id if project else None,
        kind=gift.kind,
        amount_fen=gift.amount_fen,
        allocated_fen=0,
        channel=gift.channel if gift.kind == MONEY else None,
        channel_ref=(gift.channel_ref or None) if gift.kind == MONEY else None,
        goods_description=gift.goods_description if gift.kind == GOODS else None,
        goods_quantity=gift.goods_quantity if gift.kind == GOODS else None,
        goods_unit=gift.goods_unit if gift.kind == GOODS else None,
        valuation_basis=gift.valuation_basis if gift.kind == GOODS else None,
        donor_kind=donor.kind,
        anonymous=donor.anonymous,
        public_label=public_label(donor),
        received_on=gift.received_on,
        note=gift.note or None,
        recorded_by_id=actor.id if actor is not None else None,
        corrects_id=corrects.id if corrects is not None else None,
    )
    if donor.kind == PERSON:
        donation.donor_name_enc = crypto.encrypt(donor.name, "donor_name")
        if donor.phone:
            donation.donor_phone_enc = crypto.encrypt(donor.phone, "donor_phone")
            donation.donor_phone_hmac = phone_index(donor.phone)
            account = verified_account(donor.phone)
            donation.donor_user_id = account.id if account else None
    else:
        donation.org_name = donor.name
        donation.org_uscc = donor.uscc
    db.session.add(donation)
    db.session.flush()
    tallies.bump(
        branch.path,
        donation.project_id,
        gift.received_on,
        tallies.incoming_measure(gift.kind, donation.channel),
        gift.amount_fen,
        1,
    )
    if project is not None:
        db.session.execute(
            update(Project)
            .where(Project.id == project.id)
            .values(received_fen=Project.received_fen + gift.amount_fen)
            .execution_options(synchronize_session=False)
        )
        spending.allocate_gift(donation, project, gift.amount_fen, gift.received_on, actor)
    audit.record(
        "donation_corrected" if corrects is not None else "donation_recorded",
        actor=actor,
        actor_role=actor_role,
        branch_id=branch.id,
        object_kind="donation",
        object_id=donation.id,
        changes={
            "receipt": donation.receipt_number,
            "kind": gift.kind,
            "amount_fen": gift.amount_fen,
            "channel": donation.channel,
            "project": project.code if project else None,
            "corrects": corrects.receipt_number if corrects is not None else None,
        },
    )
    return donation


def reversal_of(donation: Donation) -> Donation | None:
    return db.session.scalar(select(Donation).where(Donation.reverses_id == donation.id))


def reverse(donation: Donation, actor, actor_role: str, reason: str, on: date) -> Donation:
    """Cancel `donation` with a negative entry dated `on`, and reverse its allocations.
    Refuses a reversal, a gift reversed already, and a gift whose project has spent
    the money (reverse the expenses first)."""
    if donation.is_reversal:
        raise LedgerError(_l("A reversal cannot be reversed."))
    if reversal_of(donation) is not None:
        raise LedgerError(_l("This gift has been reversed already."))
    for allocation in db.session.scalars(
        select(Allocation)
        .where(Allocation.donation_id == donation.id, Allocation.reverses_id.is_(None))
        .order_by(Allocation.id)
    ):
        spending.reverse_allocation(allocation, on, actor)
    entry = Donation(
        receipt_number=_reversal_number(donation.branch, on.year),
        verify_token=new_token(),
        branch_id=donation.branch_id,
        project_id=donation.project_id,
        kind=donation.kind,
        amount_fen=-donation.amount_fen,
        allocated_fen=0,
        channel=donation.channel,
        channel_ref=donation.channel_ref,
        goods_description=donation.goods_description,
        goods_quantity=donation.goods_quantity,
        goods_unit=donation.goods_unit,
        valuation_basis=donation.valuation_basis,
        donor_kind=donation.donor_kind,
        donor_user_id=donation.donor_user_id,
        donor_name_enc=donation.donor_name_enc,
        donor_phone_enc=donation.donor_phone_enc,
        donor_phone_hmac=donation.donor_phone_hmac,
        org_name=donation.org_name,
        org_uscc=donation.org_uscc,
        anonymous=donation.anonymous,
        public_label=donation.public_label,
        received_on=on,
        note=reason,
        recorded_by_id=actor.id if actor is not None else None,
        reverses_id=donation.id,
    )
    db.session.add(entry)
    db.session.flush()
    tallies.bump(
        donation.branch.path,
        donation.project_id,
        on,
        tallies.incoming_measure(donation.kind, donation.channel),
        -donation.amount_fen,
        -1,
    )
    if donation.project_id is not None:
        db.session.execute(
            update(Project)
            .where(Project.id == donation.project_id)
            .values(received_fen=Project.received_fen - donation.amount_fen)
            .execution_options(synchronize_session=False)
        )
    audit.record(
        "donation_reversed",
        actor=actor,
        actor_role=actor_role,
        branch_id=donation.branch_id,
        object_kind="donation",
        object_id=donation.id,
        changes={
            "receipt": donation.receipt_number,
            "reversal": entry.receipt_number,
            "amount_fen": donation.amount_fen,
            "reason": reason,
        },
    )
    return entry


def correct(
    donation: Donation,
    project,
    gift: Gift,
    donor: Donor,
    actor,
    actor_role: str,
    reason: str,
    on: date,
) -> Donation:
    """Reverse `donation` (dated `on`) and record `gift` from `donor` in its place; both
    entries are audited and the original stays as it was."""
    reverse(donation, actor, actor_role, reason, on)
    return record(donation.branch, project, gift, donor, actor, actor_role, corrects=donation)
