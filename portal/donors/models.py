"""Marrow registrations, sample sessions and their bookings, organ / body wishes (one
row per version) and the remembrance list.

What a person tells us about their health, their contacts and their choices is kept
only encrypted (`*_enc`, portal.crypto, each column under its own context); the clear
columns hold what staff lists and counts need: status, dates, branch."""

import json
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import crypto
from portal.capacity.seats import SeatsMixin, seats_check
from portal.extensions import db
from portal.timeutil import utcnow

# Marrow statuses, in the order a registration moves through them.
PRE_REGISTERED = "pre_registered"
CONFIRMED = "confirmed"
SAMPLE_BOOKED = "sample_booked"
SAMPLED = "sampled"
TYPED = "typed"
WITHDRAWN = "withdrawn"
MARROW_STATUSES = (PRE_REGISTERED, CONFIRMED, SAMPLE_BOOKED, SAMPLED, TYPED, WITHDRAWN)

# Organ registrations and sample bookings.
REGISTERED = "registered"
BOOKED, CANCELLED, ATTENDED = "booked", "cancelled", "attended"

REASON_MAX = 200


class _Encrypted:
    """get/set a JSON value in an encrypted column (None clears it)."""

    @staticmethod
    def read(blob: bytes | None, context: str):
        return json.loads(crypto.decrypt(blob, context)) if blob else None

    @staticmethod
    def seal(value, context: str) -> bytes | None:
        if value is None:
            return None
        return crypto.encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True), context)


