from flask import Blueprint

# Staff pages (tree, staff roles) under /admin/branches; citizens' pages under /branches.
bp = Blueprint("branches", __name__, url_prefix="/admin/branches")
public_bp = Blueprint("branch_public", __name__, url_prefix="/branches")
