"""The dashboard's "funds raised" indicator: money and valued goods received, net of
reversals (a reversal counts negative on the day it was recorded), by recording time."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from portal.admin.indicators import register_indicator
from portal.donations.models import Donation


def funds_raised(branch_ids: Select, start: datetime, end: datetime) -> Select:
    return select(
        Donation.branch_id.label("branch_id"),
        Donation.recorded_at.label("at"),
        Donation.amount_fen.label("amount"),
    ).where(
        Donation.branch_id.in_(branch_ids),
        Donation.recorded_at >= start,
        Donation.recorded_at < end,
    )


register_indicator(
    "funds_raised",
    _l("Funds raised"),
    funds_raised,
    unit="fen",
    note=_l("Gifts of money and goods (at their value) recorded in the year, less reversals."),
)
