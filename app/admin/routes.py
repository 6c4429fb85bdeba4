from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from app.admin.charts import PLOT_MARGIN, PLOT_SIZE, reliability_points
from app.auth.access import roles_required
from app.services import NotFound
from app.services.classification import activate_version, all_versions
from models import Role

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/models")
@roles_required(Role.ADMIN, Role.COORDINATOR)
def models():
    versions = all_versions()
    return render_template("admin/models.html", versions=versions, form=FlaskForm(),
                           points=reliability_points, size=PLOT_SIZE, margin=PLOT_MARGIN)


@bp.post("/models/<int:version_id>/activate")
@roles_required(Role.ADMIN)
def activate(version_id: int):
    if FlaskForm().validate_on_submit():
        try:
            activate_version(version_id)
        except NotFound:
            abort(404)
        flash(_("Model version %(version)d is active.", version=version_id))
    return redirect(url_for("admin.models"))
