"""Service hours: from check-in and check-out to minutes, pending until the organiser
confirms them; confirmed minutes feed the running totals (lifetime and per year) in
the same transaction, and a confirmation that crosses a star threshold says so.

All arithmetic is whole minutes (integers): no float ever touches a total.
Services add and flush only; the views commit."""

from dataclasses import dataclass
from datetime import datetime, time

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal import audit
from portal.branches.scope import REVIEW_ROLES, acting_role
from portal.extensions import db
from portal.review.services import ReviewError
from portal.textcheck import has_hidden_characters
from portal.timeutil import local_to_utc, to_local, utcnow
from portal.volunteering import notices
from portal.volunteering.service_models import (
    HOURS_CONFIRMED,
    HOURS_PENDING,
    ServiceHours,
    ShiftSignup,
    VolunteerServiceArea,
    VolunteerServiceTotal,
    VolunteerServiceYear,
)
from portal.volunteering.stars import hours_text, stars_for

QUARTER = 15
MINUTES_MAX = 24 * 60
REASON_MAX = 200
DEFAULT_GRACE_MINUTES = 30

HOURS_STATUS_LABELS = {
    HOURS_PENDING: _l("Pending confirmation"),
    HOURS_CONFIRMED: _l("Confirmed"),
}


def grace_minutes() -> int:
    """How far past the shift's length a stay still counts (config, per installation)."""
    return int(current_app.config.get("VOLUNTEER_HOURS_GRACE_MINUTES", DEFAULT_GRACE_MINUTES))


def round_to_quarter(seconds: int) -> int:
    """Seconds as minutes rounded to the nearest quarter hour (half a quarter rounds up)."""
    seconds = max(0, int(seconds))
    return (seconds + QUARTER * 30) // (QUARTER * 60) * QUARTER


def minutes_served(
    shift_start: datetime,
    shift_end: datetime,
    checked_in_at: datetime,
    checked_out_at: datetime,
    grace: int,
) -> int:
    """Minutes to credit for a stay from check-in to check-out: capped at the shift's
    length plus `grace` minutes, then rounded to a quarter hour. UTC throughout, so a
    shift across midnight (local or UTC) is simply a longer interval."""
    stay = int((checked_out_at - checked_in_at).total_seconds())
    cap = int((shift_end - shift_start).total_seconds()) + grace * 60
    return round_to_quarter(min(max(stay, 0), cap))


def record_stay(signup: ShiftSignup) -> ServiceHours:
    """After check-out (by QR or by hand): the sign-up's pending hours, made or
    recomputed. Confirmed hours are left alone (an adjustment changes them)."""
    shift = signup.shift
    minutes = minutes_served(
        shift.starts_at,
        shift.ends_at,
        signup.checked_in_at,
        signup.checked_out_at,
        grace_minutes(),
    )
    entry = signup.hours
    if entry is None:
        volunteer = signup.volunteer
        entry = ServiceHours(
            volunteer_id=volunteer.id,
            branch_id=volunteer.branch_id,
            signup_id=signup.id,
            service_area=shift.activity.service_area,
            title=shift.activity.title,
            started_at=signup.checked_in_at,
            minutes=minutes,
            status=HOURS_PENDING,
        )
        db.session.add(entry)
        signup.hours = entry
    elif entry.status == HOURS_PENDING:
        entry.minutes = minutes
        entry.started_at = signup.checked_in_at
    db.session.flush()
    return entry


def _insert():
    return pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert


