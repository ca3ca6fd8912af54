"""First-aid training (红十字救在身边): the course catalogue, class sessions a branch
schedules, booking with a waitlist and offers, attendance, results and certificates
anyone can verify by QR code or number."""

from flask import Blueprint

bp = Blueprint("training", __name__, url_prefix="/training")
# Staff pages: sessions in scope, rosters, attendance, results, certificates.
staff_bp = Blueprint("training_staff", __name__, url_prefix="/admin/training")
