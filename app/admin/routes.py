from typing import NoReturn

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from app.admin.audit_view import shown_changes
from app.admin.forms import (
    ACTION_NAMES,
    OBJECT_NAMES,
    ROLE_NAMES,
    AuditFilterForm,
    NewUserForm,
    ResetPasswordForm,
    RoleForm,
    TokenForm,
    UnitForm,
)
from app.auth.access import permission_required
from app.charts import reliability_plots
from app.guards import reject_unknown_args
from app.services import ServiceError
from app.services.api_tokens import create_token, revoke_token, tokens
from app.services.audit import accounts_with_last_login, audit_page
from app.services.classification import activate_version, all_versions
from app.services.jobs import jobs_overview, retry_failed_job
from app.services.units import (
    DuplicateUnit,
    all_units,
    create_unit,
    get_unit,
    rename_unit,
    set_unit_active,
)
from app.services.users import (
    DuplicateEmail,
    OwnAccount,
    change_role,
    create_user,
    get_user,
    reset_password,
    set_active,
)
from models import User, utcnow

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: Events per page of the audit log.
AUDIT_PAGE_SIZE = 50


@bp.get("/models")
@permission_required("models.view")
def models():
    versions = all_versions()
    return render_template("admin/models.html", versions=versions, form=FlaskForm(),
                           plots={version.id: reliability_plots(version.metrics["categories"])
                                  for version in versions})


@bp.post("/models/<int:version_id>/activate")
@permission_required("admin.models")
def activate(version_id: int):
    if FlaskForm().validate_on_submit():
        activate_version(version_id, current_user)
        flash(_("Model version %(version)d is active.", version=version_id))
    return redirect(url_for("admin.models"))


@bp.get("/audit")
@permission_required("admin.audit")
def audit():
    form = AuditFilterForm(formdata=request.args)
    reject_unknown_args(set(form.data))
    names = {"action_names": ACTION_NAMES, "object_names": OBJECT_NAMES}
    if not form.validate():
        return render_template("admin/audit.html", form=form, page=None, **names), 400
    page = audit_page(form.to_filters(), page=form.page.data or 1, per_page=AUDIT_PAGE_SIZE)
    return render_template("admin/audit.html", form=form, page=page,
                           changes={event.id: shown_changes(event) for event in page.items},
                           **names)


@bp.get("/jobs")
@permission_required("admin.jobs")
def jobs():
    return render_template("admin/jobs.html", jobs=jobs_overview(), form=FlaskForm())


@bp.post("/jobs/<int:failed_id>/retry")
@permission_required("admin.jobs")
def retry_job(failed_id: int):
    if FlaskForm().validate_on_submit():
        retry_failed_job(failed_id, current_user)
        flash(_("The job was queued again."))
    return redirect(url_for("admin.jobs"))


def _own_account_refused() -> NoReturn:
    abort(400, _("You cannot change your own role, access or password here: another "
                 "administrator can. Change your password on the password page."))


@bp.get("/users")
@permission_required("admin.users")
def users():
    return render_template("admin/users.html", accounts=accounts_with_last_login(),
                           role_names=ROLE_NAMES)


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required("admin.users")
def new_user():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = create_user(form.email.data, form.new.data, form.role.data, current_user)
        except DuplicateEmail:
            form.email.errors.append(_("An account with this e-mail already exists."))
        else:
            flash(_("The account %(email)s is created.", email=user.email))
            return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/user_form.html", form=form), 400 if form.errors else 200


def _user_page(account: User, role_form: RoleForm | None = None,
               password_form: ResetPasswordForm | None = None) -> str:
    """One account's page; a form that failed is shown again with its errors."""
    return render_template(
        "admin/user.html", account=account, role_names=ROLE_NAMES, access_form=FlaskForm(),
        role_form=role_form or RoleForm(role=account.role, formdata=None),
        password_form=password_form or ResetPasswordForm(account.email, formdata=None))


