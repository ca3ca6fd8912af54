"""Class sessions: scheduling by a branch (staff, audited), the public listing, and
cancelling a whole session (everyone booked is told). Services flush only."""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, select, update

from portal import audit
from portal.branches.models import Branch, name_in
from portal.branches.scope import REVIEW_ROLES, acting_role, path_under
from portal.branches.services import expire_loaded
from portal.branches.signals import branch_moved
from portal.capacity.seats import give_back_seats, take_seats
from portal.extensions import cache, db
from portal.textcheck import has_hidden_characters
from portal.timeutil import local_to_utc, to_local, utcnow
from portal.training import notify, waitlist
from portal.training.booking import offer_hours
from portal.training.errors import TrainingError
from portal.training.models import (
    ACTIVE_STATES,
    CANCELLED,
    PUBLIC,
    RESTRICTIONS,
    SCHEDULED,
    SEATED_STATES,
    SESSION_CANCELLED,
    Booking,
    ClassDay,
    ClassSession,
    Course,
)

MAX_DAYS = 5
MAX_CAPACITY = 500
PAGE_SIZE = 10  # a phone screen or three: more is a next page away


@dataclass
class SessionPlan:
    """What staff typed for a session (the form has checked types and lengths)."""

    course_id: int
    first_day: date
    days: int
    start: time
    end: time
    venue: str
    address: str
    map_url: str | None
    capacity: int
    instructors: str
    cutoff_hours: int
    restriction: str = PUBLIC
    restriction_note: str | None = None


def _check(plan: SessionPlan, now: datetime) -> Course:
    course = db.session.get(Course, plan.course_id)
    if course is None or not course.active:
        raise TrainingError(_l("Please choose a course."))
    if not 1 <= plan.days <= MAX_DAYS:
        raise TrainingError(_l("A class lasts 1 to %(n)d days.", n=MAX_DAYS))
    if plan.end <= plan.start:
        raise TrainingError(_l("The end time must be after the start time."))
    if not 1 <= plan.capacity <= MAX_CAPACITY:
        raise TrainingError(_l("Seats must be between 1 and %(n)d.", n=MAX_CAPACITY))
    if not 0 <= plan.cutoff_hours <= 14 * 24:
        raise TrainingError(_l("Booking must close 0 to 336 hours before the start."))
    if plan.restriction not in RESTRICTIONS:
        raise TrainingError(_l("Please choose who may book."))
    if plan.restriction != PUBLIC and not plan.restriction_note:
        raise TrainingError(_l("Please name the organisation or schools the class is for."))
    for value, limit in (
        (plan.venue, 100),
        (plan.address, 200),
        (plan.instructors, 200),
        (plan.restriction_note or "", 100),
    ):
        if len(value) > limit or has_hidden_characters(value):
            raise TrainingError(_l("Please check what you typed."))
    if not plan.venue or not plan.address or not plan.instructors:
        raise TrainingError(_l("Please give the venue, its address and the instructors."))
    if plan.map_url:
        parts = urlsplit(plan.map_url)
        if parts.scheme not in ("https", "http") or not parts.netloc or len(plan.map_url) > 500:
            raise TrainingError(_l("The map link must be a web address (https://...)."))
    if local_to_utc(plan.first_day, plan.start) <= now:
        raise TrainingError(_l("The class must start in the future."))
    return course


def schedule(actor, branch: Branch, plan: SessionPlan, now=None) -> ClassSession:
    """A new session of a course at `branch` (in the actor's scope: the view checked),
    audited."""
    now = now or utcnow()
    course = _check(plan, now)
    session = ClassSession(
        course_id=course.id,
        branch_id=branch.id,
        branch_path=branch.path,
        capacity=plan.capacity,
        seats_taken=0,
        waitlist_last=0,
        venue=plan.venue,
        address=plan.address,
        map_url=plan.map_url or None,
        instructors=plan.instructors,
        restriction=plan.restriction,
        restriction_note=plan.restriction_note if plan.restriction != PUBLIC else None,
        access_code=secrets.token_hex(3).upper() if plan.restriction != PUBLIC else None,
        status=SCHEDULED,
        created_by_id=actor.id,
    )
    for n in range(plan.days):
        day = plan.first_day + timedelta(days=n)
        session.days.append(
            ClassDay(
                day_no=n + 1,
                starts_at=local_to_utc(day, plan.start),
                ends_at=local_to_utc(day, plan.end),
            )
        )
    session.starts_at = session.days[0].starts_at
    session.ends_at = session.days[-1].ends_at
    session.booking_cutoff = session.starts_at - timedelta(hours=plan.cutoff_hours)
    db.session.add(session)
    db.session.flush()
    audit.record(
        "training_session_scheduled",
        actor=actor,
        actor_role=acting_role(actor, branch, REVIEW_ROLES),
        branch_id=branch.id,
        object_kind="class_session",
        object_id=session.id,
        changes={
            "course": course.code,
            "first_day": plan.first_day.isoformat(),
            "days": plan.days,
            "capacity": plan.capacity,
            "venue": plan.venue,
            "restriction": plan.restriction,
        },
    )
    return session


