"""CSV (UTF-8 with BOM, so Excel opens Chinese correctly) and XLSX downloads of staff lists."""

import csv
import io
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook

# Cells starting with these are formulas to Excel; prefix them so a name like
# "=HYPERLINK(...)" typed by a citizen is shown, not executed (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def _disposition(filename: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(filename)}"


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf)
    writer.writerow([str(h) for h in header])
    for row in rows:
        writer.writerow([_safe(v) for v in row])
    return Response(
        buf.getvalue().encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": _disposition(filename + ".csv")},
    )


def xlsx_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence], title: str = "Sheet1"
) -> Response:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.append([str(h) for h in header])
    for row in rows:
        ws.append([_safe(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return Response(
        out.getvalue(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": _disposition(filename + ".xlsx")},
    )


def export_response(
    fmt: str, filename: str, header: Sequence[str], rows: Iterable[Sequence], title: str = "Sheet1"
):
    """`fmt` is "csv" or "xlsx"; anything else is treated as csv."""
    if fmt == "xlsx":
        return xlsx_response(filename, header, rows, title)
    return csv_response(filename, header, rows)
