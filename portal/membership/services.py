"""Membership: applying (a review kind, "membership"), what approval makes (a numbered
Member with a term and a card token), renewal, resignation, revocation and expiry.

Services take plain values, add and flush only; the views and the CLI commit.
"""

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.branches.home_branch import ancestors, can_receive
from portal.branches.models import Branch
from portal.cards.services import new_token
from portal.extensions import db
from portal.membership import terms
from portal.membership.charter import CHARTER_VERSION
from portal.membership.models import (
    ACTIVE,
    EXPIRED,  # noqa: F401  (read as services.EXPIRED)
    RESIGNED,
    REVOKED,
    Member,
    MembershipApplication,
)
from portal.membership.terms import (  # noqa: F401  (the names callers read from here)
    EXPIRING,
    EXPIRING_DAYS,
    STATUS_LABELS,
    add_years,
    clean,
    lifecycle,
    start_term,
    status_label,
    term_years,
)
from portal.notifications.services import queue_sms
from portal.numbering.services import next_number
from portal.review.models import PENDING
from portal.review.services import ReviewError
from portal.textcheck import HIDDEN_CHARACTERS_MESSAGE, has_hidden_characters

KIND = "membership"

# What citizens may ask for; "honorary" is granted by staff only, never offered.
CITIZEN_TYPES = {"ordinary": _l("Ordinary member"), "youth": _l("Youth member (students)")}
TYPES = {**CITIZEN_TYPES, "honorary": _l("Honorary member")}


ALREADY_PENDING = _l("You already have an application waiting. Withdraw it first to apply again.")


def pending_application(user) -> MembershipApplication | None:
    return db.session.scalar(
        select(MembershipApplication).where(
            MembershipApplication.user_id == user.id, MembershipApplication.status == PENDING
        )
    )


def membership_of(user) -> Member | None:
    return db.session.scalar(select(Member).where(Member.user_id == user.id))


def branches_for(user) -> list[Branch]:
    """Where a citizen may apply: their home branch and the branches above it that take
    members (open, below the national society), nearest first."""
    if user.home_branch is None:
        return []
    return [b for b in reversed(ancestors(user.home_branch)) if can_receive(b)]


def apply(
    user,
    branch: Branch | None,
    member_type: str,
    occupation: str,
    work_unit: str | None,
    address: str,
    motivation: str | None,
    charter_version: str,
) -> MembershipApplication:
    """A citizen applies to `branch`. Refuses (ReviewError): no real-name profile, a
    branch they may not apply to, a type citizens cannot ask for, a current membership,
    a second pending application, hidden characters, a stale charter version."""
    if user.profile is None:
        raise ReviewError(_l("Please add your real-name profile first."))
    if branch is None or branch.id not in {b.id for b in branches_for(user)}:
        raise ReviewError(_l("Please choose an open branch."))
    if member_type not in CITIZEN_TYPES:
        raise ReviewError(_l("Please choose a membership type."))
    if charter_version != CHARTER_VERSION:
        raise ReviewError(_l("Please read and agree to the charter."))
    current = membership_of(user)
    if current is not None and lifecycle(current) in (ACTIVE, EXPIRING):
        raise ReviewError(_l("You are already a member."))
    values = [clean(v) for v in (occupation, work_unit, address, motivation)]
    if any(has_hidden_characters(v, multiline=True) for v in values):
        raise ReviewError(HIDDEN_CHARACTERS_MESSAGE)
    occupation, work_unit, address, motivation = values
    if not occupation or not address:
        raise ReviewError(_l("Please fill in your occupation and address."))
    if pending_application(user) is not None:
        raise ReviewError(ALREADY_PENDING)
    application = MembershipApplication(
        user_id=user.id,
        branch_id=branch.id,
        member_type=member_type,
        occupation=occupation,
        work_unit=work_unit,
        address=address,
        motivation=motivation,
        charter_version=charter_version,
    )
    try:
        # A savepoint: a double submit losing the race on the unique index undoes only this.
        with db.session.begin_nested():
            db.session.add(application)
    except IntegrityError:
        raise ReviewError(ALREADY_PENDING) from None
    return application


def series_key(branch: Branch) -> str:
    return f"member:{branch.code or branch.id}"


def format_number(branch: Branch, n: int) -> str:
    return f"HY-{branch.code or branch.id}-{n:06d}"


def admit(application: MembershipApplication, actor) -> Member:
    """On approval (inside the deciding transaction): the applicant becomes a member with
    the branch's next number, a fresh term and a card token. A former member (resigned,
    revoked, expired) keeps their row and gets a new number and card."""
    branch = application.branch
    number = format_number(branch, next_number(series_key(branch)))
    member = membership_of(application.user)
    if member is None:
        member = Member(user_id=application.user_id)
        db.session.add(member)
    member.branch_id = branch.id
    member.application_id = application.id
    member.member_type = application.member_type
    start_term(member, number, new_token())
    db.session.flush()
    return member


def number_note(application: MembershipApplication) -> str | None:
    """The line the approval SMS gains (review's decision_note, called in the applicant's
    language after admit): the new member number."""
    number = db.session.scalar(select(Member.number).where(Member.application_id == application.id))
    return _("Your member number is %(number)s.", number=number) if number else None


def renew(member: Member, user) -> None:
    """The member extends their term (terms.renew: only while expiring or expired)."""
    if member.user_id != user.id:
        raise ReviewError(_l("Only the member can renew."))
    terms.renew(member, user, "member", "membership_renewed")
    db.session.flush()


def _end(member: Member, status: str, reason: str | None, actor, action: str, role=None) -> None:
    terms.end(member, status, reason, actor, action, "member", role)
    db.session.flush()


def resign(member: Member, user, reason: str | None = None) -> None:
    if member.user_id != user.id:
        raise ReviewError(_l("Only the member can resign."))
    _end(member, RESIGNED, reason, user, "membership_resigned")


def revoke(member: Member, actor, role: str, reason: str | None) -> None:
    """Staff end a membership; the reason is required. The caller checked scope."""
    if not clean(reason):
        raise ReviewError(_l("Please write the reason."))
    _end(member, REVOKED, reason, actor, "membership_revoked", role)


# --- SMS, in the citizen's language ----------------------------------------------------


def _sms(user, kind: str, pattern, **values) -> None:
    """Queue an SMS to `user` in their language: `pattern` is a lazy string with
    named placeholders."""
    if user is None or not user.phone:
        return
    locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        if "branch" in values and isinstance(values["branch"], Branch):
            values["branch"] = values["branch"].name(locale)
        body = str(pattern) % values
    queue_sms(user.phone, body, kind=kind)
