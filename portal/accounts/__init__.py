from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/account")

from portal.accounts import auth, profile_views, views  # noqa: E402,F401
