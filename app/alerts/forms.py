from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SubmitField
from wtforms.validators import DataRequired

from app.forms import choices
from models import AlertState

#: Translated names of an alert's states.
ALERT_STATE_NAMES = {AlertState.NEW: _l("New"), AlertState.SEEN: _l("Seen"),
                     AlertState.LINKED: _l("Linked to a known issue"),
                     AlertState.DISMISSED: _l("Dismissed")}


class LinkForm(FlaskForm):
    """Link an alert to one of the open known issues."""

    known_issue = SelectField(_l("Known issue"), validators=[DataRequired()])
    link = SubmitField(_l("Link"))

    def __init__(self, open_issues: list[tuple[int, str]], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.known_issue.choices = choices({str(i): title for i, title in open_issues},
                                           blank=_l("Choose an open known issue"))


class NotificationForm(FlaskForm):
    """A coordinator's choice of alert e-mails."""

    notify_alerts = BooleanField(_l("E-mail me when an alert is raised"))
    save = SubmitField(_l("Save"))
