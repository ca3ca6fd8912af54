"""Courses, class sessions (with their days), bookings, attendance and certificates.

A booking belongs to a *person*: a signed-in citizen (`user_id`) or a named seat of a
group booking (name and mobile, the mobile encrypted). `person_key` names the person
either way ("u<user id>" or a keyed hash of the mobile), so one partial unique index
keeps one active booking per person per session, whoever booked it."""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import crypto
from portal.capacity.seats import SeatsMixin, seats_check
from portal.extensions import db
from portal.timeutil import utcnow

# Course kinds: the certified first-aider course (救护员证), awareness (普及) and instructor.
FIRST_AIDER, AWARENESS, INSTRUCTOR = "first_aider", "awareness", "instructor"
COURSE_KINDS = (FIRST_AIDER, AWARENESS, INSTRUCTOR)

# Who may book a session.
PUBLIC, ORGANISATION, SCHOOLS = "public", "organisation", "schools"
RESTRICTIONS = (PUBLIC, ORGANISATION, SCHOOLS)

SCHEDULED, CANCELLED = "scheduled", "cancelled"

# Booking states. The first three are "active" (hold a place or a place in the queue).
CONFIRMED, WAITLISTED, OFFERED = "confirmed", "waitlisted", "offered"
WITHDRAWN, OFFER_LAPSED, SESSION_CANCELLED = "withdrawn", "offer_lapsed", "session_cancelled"
ACTIVE_STATES = (CONFIRMED, WAITLISTED, OFFERED)
SEATED_STATES = (CONFIRMED, OFFERED)  # what seats_taken counts
BOOKING_STATES = (*ACTIVE_STATES, WITHDRAWN, OFFER_LAPSED, SESSION_CANCELLED)

# Outcomes recorded after the session.
PASSED, FAILED, ATTENDED, NO_SHOW = "passed", "failed", "attended", "no_show"
OUTCOMES = (PASSED, FAILED, ATTENDED, NO_SHOW)

_ACTIVE_SQL = text("status IN ('confirmed', 'waitlisted', 'offered')")
_OFFERED_SQL = text("status = 'offered'")


class Course(db.Model):
    """A course of the catalogue. `certifies`: passing it gives a certificate valid
    `validity_months`; otherwise attendance only."""

    __tablename__ = "training_courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    title_zh: Mapped[str] = mapped_column(String(100))
    title_en: Mapped[str] = mapped_column(String(200))
    description_zh: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str] = mapped_column(Text)
    hours: Mapped[int]
    min_age: Mapped[int]
    prerequisite_id: Mapped[int | None] = mapped_column(ForeignKey("training_courses.id"))
    certifies: Mapped[bool] = mapped_column(Boolean, default=False)
    has_exam: Mapped[bool] = mapped_column(Boolean, default=False)  # theory + practical
    pass_mark: Mapped[int] = mapped_column(default=80)  # theory score out of 100
    validity_months: Mapped[int | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(default=0)

    prerequisite: Mapped["Course | None"] = relationship(remote_side=[id])

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_zh

    def description(self, locale: str) -> str:
        return self.description_en if locale == "en" else self.description_zh


class ClassSession(SeatsMixin, db.Model):
    """A branch's session of a course: one or more days, a venue, seats, a cutoff.
    `starts_at` / `ends_at` span all its days (for listing and overlap checks);
    `waitlist_last` numbers the waitlist in arrival order, gaplessly."""

    __tablename__ = "class_sessions"
    __table_args__ = (
        seats_check(),
        # The public listing reads the keys of a page from one of these two indexes
        # alone (index-only: the filters' columns ride along), then loads that page's
        # sessions by id. Everywhere: soonest first from now. An area: one prefix range
        # of the branch path, sorted (a county holds a small share of the sessions).
        Index(
            "ix_class_sessions_listing",
            "status",
            "starts_at",
            "id",
            postgresql_include=["seats_taken", "capacity", "course_id"],
        ),
        Index(
            "ix_class_sessions_area",
            "status",
            "branch_path",
            "starts_at",
            "id",
            postgresql_ops={"branch_path": "varchar_pattern_ops"},
            postgresql_include=["seats_taken", "capacity", "course_id"],
        ),
        Index("ix_class_sessions_branch_starts", "branch_id", "starts_at"),
        Index("ix_class_sessions_course_starts", "course_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    # The branch's path, kept with the session (and rewritten when the branch moves) so
    # the listing filters an area on this table's own index.
    branch_path: Mapped[str] = mapped_column(String(255))
    capacity: Mapped[int]
    waitlist_last: Mapped[int] = mapped_column(default=0, server_default="0")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    booking_cutoff: Mapped[datetime]
    venue: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200))
    map_url: Mapped[str | None] = mapped_column(String(500))
    instructors: Mapped[str] = mapped_column(String(200))
    restriction: Mapped[str] = mapped_column(String(12), default=PUBLIC)
    restriction_note: Mapped[str | None] = mapped_column(String(100))  # the organisation
    access_code: Mapped[str | None] = mapped_column(String(20))  # for restricted sessions
    status: Mapped[str] = mapped_column(String(12), default=SCHEDULED)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    course: Mapped[Course] = relationship()
    branch = relationship("Branch")
    days: Mapped[list["ClassDay"]] = relationship(
        order_by="ClassDay.day_no", cascade="all, delete-orphan", back_populates="session"
    )

    @property
    def is_cancelled(self) -> bool:
        return self.status == CANCELLED


class ClassDay(db.Model):
    """One day of a session (attendance is taken per day)."""

    __tablename__ = "class_days"
    __table_args__ = (UniqueConstraint("session_id", "day_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id"))
    day_no: Mapped[int]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]

    session: Mapped[ClassSession] = relationship(back_populates="days")


