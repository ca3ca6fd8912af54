"""Open data downloads (JSON, CSV) for the society, a branch or a project, and the page
that documents their fields."""

from flask import Response, render_template, stream_with_context, url_for

from portal.donations import bp, opendata
from portal.donations.views import _list_scope
from portal.timeutil import utcnow


def _about(scope, args) -> dict:
    about = {
        "generated_at": utcnow().isoformat(timespec="seconds") + "Z",
        "documentation": url_for("donations.open_data", _external=True),
    }
    if scope.project is not None:
        about["scope"] = {"project_id": scope.project.id, "project_code": scope.project.code}
    elif scope.branch is not None:
        about["scope"] = {"branch_id": scope.branch.id, "branch_code": scope.branch.code or ""}
    else:
        about["scope"] = "society"
    return about


def _filename(args) -> str:
    return "donations" + "".join(f"-{k}-{v}" for k, v in args.items())


@bp.get("/data")
def open_data():
    scope, args = _list_scope()
    return render_template(
        "donations/open_data.html", fields=opendata.FIELDS, args=args, scope=scope
    )


@bp.get("/data.json")
def data_json():
    scope, args = _list_scope()
    body = stream_with_context(opendata.json_chunks(scope, _about(scope, args)))
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'inline; filename="{_filename(args)}.json"'},
    )


@bp.get("/data.csv")
def data_csv():
    scope, args = _list_scope()
    body = stream_with_context(opendata.csv_chunks(scope))
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_filename(args)}.csv"'},
    )
