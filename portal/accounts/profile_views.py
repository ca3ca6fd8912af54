""" "My account" and the real-name profile form."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from portal.accounts import bp
from portal.accounts.identity import RESIDENT_ID, doc_type_label
from portal.accounts.profile_forms import ProfileForm
from portal.accounts.profiles import DOCUMENT_IN_USE, ProfileError, save_profile
from portal.consent import services as consent
from portal.consent.purposes import ID_DOCUMENT, PURPOSES
from portal.extensions import db, limiter


def _per_user() -> str:
    # Each failed save says whether a document is taken: limit how fast one account can ask.
    return f"profile:{current_user.get_id()}"


@bp.get("/")
@login_required
def profile():
    return render_template(
        "accounts/profile.html", profile=current_user.profile, doc_type_label=doc_type_label
    )


@bp.route("/profile", methods=["GET", "POST"])
@login_required
@limiter.limit("30 per hour", methods=["POST"], key_func=_per_user)
def edit_profile():
    saved = current_user.profile
    form = ProfileForm()
    retype_number = False
    if request.method == "GET" and saved is not None:
        form.full_name.data = saved.full_name
        form.doc_type.data = saved.doc_type
        if saved.doc_type != RESIDENT_ID:
            # The birth date is not filled in: with the masked number beside it, the page
            # would show more of the person than it needs to (an empty box keeps it).
            form.sex.data = saved.sex or ""
    if form.validate_on_submit():
        try:
            save_profile(
                current_user,
                full_name=form.full_name.data,
                doc_type=form.doc_type.data,
                doc_number=form.doc_number.data,
                birth_date=form.birth_date.data,
                sex=form.sex.data,
                id_consent=form.id_consent.data,
                ip=request.remote_addr,
            )
            db.session.commit()
        except ProfileError as exc:
            db.session.rollback()
            form.add_errors(exc.errors)
            retype_number = _forget_valid_number(form, exc.hide_number)
        except IntegrityError:
            db.session.rollback()
            form.add_errors({"doc_number": DOCUMENT_IN_USE})
            retype_number = _forget_valid_number(form, True)
        else:
            flash(_("Your real-name profile is saved."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template(
        "accounts/edit_profile.html",
        form=form,
        saved=current_user.profile,
        retype_number=retype_number,
        consent_stands=consent.is_given(current_user, ID_DOCUMENT),
        id_purpose=PURPOSES[ID_DOCUMENT],
    )


def _forget_valid_number(form: ProfileForm, hide: bool) -> bool:
    """A real document number is never sent back in a page, even to the person who typed
    it; a mistyped one is, so they can spot the typo. True when the number was fine and
    they only need to type it again."""
    if not hide:
        return False
    form.doc_number.data = ""
    return not {"doc_number", "doc_type"} & set(form.errors)
