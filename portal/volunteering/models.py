"""Volunteer applications (a review kind) and the volunteers they make.

The emergency contact, the guardian and the health statement are personal (the health
statement sensitive) information: stored encrypted (portal.crypto), read only on the
volunteer's own pages and by staff who decide on them."""

import json
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import crypto
from portal.extensions import db
from portal.review.models import ReviewMixin, one_pending_per_applicant, review_indexes
from portal.timeutil import utcnow

ACTIVE, SUSPENDED, LEFT = "active", "suspended", "left"
VOLUNTEER_STATUSES = (ACTIVE, SUSPENDED, LEFT)


class _Details:
    """What a volunteer says about themselves, on the application and on the volunteer
    (copied at approval; later edits change the volunteer only)."""

    service_areas: Mapped[str] = mapped_column(String(200))  # keys, comma-separated
    skills: Mapped[str | None] = mapped_column(String(500))
    languages: Mapped[str | None] = mapped_column(String(200))
    availability: Mapped[str] = mapped_column(String(200))  # slot keys, comma-separated
    emergency_contact_enc: Mapped[bytes] = mapped_column(LargeBinary)
    health_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    @property
    def area_keys(self) -> list[str]:
        return [k for k in (self.service_areas or "").split(",") if k]

    @property
    def slot_keys(self) -> list[str]:
        return [k for k in (self.availability or "").split(",") if k]

    @property
    def emergency_contact(self) -> dict:
        """{"name", "relation", "phone"}."""
        return json.loads(crypto.decrypt(self.emergency_contact_enc, "volunteer_emergency"))

    @emergency_contact.setter
    def emergency_contact(self, value: dict) -> None:
        self.emergency_contact_enc = crypto.encrypt(
            json.dumps(value, ensure_ascii=False), "volunteer_emergency"
        )

    @property
    def health(self) -> str:
        return crypto.decrypt(self.health_enc, "volunteer_health") if self.health_enc else ""

    @health.setter
    def health(self, value: str | None) -> None:
        self.health_enc = crypto.encrypt(value, "volunteer_health") if value else None


class _Guardian:
    """A minor's parent or guardian (encrypted: name and mobile) and when they agreed.
    Erased when the consent is withdrawn (services._guardian_consent_withdrawn)."""

    guardian_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    guardian_consent_at: Mapped[datetime | None]

    @property
    def guardian(self) -> dict | None:
        """{"name", "phone"} for someone under 18, else None."""
        if not self.guardian_enc:
            return None
        return json.loads(crypto.decrypt(self.guardian_enc, "volunteer_guardian"))

    @guardian.setter
    def guardian(self, value: dict | None) -> None:
        self.guardian_enc = encrypt_guardian(value) if value else None


def encrypt_guardian(value: dict) -> bytes:
    """The stored form of a guardian (also written by the bulk import's INSERT)."""
    return crypto.encrypt(json.dumps(value, ensure_ascii=False), "volunteer_guardian")


class VolunteerApplication(_Details, _Guardian, ReviewMixin, db.Model):
    """A citizen asks a branch to register them as a volunteer (review kind "volunteer").
    A minor's guardian and their consent (time and the text's version) are kept with it."""

    __tablename__ = "volunteer_applications"
    __table_args__ = (
        *review_indexes("volunteer_applications"),
        one_pending_per_applicant("volunteer_applications"),
    )

    code_version: Mapped[str] = mapped_column(String(10))
    guardian_consent_version: Mapped[str | None] = mapped_column(String(10))


class Volunteer(_Details, _Guardian, db.Model):
    """A registered volunteer: one per person, numbered within their branch. The
    guardian is kept here for a minor imported from the branch's records (an approved
    applicant's is on their application)."""

    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_applications.id"))
    number: Mapped[str] = mapped_column(String(30), unique=True)
    card_token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(12), default=ACTIVE)
    status_reason: Mapped[str | None] = mapped_column(String(200))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user = relationship("User")
    branch = relationship("Branch")

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE


class VolunteerTeam(db.Model):
    """A service team (服务队) of a branch; its members are volunteers of the branch's
    subtree."""

    __tablename__ = "volunteer_teams"
    __table_args__ = (UniqueConstraint("branch_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    service_area: Mapped[str] = mapped_column(String(30))
    leader_name: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    branch = relationship("Branch")
    members = relationship(
        "Volunteer", secondary="volunteer_team_members", order_by="Volunteer.number"
    )


class VolunteerTeamMember(db.Model):
    __tablename__ = "volunteer_team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("volunteer_teams.id"), primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteers.id"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
