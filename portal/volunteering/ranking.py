"""Volunteer hours across a branch's subtree: this year's ranking of volunteers, and the
two dashboard indicators (active volunteers this year, confirmed hours this year),
all read from the running totals and the confirmed ledger, in whole minutes."""

from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, Select, literal_column, select

from portal.accounts.models import RealNameProfile
from portal.admin.indicators import register_indicator
from portal.branches.models import Branch, name_in
from portal.branches.scope import path_under
from portal.extensions import db
from portal.volunteering.models import Volunteer
from portal.volunteering.service_models import (
    HOURS_CONFIRMED,
    ServiceHours,
    VolunteerServiceYear,
)

RANKING_SIZE = 100


class RankRow(NamedTuple):
    volunteer_id: int
    number: str
    minutes: int
    full_name: str | None
    branch_zh: str
    branch_en: str

    def branch_name(self, locale: str) -> str:
        return name_in(locale, self.branch_zh, self.branch_en)


def ranking(branch: Branch, year: int, limit: int = RANKING_SIZE) -> list[RankRow]:
    """The volunteers of `branch` and every branch under it with the most confirmed
    minutes in `year`, most first (ties: the later-registered volunteer id first, the
    order of the ranking index, so a province's top list is read off the index). Plain
    rows in one statement: a page of a hundred needs no objects."""
    rows = db.session.execute(
        select(
            VolunteerServiceYear.volunteer_id,
            Volunteer.number,
            VolunteerServiceYear.minutes,
            RealNameProfile.full_name,
            Branch.name_zh,
            Branch.name_en,
        )
        .join(Branch, Branch.id == VolunteerServiceYear.branch_id)
        .join(Volunteer, Volunteer.id == VolunteerServiceYear.volunteer_id)
        .outerjoin(RealNameProfile, RealNameProfile.user_id == Volunteer.user_id)
        .where(
            VolunteerServiceYear.year == year,
            VolunteerServiceYear.minutes > 0,
            path_under(branch.path),
        )
        .order_by(VolunteerServiceYear.minutes.desc(), VolunteerServiceYear.volunteer_id.desc())
        .limit(limit)
    )
    return [RankRow(*row) for row in rows]


# --- the dashboard ---------------------------------------------------------------------


def active_volunteers(branch_ids: Select, start, end) -> Select:
    """One row per volunteer per year with confirmed service, at their year's first
    confirmed service: counted once a year however often they served."""
    return select(
        VolunteerServiceYear.branch_id.label("branch_id"),
        VolunteerServiceYear.first_at.label("at"),
        literal_column("1", Integer).label("amount"),
    ).where(
        VolunteerServiceYear.branch_id.in_(branch_ids),
        VolunteerServiceYear.first_at >= start,
        VolunteerServiceYear.first_at < end,
        VolunteerServiceYear.minutes > 0,
    )


def confirmed_minutes(branch_ids: Select, start, end) -> Select:
    """Confirmed minutes of service, by when the service took place."""
    return select(
        ServiceHours.branch_id.label("branch_id"),
        ServiceHours.started_at.label("at"),
        ServiceHours.minutes.label("amount"),
    ).where(
        ServiceHours.branch_id.in_(branch_ids),
        ServiceHours.status == HOURS_CONFIRMED,
        ServiceHours.started_at >= start,
        ServiceHours.started_at < end,
    )


register_indicator(
    "active_volunteers",
    _l("Active volunteers this year"),
    active_volunteers,
    note=_l("Volunteers with confirmed service hours in the year, counted once each."),
)
register_indicator(
    "volunteer_hours",
    _l("Confirmed volunteer service hours"),
    confirmed_minutes,
    unit="minutes",
    note=_l("Counted by the day the service took place."),
)
