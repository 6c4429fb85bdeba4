"""The retention rule: `flask retention apply` blanks free text older than each kind's limit."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.services import retention
from app.services.classification import training_data
from app.services.retention import retention_days
from models import AuditEvent, Message, Report, db, utcnow
from tests.helpers import days_ago, fetch_report

OLD_TEXT = "Patienten 19121212-1212 fick fel dos när listan inte uppdaterades."
RULE = {"RETENTION_DAYS_INCIDENT": "30", "RETENTION_DAYS_FEEDBACK": "0"}


@pytest.fixture
def app_config():
    return dict(RULE)


def add_message(app, report_id: int, body: str) -> int:
    with app.app_context():
        message = Message(report_id=report_id, author="reporter", body=body)
        db.session.add(message)
        db.session.commit()
        return message.id


@pytest.fixture
def reports(app, make_report) -> dict[str, int]:
    """An incident just past the limit, one just inside it, and old feedback (no limit);
    the first two have a message from their reporter."""
    ids = {
        "expired": make_report(OLD_TEXT, submitted=days_ago(31),
                               suggestion="Ring 070-123 45 67 innan ni ändrar listan."),
        "inside": make_report("Listan uppdaterades inte efter ronden.", submitted=days_ago(30)),
        "feedback": make_report("Det nya schemat är tydligt och bra.", kind="feedback",
                                submitted=days_ago(400)),
    }
    add_message(app, ids["expired"], "Det var på nattpasset, fråga Anna.")
    add_message(app, ids["inside"], "Det hände igen i går.")
    return ids


def snapshot(app) -> list[tuple]:
    """Every report and message row, to show what changed."""
    with app.app_context():
        return [tuple(row) for table in (Report.__table__, Message.__table__)
                for row in db.session.execute(select(table).order_by(table.c.id)).all()]


def message_bodies(app) -> dict[int, str]:
    with app.app_context():
        return dict(db.session.execute(select(Message.report_id, Message.body)).all())


def audit_events(app) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return events


def test_text_past_the_limit_is_blanked_and_the_rest_kept(app, runner, reports):
    inside, feedback = fetch_report(app, reports["inside"]), fetch_report(app, reports["feedback"])
    assert fetch_report(app, reports["expired"]).identifiers_found == 2

    result = runner.invoke(args=["retention", "apply"])

    assert result.exit_code == 0, result.output
    cutoff = utcnow().date() - timedelta(days=30)
    assert f"incident: removed the text of 1 report(s) submitted before {cutoff}" in result.output
    assert "feedback: text kept forever" in result.output
    expired = fetch_report(app, reports["expired"])
    assert (expired.text, expired.text_deidentified) == ("", "")
    assert (expired.suggestion, expired.suggestion_deidentified) == (None, None)
    assert expired.identifiers_found == 0
    assert expired.text_removed_on == utcnow().date()
    assert (expired.kind, expired.unit_id, expired.submitted_on) == ("incident", inside.unit_id,
                                                                     days_ago(31).date())
    for kept in (inside, feedback):
        after = fetch_report(app, kept.id)
        assert (after.text, after.text_removed_on) == (kept.text, None)
    assert "messages: removed the text of 1 message(s)" in result.output
    assert message_bodies(app) == {expired.id: "", inside.id: "Det hände igen i går."}


def test_the_run_is_recorded_with_rule_cutoff_and_count(app, runner, reports):
    runner.invoke(args=["retention", "apply"])
    [event] = audit_events(app)
    assert (event.action, event.actor_id, event.actor_label) == ("retention.apply", None,
                                                                 "system")
    cutoff = (utcnow().date() - timedelta(days=30)).isoformat()
    assert event.details == {"incident_days": 30, "incident_cutoff": cutoff,
                             "incident_reports": 1, "feedback_days": None,
                             "feedback_cutoff": None, "feedback_reports": 0, "messages": 1}


def test_a_second_run_changes_nothing_more(app, runner, reports):
    runner.invoke(args=["retention", "apply"])
    after_first = snapshot(app)
    second = runner.invoke(args=["retention", "apply"])
    assert second.exit_code == 0, second.output
    assert "removed the text of 0 report(s)" in second.output
    assert snapshot(app) == after_first
    assert [e.details["incident_reports"] for e in audit_events(app)] == [1, 0]


def test_a_message_added_after_the_text_went_goes_at_the_next_run(app, runner, reports):
    runner.invoke(args=["retention", "apply"])
    add_message(app, reports["expired"], "Har ni hittat felet?")
    result = runner.invoke(args=["retention", "apply"])
    assert "removed the text of 0 report(s)" in result.output
    assert "removed the text of 1 message(s)" in result.output
    with app.app_context():
        assert set(db.session.scalars(select(Message.body).where(
            Message.report_id == reports["expired"]))) == {""}


def test_dry_run_counts_and_changes_nothing(app, runner, reports):
    before = snapshot(app)
    result = runner.invoke(args=["retention", "apply", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "nothing changed" in result.output
    assert "incident: would remove the text of 1 report(s)" in result.output
    assert "messages: would remove the text of 1 message(s)" in result.output
    assert snapshot(app) == before
    assert audit_events(app) == []


def test_a_failure_while_recording_leaves_every_report_as_it_was(app, runner, reports,
                                                                 monkeypatch):
    def broken_record(*_args, **_kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(retention, "record", broken_record)
    before = snapshot(app)
    result = runner.invoke(args=["retention", "apply"])
    assert result.exit_code != 0
    assert snapshot(app) == before


@pytest.mark.parametrize("value", ["-5", "ten", "1.5", "٣"])
def test_a_bad_setting_is_refused_and_changes_nothing(app, runner, reports, value):
    app.config["RETENTION_DAYS_FEEDBACK"] = value
    before = snapshot(app)
    result = runner.invoke(args=["retention", "apply"])
    assert result.exit_code != 0
    assert "RETENTION_DAYS_FEEDBACK must be a whole number of days" in result.output
    assert snapshot(app) == before
    assert audit_events(app) == []


@pytest.mark.parametrize(("value", "days"), [("", None), ("0", None), (None, None),
                                             (" 90 ", 90), (90, 90)])
def test_empty_or_zero_keeps_text_forever(app, value, days, ctx):
    app.config["RETENTION_DAYS_FEEDBACK"] = value
    assert retention_days() == {"incident": 30, "feedback": days}


@pytest.mark.parametrize("app_config", [{}])
def test_the_defaults_keep_incidents_two_years_and_feedback_one(app, ctx):
    assert retention_days() == {"incident": 730, "feedback": 365}


def test_removed_text_is_explained_on_the_page_and_not_learned_from(app, runner, client,
                                                                   reports, make_user, login):
    with app.app_context():
        for report_id in reports.values():
            db.session.get(Report, report_id).labels_reviewed = True
        db.session.commit()
    assert runner.invoke(args=["retention", "apply"]).exit_code == 0
    login(make_user("coordinator"))
    page = client.get(f"/triage/reports/{reports['expired']}").get_data(as_text=True)
    assert "The text was removed under the retention rule on" in page
    assert "removed under the retention rule" not in \
        client.get(f"/triage/reports/{reports['inside']}").get_data(as_text=True)
    with app.app_context():
        data = training_data()
        assert "" not in data.texts and OLD_TEXT not in data.texts
        assert "Listan uppdaterades inte efter ronden." in data.texts
