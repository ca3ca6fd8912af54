"""The consent ledger: one row each time a person gives or withdraws consent for a
purpose. Rows are only ever added, so the ledger is the history; the latest row for a
(person, purpose) is their consent now."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow

GIVEN = "given"
WITHDRAWN = "withdrawn"


class ConsentRecord(db.Model):
    __tablename__ = "consent_records"
    # "The latest row for this person and purpose" is the read every check makes.
    __table_args__ = (Index("ix_consent_records_user_purpose", "user_id", "purpose", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    purpose: Mapped[str] = mapped_column(String(40))  # a key of consent.purposes.PURPOSES
    # The version of the purpose's consent text the person was shown and agreed to (for a
    # withdrawal: the version they had agreed to).
    version: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(10))  # given | withdrawn
    at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))

    @property
    def is_given(self) -> bool:
        return self.action == GIVEN
