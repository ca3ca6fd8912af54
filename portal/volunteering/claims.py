"""Offline hours claims (review kind "hours_claim"): a volunteer asks to have service
done outside the portal credited (date, hours, what, where, who can confirm it). The
volunteer's branch decides in the one inbox; approval makes a confirmed hours entry.

Services add and flush only; the views commit."""

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import RealNameProfile, User
from portal.accounts.phone import mask_phone
from portal.extensions import db
from portal.review.kinds import ReviewKind, card_select, register_kind
from portal.review.models import PENDING
from portal.review.services import ReviewError
from portal.textcheck import HIDDEN_CHARACTERS_MESSAGE, has_hidden_characters
from portal.timeutil import today_local
from portal.volunteering.hours import QUARTER, confirm_claim_hours
from portal.volunteering.service_models import HoursClaim
from portal.volunteering.services import SERVICE_AREAS
from portal.volunteering.stars import hours_text

KIND = "hours_claim"
CLAIM_MINUTES_MAX = 12 * 60
CLAIM_DAYS_BACK = 365
PENDING_MAX = 10
TEXT_LIMITS = {"what": 200, "place": 200, "witness": 100}


def claim_hours(
    volunteer,
    served_on: date,
    minutes: int,
    service_area: str,
    what: str,
    place: str,
    witness: str,
    today: date | None = None,
) -> HoursClaim:
    """Ask the volunteer's branch to credit `minutes` (quarter hours, up to 12 h) served
    on `served_on` (within the last year, not in the future). Refuses (ReviewError)
    anything else, an inactive volunteer, and more than PENDING_MAX claims waiting."""
    today = today or today_local()
    if volunteer is None or not volunteer.is_active:
        raise ReviewError(_l("Only active volunteers can claim hours."))
    if served_on > today or (today - served_on).days > CLAIM_DAYS_BACK:
        raise ReviewError(_l("Please give a date within the last year."))
    if not QUARTER <= minutes <= CLAIM_MINUTES_MAX or minutes % QUARTER:
        raise ReviewError(_l("Hours are counted in quarter hours, up to 12 a day."))
    if service_area not in SERVICE_AREAS:
        raise ReviewError(_l("Please choose a service area."))
    values = {"what": what, "place": place, "witness": witness}
    for name, limit in TEXT_LIMITS.items():
        value = (values[name] or "").strip()
        if not value or len(value) > limit:
            raise ReviewError(_l("Please fill in every required field."))
        if has_hidden_characters(value):
            raise ReviewError(HIDDEN_CHARACTERS_MESSAGE)
        values[name] = value
    waiting = db.session.scalar(
        select(db.func.count()).where(
            HoursClaim.volunteer_id == volunteer.id, HoursClaim.status == PENDING
        )
    )
    if waiting >= PENDING_MAX:
        raise ReviewError(_l("You have many claims waiting: please wait for a decision."))
    claim = HoursClaim(
        user_id=volunteer.user_id,
        branch_id=volunteer.branch_id,
        volunteer_id=volunteer.id,
        served_on=served_on,
        minutes=minutes,
        service_area=service_area,
        what=values["what"],
        place=values["place"],
    )
    claim.witness = values["witness"]
    try:
        with db.session.begin_nested():
            db.session.add(claim)
    except IntegrityError:  # pragma: no cover - no unique index beyond the id
        raise ReviewError(_l("Please try again.")) from None
    return claim


def my_claims(volunteer, limit: int = 20) -> list[HoursClaim]:
    return list(
        db.session.scalars(
            select(HoursClaim)
            .where(HoursClaim.volunteer_id == volunteer.id)
            .order_by(HoursClaim.created_at.desc(), HoursClaim.id.desc())
            .limit(limit)
        )
    )


_CARDS = (
    card_select(
        HoursClaim,
        HoursClaim.minutes,
        HoursClaim.served_on,
        HoursClaim.what,
        RealNameProfile.full_name,
        User.phone,
    )
    .join(User, User.id == HoursClaim.user_id)
    .outerjoin(RealNameProfile, RealNameProfile.user_id == User.id)
)


def _summaries(rows) -> list[str]:
    pattern = _("%(who)s claims %(hours)s hours on %(day)s: %(what)s")
    return [
        pattern
        % {
            "who": row.full_name or mask_phone(row.phone),
            "hours": hours_text(row.minutes),
            "day": row.served_on.isoformat(),
            "what": row.what,
        }
        for row in rows
    ]


def _facts(claim: HoursClaim) -> list[tuple[str, str]]:
    profile = claim.user.profile if claim.user else None
    return [
        (_("Volunteer"), profile.full_name if profile else mask_phone(claim.user.phone)),
        (_("Volunteer number"), claim.volunteer.number),
        (_("Date of service"), claim.served_on.isoformat()),
        (_("Hours"), hours_text(claim.minutes)),
        (_("Service area"), str(SERVICE_AREAS.get(claim.service_area, claim.service_area))),
        (_("What was done"), claim.what),
        (_("Where"), claim.place),
        (_("Who can confirm it"), claim.witness),
    ]


def _approved(claim: HoursClaim, actor) -> None:
    confirm_claim_hours(claim, actor)


register_kind(
    ReviewKind(
        key=KIND,
        label=_l("Service hours claim"),
        model=HoursClaim,
        cards=_CARDS,
        summaries=_summaries,
        facts=_facts,
        on_approved=_approved,
        personal_fields=("full_name",),
    )
)
