"""Membership as a review kind ("membership") and as a card kind ("member")."""

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.accounts.models import RealNameProfile, User
from portal.accounts.phone import mask_phone
from portal.cards.services import (
    CardKind,
    PublicCard,
    mask_name,
    register_card_kind,
    surname_matches,
)
from portal.extensions import db
from portal.membership import services
from portal.membership.models import Member, MembershipApplication
from portal.review.kinds import ReviewKind, card_select, register_kind

_CARDS = (
    card_select(
        MembershipApplication,
        MembershipApplication.member_type,
        RealNameProfile.full_name,
        User.phone,
    )
    .join(User, User.id == MembershipApplication.user_id)
    .outerjoin(RealNameProfile, RealNameProfile.user_id == User.id)
)


def _who(full_name, phone) -> str:
    masked = mask_phone(phone)
    return f"{full_name} ({masked})" if full_name else masked


def _summaries(rows) -> list[str]:
    pattern = _("%(who)s applies for membership (%(type)s)")  # translated once a page
    types = {key: str(label) for key, label in services.TYPES.items()}
    return [
        pattern % {"who": _who(row.full_name, row.phone), "type": types.get(row.member_type, "")}
        for row in rows
    ]


def _facts(application: MembershipApplication) -> list[tuple[str, str]]:
    user = application.user
    name = user.profile.full_name if user is not None and user.profile is not None else None
    facts = [
        (_("Applicant"), _who(name, user.phone if user else "")),
        (_("Membership type"), str(services.TYPES.get(application.member_type, ""))),
        (_("Occupation"), application.occupation),
        (_("Work unit or school"), application.work_unit or "—"),
        (_("Address"), application.address),
        (_("Charter version agreed"), application.charter_version),
    ]
    if application.motivation:
        facts.append((_("Why they join"), application.motivation))
    return facts


register_kind(
    ReviewKind(
        key=services.KIND,
        label=_l("Membership application"),
        model=MembershipApplication,
        cards=_CARDS,
        summaries=_summaries,
        facts=_facts,
        on_approved=services.admit,
        decision_note=services.number_note,
        personal_fields=("full_name",),
    )
)


# --- the member card, as the public may see it -------------------------------------------


def _public(member: Member | None) -> PublicCard | None:
    if member is None:
        return None
    profile = member.user.profile if member.user is not None else None
    state = services.lifecycle(member)
    return PublicCard(
        kind_label=_("Member card"),
        masked_name=mask_name(profile.full_name if profile else ""),
        number=member.number,
        branch_name=member.branch.name(str(get_locale())) if member.branch else "",
        status_label=services.status_label(state),
        is_valid=state in (services.ACTIVE, services.EXPIRING),
        valid_from=member.valid_from,
        valid_until=member.valid_until,
    )


def _load(*where) -> Member | None:
    return db.session.scalar(
        select(Member)
        .where(*where)
        .options(joinedload(Member.branch), joinedload(Member.user).joinedload(User.profile))
    )


def _by_token(token: str) -> PublicCard | None:
    return _public(_load(Member.card_token == token))


def _by_number(number: str, surname: str) -> PublicCard | None:
    member = _load(Member.number == number)
    if member is None or member.user is None or member.user.profile is None:
        return None
    if not surname_matches(member.user.profile.full_name, surname):
        return None
    return _public(member)


register_card_kind(
    CardKind(key="member", label=_l("Member card"), by_token=_by_token, by_number=_by_number)
)
