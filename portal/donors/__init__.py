"""Life-saving registrations: marrow (造血干细胞) pre-registration with its blood-sample
sessions, organ / body donation wishes with their e-registration card, and the public
remembrance page (缅怀纪念). Health answers, contacts and choices are sensitive personal
information: encrypted at rest (portal.crypto), each purpose consented to separately
(portal.consent), every staff view audited."""

from flask import Blueprint

# The home page's tiles name `marrow.register` and `organ.register`.
marrow_bp = Blueprint("marrow", __name__, url_prefix="/marrow")
organ_bp = Blueprint("organ", __name__, url_prefix="/organ")
memorial_bp = Blueprint("memorial", __name__, url_prefix="/memorial")
staff_bp = Blueprint("donors_staff", __name__, url_prefix="/admin/donors")

BLUEPRINTS = (marrow_bp, organ_bp, memorial_bp, staff_bp)
