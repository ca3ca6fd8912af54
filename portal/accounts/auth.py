"""Starting and ending a logged-in session. Every login goes through start_login()
so that session rotation, the staff timeout flag and the audit entry never differ
between password, SMS-code and post-registration logins."""

from flask import current_app, g, session
from flask_login import login_user, logout_user

from portal import audit
from portal.accounts.models import User
from portal.branches.scope import is_staff
from portal.extensions import db, login_manager
from portal.timeutil import utcnow

login_manager.login_view = "accounts.login"
login_manager.session_protection = None  # rotation and revocation are done server-side


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


@login_manager.unauthorized_handler
def unauthorized():
    from flask import flash, redirect, request, url_for
    from flask_babel import gettext as _

    flash(_("Please log in to continue."), "info")
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def start_login(user: User, method: str) -> None:
    """Log `user` in on a fresh session id (the visitor's signed cookie becomes a
    server-side session); staff get the stricter timeouts. The account's saved language
    and care mode win over what was chosen in this browser before logging in.
    Adds the audit entry (per top branch for staff); the caller commits."""
    adopt_visitor_preferences(user)
    session.rotate()
    g.pop("csrf_token", None)  # Flask-WTF's copy of the old token, for this request
    login_user(user)
    staff = is_staff(user)
    session["_staff"] = staff
    user.last_login_at = utcnow()
    # Staff: one entry per top branch of their scope, so that branch's auditors see it.
    audit.record_for_person(
        "login", user, actor=user, object_kind="user", object_id=user.id, changes={"method": method}
    )
    db.session.flush()


def adopt_visitor_preferences(user: User) -> None:
    """On a shared phone the choice in the browser may be the last person's, so the
    account's own choice wins. Only what the account has never chosen is taken from the
    browser: a language when the account has none, and care mode switched on when the
    account has it off (off is where every account starts, so it is no choice to keep).
    Afterwards the account alone decides; the browser's copies are dropped."""
    locale = session.pop("locale", None)
    if user.locale is None and locale in current_app.config["LANGUAGES"]:
        user.locale = locale
    if session.pop("care_mode", False) and not user.care_mode:
        user.care_mode = True


def end_login(user: User | None) -> None:
    """Log out and revoke this server-side session; the caller commits. Nothing of this
    person stays in the browser: language and care mode go back to the defaults (the
    browser's language, normal size) for whoever uses the phone next."""
    if user is not None and user.is_authenticated:
        audit.record_for_person("logout", user, actor=user, object_kind="user", object_id=user.id)
    logout_user()
    session.end()  # the CSRF token too: the next page issues a visitor's own
    g.pop("csrf_token", None)
