"""The staff side of volunteering: the scoped list (search, filters, pages), status
changes and teams. Every read is limited to the actor's scope (scope.py); every change
is audited. Services add and flush only; the views commit."""

from dataclasses import dataclass
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import audit
from portal.accounts.models import RealNameProfile, User
from portal.branches.models import Branch, name_in
from portal.branches.scope import REVIEW_ROLES, acting_role, covers, scope_clause
from portal.extensions import db
from portal.review.services import ReviewError
from portal.textcheck import HIDDEN_CHARACTERS_MESSAGE, has_hidden_characters
from portal.volunteering.models import (
    VOLUNTEER_STATUSES,
    Volunteer,
    VolunteerTeam,
    VolunteerTeamMember,
)
from portal.volunteering.services import SERVICE_AREAS

PAGE_SIZE = 25
REASON_MAX = 200


@dataclass
class Page:
    items: list
    page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def total(self) -> int | None:
        """How many matched, when it is known without counting: everything fitted on
        the first page."""
        return len(self.items) if self.page == 1 and not self.has_next else None


def _scoped(actor):
    return (
        select(Volunteer)
        .join(Branch, Branch.id == Volunteer.branch_id)
        .join(User, User.id == Volunteer.user_id)
        .outerjoin(RealNameProfile, RealNameProfile.user_id == User.id)
        .where(scope_clause(actor, REVIEW_ROLES))
    )


def search(actor, q: str = "", status: str = "", area: str = "", team_id: int | None = None):
    """The volunteers in the actor's scope matching the search (name, number, or the
    last four digits of the phone) and filters, oldest number first."""
    stmt = _scoped(actor)
    q = (q or "").strip()
    if q:
        if q.isdigit() and len(q) == 4:
            stmt = stmt.where(User.phone.endswith(q))
        else:
            stmt = stmt.where(
                RealNameProfile.full_name.contains(q, autoescape=True)
                | Volunteer.number.contains(q.upper(), autoescape=True)
            )
    if status in VOLUNTEER_STATUSES:
        stmt = stmt.where(Volunteer.status == status)
    if area in SERVICE_AREAS:
        stmt = stmt.where(Volunteer.service_areas.contains(area, autoescape=True))
    if team_id is not None:
        stmt = stmt.where(
            Volunteer.id.in_(
                select(VolunteerTeamMember.volunteer_id).where(
                    VolunteerTeamMember.team_id == team_id
                )
            )
        )
    return stmt


class ListRow(NamedTuple):
    """One line of the staff list, read as plain columns."""

    id: int
    number: str
    status: str
    full_name: str | None
    name_zh: str
    name_en: str

    def branch_name(self, locale: str) -> str:
        return name_in(locale, self.name_zh, self.name_en)


