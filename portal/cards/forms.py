from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from portal.textcheck import plain_text


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class VerifyForm(FlaskForm):
    number = StringField(
        _l("Card or certificate number"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Please enter the number printed on the card.")),
            Length(max=40, message=_l("Please type at most %(max)d characters.")),
            plain_text,
        ],
    )
    surname = StringField(
        _l("Holder's surname"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Please enter the holder's surname.")),
            Length(max=20, message=_l("Please type at most %(max)d characters.")),
            plain_text,
        ],
    )
    submit = SubmitField(_l("Check"))