class Booking(db.Model):
    """A place (or a place in the queue) of one person at one session."""

    __tablename__ = "class_bookings"
    __table_args__ = (
        # One active booking per person per session: the backstop under a double submit.
        Index(
            "uq_class_bookings_active_person",
            "session_id",
            "person_key",
            unique=True,
            postgresql_where=_ACTIVE_SQL,
            sqlite_where=_ACTIVE_SQL,
        ),
        Index("ix_class_bookings_session_status", "session_id", "status", "waitlist_no"),
        Index("ix_class_bookings_person", "person_key", "status"),
        Index(
            "ix_class_bookings_offers",
            "offer_expires_at",
            postgresql_where=_OFFERED_SQL,
            sqlite_where=_OFFERED_SQL,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    booked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    person_key: Mapped[str] = mapped_column(String(70))
    attendee_name: Mapped[str] = mapped_column(String(50))
    attendee_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20))
    waitlist_no: Mapped[int | None]
    offer_expires_at: Mapped[datetime | None]
    checkin_token: Mapped[str] = mapped_column(String(64), unique=True)
    theory_score: Mapped[int | None]
    practical_passed: Mapped[bool | None] = mapped_column(Boolean)
    outcome: Mapped[str | None] = mapped_column(String(12))
    result_at: Mapped[datetime | None]
    result_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    session: Mapped[ClassSession] = relationship()
    user = relationship("User", foreign_keys=[user_id])
    booked_by = relationship("User", foreign_keys=[booked_by_id])

    @property
    def branch(self):
        return self.session.branch

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATES

    @property
    def attendee_phone(self) -> str:
        if self.attendee_phone_enc is None:
            return self.user.phone if self.user is not None else ""
        return crypto.decrypt(self.attendee_phone_enc, "training_attendee_phone")

    @attendee_phone.setter
    def attendee_phone(self, value: str | None) -> None:
        self.attendee_phone_enc = (
            crypto.encrypt(value, "training_attendee_phone") if value else None
        )


class Attendance(db.Model):
    """Whether a booked person was there on one day of the session."""

    __tablename__ = "class_attendance"
    __table_args__ = (UniqueConstraint("booking_id", "day_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("class_bookings.id"))
    day_id: Mapped[int] = mapped_column(ForeignKey("class_days.id"), index=True)
    present: Mapped[bool] = mapped_column(Boolean)
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Certificate(db.Model):
    """A certificate issued on a pass of a certifying course. Never deleted: revoked
    with a reason."""

    __tablename__ = "training_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("class_bookings.id"), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    person_key: Mapped[str] = mapped_column(String(70), index=True)
    holder_name: Mapped[str] = mapped_column(String(50))
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    issued_on: Mapped[date]
    expires_on: Mapped[date | None] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(200))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reminded_at: Mapped[datetime | None]

    course: Mapped[Course] = relationship()
    branch = relationship("Branch")
    booking: Mapped[Booking] = relationship()
