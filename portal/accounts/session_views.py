"""The "where you are logged in" page: see your sessions and end the others."""

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from portal.accounts import bp, services
from portal.accounts.devices import describe_device
from portal.extensions import db
from portal.ids import as_id


@bp.route("/sessions", methods=["GET", "POST"])
@login_required
def sessions():
    user = current_user._get_current_object()
    current_id = getattr(session, "row_id", None)
    if request.method == "POST":
        if request.form.get("end_all"):
            ended = services.end_other_sessions(user, current_id)
            db.session.commit()
            flash(
                ngettext(
                    "%(num)d other session was ended.", "%(num)d other sessions were ended.", ended
                ),
                "success",
            )
        else:
            session_id = as_id(request.form.get("session_id"))
            if session_id is None or not services.end_session(user, session_id, current_id):
                abort(404)
            db.session.commit()
            flash(_("That session was ended. It is logged out now."), "success")
        return redirect(url_for("accounts.sessions"))
    rows = services.live_sessions(user)
    items = sorted(
        (
            {"row": row, "device": describe_device(row.user_agent), "current": row.id == current_id}
            for row in rows
        ),
        key=lambda item: not item["current"],  # this device first, then newest
    )
    return render_template(
        "accounts/sessions.html", items=items, others=sum(1 for i in items if not i["current"])
    )
