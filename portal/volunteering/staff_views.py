"""Staff pages under /admin/volunteering/: the volunteers of the staff member's scope,
a volunteer's page (opening it is logged as a view of personal data), status changes,
the CSV export (ID numbers masked) and the branches' service teams. Admins and officers
only; anything outside their scope answers 404."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal import audit
from portal.branches.models import Branch
from portal.branches.scope import (
    REVIEW_ROLES,
    acting_role,
    get_branch_in_scope_or_404,
    get_in_scope_or_404,
    scoped_branch_ids,
)
from portal.exports import export_response
from portal.extensions import db
from portal.ids import as_id, page_arg
from portal.permissions import staff_required
from portal.review.services import ReviewError
from portal.textcheck import plain_multiline_text, plain_text, search_text
from portal.volunteering import staff, staff_bp
from portal.volunteering.models import (
    VOLUNTEER_STATUSES,
    Volunteer,
    VolunteerTeam,
    VolunteerTeamMember,
)
from portal.volunteering.services import SERVICE_AREAS, STATUS_LABELS, area_labels, slot_labels


def _strip(value):
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), choices=[])
    reason = TextAreaField(
        _l("Reason"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Please write the reason.")),
            Length(max=staff.REASON_MAX, message=_l("Please type at most %(max)d characters.")),
            plain_multiline_text,
        ],
    )
    submit = SubmitField(_l("Change the status"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [(s, str(STATUS_LABELS[s])) for s in VOLUNTEER_STATUSES]


class TeamForm(FlaskForm):
    branch = SelectField(_l("Branch"), choices=[], coerce=str)
    name = StringField(
        _l("Team name"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Please name the team.")),
            Length(max=100, message=_l("Please type at most %(max)d characters.")),
            plain_text,
        ],
    )
    service_area = SelectField(_l("Service area"), choices=[])
    leader_name = StringField(
        _l("Team leader (optional)"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=50, message=_l("Please type at most %(max)d characters.")),
            plain_text,
        ],
    )
    submit = SubmitField(_l("Create the team"))


class AddMemberForm(FlaskForm):
    number = StringField(
        _l("Volunteer number"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Please type the volunteer number.")),
            Length(max=30, message=_l("Please type at most %(max)d characters.")),
            plain_text,
        ],
    )
    submit = SubmitField(_l("Add to the team"))


class RemoveMemberForm(FlaskForm):
    submit = SubmitField(_l("Remove from the team"))


def _filters() -> dict:
    args = request.args
    return {
        "q": search_text(args.get("q")),
        "status": args.get("status") if args.get("status") in VOLUNTEER_STATUSES else "",
        "area": args.get("area") if args.get("area") in SERVICE_AREAS else "",
        "team": as_id(args.get("team")),
    }


def _statement(filters: dict):
    return staff.search(
        current_user, filters["q"], filters["status"], filters["area"], filters["team"]
    )


@staff_bp.get("/")
@staff_required(REVIEW_ROLES)
def volunteers():
    filters = _filters()
    result = staff.page_of(_statement(filters), page_arg())
    args = {k: v for k, v in filters.items() if v}
    return render_template(
        "volunteering/staff_list.html",
        result=result,
        filters=filters,
        filter_args=args,
        statuses=STATUS_LABELS,
        areas=SERVICE_AREAS,
        teams=staff.teams_in_scope(current_user),
    )


@staff_bp.get("/export")
@staff_required(REVIEW_ROLES)
def export():
    filters = _filters()
    audit.record_for_person(
        "volunteers_exported",
        current_user,
        REVIEW_ROLES,
        actor=current_user,
        object_kind="volunteer",
        changes={k: v for k, v in filters.items() if v},
    )
    db.session.commit()
    header = [
        _("Volunteer number"),
        _("Name"),
        _("ID number"),
        _("Branch"),
        _("Status"),
        _("Service areas"),
        _("Registered"),
    ]
    rows = list(staff.export_rows(_statement(filters), str(get_locale())))
    fmt = "xlsx" if request.args.get("format") == "xlsx" else "csv"
    return export_response(fmt, "volunteers", header, rows, title=_("Volunteers"))


def _volunteer_or_404(volunteer_id: int) -> Volunteer:
    return get_in_scope_or_404(Volunteer, volunteer_id, current_user, REVIEW_ROLES)


def _render_detail(volunteer: Volunteer, form=None):
    profile = volunteer.user.profile
    page = render_template(
        "volunteering/staff_detail.html",
        volunteer=volunteer,
        profile=profile,
        contact=volunteer.emergency_contact,
        areas=area_labels(volunteer.area_keys),
        slots=slot_labels(volunteer.slot_keys),
        status=STATUS_LABELS.get(volunteer.status, volunteer.status),
        form=form or StatusForm(formdata=None, status=volunteer.status),
    )
    audit.sensitive_viewed(
        current_user,
        volunteer.user_id,
        ["full_name", "doc_number_masked", "phone", "emergency_contact", "health"],
        volunteer.branch_id,
        acting_role(current_user, volunteer.branch, REVIEW_ROLES),
        via="volunteer",
        volunteer_id=volunteer.id,
    )
    db.session.commit()
    return page


@staff_bp.get("/<int:volunteer_id>")
@staff_required(REVIEW_ROLES)
def volunteer(volunteer_id: int):
    return _render_detail(_volunteer_or_404(volunteer_id))


@staff_bp.post("/<int:volunteer_id>/status")
@staff_required(REVIEW_ROLES)
def change_status(volunteer_id: int):
    volunteer = _volunteer_or_404(volunteer_id)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            staff.change_status(volunteer, current_user, form.status.data, form.reason.data)
        except ReviewError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The status has been changed."), "success")
            return redirect(url_for(".volunteer", volunteer_id=volunteer.id))
    return _render_detail(volunteer, form), 200


@staff_bp.get("/teams")
@staff_required(REVIEW_ROLES)
def teams():
    return render_template(
        "volunteering/staff_teams.html",
        teams=staff.teams_in_scope(current_user),
        areas=SERVICE_AREAS,
    )


BRANCH_CHOICES_MAX = 300


def _branch_choices() -> list[tuple[str, str]]:
    locale = str(get_locale())
    branches = db.session.scalars(
        select(Branch)
        .where(
            Branch.id.in_(scoped_branch_ids(current_user, REVIEW_ROLES)), Branch.closed_at.is_(None)
        )
        .order_by(Branch.path)
        .limit(BRANCH_CHOICES_MAX)
    )
    return [(str(b.id), b.name(locale)) for b in branches]


@staff_bp.route("/teams/new", methods=["GET", "POST"])
@staff_required(REVIEW_ROLES)
def new_team():
    form = TeamForm()
    form.branch.choices = _branch_choices()
    form.service_area.choices = [(k, str(v)) for k, v in SERVICE_AREAS.items()]
    if form.validate_on_submit():
        branch = get_branch_in_scope_or_404(form.branch.data, current_user, REVIEW_ROLES)
        try:
            team = staff.create_team(
                current_user, branch, form.name.data, form.service_area.data, form.leader_name.data
            )
        except ReviewError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The team has been created."), "success")
            return redirect(url_for(".team", team_id=team.id))
    return render_template("volunteering/staff_team_form.html", form=form)


def _team_or_404(team_id: int) -> VolunteerTeam:
    return get_in_scope_or_404(VolunteerTeam, team_id, current_user, REVIEW_ROLES)


@staff_bp.get("/teams/<int:team_id>")
@staff_required(REVIEW_ROLES)
def team(team_id: int, form=None):
    team = _team_or_404(team_id)
    return render_template(
        "volunteering/staff_team.html",
        team=team,
        area=SERVICE_AREAS.get(team.service_area, team.service_area),
        form=form or AddMemberForm(formdata=None),
    )


@staff_bp.post("/teams/<int:team_id>/members")
@staff_required(REVIEW_ROLES)
def add_member(team_id: int):
    team_obj = _team_or_404(team_id)
    form = AddMemberForm()
    if form.validate_on_submit():
        volunteer = staff.find_volunteer_for_team(team_obj, form.number.data)
        try:
            staff.add_to_team(current_user, team_obj, volunteer)
        except ReviewError as exc:
            db.session.rollback()
            form.number.errors = [*form.number.errors, str(exc)]
        else:
            db.session.commit()
            flash(_("The volunteer has been added to the team."), "success")
            return redirect(url_for(".team", team_id=team_obj.id))
    return team(team_id, form=form)


def _team_member_or_404(team_id: int, volunteer_id: int) -> tuple[VolunteerTeam, Volunteer]:
    """The team in scope and one of its volunteers; anything else 404s."""
    team_obj = _team_or_404(team_id)
    if db.session.get(VolunteerTeamMember, (team_obj.id, volunteer_id)) is None:
        abort(404)
    return team_obj, db.session.get(Volunteer, volunteer_id)


@staff_bp.route("/teams/<int:team_id>/members/<int:volunteer_id>/remove", methods=["GET", "POST"])
@staff_required(REVIEW_ROLES)
def remove_member(team_id: int, volunteer_id: int):
    """Ask to confirm, then take the volunteer off the team."""
    team_obj, volunteer_obj = _team_member_or_404(team_id, volunteer_id)
    form = RemoveMemberForm()
    if form.validate_on_submit():
        try:
            staff.remove_from_team(current_user, team_obj, volunteer_obj)
        except ReviewError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The volunteer has been taken off the team."), "success")
            return redirect(url_for(".team", team_id=team_obj.id))
    return render_template(
        "volunteering/staff_team_remove.html", team=team_obj, volunteer=volunteer_obj, form=form
    )
