"""Volunteer service: activities and their shifts, sign-ups (with check-in and
check-out), service hours, offline hours claims (review kind "hours_claim"), yearly
and lifetime totals, and service certificates.

Hours are integer minutes everywhere (a quarter hour is 15): sums stay exact.
`ServiceHours` is the one ledger every figure reads (my service, rankings, indicators,
certificates); a sign-up or an approved claim writes its row there.
`VolunteerServiceTotal`, `VolunteerServiceArea` and `VolunteerServiceYear` are running totals of confirmed
minutes kept in the same transaction as each confirmation, so pages read one row
instead of summing a volunteer's whole history."""

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
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
from portal.review.models import ReviewMixin, review_indexes
from portal.timeutil import utcnow

DRAFT, PUBLISHED, CANCELLED, FINISHED = "draft", "published", "cancelled", "finished"
ACTIVITY_STATES = (DRAFT, PUBLISHED, CANCELLED, FINISHED)

SIGNED_UP, WITHDRAWN = "signed_up", "withdrawn"  # a sign-up; withdrawn frees the seat
HOURS_PENDING, HOURS_CONFIRMED = "pending", "confirmed"

_ACTIVE_SIGNUP = text("status = 'signed_up'")


class VolunteerActivity(db.Model):
    """A service activity a branch (optionally one of its teams) organises."""

    __tablename__ = "volunteer_activities"
    __table_args__ = (
        # The public listing: a place's branches, then what has not ended (see
        # activities.public_activities); without a place, what has not ended.
        Index("ix_volunteer_activities_branch_live", "branch_id", "status", "ends_at"),
        Index("ix_volunteer_activities_live", "status", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_teams.id"))
    team_only: Mapped[bool] = mapped_column(default=False)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    service_area: Mapped[str] = mapped_column(String(30))
    address: Mapped[str] = mapped_column(String(200))
    min_age: Mapped[int | None]
    # A certificate (a first-aid course's) the volunteer must hold, valid on the day.
    required_course_id: Mapped[int | None] = mapped_column(ForeignKey("training_courses.id"))
    signup_deadline: Mapped[datetime]  # UTC; sign-ups and cancellations close then
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default=DRAFT)
    status_reason: Mapped[str | None] = mapped_column(String(200))
    # The first shift's start and the last shift's end (kept by the service as shifts
    # change): the public listing filters and orders on them without reading shifts.
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    branch = relationship("Branch")
    team = relationship("VolunteerTeam")
    required_course = relationship("Course")
    shifts = relationship(
        "VolunteerShift", order_by="VolunteerShift.starts_at", back_populates="activity"
    )


class VolunteerShift(SeatsMixin, db.Model):
    """One shift of an activity: a time and a number of seats (capacity)."""

    __tablename__ = "volunteer_shifts"
    __table_args__ = (
        seats_check(),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("volunteer_activities.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]

    activity = relationship("VolunteerActivity", back_populates="shifts")

    @property
    def branch(self):
        """The organising branch: scope checks (get_in_scope_or_404) read it."""
        return self.activity.branch

    @property
    def length_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class ShiftSignup(db.Model):
    """A volunteer's place on a shift, and their attendance. `checked_in_by_id` /
    `checked_out_by_id` is the organiser who recorded it by hand (None: by QR)."""

    __tablename__ = "shift_signups"
    __table_args__ = (
        # One live sign-up per person per shift: the backstop behind the service check.
        Index(
            "uq_shift_signups_active",
            "shift_id",
            "volunteer_id",
            unique=True,
            postgresql_where=_ACTIVE_SIGNUP,
            sqlite_where=_ACTIVE_SIGNUP,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("volunteer_shifts.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=SIGNED_UP)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_out_at: Mapped[datetime | None]
    checked_out_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    shift = relationship("VolunteerShift")
    volunteer = relationship("Volunteer")
    hours = relationship("ServiceHours", uselist=False, back_populates="signup")

    @property
    def branch(self):
        return self.shift.activity.branch


class ServiceHours(db.Model):
    """Minutes of service credited to a volunteer: from a shift (`signup_id`) or an
    approved offline claim (`claim_id`). Pending until the organiser confirms; only
    confirmed minutes count. `branch_id` is the volunteer's branch (rankings and the
    dashboard roll up by it)."""

    __tablename__ = "service_hours"
    __table_args__ = (
        Index("ix_service_hours_volunteer_started", "volunteer_id", "started_at"),
        Index("ix_service_hours_branch_started", "branch_id", "started_at"),
        # What is still waiting for each volunteer: few rows, whatever their history.
        Index(
            "ix_service_hours_pending_volunteer",
            "volunteer_id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        CheckConstraint("minutes >= 0", name="minutes_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    signup_id: Mapped[int | None] = mapped_column(ForeignKey("shift_signups.id"), unique=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("hours_claims.id"), unique=True)
    service_area: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]  # UTC; the service's year is its Asia/Shanghai year
    minutes: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), default=HOURS_PENDING)
    adjust_reason: Mapped[str | None] = mapped_column(String(200))
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    signup = relationship("ShiftSignup", back_populates="hours")
    volunteer = relationship("Volunteer")


class VolunteerServiceTotal(db.Model):
    """A volunteer's confirmed minutes over all time (the star level reads it)."""

    __tablename__ = "volunteer_service_totals"

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), primary_key=True)
    minutes: Mapped[int] = mapped_column(default=0)


class VolunteerServiceArea(db.Model):
    """A volunteer's confirmed minutes in one service area, over all time ("my service"
    shows them without reading the volunteer's history)."""

    __tablename__ = "volunteer_service_areas"

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), primary_key=True)
    service_area: Mapped[str] = mapped_column(String(30), primary_key=True)
    minutes: Mapped[int] = mapped_column(default=0)


class VolunteerServiceYear(db.Model):
    """A volunteer's confirmed minutes in one (Asia/Shanghai) year, and when their first
    confirmed service of that year took place: "active volunteers this year" counts
    these rows, the hours ranking orders them."""

    __tablename__ = "volunteer_service_years"
    __table_args__ = (
        # The ranking walks it backwards: most minutes first, ties by volunteer id.
        Index("ix_volunteer_service_years_ranking", "year", "minutes", "volunteer_id"),
        Index("ix_volunteer_service_years_branch_first", "branch_id", "first_at"),
    )

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    first_at: Mapped[datetime]
    minutes: Mapped[int] = mapped_column(default=0)

    volunteer = relationship("Volunteer")


class HoursClaim(ReviewMixin, db.Model):
    """A volunteer asks a branch to credit service done outside the portal (review kind
    "hours_claim"). Who can confirm it is a third person's contact: stored encrypted."""

    __tablename__ = "hours_claims"
    __table_args__ = (*review_indexes("hours_claims"),)

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    served_on: Mapped[date]
    minutes: Mapped[int]
    service_area: Mapped[str] = mapped_column(String(30))
    what: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(200))
    witness_enc: Mapped[bytes] = mapped_column(LargeBinary)

    volunteer = relationship("Volunteer")

    @property
    def witness(self) -> str:
        return crypto.decrypt(self.witness_enc, "hours_claim_witness")

    @witness.setter
    def witness(self, value: str) -> None:
        self.witness_enc = crypto.encrypt(value, "hours_claim_witness")


class ServiceCertificate(db.Model):
    """A service certificate (志愿服务证明) for a period: the figures are frozen when it
    is issued; its token opens the public verification page."""

    __tablename__ = "service_certificates"
    __table_args__ = (UniqueConstraint("number"), UniqueConstraint("token"))

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    number: Mapped[str] = mapped_column(String(40))
    token: Mapped[str] = mapped_column(String(64))
    period_from: Mapped[date]
    period_to: Mapped[date]
    minutes: Mapped[int]
    content: Mapped[str] = mapped_column(String(300))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(200))

    volunteer = relationship("Volunteer")
    branch = relationship("Branch")
