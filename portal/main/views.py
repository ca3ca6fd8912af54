from flask import current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from portal.extensions import csrf, db
from portal.main import bp
from portal.main.my_red_cross import sections_for
from portal.main.tiles import available_tiles
from portal.security import is_safe_next


def _back():
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("main.index"))


@bp.get("/")
def index():
    return render_template("main/index.html", tiles=available_tiles())


@bp.get("/my")
@login_required
def my_red_cross():
    """Every role and application the citizen has, one section per feature."""
    return render_template("main/my_red_cross.html", sections=sections_for(current_user))


@bp.post("/language")
def set_language():
    code = request.form.get("locale", "")
    if code in current_app.config["LANGUAGES"]:
        # Signed in: the account keeps it. A visitor: the signed session cookie does.
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
        else:
            session["locale"] = code
    return _back()


@bp.post("/care-mode")
def toggle_care_mode():
    on = request.form.get("on") == "1"
    if current_user.is_authenticated:
        current_user.care_mode = on
        db.session.commit()
    else:
        session["care_mode"] = on
    return _back()


@bp.get("/healthz")
@csrf.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        return jsonify(status="ok", database="ok")
    except Exception:  # any failure to reach the database is "unavailable"
        db.session.rollback()
        current_app.logger.warning("health check: database unreachable")
        return jsonify(status="error", database="unreachable"), 503
