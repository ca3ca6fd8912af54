"""Forms of the group membership pages (团体会员)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from portal.membership.forms import strip
from portal.membership.groups import BAD_CODE, ORG_TYPES, normalise_uscc
from portal.membership.models import ORG_NAME_MAX, SIZE_MAX, TEXT_MAX
from portal.textcheck import plain_text

_TOO_LONG = _l("Please type at most %(max)d characters.")


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _code(form, field) -> None:
    if not normalise_uscc(field.data):
        raise ValidationError(BAD_CODE)


class GroupApplyForm(FlaskForm):
    branch = SelectField(
        _l("Branch"),
        coerce=_int_or_none,
        validate_choice=True,
        validators=[InputRequired(message=_l("Please choose a branch."))],
    )
    org_name = StringField(
        _l("Name of the organisation"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Please fill in the organisation's name.")),
            Length(max=ORG_NAME_MAX, message=_TOO_LONG),
            plain_text,
        ],
    )
    uscc = StringField(
        _l("Unified social credit code"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Please fill in the unified social credit code.")),
            Length(max=30, message=_TOO_LONG),
            _code,
        ],
    )
    org_type = SelectField(
        _l("Type of organisation"),
        choices=[("", "—")] + [(k, v) for k, v in ORG_TYPES.items()],
        validators=[DataRequired(message=_l("Please choose the type of organisation."))],
    )
    size = IntegerField(
        _l("Number of people (staff, members or pupils)"),
        validators=[
            InputRequired(message=_l("Please give the number of people as a whole number.")),
            NumberRange(
                min=1,
                max=SIZE_MAX,
                message=_l("Please give the number of people, from 1 to %(max)d."),
            ),
        ],
    )
    address = StringField(
        _l("Address"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Please fill in the address.")),
            Length(max=TEXT_MAX, message=_TOO_LONG),
            plain_text,
        ],
    )
    agree = BooleanField(
        _l("The organisation has read the charter and agrees to it"),
        validators=[DataRequired(message=_l("Please read and agree to the charter."))],
    )
    submit = SubmitField(_l("Apply for group membership"))
