"""Citizen accounts: login by mobile number, SMS codes, the real-name profile."""

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.phone import mask_phone
from portal.extensions import db
from portal.timeutil import utcnow


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Mainland mobile number, 11 digits, normalised by accounts.phone.normalise_phone().
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    phone_verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    locale: Mapped[str | None] = mapped_column(String(10))
    care_mode: Mapped[bool] = mapped_column(default=False)
    is_active_account: Mapped[bool] = mapped_column(default=True)
    # The branch a citizen belongs to, set when a branch approves their home-branch request.
    home_branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))

    profile: Mapped["RealNameProfile | None"] = relationship(back_populates="user", uselist=False)
    home_branch = relationship("Branch", foreign_keys=[home_branch_id])

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.is_active_account

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def display_name(self) -> str:
        return self.profile.full_name if self.profile else self.masked_phone


class SmsCode(db.Model):
    """A one-time code sent by SMS. Only its hash is kept."""

    __tablename__ = "sms_codes"
    __table_args__ = (Index("ix_sms_codes_phone_purpose", "phone", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(20))  # register | login | reset
    code_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    consumed_at: Mapped[datetime | None]


class RealNameProfile(db.Model):
    """Real-name identity. The document number is sensitive personal information:
    stored encrypted, found through a keyed hash, shown only masked."""

    __tablename__ = "real_name_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    full_name: Mapped[str] = mapped_column(String(50))
    doc_type: Mapped[str] = mapped_column(String(20))
    doc_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    doc_number_hmac: Mapped[str] = mapped_column(String(64), unique=True)
    doc_number_masked: Mapped[str] = mapped_column(String(40))
    birth_date: Mapped[date]
    sex: Mapped[str | None] = mapped_column(String(1))  # M | F, when the document says
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(back_populates="profile")


class ServerSession(db.Model):
    """A server-side web session (portal/sessions.py): the cookie carries only a random
    token; the row is found by its SHA-256."""

    __tablename__ = "server_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    is_staff: Mapped[bool] = mapped_column(default=False)
    data: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None]
