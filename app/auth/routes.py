from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth.access import can, log_in, record_failed_login
from app.auth.forms import ChangePasswordForm, LoginForm, LogoutForm
from app.navigation import safe_next_url
from app.services import ServiceError
from app.services.audit import record
from app.services.users import authenticate, change_password, end_sessions
from app.throttle import login_per_account, login_per_address
from models import Role

bp = Blueprint("auth", __name__)
bp.add_app_template_global(can)  # templates ask `can('triage')`, e.g. for the navigation

#: Where each role lands after logging in.
HOME_BY_ROLE = {
    Role.COORDINATOR: "triage.queue",
    Role.RESEARCHER: "export.index",
    Role.ADMIN: "admin.users",
}


@bp.route("/login", methods=["GET", "POST"])
@login_per_address
@login_per_account
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            record_failed_login(form.email.data)
            form.password.errors.append(_("Wrong e-mail or password."))
        else:
            log_in(user, "password")
            default = HOME_BY_ROLE.get(user.role, "reports.new")
            return redirect(safe_next_url(form.next.data, default))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        record("logout", current_user, "user", current_user.id)
        end_sessions(current_user)
        logout_user()
        session.clear()
        flash(_("You are logged out."))
    return redirect(url_for("reports.new"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = ChangePasswordForm(email=current_user.email)
    if form.validate_on_submit():
        try:
            change_password(current_user, form.current.data, form.new.data)
        except ServiceError:
            form.current.errors.append(_("The current password is wrong."))
        else:
            login_user(current_user)  # this session goes on; all others have ended
            flash(_("Your password is changed. You were logged out everywhere else."))
            return redirect(url_for("auth.password"))
    return render_template("auth/password.html", form=form), 400 if form.errors else 200
