"""Forms of the citizen's "My branch" pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from portal.branches.models import HOME_BRANCH_NOTE_MAX
from portal.textcheck import plain_multiline_text


def _strip(value):
    # NUL bytes are refused by PostgreSQL; nobody means to type them.
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


class BranchSearchForm(FlaskForm):
    """A GET search: nothing is written, so no CSRF token (the URL stays shareable)."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Search by branch name"),
        filters=[_strip],
        validators=[Optional(), Length(max=50, message=_l("Please type at most 50 characters."))],
    )


class HomeBranchRequestForm(FlaskForm):
    note = TextAreaField(
        _l("Note for the branch (optional)"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(
                max=HOME_BRANCH_NOTE_MAX,
                message=_l("Please keep the note under %(max)d characters."),
            ),
            plain_multiline_text,
        ],
    )
    submit = SubmitField(_l("Send my request"))


class WithdrawForm(FlaskForm):
    submit = SubmitField(_l("Withdraw my request"))
