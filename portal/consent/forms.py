"""The one form of the consent pages: a withdraw button (its CSRF token is the point)."""

from flask_wtf import FlaskForm
from wtforms import HiddenField


class WithdrawConsentForm(FlaskForm):
    # "yes" once the person has read the purpose's withdrawal warning and confirmed.
    confirm = HiddenField()