def credit(volunteer, started_at: datetime, area: str, delta: int) -> tuple[int, int]:
    """Add `delta` confirmed minutes (may be negative: an adjustment) to the volunteer's
    running totals: lifetime, per service area and the service's local year. One upsert
    each, so two confirmations at once both count. Returns the lifetime total before
    and after."""
    if delta == 0:
        total = db.session.get(VolunteerServiceTotal, volunteer.id)
        now = total.minutes if total else 0
        return now, now
    insert = _insert()
    stmt = insert(VolunteerServiceTotal).values(volunteer_id=volunteer.id, minutes=delta)
    stmt = stmt.on_conflict_do_update(
        index_elements=["volunteer_id"],
        set_={"minutes": VolunteerServiceTotal.minutes + stmt.excluded.minutes},
    ).returning(VolunteerServiceTotal.minutes)
    after = db.session.scalar(stmt, execution_options={"synchronize_session": False})
    year = to_local(started_at).year
    ystmt = insert(VolunteerServiceYear).values(
        volunteer_id=volunteer.id,
        year=year,
        branch_id=volunteer.branch_id,
        first_at=started_at,
        minutes=delta,
    )
    ystmt = ystmt.on_conflict_do_update(
        index_elements=["volunteer_id", "year"],
        set_={
            "minutes": VolunteerServiceYear.minutes + ystmt.excluded.minutes,
            "first_at": case(
                (ystmt.excluded.first_at < VolunteerServiceYear.first_at, ystmt.excluded.first_at),
                else_=VolunteerServiceYear.first_at,
            ),
        },
    )
    db.session.execute(ystmt, execution_options={"synchronize_session": False})
    astmt = insert(VolunteerServiceArea).values(
        volunteer_id=volunteer.id, service_area=area, minutes=delta
    )
    astmt = astmt.on_conflict_do_update(
        index_elements=["volunteer_id", "service_area"],
        set_={"minutes": VolunteerServiceArea.minutes + astmt.excluded.minutes},
    )
    db.session.execute(astmt, execution_options={"synchronize_session": False})
    # The upserts went round the identity map: rows already loaded are stale now.
    for model, key in (
        (VolunteerServiceTotal, volunteer.id),
        (VolunteerServiceYear, (volunteer.id, year)),
        (VolunteerServiceArea, (volunteer.id, area)),
    ):
        loaded = db.session.identity_map.get(db.session.identity_key(model, key))
        if loaded is not None:
            db.session.expire(loaded)
    return after - delta, after


def _announce(volunteer, before: int, after: int, title: str, minutes: int) -> None:
    notices.hours_confirmed(volunteer, title, hours_text(minutes))
    if stars_for(after) > stars_for(before):
        notices.new_star(volunteer, stars_for(after))


def confirm(actor, entries: list[ServiceHours], branch) -> int:
    """Confirm pending entries (of shifts of `branch`, which the actor must reach): they
    count from now on, the volunteers are told (and told of a new star). Returns how
    many were confirmed; entries already confirmed are skipped."""
    role = acting_role(actor, branch, REVIEW_ROLES)
    if role is None:
        raise ReviewError(_l("You cannot confirm hours here."))
    done = 0
    now = utcnow()
    for entry in entries:
        if entry.status != HOURS_PENDING:
            continue
        entry.status = HOURS_CONFIRMED
        entry.confirmed_at = now
        entry.confirmed_by_id = actor.id
        before, after = credit(entry.volunteer, entry.started_at, entry.service_area, entry.minutes)
        _announce(entry.volunteer, before, after, entry.title, entry.minutes)
        done += 1
    if done:
        audit.record(
            "service_hours_confirmed",
            actor=actor,
            actor_role=role,
            branch_id=branch.id,
            object_kind="service_hours",
            object_id=",".join(str(e.id) for e in entries if e.confirmed_by_id == actor.id)[:60],
            changes={"entries": done},
        )
    db.session.flush()
    return done


def check_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(_l("Please write the reason."))
    if len(reason) > REASON_MAX or has_hidden_characters(reason, multiline=True):
        raise ReviewError(_l("Please write the reason (at most 200 characters)."))
    return reason


