from dataclasses import asdict
from datetime import date

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context
from flask_login import current_user

from app.auth.access import roles_required
from app.forms import ReportFilterForm
from app.guards import reject_unknown_args
from app.services.audit import record
from app.services.export import csv_chunks, export_rows
from models import Role

bp = Blueprint("export", __name__, url_prefix="/export")


def _filter_form() -> ReportFilterForm:
    form = ReportFilterForm(formdata=request.args)
    reject_unknown_args(set(form.data))
    return form


@bp.get("/")
@roles_required(Role.RESEARCHER, Role.COORDINATOR)
def index():
    form = _filter_form()
    valid = form.validate() if request.args else True
    return render_template("export/index.html", form=form), 200 if valid else 400


@bp.get("/reports.csv")
@roles_required(Role.RESEARCHER, Role.COORDINATOR)
def reports_csv():
    form = _filter_form()
    if not form.validate():
        return render_template("export/index.html", form=form), 400
    filters = form.to_filters()
    record("export.csv", current_user, **asdict(filters))
    rows = export_rows(filters, current_app.config["EXPORT_BATCH_SIZE"])
    filename = f"vaka-reports-{date.today().isoformat()}.csv"
    return Response(stream_with_context(csv_chunks(rows)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})
