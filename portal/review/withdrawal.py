"""The applicant's "withdraw" button, the same for every kind of application: the views
that offer it call `withdraw_and_say` and redirect."""

from flask import flash
from flask_babel import gettext as _

from portal.extensions import db
from portal.review.services import withdraw


def withdraw_and_say(application, user) -> None:
    """Withdraw `user`'s pending application and commit, or, when a decision came first,
    leave it as decided; either way flash what happened."""
    if application is not None and withdraw(application, user):
        db.session.commit()
        flash(_("Your application has been withdrawn."), "success")
    else:
        db.session.rollback()
        flash(_("This application has already been decided, so it cannot be withdrawn."), "warning")
