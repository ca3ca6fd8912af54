"""Forms of the donor pages (citizens and staff)."""

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.accounts.phone import InvalidPhone, normalise_phone
from portal.consent.purposes import MARROW_HEALTH, MARROW_REGISTRY, ORGAN_WISH, PURPOSES
from portal.donors import eligibility
from portal.donors.models import REASON_MAX
from portal.textcheck import plain_multiline_text, plain_text

NAME_MAX, RELATION_MAX, PLACE_MAX, ADDRESS_MAX = 50, 20, 100, 200
_TOO_LONG = _l("Please type at most %(max)d characters.")
YES_NO = [("no", _l("No")), ("yes", _l("Yes"))]


def strip(value):
    # NUL bytes are refused by PostgreSQL; nobody means to type them.
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


def _phone(form, field) -> None:
    """A mainland mobile number; the normalised number is kept on `field.phone`."""
    if not field.data:
        return
    try:
        field.phone = normalise_phone(field.data)
    except InvalidPhone as exc:
        raise ValidationError(str(exc.message)) from None


def _name(label):
    return StringField(
        label,
        filters=[strip],
        validators=[
            DataRequired(message=_l("Please enter their name.")),
            Length(max=NAME_MAX, message=_TOO_LONG),
            plain_text,
        ],
    )


def _relation(label):
    return StringField(
        label,
        filters=[strip],
        validators=[
            DataRequired(message=_l("Please say how they are related to you.")),
            Length(max=RELATION_MAX, message=_TOO_LONG),
            plain_text,
        ],
    )


def _mobile(label):
    return StringField(
        label,
        filters=[strip],
        validators=[DataRequired(message=_l("Please enter their mobile number.")), _phone],
    )


class Checkboxes(SelectMultipleField):
    """Several tick boxes; a value not offered is refused beside the field."""

    def pre_validate(self, form) -> None:
        offered = {value for value, _label in self.choices}
        if any(v not in offered for v in self.data or []):
            raise ValidationError(_l("Please choose only from the list."))


def _weight(form, field) -> None:
    text = (field.data or "").replace("kg", "").replace("公斤", "").strip()
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValidationError(
            _l("Please enter your weight in kilograms, e.g. 58 or 58.5.")
        ) from None
    if (
        not value.is_finite()
        or not Decimal(20) <= value <= Decimal(250)
        or value != round(value, 1)
    ):
        raise ValidationError(_l("Please enter your weight in kilograms, e.g. 58 or 58.5."))
    field.kg = value.quantize(Decimal("0.1"))


class MarrowForm(FlaskForm):
    weight = StringField(
        _l("Weight (kg)"),
        filters=[strip],
        validators=[DataRequired(message=_l("Please enter your weight.")), _weight],
    )
    contact1_name = _name(_l("First emergency contact: name"))
    contact1_relation = _relation(_l("First emergency contact: relation to you"))
    contact1_phone = _mobile(_l("First emergency contact: mobile number"))
    contact2_name = _name(_l("Second emergency contact: name"))
    contact2_relation = _relation(_l("Second emergency contact: relation to you"))
    contact2_phone = _mobile(_l("Second emergency contact: mobile number"))
    channel = RadioField(
        _l("How should we contact you?"),
        choices=[("sms", _l("Text message")), ("call", _l("Phone call"))],
        validators=[InputRequired(message=_l("Please choose one."))],
    )
    best_time = RadioField(
        _l("When is a good time?"),
        choices=[
            ("any", _l("Any time")),
            ("weekday_day", _l("Weekdays, daytime")),
            ("evening", _l("Evenings")),
            ("weekend", _l("Weekends")),
        ],
        validators=[InputRequired(message=_l("Please choose one."))],
    )
    health_consent = BooleanField(PURPOSES[MARROW_HEALTH].text, default=False)
    registry_consent = BooleanField(PURPOSES[MARROW_REGISTRY].text, default=False)

    def validate_contact2_phone(self, field) -> None:
        first = getattr(self.contact1_phone, "phone", None)
        if first and getattr(field, "phone", None) == first:
            raise ValidationError(_l("Please give two different people."))

    def validate_health_consent(self, field) -> None:
        if not field.data:
            raise ValidationError(
                _l("Without this consent we cannot register you. Please read it and tick it.")
            )

    def validate_registry_consent(self, field) -> None:
        if not field.data:
            raise ValidationError(
                _l("Without this consent we cannot register you. Please read it and tick it.")
            )

    def answers(self) -> dict[str, bool]:
        return {
            key: self[f"q_{key}"].data == "yes"
            for key in eligibility.QUESTIONS
            if f"q_{key}" in self
        }

    def contacts(self) -> list[dict]:
        return [
            {
                "name": self[f"contact{i}_name"].data,
                "relation": self[f"contact{i}_relation"].data,
                "phone": self[f"contact{i}_phone"].phone,
            }
            for i in (1, 2)
        ]


# One class per sex, made once: the pregnancy question is asked of women only.
def _with_questions(sex: str) -> type[MarrowForm]:
    fields = {
        f"q_{key}": RadioField(
            eligibility.QUESTIONS[key],
            choices=YES_NO,
            validators=[InputRequired(message=_l("Please answer yes or no."))],
        )
        for key in eligibility.questions_for(sex)
    }
    return type(f"MarrowForm{sex}", (MarrowForm,), fields)