@dataclass
class SessionChanges:
    venue: str
    address: str
    map_url: str | None
    instructors: str
    capacity: int


def change_session(actor, session: ClassSession, changes: SessionChanges, now=None) -> dict:
    """Change a scheduled session's venue, instructors or seats (audited). Fewer seats
    than are held is refused; more seats go first to the people waiting, as offers.
    Dates stay: a different date is a new session (people booked for this one)."""
    now = now or utcnow()
    if session.status != SCHEDULED:
        raise TrainingError(_l("This class has already been cancelled."))
    plan = SessionPlan(
        course_id=session.course_id,
        first_day=date(2100, 1, 1),  # the date rule does not apply to an edit
        days=1,
        start=time(9),
        end=time(10),
        venue=changes.venue,
        address=changes.address,
        map_url=changes.map_url,
        capacity=changes.capacity,
        instructors=changes.instructors,
        cutoff_hours=0,
    )
    _check(plan, now)
    if changes.capacity < session.seats_taken:
        raise TrainingError(
            _l("%(n)d seats are held: the class cannot have fewer.", n=session.seats_taken)
        )
    before = {
        "venue": session.venue,
        "address": session.address,
        "map_url": session.map_url,
        "instructors": session.instructors,
        "capacity": session.capacity,
    }
    after = {
        "venue": changes.venue,
        "address": changes.address,
        "map_url": changes.map_url or None,
        "instructors": changes.instructors,
        "capacity": changes.capacity,
    }
    diff = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if not diff:
        return {}
    added = changes.capacity - session.capacity
    for key, value in after.items():
        setattr(session, key, value)
    db.session.flush()  # the CHECK refuses a capacity below seats a racing booking took
    for _ in range(max(added, 0)):
        if not take_seats(ClassSession, session.id):
            break
        until = waitlist.offer_window_end(now, offer_hours(), session.booking_cutoff)
        if (
            waitlist.pass_seat_on(ClassSession, Booking, session.id, until, notify.offer_made)
            is None
        ):
            break  # no one waiting: the seat went back to the pool, and so do the rest
    audit.record(
        "training_session_updated",
        actor=actor,
        actor_role=acting_role(actor, session.branch, REVIEW_ROLES),
        branch_id=session.branch_id,
        object_kind="class_session",
        object_id=session.id,
        changes=diff,
    )
    return diff


