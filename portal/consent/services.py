"""Giving and withdrawing consent. Adds and flushes only; the caller commits once, so a
consent is written in the same transaction as the data it allows."""

from sqlalchemy import func, select

from portal import audit
from portal.consent import purposes
from portal.consent.models import GIVEN, WITHDRAWN, ConsentRecord
from portal.consent.purposes import PURPOSES, Purpose
from portal.extensions import db


class ConsentError(ValueError):
    """An unknown purpose or version, or withdrawing a consent that is not given."""


def _purpose(key: str) -> Purpose:
    purpose = PURPOSES.get(key)
    if purpose is None:
        raise ConsentError(f"unknown consent purpose {key!r}")
    return purpose


def current(user, purpose: str) -> ConsentRecord | None:
    """The person's latest ledger row for `purpose`, or None if they were never asked."""
    return db.session.scalar(
        select(ConsentRecord)
        .where(ConsentRecord.user_id == user.id, ConsentRecord.purpose == purpose)
        .order_by(ConsentRecord.id.desc())
        .limit(1)
    )


def is_given(user, purpose: str, *, current_version: bool = True) -> bool:
    """True while the person's consent for `purpose` stands (by default: to the text
    asked for now; a consent to an older text must be given again)."""
    row = current(user, purpose)
    if row is None or not row.is_given:
        return False
    return not current_version or row.version == _purpose(purpose).version


def give(user, purpose: str, *, version: str | None = None, ip: str | None = None):
    """Record that `user` agreed to `purpose`'s text `version` (default: the current one).

    Promises: one "given" row, unless the same version already stands (then that row is
    returned and nothing is added). Refuses (ConsentError): an unknown purpose, or a
    version that is not the one asked for now (nobody can agree to a text no longer shown).
    """
    p = _purpose(purpose)
    version = version or p.version
    if version != p.version:
        raise ConsentError(f"{purpose} version {version!r} is not the current one")
    standing = current(user, purpose)
    if standing is not None and standing.is_given and standing.version == version:
        return standing
    row = ConsentRecord(user_id=user.id, purpose=purpose, version=version, action=GIVEN, ip=ip)
    db.session.add(row)
    db.session.flush()
    return row


def withdraw(user, purpose: str, *, ip: str | None = None) -> ConsentRecord:
    """Record that `user` withdrew `purpose`, carry out the purpose's withdrawal effect
    (e.g. delete the data given on it) and audit it, all in the caller's transaction.

    Refuses (ConsentError): an unknown purpose, or a consent that does not stand now.
    """
    _purpose(purpose)
    standing = current(user, purpose)
    if standing is None or not standing.is_given:
        raise ConsentError(f"{purpose} is not given")
    row = ConsentRecord(
        user_id=user.id, purpose=purpose, version=standing.version, action=WITHDRAWN, ip=ip
    )
    db.session.add(row)
    db.session.flush()
    effect = purposes.withdrawal_effect(purpose)
    if effect is not None:
        effect(user)
    audit.record(
        "consent_withdrawn",
        actor=user,
        object_kind="consent",
        object_id=row.id,
        changes={"purpose": purpose, "version": standing.version},
        ip=ip,
    )
    return row


def history(user, purpose: str | None = None) -> list[ConsentRecord]:
    """The person's ledger rows, newest first; only `purpose`'s when given."""
    stmt = select(ConsentRecord).where(ConsentRecord.user_id == user.id)
    if purpose is not None:
        stmt = stmt.where(ConsentRecord.purpose == purpose)
    return list(db.session.scalars(stmt.order_by(ConsentRecord.id.desc())))


def latest_by_purpose(user) -> dict[str, ConsentRecord]:
    """{purpose: latest row} for every purpose the person was ever recorded for."""
    latest_ids = (
        select(func.max(ConsentRecord.id))
        .where(ConsentRecord.user_id == user.id)
        .group_by(ConsentRecord.purpose)
    )
    rows = db.session.scalars(select(ConsentRecord).where(ConsentRecord.id.in_(latest_ids)))
    return {row.purpose: row for row in rows}
