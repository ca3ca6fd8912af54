"""Starting and ending a logged-in session. Every login goes through start_login()
so that session rotation, the staff timeout flag and the audit entry never differ
between password, SMS-code and post-registration logins."""

from flask import session
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
    """Log `user` in on a fresh session id; staff get the stricter timeouts. A care-mode
    choice made in this browser before logging in is saved on the account.
    Adds the audit entry (per top branch for staff); the caller commits."""
    session.rotate()
    login_user(user)
    staff = is_staff(user)
    session["_staff"] = staff
    if user.locale:
        session["locale"] = user.locale
    if "care_mode" in session:
        # Chosen in this browser (as a guest, or kept from the last logout): the latest
        # explicit choice wins over the one saved on the account.
        user.care_mode = bool(session["care_mode"])
    user.last_login_at = utcnow()
    # Staff: one entry per top branch of their scope, so that branch's auditors see it.
    audit.record_for_person(
        "login", user, actor=user, object_kind="user", object_id=user.id, changes={"method": method}
    )
    db.session.flush()


def end_login(user: User | None) -> None:
    """Log out and revoke this server-side session; the caller commits."""
    if user is not None and user.is_authenticated:
        audit.record_for_person("logout", user, actor=user, object_kind="user", object_id=user.id)
    logout_user()
    # Keep the language and care-mode choice, but on a new session id: the old
    # cookie is revoked, so replaying it after logout finds nothing.
    kept = {k: session[k] for k in ("locale", "care_mode") if k in session}
    session.clear()
    if kept:
        session.update(kept)
        session.rotate()
    else:
        session.end()
