"""Forms of the volunteer pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.accounts.phone import InvalidPhone, normalise_phone
from portal.textcheck import plain_multiline_text, plain_text
from portal.volunteering.services import DAYS, SERVICE_AREAS, SLOTS, TIMES


def _strip(value):
    # NUL bytes are refused by PostgreSQL; nobody means to type them.
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


def _phone(form, field) -> None:
    """Validated like the login phone; the field keeps what was typed, the form the
    normalised number (`field.phone`)."""
    if not field.data:
        return
    try:
        field.phone = normalise_phone(field.data)
    except InvalidPhone as exc:
        raise ValidationError(str(exc.message)) from None


class _Checkboxes(SelectMultipleField):
    """Several tick boxes; a value not offered is refused beside the field."""

    def pre_validate(self, form) -> None:
        offered = {value for value, _label in self.choices}
        if any(v not in offered for v in self.data or []):
            raise ValidationError(_l("Please choose only from the list."))


def _slot_choices():
    return [
        (f"{d}_{t}", f"{d_label} · {t_label}")
        for d, d_label in DAYS.items()
        for t, t_label in TIMES.items()
    ]


def _length(n):
    return Length(max=n, message=_l("Please type at most %(max)d characters."))


class DetailsForm(FlaskForm):
    service_areas = _Checkboxes(
        _l("Service areas"),
        choices=list(SERVICE_AREAS.items()),
        validators=[DataRequired(message=_l("Please choose at least one service area."))],
    )
    availability = _Checkboxes(
        _l("When are you usually free?"),
        choices=[],
        validators=[DataRequired(message=_l("Please tick when you are usually free."))],
    )
    skills = TextAreaField(
        _l("Skills and certificates (optional)"),
        filters=[_strip],
        validators=[Optional(), _length(500), plain_multiline_text],
    )
    languages = StringField(
        _l("Languages you speak (optional)"),
        filters=[_strip],
        validators=[Optional(), _length(200), plain_text],
    )
    emergency_name = StringField(
        _l("Emergency contact's name"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Please give an emergency contact.")),
            _length(50),
            plain_text,
        ],
    )
    emergency_relation = StringField(
        _l("Their relation to you"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Please say how they are related to you.")),
            _length(20),
            plain_text,
        ],
    )
    emergency_phone = StringField(
        _l("Emergency contact's mobile number"),
        filters=[_strip],
        validators=[DataRequired(message=_l("Please enter their mobile number.")), _phone],
    )
    health = TextAreaField(
        _l("Health statement (optional)"),
        filters=[_strip],
        validators=[Optional(), _length(300), plain_multiline_text],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.availability.choices = _slot_choices()

    def validate_availability(self, field) -> None:
        if any(v not in SLOTS for v in field.data or []):
            raise ValidationError(_l("Please tick when you are usually free."))


class ApplyForm(DetailsForm):
    guardian_name = StringField(
        _l("Parent or guardian's name"), filters=[_strip], validators=[_length(50), plain_text]
    )
    guardian_phone = StringField(
        _l("Parent or guardian's mobile number"), filters=[_strip], validators=[_phone]
    )
    guardian_consent = BooleanField(_l("My parent or guardian agrees (text below)"))
    agree_code = BooleanField(
        _l("I have read the volunteer code and agree to follow it"),
        validators=[DataRequired(message=_l("Please agree to the volunteer code."))],
    )
    submit = SubmitField(_l("Send my application"))

    def __init__(self, *args, minor: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.minor = minor

    def validate_guardian_name(self, field) -> None:
        if self.minor and not field.data:
            raise ValidationError(_l("Applicants under 18 need a parent or guardian's name."))

    def validate_guardian_phone(self, field) -> None:
        if self.minor and not field.data:
            raise ValidationError(_l("Please enter your parent or guardian's mobile number."))

    def validate_guardian_consent(self, field) -> None:
        if self.minor and not field.data:
            raise ValidationError(
                _l("Applicants under 18 need their parent or guardian's consent.")
            )


class EditForm(DetailsForm):
    submit = SubmitField(_l("Save my details"))


class WithdrawForm(FlaskForm):
    submit = SubmitField(_l("Withdraw my application"))
