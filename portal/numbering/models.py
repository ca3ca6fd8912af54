"""The counters behind gapless numbers (see numbering.services)."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class NumberSeries(db.Model):
    """The last number issued in one series ("member:610302", "receipt:610302:2026")."""

    __tablename__ = "number_series"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)
