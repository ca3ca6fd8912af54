"""Forms of the citizen's membership pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.membership.models import REASON_MAX, TEXT_MAX
from portal.membership.services import CITIZEN_TYPES
from portal.textcheck import plain_multiline_text, plain_text


def strip(value):
    # NUL bytes are refused by PostgreSQL; nobody means to type them.
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


_TOO_LONG = _l("Please type at most %(max)d characters.")


class ApplyForm(FlaskForm):
    branch = SelectField(
        _l("Branch"),
        coerce=_int_or_none,
        validate_choice=True,
        validators=[InputRequired(message=_l("Please choose a branch."))],
    )
    member_type = RadioField(
        _l("Membership type"),
        choices=list(CITIZEN_TYPES.items()),
        default="ordinary",
        validators=[InputRequired(message=_l("Please choose a membership type."))],
    )
    occupation = StringField(
        _l("Occupation"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Please fill in your occupation.")),
            Length(max=TEXT_MAX, message=_TOO_LONG),
            plain_text,
        ],
    )
    work_unit = StringField(
        _l("Work unit or school (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=TEXT_MAX, message=_TOO_LONG), plain_text],
    )
    address = StringField(
        _l("Address"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Please fill in your address.")),
            Length(max=TEXT_MAX, message=_TOO_LONG),
            plain_text,
        ],
    )
    motivation = TextAreaField(
        _l("Why you want to join (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=REASON_MAX, message=_TOO_LONG), plain_multiline_text],
    )
    agree = BooleanField(
        _l("I have read the charter and agree to it"),
        validators=[DataRequired(message=_l("Please read and agree to the charter."))],
    )
    submit = SubmitField(_l("Apply for membership"))


class WithdrawForm(FlaskForm):
    submit = SubmitField(_l("Withdraw my application"))


class RenewForm(FlaskForm):
    submit = SubmitField(_l("Renew my membership"))


class ResignForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=REASON_MAX, message=_TOO_LONG), plain_multiline_text],
    )
    submit = SubmitField(_l("Resign my membership"))
