"""Staff import of existing members from XLSX (admins and officers, rows inside their
scope only): /admin/membership/import, its template workbook and its columns page."""

from flask_babel import lazy_gettext as _l

from portal import import_pages
from portal.branches.scope import REVIEW_ROLES
from portal.membership import imports, staff_bp
from portal.permissions import staff_required

PAGE = {
    "title": _l("Import members"),
    "list": "membership_staff.members",
    "list_label": _l("Members"),
    "upload": "membership_staff.import_members",
    "template": "membership_staff.import_template",
    "columns": "membership_staff.import_columns",
}


@staff_bp.route("/import", methods=["GET", "POST"])
@staff_required(REVIEW_ROLES)
def import_members():
    return import_pages.upload_page(imports.KIND, PAGE)


@staff_bp.get("/import/template.xlsx")
@staff_required(REVIEW_ROLES)
def import_template():
    return import_pages.template_download(imports.KIND, "members-import")


@staff_bp.get("/import/columns")
@staff_required(REVIEW_ROLES)
def import_columns():
    return import_pages.columns_page(imports.KIND, PAGE)
