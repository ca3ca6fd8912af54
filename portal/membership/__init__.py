"""Membership (会员): a citizen applies to a branch, the branch approves in the inbox, the
member gets a number, a term and a card with a QR code; renewal, resignation, expiry."""

from flask import Blueprint

bp = Blueprint("membership", __name__, url_prefix="/membership")

# The staff pages (list, detail, revoke, export) sit with the other staff pages.
staff_bp = Blueprint("membership_staff", __name__, url_prefix="/admin/membership")