class MarrowRegistration(db.Model):
    """A citizen's pre-registration as a stem cell donor with its branch (their home
    branch, for staff scope) and where it stands."""

    __tablename__ = "marrow_registrations"
    __table_args__ = (
        # One registration in progress per person; a withdrawn one may be followed by another.
        Index(
            "uq_marrow_registrations_open_user",
            "user_id",
            unique=True,
            postgresql_where=text("status != 'withdrawn'"),
            sqlite_where=text("status != 'withdrawn'"),
        ),
        Index("ix_marrow_registrations_branch_status", "branch_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    status: Mapped[str] = mapped_column(String(20), default=PRE_REGISTERED)
    # {"weight_kg": "62.5", "answers": {question: false, ...}}: all "no", or no row at all.
    health_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    contacts_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # two {name, relation, phone}
    preferences_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # {channel, time}
    health_consent_version: Mapped[str] = mapped_column(String(20))
    registry_consent_version: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    registered_on: Mapped[date]  # Asia/Shanghai day; the cooling-off counts from it
    cooling_off_until: Mapped[date]  # last day a withdrawal is "in the cooling-off period"
    confirmed_at: Mapped[datetime | None]
    sampled_at: Mapped[datetime | None]
    typed_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    withdraw_reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User", foreign_keys=[user_id])
    branch = relationship("Branch", foreign_keys=[branch_id])

    @property
    def health(self) -> dict | None:
        return _Encrypted.read(self.health_enc, "marrow_health")

    @health.setter
    def health(self, value: dict | None) -> None:
        self.health_enc = _Encrypted.seal(value, "marrow_health")

    @property
    def contacts(self) -> list[dict]:
        return _Encrypted.read(self.contacts_enc, "marrow_contacts") or []

    @contacts.setter
    def contacts(self, value: list[dict] | None) -> None:
        self.contacts_enc = _Encrypted.seal(value, "marrow_contacts")

    @property
    def preferences(self) -> dict:
        return _Encrypted.read(self.preferences_enc, "marrow_preferences") or {}

    @preferences.setter
    def preferences(self, value: dict | None) -> None:
        self.preferences_enc = _Encrypted.seal(value, "marrow_preferences")

    @property
    def withdraw_reason(self) -> str | None:
        return _Encrypted.read(self.withdraw_reason_enc, "marrow_withdraw_reason")

    @withdraw_reason.setter
    def withdraw_reason(self, value: str | None) -> None:
        self.withdraw_reason_enc = _Encrypted.seal(value or None, "marrow_withdraw_reason")


class SampleSession(SeatsMixin, db.Model):
    """A blood-sample session a branch runs at a collection point."""

    __tablename__ = "sample_sessions"
    __table_args__ = (
        seats_check(),
        Index("ix_sample_sessions_branch_starts", "branch_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    place: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(index=True)  # UTC
    ends_at: Mapped[datetime]
    capacity: Mapped[int]
    cancelled_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    branch = relationship("Branch", foreign_keys=[branch_id])


class SampleBooking(db.Model):
    """A registrant's appointment at a sample session."""

    __tablename__ = "sample_bookings"
    __table_args__ = (
        # One live appointment per registration, wherever it is: the backstop of booking.
        Index(
            "uq_sample_bookings_booked_registration",
            "registration_id",
            unique=True,
            postgresql_where=text("status = 'booked'"),
            sqlite_where=text("status = 'booked'"),
        ),
        Index("ix_sample_bookings_session_status", "session_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sample_sessions.id"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("marrow_registrations.id"))
    status: Mapped[str] = mapped_column(String(10), default=BOOKED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]
    reminder_sent_at: Mapped[datetime | None]

    session = relationship("SampleSession", foreign_keys=[session_id])
    registration = relationship("MarrowRegistration", foreign_keys=[registration_id])

    @property
    def branch(self):  # scope of a booking: the branch running the session
        return self.session.branch


class OrganRegistration(db.Model):
    """A citizen's organ / body donation registration: numbered, with a card token; what
    they wish is in its versions (the latest counts)."""

    __tablename__ = "organ_registrations"
    __table_args__ = (
        Index(
            "uq_organ_registrations_open_user",
            "user_id",
            unique=True,
            postgresql_where=text("status = 'registered'"),
            sqlite_where=text("status = 'registered'"),
        ),
        Index("ix_organ_registrations_branch_status", "branch_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    number: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=REGISTERED)
    card_token: Mapped[str] = mapped_column(String(64), unique=True)
    consent_version: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]

    user = relationship("User", foreign_keys=[user_id])
    branch = relationship("Branch", foreign_keys=[branch_id])
    versions = relationship(
        "OrganWishVersion", order_by="OrganWishVersion.version", back_populates="registration"
    )


class OrganWishVersion(db.Model):
    """One version of a person's organ / body wishes: never changed, only followed."""

    __tablename__ = "organ_wish_versions"
    __table_args__ = (UniqueConstraint("registration_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("organ_registrations.id"))
    version: Mapped[int]
    # "registered" for a wish, "withdrawn" for the version that withdrew it.
    action: Mapped[str] = mapped_column(String(20), default=REGISTERED)
    choices_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # {all_organs, organs, ...}
    family_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # {name, relation, phone}
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    registration = relationship("OrganRegistration", back_populates="versions")

    @property
    def choices(self) -> dict | None:
        return _Encrypted.read(self.choices_enc, "organ_choices")

    @choices.setter
    def choices(self, value: dict | None) -> None:
        self.choices_enc = _Encrypted.seal(value, "organ_choices")

    @property
    def family(self) -> dict | None:
        return _Encrypted.read(self.family_enc, "organ_family")

    @family.setter
    def family(self, value: dict | None) -> None:
        self.family_enc = _Encrypted.seal(value, "organ_family")


class MemorialDonor(db.Model):
    """A donor remembered on the public memorial page, entered by staff once the family
    agreed (who agreed and when is recorded, encrypted: it names a relative)."""

    __tablename__ = "memorial_donors"
    __table_args__ = (Index("ix_memorial_donors_shown", "hidden_at", "donated_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(50))  # as the family wishes it shown
    kind: Mapped[str] = mapped_column(String(20))  # organ | body | cornea | marrow
    donated_on: Mapped[date]
    tribute: Mapped[str | None] = mapped_column(String(300))
    agreement_enc: Mapped[bytes] = mapped_column(LargeBinary)  # {name, relation, on, note}
    flowers: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    hidden_at: Mapped[datetime | None]  # the family asked to take the name down

    branch = relationship("Branch", foreign_keys=[branch_id])

    @property
    def agreement(self) -> dict:
        return _Encrypted.read(self.agreement_enc, "memorial_agreement") or {}

    @agreement.setter
    def agreement(self, value: dict) -> None:
        self.agreement_enc = _Encrypted.seal(value, "memorial_agreement")
