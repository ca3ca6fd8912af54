"""Forms of the public side: finding one's gift and confirming it by code."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.textcheck import plain_text


def strip(value):
    return value.strip() if isinstance(value, str) else value


class TrailLookupForm(FlaskForm):
    receipt = StringField(
        _l("Receipt number"),
        filters=[strip],
        validators=[
            DataRequired(_l("Please enter the receipt number.")),
            Length(max=40, message=_l("Please type at most %(max)d characters.")),
            plain_text,
        ],
    )
    credit_code = StringField(
        _l("Unified social credit code (organisations only)"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=30, message=_l("Please type at most %(max)d characters.")),
            plain_text,
        ],
    )


class TrailCodeForm(FlaskForm):
    code = StringField(
        _l("Verification code"),
        filters=[strip],
        validators=[
            DataRequired(_l("Please enter the code from the SMS.")),
            Length(max=20, message=_l("Please type at most %(max)d characters.")),
        ],
    )