def page_of(stmt, page: int) -> Page:
    """One page, oldest registration first, as plain rows of what the list shows (the
    branch's names and the person's name come from the joins the search made). One
    row more than a page says whether another follows: no count, which for a province
    would read every volunteer matching the filters."""
    rows = db.session.execute(
        stmt.with_only_columns(
            Volunteer.id,
            Volunteer.number,
            Volunteer.status,
            RealNameProfile.full_name,
            Branch.name_zh,
            Branch.name_en,
        )
        .order_by(Volunteer.registered_at, Volunteer.id)
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    items = [ListRow(*row) for row in rows[:PAGE_SIZE]]
    return Page(items, page, len(rows) > PAGE_SIZE)


def export_rows(stmt, locale: str):
    for v in db.session.scalars(
        stmt.options(joinedload(Volunteer.branch), joinedload(Volunteer.user)).order_by(
            Volunteer.registered_at, Volunteer.id
        )
    ).unique():
        profile = v.user.profile
        yield (
            v.number,
            profile.full_name if profile else "",
            profile.doc_number_masked if profile else "",
            v.branch.name(locale),
            v.status,
            "、".join(str(SERVICE_AREAS[a]) for a in v.area_keys),
            v.registered_at.date().isoformat(),
        )


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(_l("Please write the reason."))
    if has_hidden_characters(reason, multiline=True):
        raise ReviewError(HIDDEN_CHARACTERS_MESSAGE)
    if len(reason) > REASON_MAX:
        raise ReviewError(_l("Please keep the reason under %(n)d characters.", n=REASON_MAX))
    return reason


def change_status(volunteer: Volunteer, actor, status: str, reason: str) -> None:
    """Suspend, end or restore a volunteer, with a reason (audited)."""
    role = acting_role(actor, volunteer.branch, REVIEW_ROLES)
    if role is None:
        raise ReviewError(_l("You cannot change this volunteer."))
    if status not in VOLUNTEER_STATUSES:
        raise ReviewError(_l("Please choose a status."))
    reason = _check_reason(reason)
    old = volunteer.status
    volunteer.status = status
    volunteer.status_reason = reason
    audit.record(
        "volunteer_status_changed",
        actor=actor,
        actor_role=role,
        branch_id=volunteer.branch_id,
        object_kind="volunteer",
        object_id=volunteer.id,
        changes={"status": [old, status], "reason": reason},
    )
    db.session.flush()


def teams_in_scope(actor) -> list[VolunteerTeam]:
    return list(
        db.session.scalars(
            select(VolunteerTeam)
            .join(Branch, Branch.id == VolunteerTeam.branch_id)
            .where(scope_clause(actor, REVIEW_ROLES))
            .options(joinedload(VolunteerTeam.branch))
            .order_by(Branch.path, VolunteerTeam.name)
        )
    )


def create_team(actor, branch: Branch, name: str, area: str, leader: str | None) -> VolunteerTeam:
    role = acting_role(actor, branch, REVIEW_ROLES)
    if role is None:
        raise ReviewError(_l("You cannot add a team at this branch."))
    if area not in SERVICE_AREAS:
        raise ReviewError(_l("Please choose a service area."))
    exists = db.session.scalar(
        select(VolunteerTeam.id).where(
            VolunteerTeam.branch_id == branch.id, VolunteerTeam.name == name
        )
    )
    if exists is not None:
        raise ReviewError(_l("This branch already has a team of that name."))
    team = VolunteerTeam(
        branch_id=branch.id,
        name=name,
        service_area=area,
        leader_name=leader or None,
        created_by_id=actor.id,
    )
    db.session.add(team)
    db.session.flush()
    audit.record(
        "volunteer_team_created",
        actor=actor,
        actor_role=role,
        branch_id=branch.id,
        object_kind="volunteer_team",
        object_id=team.id,
        changes={"name": name, "service_area": area},
    )
    return team


def find_volunteer_for_team(team: VolunteerTeam, number: str) -> Volunteer | None:
    """An active volunteer of the team branch's subtree, by number."""
    volunteer = db.session.scalar(
        select(Volunteer).where(Volunteer.number == (number or "").strip().upper())
    )
    if volunteer is None or not covers([team.branch.path], volunteer.branch):
        return None
    return volunteer


def add_to_team(actor, team: VolunteerTeam, volunteer: Volunteer | None) -> None:
    role = acting_role(actor, team.branch, REVIEW_ROLES)
    if role is None:
        raise ReviewError(_l("You cannot change this team."))
    if volunteer is None or not covers([team.branch.path], volunteer.branch):
        raise ReviewError(
            _l("No volunteer of this branch or the branches under it has that number.")
        )
    if not volunteer.is_active:
        raise ReviewError(_l("Only active volunteers can join a team."))
    if db.session.get(VolunteerTeamMember, (team.id, volunteer.id)) is not None:
        raise ReviewError(_l("This volunteer is already in the team."))
    db.session.add(
        VolunteerTeamMember(team_id=team.id, volunteer_id=volunteer.id, added_by_id=actor.id)
    )
    audit.record(
        "volunteer_team_member_added",
        actor=actor,
        actor_role=role,
        branch_id=team.branch_id,
        object_kind="volunteer_team",
        object_id=team.id,
        changes={"volunteer": volunteer.number},
    )
    db.session.flush()


def remove_from_team(actor, team: VolunteerTeam, volunteer: Volunteer) -> None:
    """Take a volunteer off a team (they stay a volunteer), audited. The caller found
    the team in scope."""
    role = acting_role(actor, team.branch, REVIEW_ROLES)
    if role is None:
        raise ReviewError(_l("You cannot change this team."))
    link = db.session.get(VolunteerTeamMember, (team.id, volunteer.id))
    if link is None:
        raise ReviewError(_l("This volunteer is not in the team."))
    db.session.delete(link)
    audit.record(
        "volunteer_team_member_removed",
        actor=actor,
        actor_role=role,
        branch_id=team.branch_id,
        object_kind="volunteer_team",
        object_id=team.id,
        changes={"volunteer": volunteer.number},
    )
    db.session.flush()