def adjust(actor, entry: ServiceHours, minutes: int, reason: str, branch) -> None:
    """Set an entry's minutes by hand (a quarter-hour multiple, 0 to 24 h) with a reason,
    audited with the old and new figures. A confirmed entry's change flows into the
    totals at once."""
    role = acting_role(actor, branch, REVIEW_ROLES)
    if role is None:
        raise ReviewError(_l("You cannot change these hours."))
    reason = check_reason(reason)
    if not 0 <= minutes <= MINUTES_MAX or minutes % QUARTER:
        raise ReviewError(_l("Hours are counted in quarter hours, from 0 to 24."))
    old = entry.minutes
    entry.minutes = minutes
    entry.adjust_reason = reason
    if entry.status == HOURS_CONFIRMED:
        credit(entry.volunteer, entry.started_at, entry.service_area, minutes - old)
    audit.record(
        "service_hours_adjusted",
        actor=actor,
        actor_role=role,
        branch_id=branch.id,
        object_kind="service_hours",
        object_id=entry.id,
        changes={"minutes": [old, minutes], "reason": reason},
    )
    db.session.flush()


def confirm_claim_hours(claim, actor) -> ServiceHours:
    """An approved offline claim becomes a confirmed entry (inside the deciding
    transaction), counted at once."""
    volunteer = claim.volunteer
    started = local_to_utc(claim.served_on, time(9, 0))
    entry = ServiceHours(
        volunteer_id=volunteer.id,
        branch_id=volunteer.branch_id,
        claim_id=claim.id,
        service_area=claim.service_area,
        title=claim.what[:100],
        started_at=started,
        minutes=claim.minutes,
        status=HOURS_CONFIRMED,
        confirmed_at=utcnow(),
        confirmed_by_id=actor.id,
    )
    db.session.add(entry)
    db.session.flush()
    before, after = credit(volunteer, started, claim.service_area, claim.minutes)
    if stars_for(after) > stars_for(before):
        notices.new_star(volunteer, stars_for(after))
    return entry


# --- what the volunteer sees -------------------------------------------------------------


@dataclass
class Summary:
    total: int  # confirmed minutes, all time
    this_year: int
    pending: int
    by_area: list[tuple[str, int]]


def summary(volunteer, year: int) -> Summary:
    """The volunteer's figures from the running totals, in one statement whatever the
    length of their history: confirmed minutes per area, with the lifetime total, this
    year's and what is still pending (a partial index of pending entries) beside them."""
    from sqlalchemy import func, literal, union_all

    def scalar(stmt):
        return stmt.scalar_subquery()

    total = scalar(
        select(VolunteerServiceTotal.minutes).where(
            VolunteerServiceTotal.volunteer_id == volunteer.id
        )
    )
    this_year = scalar(
        select(VolunteerServiceYear.minutes).where(
            VolunteerServiceYear.volunteer_id == volunteer.id, VolunteerServiceYear.year == year
        )
    )
    pending = scalar(
        select(func.sum(ServiceHours.minutes)).where(
            ServiceHours.volunteer_id == volunteer.id, ServiceHours.status == HOURS_PENDING
        )
    )
    # Row kind 0: the three figures; kind 1: one row per service area.
    figures = select(literal(0).label("kind"), literal("").label("area"), total, this_year, pending)
    areas = select(
        literal(1),
        VolunteerServiceArea.service_area,
        VolunteerServiceArea.minutes,
        literal(0),
        literal(0),
    ).where(VolunteerServiceArea.volunteer_id == volunteer.id)
    rows = db.session.execute(union_all(figures, areas)).all()
    head = next(r for r in rows if r[0] == 0)
    return Summary(
        total=int(head[2] or 0),
        this_year=int(head[3] or 0),
        pending=int(head[4] or 0),
        by_area=sorted(
            ((r[1], int(r[2])) for r in rows if r[0] == 1 and r[2]), key=lambda r: -r[1]
        ),
    )


HISTORY_PAGE = 25


def history(volunteer, page: int = 1):
    """The volunteer's entries, newest first, one page; and whether more follow."""
    rows = list(
        db.session.scalars(
            select(ServiceHours)
            .where(ServiceHours.volunteer_id == volunteer.id)
            .order_by(ServiceHours.started_at.desc(), ServiceHours.id.desc())
            .limit(HISTORY_PAGE + 1)
            .offset((page - 1) * HISTORY_PAGE)
        )
    )
    return rows[:HISTORY_PAGE], len(rows) > HISTORY_PAGE
