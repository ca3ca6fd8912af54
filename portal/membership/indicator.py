"""The dashboard's "members" indicator: new members counted by when they joined."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, Select, literal_column, select

from portal.admin.indicators import register_indicator
from portal.membership.models import Member


def new_members(branch_ids: Select, start: datetime, end: datetime) -> Select:
    return select(
        Member.branch_id.label("branch_id"),
        Member.created_at.label("at"),
        literal_column("1", Integer).label("amount"),
    ).where(Member.branch_id.in_(branch_ids), Member.created_at >= start, Member.created_at < end)


register_indicator(
    "members",
    _l("New Red Cross members"),
    new_members,
    note=_l("Counted by the day the membership was approved."),
)
