"""Service activities and their shifts: what staff create, publish, cancel and finish
(each change audited, only within their scope), and what the public listing shows.

Services take plain values, add and flush only; the views commit."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import quote

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload

from portal import audit
from portal.branches.models import Branch, name_in
from portal.branches.scope import REVIEW_ROLES, acting_role, covers, path_under, scope_clause
from portal.extensions import cache, db
from portal.review.services import ReviewError
from portal.textcheck import HIDDEN_CHARACTERS_MESSAGE, has_hidden_characters
from portal.timeutil import local_to_utc, utcnow
from portal.training.models import Course
from portal.volunteering.models import VolunteerTeam
from portal.volunteering.service_models import (
    ACTIVITY_STATES,
    CANCELLED,
    DRAFT,
    FINISHED,
    PUBLISHED,
    SIGNED_UP,
    ShiftSignup,
    VolunteerActivity,
    VolunteerShift,
)
from portal.volunteering.services import MIN_AGE, SERVICE_AREAS
from portal.volunteering.signups import release

STATE_LABELS = {
    DRAFT: _l("Draft"),
    PUBLISHED: _l("Published"),
    CANCELLED: _l("Cancelled"),
    FINISHED: _l("Finished"),
}
assert set(STATE_LABELS) == set(ACTIVITY_STATES)

CAPACITY_MAX = 1000
SHIFT_HOURS_MAX = 24
REASON_MAX = 200
TEXT_LIMITS = {
    "title": 100,
    "description": 2000,
    "address": 200,
    "contact_name": 50,
    "contact_phone": 40,
}


@dataclass
class ActivityDetails:
    """What the organiser typed (already checked by the form; checked again here)."""

    title: str
    description: str
    service_area: str
    address: str
    signup_deadline: datetime  # naive UTC
    contact_name: str
    contact_phone: str
    min_age: int | None = None
    team_id: int | None = None
    team_only: bool = False
    required_course_id: int | None = None


def shift_times(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """A shift typed as a day, a start and an end (local time). An end at or before the
    start means the next day: a night shift 22:00-02:00 crosses midnight."""
    starts = local_to_utc(day, start)
    ends = local_to_utc(day, end)
    if ends <= starts:
        ends = local_to_utc(day + timedelta(days=1), end)
    return starts, ends


def map_link(activity: VolunteerActivity) -> str:
    """A link that opens the phone's map app (Amap's URI API falls back to its web map)
    searching for the activity's address."""
    return "https://uri.amap.com/search?keyword=" + quote(activity.address) + "&src=boai"


def _role(actor, branch) -> str:
    role = acting_role(actor, branch, REVIEW_ROLES)
    if role is None:
        raise ReviewError(_l("You cannot organise activities at this branch."))
    return role


def _check_details(branch: Branch, details: ActivityDetails) -> None:
    for name, limit in TEXT_LIMITS.items():
        value = getattr(details, name) or ""
        if not value.strip():
            raise ReviewError(_l("Please fill in every required field."))
        if len(value) > limit:
            raise ReviewError(_l("Please type at most %(max)d characters.", max=limit))
        if has_hidden_characters(value, multiline=name == "description"):
            raise ReviewError(HIDDEN_CHARACTERS_MESSAGE)
    if details.service_area not in SERVICE_AREAS:
        raise ReviewError(_l("Please choose a service area."))
    if details.min_age is not None and not MIN_AGE <= details.min_age <= 80:
        raise ReviewError(_l("The minimum age must be between %(a)d and 80.", a=MIN_AGE))
    if details.team_id is not None:
        team = db.session.get(VolunteerTeam, details.team_id)
        if team is None or not covers([branch.path], team.branch):
            raise ReviewError(_l("Please choose a team of this branch."))
    elif details.team_only:
        raise ReviewError(_l("Choose the team whose members may sign up."))
    if details.required_course_id is not None:
        course = db.session.get(Course, details.required_course_id)
        if course is None or not (course.active and course.certifies):
            raise ReviewError(_l("Please choose a course that gives a certificate."))


def _apply(activity: VolunteerActivity, details: ActivityDetails) -> dict:
    changes = {}
    for name in (
        *TEXT_LIMITS,
        "service_area",
        "min_age",
        "team_id",
        "team_only",
        "required_course_id",
    ):
        value = getattr(details, name)
        if isinstance(value, str):
            value = value.strip()
        if getattr(activity, name) != value:
            changes[name] = value
            setattr(activity, name, value)
    if activity.signup_deadline != details.signup_deadline:
        changes["signup_deadline"] = details.signup_deadline.isoformat()
        activity.signup_deadline = details.signup_deadline
    return changes


