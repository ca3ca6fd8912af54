"""Registered volunteering: a citizen applies to a branch (review kind "volunteer"), is
given a volunteer number and an e-card on approval, and keeps their details up to date."""

from flask import Blueprint

bp = Blueprint("volunteering", __name__, url_prefix="/volunteer")
# Staff pages: the volunteer list, detail, status changes and teams.
staff_bp = Blueprint("volunteer_staff", __name__, url_prefix="/admin/volunteering")
