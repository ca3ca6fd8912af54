"""Forms of the staff pages that span features (the audit log search)."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from portal.admin.audit_query import ACTION_LABELS
from portal.branches.forms import plain_text

_PHONE_NOISE = re.compile(r"[\s\-()]")


def normalise_search_phone(value: str | None) -> str | None:
    """'+86 139 1234 5678' -> '13912345678'; None when it isn't a mainland mobile."""
    if not value:
        return None
    digits = _PHONE_NOISE.sub("", value)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    return digits if re.fullmatch(r"1\d{10}", digits) else None


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _int_or_none(value):
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # never a choice, so the field reports "not a valid choice"


class AuditSearchForm(FlaskForm):
    """A GET search form: no CSRF token (it changes nothing); the view fills
    `branch.choices` with the branches in the user's scope."""

    class Meta:
        csrf = False

    actor = StringField(
        _l("Who (mobile number)"), validators=[Optional(), Length(max=30)], filters=[_strip]
    )
    action = SelectField(_l("What they did"), choices=[], default="")
    # plain_text: NUL cannot be searched for (PostgreSQL text cannot hold it), a 500 once.
    object_kind = StringField(
        _l("Kind of record"), validators=[Optional(), Length(max=40), plain_text], filters=[_strip]
    )
    object_id = StringField(
        _l("Record number"), validators=[Optional(), Length(max=40), plain_text], filters=[_strip]
    )
    branch = SelectField(_l("Branch"), coerce=_int_or_none, choices=[])
    date_from = DateField(_l("From (date)"), validators=[Optional()])
    date_to = DateField(_l("To (date)"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = [("", _l("Anything"))] + [
            (key, label) for key, label in ACTION_LABELS.items()
        ]

    def validate_actor(self, field):
        if field.data and normalise_search_phone(field.data) is None:
            raise ValidationError(_l("Enter an 11-digit mobile number, for example 13912345678."))

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date must not be before the start date."))