def _audit(action: str, actor, role: str, activity: VolunteerActivity, changes=None) -> None:
    audit.record(
        action,
        actor=actor,
        actor_role=role,
        branch_id=activity.branch_id,
        object_kind="volunteer_activity",
        object_id=activity.id,
        changes=changes or {},
    )


def create_activity(actor, branch: Branch, details: ActivityDetails) -> VolunteerActivity:
    """A draft activity of `branch` (the actor must reach it)."""
    role = _role(actor, branch)
    if not branch.is_open:
        raise ReviewError(_l("Please choose an open branch."))
    _check_details(branch, details)
    activity = VolunteerActivity(branch_id=branch.id, status=DRAFT, created_by_id=actor.id)
    _apply(activity, details)
    db.session.add(activity)
    db.session.flush()
    _audit("volunteer_activity_created", actor, role, activity, {"title": activity.title})
    return activity


def update_activity(actor, activity: VolunteerActivity, details: ActivityDetails) -> None:
    """Edit an activity that is not cancelled or finished."""
    role = _role(actor, activity.branch)
    if activity.status in (CANCELLED, FINISHED):
        raise ReviewError(_l("A cancelled or finished activity can no longer be changed."))
    _check_details(activity.branch, details)
    changes = _apply(activity, details)
    if changes:
        _audit("volunteer_activity_updated", actor, role, activity, changes)
    db.session.flush()


def _refresh_span(activity: VolunteerActivity) -> None:
    starts, ends = db.session.execute(
        select(func.min(VolunteerShift.starts_at), func.max(VolunteerShift.ends_at)).where(
            VolunteerShift.activity_id == activity.id
        )
    ).one()
    activity.starts_at, activity.ends_at = starts, ends


def add_shift(
    actor, activity: VolunteerActivity, starts_at: datetime, ends_at: datetime, capacity: int
) -> VolunteerShift:
    """A new shift (UTC times). Refused: a cancelled or finished activity, an end not
    after the start, longer than SHIFT_HOURS_MAX, a start in the past, a capacity
    outside 1..CAPACITY_MAX."""
    role = _role(actor, activity.branch)
    if activity.status in (CANCELLED, FINISHED):
        raise ReviewError(_l("A cancelled or finished activity can no longer be changed."))
    if ends_at <= starts_at or ends_at - starts_at > timedelta(hours=SHIFT_HOURS_MAX):
        raise ReviewError(_l("A shift ends after it starts and lasts at most 24 hours."))
    if starts_at < utcnow():
        raise ReviewError(_l("A new shift cannot start in the past."))
    if not 1 <= capacity <= CAPACITY_MAX:
        raise ReviewError(_l("Seats must be between 1 and %(max)d.", max=CAPACITY_MAX))
    shift = VolunteerShift(
        activity_id=activity.id, starts_at=starts_at, ends_at=ends_at, capacity=capacity
    )
    db.session.add(shift)
    db.session.flush()
    _refresh_span(activity)
    _audit(
        "volunteer_shift_added",
        actor,
        role,
        activity,
        {"shift": shift.id, "starts_at": starts_at.isoformat(), "capacity": capacity},
    )
    db.session.flush()
    return shift


def remove_shift(actor, shift: VolunteerShift) -> None:
    """Delete a shift nobody has signed up for (sign-ups keep their shift)."""
    activity = shift.activity
    role = _role(actor, activity.branch)
    taken = db.session.scalar(select(exists().where(ShiftSignup.shift_id == shift.id)))
    if taken:
        raise ReviewError(_l("Volunteers have signed up for this shift: cancel the activity."))
    db.session.delete(shift)
    db.session.flush()
    _refresh_span(activity)
    _audit("volunteer_shift_removed", actor, role, activity, {"shift": shift.id})
    db.session.flush()


def publish(actor, activity: VolunteerActivity) -> None:
    """Draft -> published: it needs a shift that has not started and a deadline before
    the last shift ends."""
    role = _role(actor, activity.branch)
    if activity.status != DRAFT:
        raise ReviewError(_l("Only a draft can be published."))
    if not activity.shifts or activity.ends_at is None or activity.ends_at <= utcnow():
        raise ReviewError(_l("Add at least one shift in the future before publishing."))
    if activity.signup_deadline > activity.ends_at:
        raise ReviewError(_l("The sign-up deadline must come before the last shift ends."))
    activity.status = PUBLISHED
    _audit("volunteer_activity_published", actor, role, activity)
    db.session.flush()