MARROW_FORMS = {"M": _with_questions("M"), "F": _with_questions("F")}


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=REASON_MAX, message=_TOO_LONG), plain_multiline_text],
    )


class ActionForm(FlaskForm):
    """A button whose CSRF token is the point (book, cancel, send a code)."""


class OrganForm(FlaskForm):
    organs_scope = RadioField(
        _l("Organs"),
        choices=[
            ("all", _l("All organs that can help someone")),
            ("some", _l("Only the organs I tick below")),
            ("none", _l("No organs")),
        ],
        validators=[InputRequired(message=_l("Please choose one."))],
    )
    organs = Checkboxes(_l("The organs I choose"))
    tissues = Checkboxes(_l("Tissues"))
    body = BooleanField(_l("My body, for medical education and research"), default=False)
    family_name = _name(_l("Family member told of my wish: name"))
    family_relation = _relation(_l("Family member: relation to you"))
    family_phone = _mobile(_l("Family member: mobile number"))
    family_informed = BooleanField(
        _l("I have told this family member about my wish"), default=False
    )
    consent = BooleanField(PURPOSES[ORGAN_WISH].text, default=False)

    def validate_family_informed(self, field) -> None:
        if not field.data:
            raise ValidationError(
                _l("Please tell a family member first: they will be asked when the time comes.")
            )

    def validate_organs(self, field) -> None:
        if self.organs_scope.data == "some" and not field.data:
            raise ValidationError(_l("Please tick the organs you choose."))

    def validate_body(self, field) -> None:
        if self.organs_scope.data == "none" and not self.tissues.data and not field.data:
            raise ValidationError(_l("Please choose at least one thing to donate."))

    def choices_value(self) -> dict:
        scope = self.organs_scope.data
        return {
            "organs_scope": scope,
            "organs": sorted(self.organs.data or []) if scope == "some" else [],
            "tissues": sorted(self.tissues.data or []),
            "body": bool(self.body.data),
        }

    def family_value(self) -> dict:
        return {
            "name": self.family_name.data,
            "relation": self.family_relation.data,
            "phone": self.family_phone.phone,
            "informed": True,
        }


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code from the text message"),
        filters=[strip],
        validators=[DataRequired(message=_l("Please enter the code.")), Length(max=20)],
    )


# --- staff -----------------------------------------------------------------------------


class SessionForm(FlaskForm):
    branch = SelectField(_l("Branch running it"), choices=[], coerce=str)
    place = StringField(
        _l("Collection point"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Please name the place.")),
            Length(max=PLACE_MAX, message=_TOO_LONG),
            plain_text,
        ],
    )
    address = StringField(
        _l("Address"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Please fill in the address.")),
            Length(max=ADDRESS_MAX, message=_TOO_LONG),
            plain_text,
        ],
    )
    day = DateField(_l("Date"), validators=[InputRequired(message=_l("Please give a date."))])
    starts = TimeField(_l("Starts"), validators=[InputRequired(message=_l("Please give a time."))])
    ends = TimeField(_l("Ends"), validators=[InputRequired(message=_l("Please give a time."))])
    capacity = IntegerField(
        _l("Places"),
        validators=[
            InputRequired(message=_l("Please give a number.")),
            NumberRange(min=1, max=500, message=_l("Please give a capacity from 1 to 500.")),
        ],
    )


class StepForm(FlaskForm):
    step = RadioField(
        _l("Record"),
        choices=[("sampled", _l("Blood sample taken")), ("typed", _l("Typed and in the registry"))],
        validators=[InputRequired(message=_l("Please choose one."))],
    )


class MemorialForm(FlaskForm):
    branch = SelectField(_l("Branch"), choices=[], coerce=str)
    display_name = StringField(
        _l("Name as the family wishes it shown"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Please enter the name.")),
            Length(max=NAME_MAX, message=_TOO_LONG),
            plain_text,
        ],
    )
    kind = RadioField(
        _l("Donation"),
        choices=[
            ("organ", _l("Organs")),
            ("body", _l("Body")),
            ("cornea", _l("Corneas")),
            ("marrow", _l("Stem cells")),
        ],
        validators=[InputRequired(message=_l("Please choose one."))],
    )
    donated_on = DateField(
        _l("Date of donation"), validators=[InputRequired(message=_l("Please give a date."))]
    )
    tribute = TextAreaField(
        _l("A few words from the family (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=300, message=_TOO_LONG), plain_multiline_text],
    )
    agreed_by = _name(_l("Family member who agreed: name"))
    agreed_relation = _relation(_l("Family member who agreed: relation"))
    agreed_on = DateField(
        _l("Date the family agreed"), validators=[InputRequired(message=_l("Please give a date."))]
    )
    agreement_confirmed = BooleanField(
        _l("The family agreed in writing that this name may be shown publicly"), default=False
    )

    def validate_agreement_confirmed(self, field) -> None:
        if not field.data:
            raise ValidationError(
                _l("A name can be shown only with the family's written agreement.")
            )