def cancel_session(actor, session: ClassSession, reason: str) -> int:
    """Cancel a session: every active booking ends (and is told why by SMS), seats are
    released, the cancellation is audited. Returns how many people were told."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 200 or has_hidden_characters(reason, multiline=True):
        raise TrainingError(_l("Please write the reason (at most 200 characters)."))
    if session.status != SCHEDULED:
        raise TrainingError(_l("This class has already been cancelled."))
    session.status = CANCELLED
    session.cancel_reason = reason
    session.cancelled_at = utcnow()
    bookings = list(
        db.session.scalars(
            select(Booking).where(
                Booking.session_id == session.id, Booking.status.in_(ACTIVE_STATES)
            )
        )
    )
    seated = sum(1 for b in bookings if b.status in SEATED_STATES)
    for booking in bookings:
        booking.status = SESSION_CANCELLED
        booking.offer_expires_at = None
        notify.session_cancelled(booking, reason)
    db.session.flush()
    if seated:
        give_back_seats(ClassSession, session.id, seated)
    audit.record(
        "training_session_cancelled",
        actor=actor,
        actor_role=acting_role(actor, session.branch, REVIEW_ROLES),
        branch_id=session.branch_id,
        object_kind="class_session",
        object_id=session.id,
        changes={"reason": reason, "bookings": len(bookings)},
    )
    return len(bookings)


# --- the public listing ---------------------------------------------------------------


@dataclass
class Listing:
    sessions: list
    page: int
    has_next: bool


def listing(
    area: Branch | None,
    course_id: int | None,
    from_day: date | None,
    seats_only: bool,
    page: int,
    now=None,
) -> Listing:
    """Upcoming, bookable-looking sessions: in `area`'s subtree, of a course, from a day,
    with seats left; soonest first. One query (sessions with course and branch)."""
    now = now or utcnow()
    start = now
    if from_day is not None:
        start = max(now, local_to_utc(from_day, time(0, 0)))
    # 1. The page's ids, from an index alone (ix_class_sessions_listing or _area).
    keys = select(ClassSession.id).where(
        ClassSession.status == SCHEDULED, ClassSession.starts_at >= start
    )
    if area is not None:
        keys = keys.where(path_under(area.path, ClassSession.branch_path))
    if course_id is not None:
        keys = keys.where(ClassSession.course_id == course_id)
    if seats_only:
        keys = keys.where(ClassSession.seats_taken < ClassSession.capacity)
    keys = (
        keys.order_by(ClassSession.starts_at, ClassSession.id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    )
    ids = list(db.session.scalars(keys))
    if not ids:
        return Listing([], page, False)
    # 2. What the page shows of those sessions, as plain rows (no ORM objects to build).
    shown = ids[:PAGE_SIZE]
    rows = db.session.execute(
        select(
            ClassSession.id,
            ClassSession.starts_at,
            ClassSession.ends_at,
            ClassSession.capacity,
            ClassSession.seats_taken,
            ClassSession.venue,
            ClassSession.restriction,
            Course.title_zh,
            Course.title_en,
            Branch.name_zh,
            Branch.name_en,
        )
        .join(Course, Course.id == ClassSession.course_id)
        .join(Branch, Branch.id == ClassSession.branch_id)
        .where(ClassSession.id.in_(shown))
    )
    by_id = {row.id: ListedSession(*row) for row in rows}
    return Listing([by_id[i] for i in shown if i in by_id], page, len(ids) > PAGE_SIZE)


class ListedSession(NamedTuple):
    """One session as the public listing shows it. Every day of a session keeps the
    same hours, so the first day's end is the last day's end time."""

    id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int
    seats_taken: int
    venue: str
    restriction: str
    course_zh: str
    course_en: str
    branch_zh: str
    branch_en: str

    def title(self, locale: str) -> str:
        return self.course_en if locale == "en" else self.course_zh

    def branch_name(self, locale: str) -> str:
        return name_in(locale, self.branch_zh, self.branch_en)

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def day_count(self) -> int:
        return (to_local(self.ends_at).date() - to_local(self.starts_at).date()).days + 1


AREAS_CACHE_SECONDS = 300


class Area(NamedTuple):
    id: int
    level: str
    parent_id: int | None
    name_zh: str
    name_en: str

    def name(self, locale: str) -> str:
        return name_in(locale, self.name_zh, self.name_en)


def areas() -> list[Area]:
    """Cities and counties (open) to filter by, in tree order. Read from the whole
    branch table, so kept in the app's cache for a few minutes (a renamed or new
    county shows within them)."""
    found = cache.get("training:areas")
    if found is None:
        rows = db.session.execute(
            select(Branch.id, Branch.level, Branch.parent_id, Branch.name_zh, Branch.name_en)
            .where(Branch.level.in_(("city", "county")), Branch.closed_at.is_(None))
            .order_by(Branch.path)
            .limit(400)
        )
        found = [Area(*row) for row in rows]
        cache.set("training:areas", found, timeout=AREAS_CACHE_SECONDS)
    return found


class CourseChoice(NamedTuple):
    id: int
    title_zh: str
    title_en: str

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_zh


def course_choices() -> list[CourseChoice]:
    """The active courses to filter by (cached like the areas)."""
    found = cache.get("training:courses")
    if found is None:
        rows = db.session.execute(
            select(Course.id, Course.title_zh, Course.title_en)
            .where(Course.active)
            .order_by(Course.sort_order)
        )
        found = [CourseChoice(*row) for row in rows]
        cache.set("training:courses", found, timeout=AREAS_CACHE_SECONDS)
    return found


def area_options(chosen: Branch | None) -> list[Area]:
    """What the "where" list offers: every city, and the counties of the chosen city
    (or of the chosen county's city) right under it; choosing a city shows its counties
    on the next page, no script needed."""
    city_id = None
    if chosen is not None:
        city_id = chosen.id if chosen.level == "city" else chosen.parent_id
    options = []
    for area in areas():
        if area.level == "city" or area.parent_id == city_id:
            options.append(area)
    return options


@branch_moved.connect
def _follow_moved_branch(branch, old_parent_path: str, new_parent_path: str, **_):
    """A branch moved: the paths its sessions (and those below it) keep follow it, in
    the moving transaction."""
    old_prefix = f"{old_parent_path}{branch.id}/"
    new_prefix = f"{new_parent_path}{branch.id}/"
    db.session.execute(
        update(ClassSession)
        .where(path_under(old_prefix, ClassSession.branch_path))
        .values(
            branch_path=literal(new_prefix)
            + func.substr(ClassSession.branch_path, len(old_prefix) + 1)
        )
        .execution_options(synchronize_session=False)
    )
    expire_loaded(ClassSession.branch_path)
    cache.delete("training:areas")


def seated_count(session_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.session_id == session_id, Booking.status.in_(SEATED_STATES))
        )
        or 0
    )
