"""Forms of the service pages: activities and shifts (staff), roster actions, hours
adjustments, offline claims and certificates (volunteers)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from portal.textcheck import plain_multiline_text, plain_text
from portal.volunteering.activities import CAPACITY_MAX, TEXT_LIMITS
from portal.volunteering.forms import _length, _strip
from portal.volunteering.services import MIN_AGE, SERVICE_AREAS

_REQUIRED = _l("Please fill in this field.")
_DATE = _l("Please enter a date like 2026-05-01.")
_TIME = _l("Please enter a time like 09:30.")


def _text(label, limit, multiline=False, required=True):
    return (TextAreaField if multiline else StringField)(
        label,
        filters=[_strip],
        validators=[
            DataRequired(message=_REQUIRED) if required else Optional(),
            _length(limit),
            plain_multiline_text if multiline else plain_text,
        ],
    )


class ActivityForm(FlaskForm):
    branch = SelectField(_l("Organising branch"), choices=[], coerce=str)
    team = SelectField(_l("Team (optional)"), choices=[], coerce=str)
    team_only = BooleanField(_l("Only members of this team may sign up"))
    title = _text(_l("Title"), TEXT_LIMITS["title"])
    description = _text(_l("What volunteers will do"), TEXT_LIMITS["description"], True)
    service_area = SelectField(_l("Service area"), choices=[])
    address = _text(_l("Address"), TEXT_LIMITS["address"])
    min_age = IntegerField(
        _l("Minimum age (optional)"),
        validators=[
            Optional(),
            NumberRange(min=MIN_AGE, max=80, message=_l("Between %(min)s and %(max)s.")),
        ],
    )
    required_course = SelectField(
        _l("Certificate the volunteer must hold (optional)"), choices=[], coerce=str, default=""
    )
    deadline_date = DateField(
        _l("Sign-up deadline: date"), validators=[InputRequired(message=_DATE)]
    )
    deadline_time = TimeField(
        _l("Sign-up deadline: time"), validators=[InputRequired(message=_TIME)]
    )
    contact_name = _text(_l("Contact person"), TEXT_LIMITS["contact_name"])
    contact_phone = _text(_l("Contact phone"), TEXT_LIMITS["contact_phone"])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.service_area.choices = [SelectChoice(k, str(v)) for k, v in SERVICE_AREAS.items()]


class ShiftForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired(message=_DATE)])
    start = TimeField(_l("Starts"), validators=[InputRequired(message=_TIME)])
    end = TimeField(
        _l("Ends (an earlier time means the next day)"),
        validators=[InputRequired(message=_TIME)],
    )
    capacity = IntegerField(
        _l("Seats"),
        validators=[
            InputRequired(message=_l("Please give the number of seats.")),
            NumberRange(min=1, max=CAPACITY_MAX, message=_l("Between %(min)s and %(max)s.")),
        ],
    )
    submit = SubmitField(_l("Add the shift"))


class ReasonForm(FlaskForm):
    reason = _text(_l("Reason"), 200, multiline=True)
    submit = SubmitField(_l("Cancel the activity"))


class ActionForm(FlaskForm):
    """A button (publish, finish, sign up, cancel, remove): the CSRF token only."""

    submit = SubmitField(_l("Confirm"))


class HandCheckForm(FlaskForm):
    action = SelectField(_l("Record"), choices=[("in", _l("Check-in")), ("out", _l("Check-out"))])
    day = DateField(_l("Date"), validators=[InputRequired(message=_DATE)])
    at = TimeField(_l("Time"), validators=[InputRequired(message=_TIME)])
    submit = SubmitField(_l("Record"))


class AdjustForm(FlaskForm):
    hours = DecimalField(
        _l("Hours (in quarter hours, e.g. 2.75)"),
        places=2,
        validators=[
            InputRequired(message=_l("Please give the hours.")),
            NumberRange(min=0, max=24, message=_l("Between %(min)s and %(max)s.")),
        ],
    )
    reason = _text(_l("Reason for the change"), 200, multiline=True)
    submit = SubmitField(_l("Change the hours"))


class ClaimForm(FlaskForm):
    served_on = DateField(_l("Date of service"), validators=[InputRequired(message=_DATE)])
    hours = DecimalField(
        _l("Hours (in quarter hours, e.g. 3.5)"),
        places=2,
        validators=[
            InputRequired(message=_l("Please give the hours.")),
            NumberRange(min=0.25, max=12, message=_l("Between %(min)s and %(max)s.")),
        ],
    )
    service_area = SelectField(_l("Service area"), choices=[])
    what = _text(_l("What you did"), 200, multiline=True)
    place = _text(_l("Where"), 200)
    witness = _text(_l("Who can confirm it (name and phone)"), 100)
    submit = SubmitField(_l("Send the claim"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.service_area.choices = [SelectChoice(k, str(v)) for k, v in SERVICE_AREAS.items()]


class CertificateForm(FlaskForm):
    period_from = DateField(_l("From"), validators=[InputRequired(message=_DATE)])
    period_to = DateField(_l("To"), validators=[InputRequired(message=_DATE)])
    submit = SubmitField(_l("Issue the certificate"))


def quarter_minutes(hours) -> int | None:
    """Decimal hours as whole minutes when they are a quarter-hour multiple, else None."""
    if hours is None:
        return None
    minutes = hours * 60
    if minutes != int(minutes) or int(minutes) % 15:
        return None
    return int(minutes)
