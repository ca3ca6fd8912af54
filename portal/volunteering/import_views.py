"""Staff import of existing volunteers from XLSX (admins and officers, rows inside their
scope only): /admin/volunteering/import, its template workbook and its columns page."""

from flask_babel import lazy_gettext as _l

from portal import import_pages
from portal.branches.scope import REVIEW_ROLES
from portal.permissions import staff_required
from portal.volunteering import imports, staff_bp

PAGE = {
    "title": _l("Import volunteers"),
    "list": "volunteer_staff.volunteers",
    "list_label": _l("Volunteers"),
    "upload": "volunteer_staff.import_volunteers",
    "template": "volunteer_staff.import_template",
    "columns": "volunteer_staff.import_columns",
}


@staff_bp.route("/import", methods=["GET", "POST"])
@staff_required(REVIEW_ROLES)
def import_volunteers():
    return import_pages.upload_page(imports.KIND, PAGE)


@staff_bp.get("/import/template.xlsx")
@staff_required(REVIEW_ROLES)
def import_template():
    return import_pages.template_download(imports.KIND, "volunteers-import")


@staff_bp.get("/import/columns")
@staff_required(REVIEW_ROLES)
def import_columns():
    return import_pages.columns_page(imports.KIND, PAGE)
