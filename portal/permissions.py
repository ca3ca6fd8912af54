"""The shared permission check for staff pages under /admin/."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from portal.branches.scope import ALL_ROLES, active_grants


def staff_required(roles: frozenset[str] = ALL_ROLES):
    """Logged in (else to the login page) and holding one of `roles` somewhere (else 403).
    Whether a particular object is in scope is checked by the view through scope.py (404)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not any(g.role in roles for g in active_grants(current_user)):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