def cancel(actor, activity: VolunteerActivity, reason: str) -> list[ShiftSignup]:
    """Cancel with a reason: every live sign-up is withdrawn (seats given back) and
    returned, so the caller can notify those volunteers."""
    role = _role(actor, activity.branch)
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX or has_hidden_characters(reason, True):
        raise ReviewError(_l("Please write the reason (at most 200 characters)."))
    if activity.status not in (DRAFT, PUBLISHED):
        raise ReviewError(_l("This activity has already been cancelled or finished."))
    signups = list(
        db.session.scalars(
            select(ShiftSignup)
            .join(VolunteerShift, VolunteerShift.id == ShiftSignup.shift_id)
            .where(VolunteerShift.activity_id == activity.id, ShiftSignup.status == SIGNED_UP)
        )
    )
    for signup in signups:
        release(signup)
    activity.status = CANCELLED
    activity.status_reason = reason
    _audit(
        "volunteer_activity_cancelled",
        actor,
        role,
        activity,
        {"reason": reason, "signups": len(signups)},
    )
    db.session.flush()
    return signups


def finish(actor, activity: VolunteerActivity) -> None:
    """Published -> finished, once its last shift has started."""
    role = _role(actor, activity.branch)
    if activity.status != PUBLISHED:
        raise ReviewError(_l("Only a published activity can be marked finished."))
    if activity.starts_at is None or activity.starts_at > utcnow():
        raise ReviewError(_l("An activity can be marked finished once it has begun."))
    activity.status = FINISHED
    _audit("volunteer_activity_finished", actor, role, activity)
    db.session.flush()


# --- reading ---------------------------------------------------------------------------


def staff_activities(actor, state: str = ""):
    """The activities of the actor's scope, soonest first."""
    stmt = (
        select(VolunteerActivity)
        .join(Branch, Branch.id == VolunteerActivity.branch_id)
        .where(scope_clause(actor, REVIEW_ROLES))
        .options(joinedload(VolunteerActivity.branch))
    )
    if state in ACTIVITY_STATES:
        stmt = stmt.where(VolunteerActivity.status == state)
    return stmt.order_by(VolunteerActivity.starts_at.desc().nulls_first(), VolunteerActivity.id)


@dataclass
class Listing:
    place: "Place | None" = None
    area: str = ""
    day: date | None = None


def public_activities(listing: Listing, now: datetime | None = None):
    """Published activities not yet over, soonest first; filtered to a place (a branch
    and everything under it), a service area, and a day (Asia/Shanghai) they run on."""
    now = now or utcnow()
    stmt = select(VolunteerActivity).where(
        VolunteerActivity.status == PUBLISHED, VolunteerActivity.ends_at >= now
    )
    # No index serves ORDER BY starts_at on purpose: the plan then starts from the place's
    # branches (ix_volunteer_activities_branch_live) or from what has not ended yet
    # (ix_volunteer_activities_live) and sorts the few it finds, instead of walking every
    # activity ever published in start order.
    if listing.place is not None:
        stmt = stmt.join(Branch, Branch.id == VolunteerActivity.branch_id).where(
            path_under(listing.place.path)
        )
    if listing.area in SERVICE_AREAS:
        stmt = stmt.where(VolunteerActivity.service_area == listing.area)
    if listing.day is not None:
        start = local_to_utc(listing.day)
        stmt = stmt.where(
            VolunteerActivity.starts_at < start + timedelta(days=1),
            VolunteerActivity.ends_at >= start,
        )
    return stmt.order_by(VolunteerActivity.starts_at, VolunteerActivity.id)


PLACES_MAX = 400
PLACES_CACHE_SECONDS = 300
PLACES_KEY = "volunteer_listing_places:1"  # the number changes with Place's fields


@dataclass(frozen=True)
class Place:
    id: int
    level: str
    name_zh: str
    name_en: str
    path: str

    def name(self, locale: str) -> str:
        return name_in(locale, self.name_zh, self.name_en)


def listing_places() -> list[Place]:
    """The cities and counties (open) a visitor may filter by, in tree order. Kept in
    the app's cache for a few minutes: every visit to the listing shows them, and the
    tree changes rarely."""
    places = cache.get(PLACES_KEY)
    if places is None:
        rows = db.session.execute(
            select(Branch.id, Branch.level, Branch.name_zh, Branch.name_en, Branch.path)
            .where(Branch.level.in_(("city", "county")), Branch.closed_at.is_(None))
            .order_by(Branch.path)
            .limit(PLACES_MAX)
        )
        places = [Place(*row) for row in rows]
        cache.set(PLACES_KEY, places, timeout=PLACES_CACHE_SECONDS)
    return places
