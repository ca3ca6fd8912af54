"""Public verification of cards: by the QR code's URL, or by number and surname."""

from flask import render_template

from portal.cards import bp
from portal.cards.forms import VerifyForm
from portal.cards.services import find_by_number, find_by_token
from portal.extensions import limiter


@bp.get("/verify/<token>")
@limiter.limit("120 per minute")
def verify_token(token: str):
    card = find_by_token(token)
    return render_template("cards/verify.html", card=card), 200 if card else 404


@bp.route("/verify", methods=["GET", "POST"])
# Typing numbers and surnames could be used to guess who holds which card: slowed per IP.
@limiter.limit("20 per hour", methods=["POST"])
def verify_number():
    form = VerifyForm()
    card, searched = None, False
    if form.validate_on_submit():
        searched = True
        card = find_by_number(form.number.data, form.surname.data)
    return render_template("cards/verify_form.html", form=form, card=card, searched=searched)
