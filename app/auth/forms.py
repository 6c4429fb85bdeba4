from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.services.users import MIN_PASSWORD_LENGTH, password_weakness


class LoginForm(FlaskForm):
    # Each message names its field: the page's error summary lists them.
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(_l("Enter your e-mail address.")),
        Length(max=254, message=_l("The e-mail address is too long."))])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Enter your password.")),
        Length(max=1000, message=_l("The password is too long."))])
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class LogoutForm(FlaskForm):
    submit = SubmitField(_l("Log out"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1000)])
    new = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=1000)],
        description=_l("At least %(count)d characters; a sentence of a few words works well.",
                       count=MIN_PASSWORD_LENGTH))
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))])
    submit = SubmitField(_l("Change password"))

    def __init__(self, email: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._email = email

    def validate_new(self, field: PasswordField) -> None:
        if len(field.data) < MIN_PASSWORD_LENGTH:
            raise ValidationError(_l("The password must have at least %(count)d characters.",
                                     count=MIN_PASSWORD_LENGTH))
        if password_weakness(field.data, self._email):
            raise ValidationError(_l("This password is too common or too easy to guess."))
