"""The researchers' pages: the de-identified export, its codebook and aggregate counts."""

from datetime import date

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context
from flask_babel import get_locale
from flask_login import current_user

from app.auth.access import permission_required
from app.export.forms import ExportForm
from app.guards import reject_unknown_args
from app.services.aggregates import aggregates_csv
from app.services.export import Format, codebook_csv, export_file, matching_count
from app.services.units import unit_choices

bp = Blueprint("export", __name__, url_prefix="/export")

MIMETYPES = {Format.CSV: "text/csv", Format.JSONL: "application/jsonl"}


def _form() -> ExportForm:
    form = ExportForm(units=unit_choices(include_inactive=True), language=str(get_locale()),
                      formdata=request.args)
    reject_unknown_args(set(form.data))
    return form


def _download(body, name: str, file_format: Format) -> Response:
    """An attachment named like vaka-reports-2026-12-03.csv: the date before the extension,
    so that spreadsheets and Windows know the file."""
    filename = f"vaka-{name}-{date.today().isoformat()}.{file_format}"
    return Response(body, mimetype=MIMETYPES[file_format],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _refused(form: ExportForm) -> tuple[str, int]:
    return render_template("export/index.html", form=form), 400


@bp.get("/")
@permission_required("export.deidentified")
def index():
    """The export's choices, with how many reports the chosen filters match ("count" is the
    button that asks for it again with new filters)."""
    form = _form()
    if request.args and not form.validate():
        return _refused(form)
    return render_template("export/index.html", form=form,
                           matching=matching_count(form.to_filters()))


@bp.get("/reports")
@permission_required("export.deidentified")
def reports():
    form = _form()
    if not form.validate():
        return _refused(form)
    options = form.to_options()
    chunks = export_file(options, current_user)
    return _download(stream_with_context(chunks), "reports", options.format)


@bp.get("/codebook.csv")
@permission_required("export.deidentified")
def codebook():
    form = _form()
    if not form.validate():
        return _refused(form)
    language = form.codebook_language.data
    return _download(codebook_csv(pseudonymous=bool(form.project.data), language=language),
                     f"codebook-{language}", Format.CSV)


@bp.get("/aggregates.csv")
@permission_required("export.aggregate")
def aggregates():
    form = _form()
    if not form.validate():
        return _refused(form)
    body = aggregates_csv(form.to_filters(), current_app.config["AGGREGATE_MIN_CELL"],
                          current_user)
    return _download(body, "aggregates", Format.CSV)