@bp.get("/users/<int:user_id>")
@permission_required("admin.users")
def user(user_id: int):
    return _user_page(get_user(user_id))


@bp.post("/users/<int:user_id>/role")
@permission_required("admin.users")
def user_role(user_id: int):
    account = get_user(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _user_page(account, role_form=form), 400
    try:
        change_role(current_user, user_id, form.role.data)
    except OwnAccount:
        _own_account_refused()
    flash(_("%(email)s is now: %(role)s.", email=account.email, role=ROLE_NAMES[account.role]))
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/<any(enable, disable):change>")
@permission_required("admin.users")
def user_access(user_id: int, change: str):
    account = get_user(user_id)
    if FlaskForm().validate_on_submit():
        try:
            set_active(current_user, user_id, active=change == "enable")
        except OwnAccount:
            _own_account_refused()
        flash(_("%(email)s can log in again.", email=account.email) if account.active else
              _("%(email)s can no longer log in; their sessions have ended.",
                email=account.email))
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/password")
@permission_required("admin.users")
def user_password(user_id: int):
    account = get_user(user_id)
    form = ResetPasswordForm(account.email)
    if not form.validate_on_submit():
        return _user_page(account, password_form=form), 400
    try:
        reset_password(current_user, user_id, form.new.data)
    except OwnAccount:
        _own_account_refused()
    flash(_("%(email)s has a new password; their sessions have ended.", email=account.email))
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/units", methods=["GET", "POST"])
@permission_required("admin.units")
def units():
    form = UnitForm()
    if form.validate_on_submit():
        try:
            unit = create_unit(current_user, form.name.data)
        except DuplicateUnit:
            form.name.errors.append(_("A unit with this name already exists."))
        else:
            flash(_("The unit %(name)s is added.", name=unit.name))
            return redirect(url_for("admin.units"))
    return render_template("admin/units.html", units=all_units(), form=form), (
        400 if form.errors else 200)


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@permission_required("admin.units")
def unit(unit_id: int):
    current = get_unit(unit_id)
    form = UnitForm(obj=current)
    if form.validate_on_submit():
        try:
            rename_unit(current_user, unit_id, form.name.data)
        except DuplicateUnit:
            form.name.errors.append(_("A unit with this name already exists."))
        else:
            flash(_("The unit is now called %(name)s.", name=current.name))
            return redirect(url_for("admin.unit", unit_id=unit_id))
    return render_template("admin/unit.html", unit=current, form=form,
                           access_form=FlaskForm()), 400 if form.errors else 200


@bp.post("/units/<int:unit_id>/<any(deactivate, reactivate):change>")
@permission_required("admin.units")
def unit_access(unit_id: int, change: str):
    current = get_unit(unit_id)
    if FlaskForm().validate_on_submit():
        set_unit_active(current_user, unit_id, active=change == "reactivate")
        flash(_("%(name)s is offered on the report form again.", name=current.name)
              if current.active else
              _("%(name)s is no longer offered on the report form.", name=current.name))
    return redirect(url_for("admin.unit", unit_id=unit_id))


@bp.route("/tokens", methods=["GET", "POST"])
@permission_required("admin.tokens")
def api_tokens():
    """The JSON API's tokens; a new one is shown once, on the page that made it."""
    form, secret = TokenForm(), None
    if form.validate_on_submit():
        try:
            secret = create_token(form.system.data, set(form.scopes.data),
                                  form.lifetime_days.data, current_user).secret
        except ServiceError as error:
            form.system.errors.append(str(error))
    return render_template("admin/tokens.html", form=form, secret=secret, tokens=tokens(),
                           now=utcnow(), revoke_form=FlaskForm()), 400 if form.errors else 200


@bp.post("/tokens/<int:token_id>/revoke")
@permission_required("admin.tokens")
def revoke_api_token(token_id: int):
    if FlaskForm().validate_on_submit():
        token = revoke_token(token_id, current_user)
        flash(_("The token for %(system)s is revoked.", system=token.system))
    return redirect(url_for("admin.api_tokens"))
