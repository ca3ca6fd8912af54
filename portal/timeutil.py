"""Times are stored in UTC and shown in Asia/Shanghai."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Naive UTC now: what every DateTime column stores (SQLite keeps no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_local(value: datetime) -> datetime:
    """A stored (naive UTC) datetime as an aware Asia/Shanghai one."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SHANGHAI)


def today_local() -> date:
    return datetime.now(SHANGHAI).date()


def local_to_utc(day: date, at: time = time.min) -> datetime:
    """A wall-clock time in Asia/Shanghai (midnight by default) as the naive UTC the
    columns store."""
    return datetime.combine(day, at, tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)
