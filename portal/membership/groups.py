"""Group membership (团体会员): an organisation (enterprise, social organisation, school,
government agency or institution) joins a branch through a citizen who is its contact.
The application is a review kind ("group_membership", see group_kind.py); approval makes
a GroupMember numbered TT-<branch code>-NNNNNN with the same term and life cycle as an
individual member (membership.terms). One group per unified social credit code.

Services take plain values, add and flush only; the views and the CLI commit."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError

from portal.branches.models import Branch
from portal.cards.services import new_token
from portal.extensions import db
from portal.membership import terms
from portal.membership.charter import CHARTER_VERSION
from portal.membership.models import (
    ACTIVE,
    ORG_NAME_MAX,
    RESIGNED,
    REVOKED,
    SIZE_MAX,
    TEXT_MAX,
    GroupMember,
    GroupMembershipApplication,
)
from portal.membership.services import branches_for
from portal.numbering.services import next_number
from portal.review.models import PENDING
from portal.review.services import ReviewError
from portal.textcheck import HIDDEN_CHARACTERS_MESSAGE, has_hidden_characters

KIND = "group_membership"
OBJECT_KIND = "group_member"  # the audit log's object_kind for a group member

ORG_TYPES = {
    "enterprise": _l("Enterprise"),
    "social_org": _l("Social organisation"),
    "school": _l("School"),
    "government": _l("Government agency or public institution"),
    "other": _l("Other organisation"),
}

BAD_CODE = _l("This is not a valid unified social credit code: please check the 18 characters.")
CODE_TAKEN = _l("An organisation with this unified social credit code is already a group member.")
CODE_WAITING = _l("An application for this organisation is already waiting.")
ALREADY_PENDING = _l(
    "You already have a group application waiting. Withdraw it first to apply again."
)


class CodeError(ReviewError):
    """A refusal about the unified social credit code: the form shows it beside that
    field."""


def normalise_uscc(value: str | None) -> str | None:
    """The code as stored (18 upper-case characters) when stdnum.cn.uscc accepts it,
    else None. Spaces and dashes people type are dropped."""
    try:
        return stdnum_uscc.validate(value or "")
    except ValidationError:
        return None


def group_by_code(code: str) -> GroupMember | None:
    return db.session.scalar(select(GroupMember).where(GroupMember.uscc == code))


def groups_of(user) -> list[GroupMember]:
    """The groups `user` is the contact of, newest first."""
    return list(
        db.session.scalars(
            select(GroupMember)
            .where(GroupMember.user_id == user.id)
            .order_by(GroupMember.created_at.desc(), GroupMember.id.desc())
        )
    )


def group_of(user, group_id: int) -> GroupMember | None:
    """The group `group_id` when `user` is its contact, else None."""
    group = db.session.get(GroupMember, group_id)
    return group if group is not None and group.user_id == user.id else None


def pending_application(user) -> GroupMembershipApplication | None:
    return db.session.scalar(
        select(GroupMembershipApplication).where(
            GroupMembershipApplication.user_id == user.id,
            GroupMembershipApplication.status == PENDING,
        )
    )


def _code_free(code: str) -> None:
    group = group_by_code(code)
    if group is not None and terms.lifecycle(group) in (ACTIVE, terms.EXPIRING):
        raise CodeError(CODE_TAKEN)
    waiting = db.session.scalar(
        select(GroupMembershipApplication.id).where(
            GroupMembershipApplication.uscc == code,
            GroupMembershipApplication.status == PENDING,
        )
    )
    if waiting is not None:
        raise CodeError(CODE_WAITING)


def apply(
    user,
    branch: Branch | None,
    org_name: str,
    uscc: str,
    org_type: str,
    size: int | None,
    address: str,
    charter_version: str,
) -> GroupMembershipApplication:
    """The contact `user` applies for their organisation to `branch`.

    Refuses (ReviewError; CodeError for the code): no real-name profile; a branch they
    may not apply to (their home branch or one above it that takes members); an
    unknown type; a size out of range; missing or too long name or address, hidden
    characters; a stale charter version; a code stdnum rejects, one of a current group
    or of an application waiting; a second application of theirs waiting."""
    if user.profile is None:
        raise ReviewError(_l("Please add your real-name profile first."))
    if branch is None or branch.id not in {b.id for b in branches_for(user)}:
        raise ReviewError(_l("Please choose an open branch."))
    if org_type not in ORG_TYPES:
        raise ReviewError(_l("Please choose the type of organisation."))
    if charter_version != CHARTER_VERSION:
        raise ReviewError(_l("Please read and agree to the charter."))
    if not isinstance(size, int) or not 1 <= size <= SIZE_MAX:
        raise ReviewError(_l("Please give the number of people, from 1 to %(max)d.", max=SIZE_MAX))
    org_name, address = terms.clean(org_name), terms.clean(address)
    if any(has_hidden_characters(v, multiline=False) for v in (org_name, address)):
        raise ReviewError(HIDDEN_CHARACTERS_MESSAGE)
    if not org_name or not address or len(org_name) > ORG_NAME_MAX or len(address) > TEXT_MAX:
        raise ReviewError(_l("Please fill in the organisation's name and address."))
    code = normalise_uscc(uscc)
    if code is None:
        raise CodeError(BAD_CODE)
    if pending_application(user) is not None:
        raise ReviewError(ALREADY_PENDING)
    _code_free(code)
    application = GroupMembershipApplication(
        user_id=user.id,
        branch_id=branch.id,
        org_name=org_name,
        uscc=code,
        org_type=org_type,
        size=size,
        address=address,
        charter_version=charter_version,
    )
    try:
        # A savepoint: a double submit (or a second contact of the same organisation)
        # losing the race on a unique index undoes only this insert.
        with db.session.begin_nested():
            db.session.add(application)
    except IntegrityError:
        if pending_application(user) is not None:
            raise ReviewError(ALREADY_PENDING) from None
        raise CodeError(CODE_WAITING) from None
    return application


def series_key(branch: Branch) -> str:
    return f"group_member:{branch.code or branch.id}"


def format_number(branch: Branch, n: int) -> str:
    """Group numbers are of the member family with their own prefix (团体 -> TT)."""
    return f"TT-{branch.code or branch.id}-{n:06d}"


def admit(application: GroupMembershipApplication, actor) -> GroupMember:
    """On approval (inside the deciding transaction): the organisation becomes a group
    member with the branch's next group number, a fresh term and a card token. A former
    group (resigned, revoked, expired) keeps its row and gets a new number, card and
    contact. Raises (undoing the decision) when the code is a current group's."""
    group = group_by_code(application.uscc)
    if group is not None and terms.lifecycle(group) in (ACTIVE, terms.EXPIRING):
        raise CodeError(CODE_TAKEN)
    branch = application.branch
    number = format_number(branch, next_number(series_key(branch)))
    if group is None:
        group = GroupMember(uscc=application.uscc)
        db.session.add(group)
    group.user_id = application.user_id
    group.branch_id = branch.id
    group.application_id = application.id
    for name in ("org_name", "org_type", "size", "address"):
        setattr(group, name, getattr(application, name))
    terms.start_term(group, number, new_token())
    db.session.flush()
    return group


