"""The real-name profile form. Only shapes the input: every rule (name characters, ID
checksum, age, one document per account) lives in accounts.profiles.save_profile, which
reports its errors back onto these fields."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice

from portal.accounts.identity import DOC_TYPES, RESIDENT_ID
from portal.consent.purposes import ID_DOCUMENT, PURPOSES

SEX_CHOICES = [
    SelectChoice("", _l("Not given")),
    SelectChoice("F", _l("Female")),
    SelectChoice("M", _l("Male")),
]


class ProfileForm(FlaskForm):
    full_name = StringField(
        _l("Full name, as written on your document"),
        render_kw={"autocomplete": "name", "spellcheck": "false"},
    )
    # The service checks the choice, so a forged value gets our own translated message.
    doc_type = RadioField(
        _l("Document type"),
        choices=[SelectChoice(value, label) for value, label in DOC_TYPES.items()],
        default=RESIDENT_ID,
        validate_choice=False,
    )
    doc_number = StringField(
        _l("Document number"),
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"},
    )
    birth_date = StringField(
        _l("Birth date"),
        render_kw={"autocomplete": "bday"},
    )
    sex = SelectField(_l("Sex"), choices=SEX_CHOICES, default="", validate_choice=False)
    # Separate from any other tick and never ticked in advance (PIPL art. 29); the
    # service decides whether it is needed (not while a consent to this text stands).
    id_consent = BooleanField(PURPOSES[ID_DOCUMENT].text, default=False)
    submit = SubmitField(_l("Save"))

    def add_errors(self, errors: dict) -> None:
        """Put a service's {field name or None: message} errors beside their fields."""
        for name, message in errors.items():
            field = self._fields.get(name) if name else None
            if field is None:
                self.form_errors.append(message)
            else:
                field.errors = [*field.errors, message]
