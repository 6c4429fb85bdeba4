from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import sso
from app.auth.access import can, log_in, record_failed_login
from app.auth.forms import ChangePasswordForm, LoginForm, LogoutForm
from app.navigation import safe_next_url
from app.services import ServiceError
from app.services.audit import record
from app.services.sso import SignOnRefused
from app.services.users import authenticate, change_password, end_sessions
from app.throttle import login_per_account, login_per_address, sso_per_address
from models import Role, User

bp = Blueprint("auth", __name__)
bp.add_app_template_global(can)  # templates ask `can('triage')`, e.g. for the navigation
bp.add_app_template_global(sso.sso_configured)
bp.add_app_template_global(sso.password_login_allowed)

#: Where each role lands after logging in.
HOME_BY_ROLE = {
    Role.COORDINATOR: "triage.queue",
    Role.RESEARCHER: "export.index",
    Role.ADMIN: "admin.users",
}
#: Session keys: where to go after a single sign-on, and the ID token logout hands back.
SSO_NEXT, SSO_ID_TOKEN = "sso_next", "sso_id_token"


def _home(user: User, next_url: str | None) -> str:
    return safe_next_url(next_url, HOME_BY_ROLE.get(user.role, "reports.new"))


@bp.route("/login", methods=["GET", "POST"])
@login_per_address
@login_per_account
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if request.method == "POST" and not sso.password_login_allowed():
        abort(403)
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            record_failed_login(form.email.data)
            form.password.errors.append(_("Wrong e-mail or password."))
        else:
            log_in(user, "password")
            return redirect(_home(user, form.next.data))
    return render_template("auth/login.html", form=form)


def _back_to_login(message: str):
    flash(message)
    return redirect(url_for("auth.login"))


@bp.get("/login/sso")
def sso_login():
    if not sso.sso_configured():
        return _back_to_login(_("Single sign-on is not set up here."))
    response = sso.sign_on_redirect(url_for("auth.sso_callback", _external=True))
    if response is None:
        return _back_to_login(_("The sign-in service does not answer. Try again in a while."))
    session[SSO_NEXT] = request.args.get("next", "")
    return response


@bp.get("/login/sso/callback")
@sso_per_address
def sso_callback():
    if not sso.sso_configured():
        return _back_to_login(_("Single sign-on is not set up here."))
    next_url = session.get(SSO_NEXT)
    try:
        user, id_token = sso.verified_login()
    except SignOnRefused as refusal:
        record_failed_login(refusal.email, method="oidc", reason=refusal.reason,
                            **refusal.details)
        return _back_to_login(_("Single sign-on did not log you in. Try again, or ask your "
                                "administrator if it keeps failing."))
    log_in(user, "oidc")
    session[SSO_ID_TOKEN] = id_token
    return redirect(_home(user, next_url))


@bp.post("/logout")
@login_required
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        record("logout", current_user, "user", current_user.id)
        end_sessions(current_user)
        provider_logout = sso.end_session_url(session.get(SSO_ID_TOKEN))
        logout_user()
        session.clear()
        flash(_("You are logged out."))
        if provider_logout:
            return redirect(provider_logout)
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
