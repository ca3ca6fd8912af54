"""Group membership as a review kind ("group_membership"), as a card kind
("group_member") and as the dashboard's "new group members" figure."""

from datetime import datetime

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, Select, literal_column, select
from sqlalchemy.orm import joinedload

from portal.accounts.models import RealNameProfile, User
from portal.accounts.phone import mask_phone
from portal.admin.indicators import register_indicator
from portal.cards.services import CardKind, PublicCard, register_card_kind
from portal.extensions import db
from portal.membership import groups, terms
from portal.membership.models import GroupMember, GroupMembershipApplication
from portal.review.kinds import ReviewKind, card_select, register_kind

_CARDS = (
    card_select(
        GroupMembershipApplication,
        GroupMembershipApplication.org_name,
        GroupMembershipApplication.org_type,
        RealNameProfile.full_name,
        User.phone,
    )
    .join(User, User.id == GroupMembershipApplication.user_id)
    .outerjoin(RealNameProfile, RealNameProfile.user_id == User.id)
)


def _who(full_name, phone) -> str:
    masked = mask_phone(phone)
    return f"{full_name} ({masked})" if full_name else masked


def _summaries(rows) -> list[str]:
    pattern = _("%(org)s (%(type)s) applies for group membership; contact %(who)s")
    types = {key: str(label) for key, label in groups.ORG_TYPES.items()}
    return [
        pattern
        % {
            "org": row.org_name,
            "type": types.get(row.org_type, ""),
            "who": _who(row.full_name, row.phone),
        }
        for row in rows
    ]


def _facts(application: GroupMembershipApplication) -> list[tuple[str, str]]:
    user = application.user
    name = user.profile.full_name if user is not None and user.profile is not None else None
    return [
        (_("Organisation"), application.org_name),
        (_("Unified social credit code"), application.uscc),
        (_("Type of organisation"), groups.type_label(application.org_type)),
        (_("Number of people"), str(application.size)),
        (_("Address"), application.address),
        (_("Contact"), _who(name, user.phone if user else "")),
        (_("Charter version agreed"), application.charter_version),
    ]


register_kind(
    ReviewKind(
        key=groups.KIND,
        label=_l("Group membership application"),
        model=GroupMembershipApplication,
        cards=_CARDS,
        summaries=_summaries,
        facts=_facts,
        on_approved=groups.admit,
        decision_note=groups.number_note,
        personal_fields=("full_name",),
    )
)


# --- the group card, as the public may see it --------------------------------------------
# An organisation's name is public (it is on its business licence), so the card shows it
# whole; nothing of the contact person is shown.


def _public(group: GroupMember | None) -> PublicCard | None:
    if group is None:
        return None
    state = terms.lifecycle(group)
    return PublicCard(
        kind_label=_("Group member card"),
        masked_name=group.org_name,
        number=group.number,
        branch_name=group.branch.name(str(get_locale())) if group.branch else "",
        status_label=terms.status_label(state),
        is_valid=state in (terms.ACTIVE, terms.EXPIRING),
        valid_from=group.valid_from,
        valid_until=group.valid_until,
    )


def _load(*where) -> GroupMember | None:
    return db.session.scalar(
        select(GroupMember).where(*where).options(joinedload(GroupMember.branch))
    )


def _by_token(token: str) -> PublicCard | None:
    return _public(_load(GroupMember.card_token == token))


def _by_number(number: str, name_start: str) -> PublicCard | None:
    """By number and the first characters of the organisation's name (what the form
    calls the surname: for a group, how its name begins)."""
    if not number.startswith("TT-"):
        return None
    group = _load(GroupMember.number == number)
    if group is None or not group.org_name.startswith(name_start):
        return None
    return _public(group)


register_card_kind(
    CardKind(
        key="group_member", label=_l("Group member card"), by_token=_by_token, by_number=_by_number
    )
)


# --- the dashboard -----------------------------------------------------------------------
# The plans count members in people (会员 ... 万人) and name member organisations (会员单位)
# apart, so groups are not added to "members": they have a figure of their own.


def new_group_members(branch_ids: Select, start: datetime, end: datetime) -> Select:
    return select(
        GroupMember.branch_id.label("branch_id"),
        GroupMember.created_at.label("at"),
        literal_column("1", Integer).label("amount"),
    ).where(
        GroupMember.branch_id.in_(branch_ids),
        GroupMember.created_at >= start,
        GroupMember.created_at < end,
    )


register_indicator(
    "group_members",
    _l("New group members (organisations)"),
    new_group_members,
    unit="projects",
    note=_l("Organisations, counted by the day the group membership was approved."),
)
