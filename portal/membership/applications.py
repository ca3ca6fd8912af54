"""Membership as a review kind ("membership") and as a card kind ("member")."""

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.accounts.models import RealNameProfile, User
from portal.accounts.phone import mask_phone
from portal.branches.models import Branch, name_in
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


def _public(row) -> PublicCard | None:
    """`row`: the columns of _load (a row reads like a Member for lifecycle())."""
    if row is None:
        return None
    state = services.lifecycle(row)
    return PublicCard(
        kind_label=_("Member card"),
        masked_name=mask_name(row.full_name or ""),
        number=row.number,
        branch_name=name_in(str(get_locale()), row.name_zh, row.name_en),
        status_label=services.status_label(state),
        is_valid=state in (services.ACTIVE, services.EXPIRING),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
    )


def _load(*where):
    # Plain columns in one statement: the public page needs a few values, and building
    # Member, User, profile and Branch objects for them (or finding no card of this kind,
    # as for every other kind's token) cost more than the query itself.
    return db.session.execute(
        select(
            Member.number,
            Member.status,
            Member.valid_from,
            Member.valid_until,
            Branch.name_zh,
            Branch.name_en,
            RealNameProfile.full_name,
        )
        .join(Branch, Branch.id == Member.branch_id)
        .outerjoin(RealNameProfile, RealNameProfile.user_id == Member.user_id)
        .where(*where)
    ).first()


def _by_token(token: str) -> PublicCard | None:
    return _public(_load(Member.card_token == token))


def _by_number(number: str, surname: str) -> PublicCard | None:
    row = _load(Member.number == number)
    if row is None or not surname_matches(row.full_name, surname):
        return None
    return _public(row)


register_card_kind(
    CardKind(key="member", label=_l("Member card"), by_token=_by_token, by_number=_by_number)
)
