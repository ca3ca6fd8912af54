"""Receipts as verifiable cards: a receipt's QR code opens its receipt page, and the
card verification page (portal/cards) finds a receipt by its token, or by its number
and the donor's surname (or an organisation's name), showing only what is safe."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.cards.services import CardKind, PublicCard, register_card_kind, surname_matches
from portal.donations.models import ORGANISATION, Donation
from portal.extensions import db


def reversal_of(donation: Donation) -> Donation | None:
    return db.session.scalar(select(Donation).where(Donation.reverses_id == donation.id))


def _public(donation: Donation | None) -> PublicCard | None:
    if donation is None or donation.is_reversal:
        return None
    reversed_ = reversal_of(donation) is not None
    return PublicCard(
        kind_label=str(_l("Donation receipt")),
        masked_name=donation.public_label or str(_l("Anonymous")),
        number=donation.receipt_number,
        branch_name=donation.branch.name_zh,
        status_label=str(_l("Reversed (cancelled)") if reversed_ else _l("Valid")),
        is_valid=not reversed_,
    )


def _load(*where) -> Donation | None:
    return db.session.scalar(select(Donation).where(*where).options(joinedload(Donation.branch)))


def _by_token(token: str) -> PublicCard | None:
    return _public(_load(Donation.verify_token == token))


def _by_number(number: str, surname: str) -> PublicCard | None:
    donation = _load(Donation.receipt_number == number)
    if donation is None or not surname_matches(donation.donor_name, surname):
        return None
    if donation.donor_kind == ORGANISATION and surname != donation.org_name:
        return None
    return _public(donation)


register_card_kind(
    CardKind(
        key="donation_receipt",
        label=_l("Donation receipt"),
        by_token=_by_token,
        by_number=_by_number,
    )
)
