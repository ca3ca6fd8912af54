"""The staff import pages both imports share (portal.importing does the work): the
upload form with its dry run, the template workbook and the page explaining the
columns. membership.import_views and volunteering.import_views route to these."""

import io

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.exc import IntegrityError
from wtforms import SubmitField

from portal import importing
from portal.exports import _disposition
from portal.extensions import db
from portal.timeutil import today_local


class ImportForm(FlaskForm):
    file = FileField(
        _l("Excel file (.xlsx)"),
        validators=[FileRequired(message=_l("Please choose the file."))],
        render_kw={"accept": ".xlsx," + importing.XLSX_MIME},
    )
    check = SubmitField(_l("Check the file"))
    write = SubmitField(_l("Check and import"))

    def validate_file(self, field):
        name = (getattr(field.data, "filename", "") or "").lower()
        if not name.endswith(".xlsx"):
            from wtforms.validators import ValidationError

            raise ValidationError(_l("Please choose an Excel workbook (.xlsx)."))


def upload_page(kind: importing.Kind, page: dict):
    """GET: the form. POST: check the file (always), and import it when asked and
    clean; nothing is written otherwise. `page` names the endpoints and titles."""
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        data = form.file.data.stream.read(importing.MAX_BYTES + 1)
        try:
            report = importing.check(kind, data, current_user, today_local())
        except importing.ImportRefused as exc:
            form.file.errors = [exc.message]
        else:
            if form.write.data and report.clean:
                done = _write(kind, report, form)
                if done is not None:
                    flash(
                        _(
                            "%(rows)d rows imported (%(new)d new accounts, %(numbers)d new "
                            "numbers).",
                            rows=done.rows,
                            new=done.new_accounts,
                            numbers=done.new_numbers,
                        ),
                        "success",
                    )
                    return redirect(url_for(page["list"]))
        db.session.commit()  # a read-only check: ends the transaction (no rows written)
    return render_template(
        "importing/upload.html",
        form=form,
        report=report,
        page=page,
        kind=kind,
        max_rows=importing.MAX_ROWS,
        max_mb=importing.MAX_BYTES // 1024 // 1024,
    )


def _write(kind, report, form):
    try:
        done = importing.write(kind, report, current_user, today_local())
        db.session.commit()
    except IntegrityError:
        # Someone else took one of the numbers or people at the same moment.
        db.session.rollback()
        form.form_errors.append(
            _(
                "Someone changed the same records at the same time. Nothing was imported: "
                "please check the file again."
            )
        )
        return None
    return done


def template_download(kind: importing.Kind, filename: str) -> Response:
    """An empty workbook with the header row (required columns marked *) and the ID,
    phone and number columns formatted as text, so Excel keeps every digit."""
    wb = Workbook()
    ws = wb.active
    ws.title = str(_("Import"))[:31]
    cols = importing.columns(kind)
    ws.append([str(c.label) + (" *" if c.required else "") for c in cols])
    for index, column in enumerate(cols, start=1):
        letter = ws.cell(row=1, column=index).column_letter
        ws.cell(row=1, column=index).font = Font(bold=True)
        ws.column_dimensions[letter].width = 22
        if column.key in ("id_number", "phone", "number", "emergency_phone", "branch_code"):
            ws.column_dimensions[letter].number_format = "@"
            for row in range(2, 1002):
                ws.cell(row=row, column=index).number_format = "@"
    out = io.BytesIO()
    wb.save(out)
    return Response(
        out.getvalue(),
        mimetype=importing.XLSX_MIME,
        headers={"Content-Disposition": _disposition(filename + ".xlsx")},
    )


def columns_page(kind: importing.Kind, page: dict):
    return render_template(
        "importing/columns.html",
        columns=importing.columns(kind),
        page=page,
        max_rows=importing.MAX_ROWS,
        max_mb=importing.MAX_BYTES // 1024 // 1024,
    )