def number_note(application: GroupMembershipApplication) -> str | None:
    """The line the approval SMS gains (review's decision_note, in the contact's
    language): the new group member number."""
    number = db.session.scalar(
        select(GroupMember.number).where(GroupMember.application_id == application.id)
    )
    return _("Your group member number is %(number)s.", number=number) if number else None


def renew(group: GroupMember, user) -> None:
    if group.user_id != user.id:
        raise ReviewError(_l("Only the group's contact can renew."))
    terms.renew(group, user, OBJECT_KIND, "group_membership_renewed")
    db.session.flush()


def resign(group: GroupMember, user, reason: str | None = None) -> None:
    if group.user_id != user.id:
        raise ReviewError(_l("Only the group's contact can resign."))
    terms.end(group, RESIGNED, reason, user, "group_membership_resigned", OBJECT_KIND)
    db.session.flush()


def revoke(group: GroupMember, actor, role: str, reason: str | None) -> None:
    """Staff end a group membership; the reason is required. The caller checked scope."""
    if not terms.clean(reason):
        raise ReviewError(_l("Please write the reason."))
    terms.end(group, REVOKED, reason, actor, "group_membership_revoked", OBJECT_KIND, role)
    db.session.flush()


def type_label(key: str) -> str:
    return str(ORG_TYPES.get(key, key))
