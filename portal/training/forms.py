from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional

from portal.textcheck import plain_multiline_text, plain_text
from portal.training.models import ORGANISATION, PUBLIC, SCHOOLS

TOO_LONG = _l("Please type at most %(max)d characters.")


def _strip(value):
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


class BookForm(FlaskForm):
    access_code = StringField(
        _l("Booking code (classes for one organisation or schools only)"),
        filters=[_strip],
        validators=[Optional(), Length(max=20, message=TOO_LONG), plain_text],
    )
    submit = SubmitField(_l("Book a seat"))


class GroupForm(FlaskForm):
    people = TextAreaField(
        _l("People to book, one a line: name, mobile number"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Please list at least one person.")),
            Length(max=3000, message=TOO_LONG),
            plain_multiline_text,
        ],
    )
    access_code = BookForm.access_code
    submit = SubmitField(_l("Book these seats"))


class ConfirmForm(FlaskForm):
    """A button that changes something (cancel, accept): CSRF only."""


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Please write the reason.")),
            Length(max=200, message=TOO_LONG),
            plain_multiline_text,
        ],
    )


RESTRICTION_CHOICES = [
    (PUBLIC, _l("Open to the public")),
    (ORGANISATION, _l("Staff of one organisation")),
    (SCHOOLS, _l("Schools")),
]


class SessionForm(FlaskForm):
    branch = SelectField(_l("Branch"), choices=[], coerce=str)
    course = SelectField(_l("Course"), choices=[], coerce=str)
    first_day = DateField(_l("First day"), validators=[InputRequired(_l("Please give a date."))])
    days = IntegerField(
        _l("Number of days (one after another)"),
        default=1,
        validators=[
            InputRequired(_l("Please give a number.")),
            NumberRange(1, 5, message=_l("From %(min)s to %(max)s.")),
        ],
    )
    start = TimeField(_l("Starts at"), validators=[InputRequired(_l("Please give a time."))])
    end = TimeField(_l("Ends at"), validators=[InputRequired(_l("Please give a time."))])
    venue = StringField(
        _l("Venue"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Please name the venue.")),
            Length(max=100, message=TOO_LONG),
            plain_text,
        ],
    )
    address = StringField(
        _l("Address"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Please give the address.")),
            Length(max=200, message=TOO_LONG),
            plain_text,
        ],
    )
    map_url = StringField(
        _l("Map link (optional)"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=500, message=TOO_LONG),
            URL(message=_l("Please give a web address (https://...).")),
        ],
    )
    capacity = IntegerField(
        _l("Seats"),
        validators=[
            InputRequired(_l("Please give a number.")),
            NumberRange(1, 500, message=_l("From %(min)s to %(max)s.")),
        ],
    )
    instructors = StringField(
        _l("Instructors"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Please name the instructors.")),
            Length(max=200, message=TOO_LONG),
            plain_text,
        ],
    )
    cutoff_hours = IntegerField(
        _l("Booking closes this many hours before the start"),
        default=24,
        validators=[
            InputRequired(_l("Please give a number.")),
            NumberRange(0, 336, message=_l("From %(min)s to %(max)s.")),
        ],
    )
    restriction = SelectField(_l("Who may book"), choices=RESTRICTION_CHOICES)
    restriction_note = StringField(
        _l("Organisation or schools (for a restricted class)"),
        filters=[_strip],
        validators=[Optional(), Length(max=100, message=TOO_LONG), plain_text],
    )
    submit = SubmitField(_l("Schedule the class"))


class EditSessionForm(FlaskForm):
    venue = SessionForm.venue
    address = SessionForm.address
    map_url = SessionForm.map_url
    instructors = SessionForm.instructors
    capacity = SessionForm.capacity
    submit = SubmitField(_l("Save changes"))
