"""The dashboard's donor indicators, from real rows: "marrow registry additions" (blood
samples taken, by the day taken) and "organ/body registrants" (by the day registered).
A withdrawn registrant leaves both counts."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, Select, literal_column, select

from portal.admin.indicators import register_indicator
from portal.donors.models import REGISTERED, WITHDRAWN, MarrowRegistration, OrganRegistration


def marrow_additions(branch_ids: Select, start: datetime, end: datetime) -> Select:
    return select(
        MarrowRegistration.branch_id.label("branch_id"),
        MarrowRegistration.sampled_at.label("at"),
        literal_column("1", Integer).label("amount"),
    ).where(
        MarrowRegistration.branch_id.in_(branch_ids),
        MarrowRegistration.status != WITHDRAWN,
        MarrowRegistration.sampled_at >= start,
        MarrowRegistration.sampled_at < end,
    )


def organ_registrants(branch_ids: Select, start: datetime, end: datetime) -> Select:
    return select(
        OrganRegistration.branch_id.label("branch_id"),
        OrganRegistration.created_at.label("at"),
        literal_column("1", Integer).label("amount"),
    ).where(
        OrganRegistration.branch_id.in_(branch_ids),
        OrganRegistration.status == REGISTERED,
        OrganRegistration.created_at >= start,
        OrganRegistration.created_at < end,
    )


register_indicator(
    "marrow_donors",
    _l("Stem cell (marrow) registry additions"),
    marrow_additions,
    note=_l(
        "Blood samples taken for the registry, by the day taken; withdrawn donors leave the count."
    ),
)
register_indicator(
    "organ_donors",
    _l("Organ and body donation registrants"),
    organ_registrants,
    note=_l("Registrations that stand, by the day registered; withdrawn ones leave the count."),
)
