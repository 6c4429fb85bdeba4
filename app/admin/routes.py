from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from app.admin.charts import PLOT_MARGIN, PLOT_SIZE, reliability_points
from app.admin.forms import ACTION_NAMES, OBJECT_NAMES, AuditFilterForm
from app.auth.access import roles_required
from app.guards import reject_unknown_args
from app.services import NotFound
from app.services.audit import audit_page
from app.services.classification import activate_version, all_versions
from models import Role

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: Events per page of the audit log.
AUDIT_PAGE_SIZE = 50


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
            activate_version(version_id, current_user)
        except NotFound:
            abort(404)
        flash(_("Model version %(version)d is active.", version=version_id))
    return redirect(url_for("admin.models"))


@bp.get("/audit")
@roles_required(Role.ADMIN)
def audit():
    form = AuditFilterForm(formdata=request.args)
    reject_unknown_args(set(form.data))
    names = {"action_names": ACTION_NAMES, "object_names": OBJECT_NAMES}
    if not form.validate():
        return render_template("admin/audit.html", form=form, page=None, **names), 400
    page = audit_page(form.to_filters(), page=form.page.data or 1, per_page=AUDIT_PAGE_SIZE)
    return render_template("admin/audit.html", form=form, page=page, **names)
