"""The remembrance page (缅怀纪念): donors whose families agreed to their name being shown,
entered by staff with that agreement recorded (encrypted: it names a relative), and a
flower counter visitors add to, throttled per visitor. Nothing else is collected from
visitors."""

import secrets
from datetime import date

from flask_babel import lazy_gettext as _l
from limits import parse
from sqlalchemy import select, update

from portal import audit
from portal.donors.models import MemorialDonor
from portal.extensions import db, limiter
from portal.timeutil import today_local, utcnow

KINDS = {
    "organ": _l("Organ donor"),
    "body": _l("Body donor"),
    "cornea": _l("Cornea donor"),
    "marrow": _l("Stem cell donor"),
}
# One flower per visitor and donor a day; a whole address (a campus, a carrier's NAT)
# is allowed more, but not a script's worth.
PER_VISITOR = parse("1/day")
PER_ADDRESS = parse("200/hour")


class MemorialError(ValueError):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def kind_label(kind: str) -> str:
    return str(KINDS.get(kind, kind))


def shown():
    """The donors the public sees, most recent donation first."""
    return (
        select(MemorialDonor)
        .where(MemorialDonor.hidden_at.is_(None))
        .order_by(MemorialDonor.donated_on.desc(), MemorialDonor.id.desc())
    )


def add(
    branch,
    *,
    display_name: str,
    kind: str,
    donated_on: date,
    tribute: str | None,
    agreed_by: str,
    agreed_relation: str,
    agreed_on: date,
    actor,
    role: str | None,
) -> MemorialDonor:
    """Staff add a donor with the family's written agreement (who, relation, when).
    Refuses an unknown kind or a date in the future."""
    today = today_local()
    if kind not in KINDS:
        raise MemorialError(_l("Please choose only from the list."))
    if donated_on > today or agreed_on > today:
        raise MemorialError(_l("The date cannot be in the future."))
    donor = MemorialDonor(
        branch_id=branch.id,
        display_name=display_name,
        kind=kind,
        donated_on=donated_on,
        tribute=(tribute or "").strip() or None,
        created_by_id=actor.id,
        flowers=0,
    )
    donor.agreement = {
        "name": agreed_by,
        "relation": agreed_relation,
        "on": agreed_on.isoformat(),
        "written": True,
    }
    db.session.add(donor)
    db.session.flush()
    audit.record(
        "memorial_donor_added",
        actor=actor,
        actor_role=role,
        branch_id=branch.id,
        object_kind="memorial_donor",
        object_id=donor.id,
    )
    return donor


def hide(donor: MemorialDonor, actor, role: str | None) -> None:
    """Take a name down (the family asked): it leaves the public page, the row stays."""
    if donor.hidden_at is None:
        donor.hidden_at = utcnow()
        audit.record(
            "memorial_donor_hidden",
            actor=actor,
            actor_role=role,
            branch_id=donor.branch_id,
            object_kind="memorial_donor",
            object_id=donor.id,
        )
        db.session.flush()


def visitor_key(session) -> str:
    """A random id for this browser, kept in its session (no account needed)."""
    key = session.get("memorial_visitor")
    if not key:
        key = session["memorial_visitor"] = secrets.token_urlsafe(12)
    return key


def leave_flower(donor_id: int, visitor: str, address: str) -> bool:
    """Add one flower to a shown donor, unless this visitor left one today (or the
    address has left very many this hour). One UPDATE: concurrent flowers all count."""
    strategy = limiter.limiter
    if not strategy.test(PER_VISITOR, "flower", visitor, str(donor_id)) or not strategy.test(
        PER_ADDRESS, "flower-ip", address
    ):
        return False
    done = db.session.execute(
        update(MemorialDonor)
        .where(MemorialDonor.id == donor_id, MemorialDonor.hidden_at.is_(None))
        .values(flowers=MemorialDonor.flowers + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done:
        strategy.hit(PER_VISITOR, "flower", visitor, str(donor_id))
        strategy.hit(PER_ADDRESS, "flower-ip", address)
    return bool(done)
