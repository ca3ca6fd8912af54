"""Forms for the branch tree and staff roles, and the labels of levels, types and roles."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from portal.branches.models import LEVELS, ROLES, UNIT_TYPES
from portal.textcheck import plain_text

LEVEL_LABELS = {
    "national": _l("National society"),
    "province": _l("Province"),
    "city": _l("City"),
    "county": _l("County or district"),
    "grassroots": _l("Grassroots unit"),
}
UNIT_TYPE_LABELS = {
    "township": _l("Township"),
    "community": _l("Community"),
    "school": _l("School"),
    "hospital": _l("Hospital"),
    "company": _l("Company"),
}
ROLE_LABELS = {
    "admin": _l("Branch admin"),
    "officer": _l("Branch officer"),
    "auditor": _l("Auditor"),
}
ROLE_HINTS = {
    "admin": _l("approves applications and manages staff below"),
    "officer": _l("approves applications and runs activities"),
    "auditor": _l("can only read, and sees the audit log"),
}
assert set(LEVEL_LABELS) == set(LEVELS) and set(UNIT_TYPE_LABELS) == set(UNIT_TYPES)
assert set(ROLE_LABELS) == set(ROLES)

_PHONE = re.compile(r"1[3-9]\d{9}")


def normalise_phone(raw: str | None) -> str | None:
    """A mainland mobile number as 11 digits, accepting spaces, dashes and a +86 / 0086
    prefix; None when it is not one."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    return digits if _PHONE.fullmatch(digits) else None


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class BranchForm(FlaskForm):
    # The level the branch has (edit form); the create form reads it from its own field.
    fixed_level: str | None = None

    name_zh = StringField(
        _l("Name in Chinese"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Please enter the Chinese name.")),
            Length(max=100),
            plain_text,
        ],
    )
    name_en = StringField(
        _l("Name in English"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Please enter the English name.")),
            Length(max=200),
            plain_text,
        ],
    )
    code = StringField(
        _l("Division code"),
        filters=[_strip],
        validators=[
            Optional(),
            Regexp(r"^\d{6}(\d{3}){0,2}$", message=_l("A division code has 6, 9 or 12 digits.")),
        ],
    )
    unit_type = SelectField(
        _l("Type of grassroots unit"),
        choices=[SelectChoice("", _l("Not a grassroots unit"))]
        + [SelectChoice(value, label) for value, label in UNIT_TYPE_LABELS.items()],
        validate_choice=True,
    )
    address = StringField(_l("Address"), filters=[_strip], validators=[Length(max=255), plain_text])
    contact_phone = StringField(
        _l("Public contact phone"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^[0-9+\-() ]+$", message=_l("Please use only digits, spaces and dashes.")),
        ],
    )

    def level_being_saved(self) -> str | None:
        return self.fixed_level

    def validate_unit_type(self, field) -> None:
        if self.level_being_saved() == "grassroots" and not field.data:
            raise ValidationError(_l("Please choose the type of grassroots unit."))


class NewBranchForm(BranchForm):
    level = SelectField(_l("Level"), choices=[], validate_choice=True)

    def set_levels(self, parent_level: str) -> None:
        """Offer only the levels below the parent's."""
        below = LEVELS[LEVELS.index(parent_level) + 1 :]
        self.level.choices = [SelectChoice(lv, LEVEL_LABELS[lv]) for lv in below]

    def level_being_saved(self) -> str | None:
        return self.level.data


class MoveForm(FlaskForm):
    new_parent_id = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,12}$")])


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""


class GrantRoleForm(FlaskForm):
    phone = StringField(
        _l("Mobile number of the person"),
        filters=[_strip],
        validators=[DataRequired(_l("Please enter a mobile number.")), Length(max=30)],
    )
    role = SelectField(_l("Role"), choices=[], validate_choice=True)

    def set_roles(self, roles: list[str]) -> None:
        self.role.choices = [SelectChoice(r, f"{ROLE_LABELS[r]} ({ROLE_HINTS[r]})") for r in roles]

    def validate_phone(self, field) -> None:
        number = normalise_phone(field.data)
        if number is None:
            raise ValidationError(_l("Please enter an 11-digit mainland mobile number."))
        self.normalised_phone = number
