"""The staff report form, its confirmation, idempotency and the receipt page."""

import re
import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.services import NotFound
from app.services.drafts import report_for_receipt
from config import TestingConfig
from models import Label, Report, db
from tests.helpers import RECEIPT, all_reports, form_data


def test_form_renders_with_units_and_a_fresh_token(client, make_unit):
    make_unit("Akuten")
    page = client.get("/").get_data(as_text=True)
    assert "Akuten" in page
    tokens = re.findall(r'name="submission_token"[^>]*value="([^"]+)"', page)
    again = re.findall(r'name="submission_token"[^>]*value="([^"]+)"',
                       client.get("/").get_data(as_text=True))
    assert tokens and again and tokens != again


def wall_clock() -> datetime:
    """The region's wall-clock time (TIME_ZONE), which the form's times are in."""
    return datetime.now(ZoneInfo(TestingConfig.TIME_ZONE)).replace(tzinfo=None)


def today_at(delta: timedelta) -> datetime:
    """Now moved by `delta`; the test is skipped when that falls on another day."""
    moment = wall_clock() + delta
    if moment.date() != wall_clock().date():
        pytest.skip("too close to midnight for another time today")
    return moment


def to_the_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def test_form_fills_in_no_time_and_ticks_no_choice_of_when(client, make_unit):
    make_unit()
    page = client.get("/").get_data(as_text=True)
    inputs = {name: re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
              for name in ("time_today", "occurred_at")}
    assert 'type="time"' in inputs["time_today"]
    assert 'type="datetime-local"' in inputs["occurred_at"]
    assert all('value=""' in tag or "value=" not in tag for tag in inputs.values())
    whens = re.findall(r'<input[^>]*name="when"[^>]*>', page)
    assert len(whens) == 3 and not any("checked" in tag for tag in whens)
    for label in ("Just now", "Earlier today", "Another day"):
        assert label in page


def test_just_now_is_the_minute_of_sending_for_a_named_report(app, client, make_unit,
                                                             make_user, login):
    unit = make_unit()
    login(make_user())
    before = wall_clock().replace(second=0, microsecond=0)
    response = client.post("/", data=form_data(unit.id, identity="named", when="now",
                                               occurred_at=""))
    after = wall_clock()
    assert response.status_code == 200
    [report] = all_reports(app)
    assert before <= report.occurred_at <= after and report.occurred_at.second == 0


def test_earlier_today_is_the_time_typed_on_todays_date(app, client, make_unit, make_user,
                                                        login):
    unit = make_unit()
    login(make_user())
    client.post("/", data=form_data(unit.id, identity="named", when="today", time_today="00:05",
                                    occurred_at=""))
    [report] = all_reports(app)
    assert report.occurred_at == datetime.combine(wall_clock().date(), time(0, 5))


@pytest.mark.parametrize(("typed", "stored"), [("00:10", datetime(2026, 3, 2, 0, 10)),
                                               ("23:50", None)])
def test_earlier_today_is_the_regions_day_not_the_servers(app, client, make_unit, make_user,
                                                          login, monkeypatch, typed, stored):
    """At 23:30 UTC on 1 March it is 00:30 on 2 March in Stockholm: "earlier today" at
    00:10 is 2 March, and 23:50 has not come yet (the server's day would take both)."""
    monkeypatch.setattr("app.times.utcnow", lambda: datetime(2026, 3, 1, 23, 30, 15))
    unit = make_unit()
    login(make_user())
    response = client.post("/", data=form_data(unit.id, identity="named", when="today",
                                                time_today=typed, occurred_at=""))
    if stored is None:
        assert response.status_code == 400
        assert "has not come yet today" in response.get_data(as_text=True)
        assert all_reports(app) == []
    else:
        assert response.status_code == 200
        [report] = all_reports(app)
        assert report.occurred_at == stored


def test_just_now_is_the_regions_wall_clock(app, client, make_unit, make_user, login,
                                            monkeypatch):
    monkeypatch.setattr("app.times.utcnow", lambda: datetime(2026, 7, 1, 22, 15, 40))
    unit = make_unit()
    login(make_user())
    client.post("/", data=form_data(unit.id, identity="named", when="now", occurred_at=""))
    [report] = all_reports(app)
    assert report.occurred_at == datetime(2026, 7, 2, 0, 15), "summer time: UTC+2"


@pytest.mark.parametrize("fields", [{"time_today": "00:05", "occurred_at": ""},
                                    {"time_today": "", "occurred_at": "2026-03-14T08:30"}])
def test_a_time_typed_without_picking_its_choice_counts(app, client, make_unit, make_user,
                                                        login, fields):
    """Without JavaScript, typing in a time field does not pick its choice: the time says it."""
    unit = make_unit()
    login(make_user())
    data = form_data(unit.id, identity="named", **fields)
    del data["when"]
    assert client.post("/", data=data).status_code == 200
    [report] = all_reports(app)
    assert report.occurred_at == (datetime.combine(wall_clock().date(), time(0, 5))
                                  if fields["time_today"] else datetime(2026, 3, 14, 8, 30))


@pytest.mark.parametrize("when", ["now", "today", "other_day"])
def test_an_anonymous_report_keeps_when_it_happened_to_the_hour(app, client, make_unit, when):
    unit = make_unit()
    moment = {"now": wall_clock(), "today": today_at(-timedelta(minutes=1)),
              "other_day": datetime(2026, 3, 14, 8, 59)}[when]
    typed = {"now": {}, "today": {"time_today": f"{moment:%H:%M}"},
             "other_day": {"occurred_at": f"{moment:%Y-%m-%dT%H:%M}"}}[when]
    data = form_data(unit.id, when=when, **{"occurred_at": "", **typed})
    assert client.post("/", data=data).status_code == 200
    [report] = all_reports(app)
    # Just now: the hour of sending, which may have begun since `moment`.
    hours = {to_the_hour(moment)} | ({to_the_hour(wall_clock())} if when == "now" else set())
    assert report.occurred_at in hours


def test_anonymous_report_is_saved_without_identity_and_gets_a_receipt(app, client, make_unit,
                                                                        active_model):
    unit = make_unit()
    response = client.post("/", data=form_data(unit.id),
                           headers={"User-Agent": "Secret-Browser/1.0"},
                           environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    receipt = RECEIPT.search(page).group(1)
    [report] = all_reports(app)
    assert report.reference in page
    assert report.reporter_id is None and report.submitted_at is None
    assert report.submitted_on is not None
    assert receipt not in (report.receipt_hash or "")
    with app.app_context():
        stored = " ".join(str(v) for r in db.session.execute(select(Report.__table__)).all()
                          for v in r)
        assert "10.9.8.7" not in stored and "Secret-Browser" not in stored
        labels = db.session.scalars(select(Label)).all()
        assert labels and all(label.created_at is None for label in labels)
    # 100 bits of secret, in base32 groups, after the reference
    assert re.fullmatch(r"V-\d{6}(-[A-Z2-7]{4}){5}", receipt)


def test_report_is_classified_after_saving(app, client, make_unit, active_model):
    unit = make_unit()
    client.post("/", data=form_data(unit.id))
    [report] = all_reports(app)
    assert report.model_version_id == active_model
    assert report.is_safety is True
    assert 0.0 <= report.score_training <= 1.0


def test_report_is_kept_unclassified_when_no_model_is_active(app, client, make_unit):
    unit = make_unit()
    response = client.post("/", data=form_data(unit.id))
    assert response.status_code == 200
    [report] = all_reports(app)
    assert not report.is_classified and report.model_version_id is None


def test_report_is_kept_unclassified_when_the_model_is_broken(app, client, make_unit):
    from models import ModelVersion

    with app.app_context():
        db.session.add(ModelVersion(algorithm="broken", artifact=b"not a model", active=True))
        db.session.commit()
    unit = make_unit()
    assert client.post("/", data=form_data(unit.id)).status_code == 200
    [report] = all_reports(app)
    assert not report.is_classified


def test_logged_in_user_may_report_with_name(app, client, make_unit, make_user, login):
    unit, user = make_unit(), make_user()
    login(user)
    page = client.post("/", data=form_data(unit.id, identity="named")).get_data(as_text=True)
    [report] = all_reports(app)
    assert report.reporter_id == user.id and report.submitted_at is not None
    assert "receipt-code" not in page


def test_a_role_without_named_reports_reports_anonymously(app, client, make_unit, make_user,
                                                          login):
    unit, user = make_unit(), make_user("researcher")
    login(user)
    assert 'name="identity"' not in client.get("/").get_data(as_text=True)
    page = client.post("/", data=form_data(unit.id, identity="named")).get_data(as_text=True)
    [report] = all_reports(app)
    assert report.reporter_id is None and report.submitted_at is None
    assert "receipt-code" in page


def test_logged_in_user_who_chooses_anonymous_is_anonymous(app, client, make_unit, make_user,
                                                           login):
    unit, user = make_unit(), make_user()
    login(user)
    page = client.post("/", data=form_data(unit.id, identity="anonymous")).get_data(as_text=True)
    [report] = all_reports(app)
    assert report.reporter_id is None and report.submitted_at is None
    assert RECEIPT.search(page)


def test_visitor_cannot_report_with_a_name(app, client, make_unit):
    unit = make_unit()
    client.post("/", data=form_data(unit.id, identity="named"))
    [report] = all_reports(app)
    assert report.reporter_id is None


def test_retried_submission_stores_one_report_and_shows_the_same_receipt(app, client,
                                                                         make_unit):
    unit = make_unit()
    data = form_data(unit.id)
    first = client.post("/", data=data).get_data(as_text=True)
    second = client.post("/", data=data).get_data(as_text=True)
    assert len(all_reports(app)) == 1
    assert RECEIPT.search(first).group(1) == RECEIPT.search(second).group(1)


def test_receipt_shows_status_and_nothing_private(app, client, make_unit):
    unit = make_unit()
    page = client.post("/", data=form_data(unit.id, text="Hemlig detalj om händelsen X."))
    receipt = RECEIPT.search(page.get_data(as_text=True)).group(1)
    status = client.post("/status", data={"receipt": receipt.lower()})
    text = status.get_data(as_text=True)
    assert status.status_code == 200
    assert "Hemlig detalj" not in text and "New" in text


@pytest.mark.parametrize("code", ["", "V-000001-AAAA-AAAA-AAAA-AAAA-AAAA", "nonsense",
                                  "V-999999-ABCD-EFGH-IJKL-MNOP-QRST"])
def test_wrong_receipt_is_refused(client, make_unit, code):
    unit = make_unit()
    client.post("/", data=form_data(unit.id))
    response = client.post("/status", data={"receipt": code})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'class="facts"' not in page
    assert "No report matches that receipt code" in page or "This field is required" in page


def test_named_report_has_no_receipt(app, make_report, make_user, ctx):
    user = make_user()
    report_id = make_report(reporter=user)
    with pytest.raises(NotFound):
        report_for_receipt(f"V-{report_id:06d}-AAAA-AAAA-AAAA-AAAA-AAAA")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("text", "", "Write what happened."),
    ("text", "too short", "Write at least 10 characters"),
    ("text", "x" * 10_001, "10,001 characters long, 1 more than the 10,000 allowed"),
    ("unit_id", "999999", "Not a valid choice"),
    ("unit_id", "", "Choose the unit"),
    ("occurred_at", "2026-02-30T08:00", "Enter a date and time"),
    ("occurred_at", "yesterday", "Enter a date and time"),
    ("occurred_at", "", "Enter a date and time"),
    ("occurred_at", "1999-12-31T23:00", "too far back"),
    ("occurred_at", (wall_clock() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
     "cannot be in the future"),
    ("when", "tomorrow", "Not a valid choice"),
    ("kind", "complaint", "Not a valid choice"),
    ("area", "kitchen", "Not a valid choice"),
    ("impact", "catastrophe", "Not a valid choice"),
    ("submission_token", "", "The form was incomplete"),
    ("submission_token", "short", "The form was incomplete"),
])
def test_bad_input_is_rejected_and_keeps_what_was_typed(app, client, make_unit, field, value,
                                                        message):
    unit = make_unit()
    data = form_data(unit.id, suggestion="Min egen idé om förbättring")
    data[field] = value
    response = client.post("/", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert "Min egen idé om förbättring" in page
    if field != "text":
        assert "Provsvaret för Hb" in page
    assert all_reports(app) == []


@pytest.mark.parametrize(("fields", "message"), [
    ({"when": "", "occurred_at": ""}, "Choose when it happened."),
    ({"when": "", "occurred_at": "2026-03-14T08:30", "time_today": "08:30"},
     "Choose when it happened."),
    ({"when": "now"}, "You typed a time for another choice"),
    ({"when": "today", "time_today": "08:30"}, "You typed a time for another choice"),
    ({"when": "today", "occurred_at": ""}, "Enter the time, e.g. 08:30."),
    ({"when": "today", "occurred_at": "", "time_today": "25:70"}, "Enter the time, e.g. 08:30."),
])
def test_an_unclear_time_is_refused_and_keeps_what_was_typed(app, client, make_unit, fields,
                                                             message):
    unit = make_unit()
    data = form_data(unit.id, **fields)
    response = client.post("/", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page
    assert "Provsvaret för Hb" in page
    assert all(f'value="{data[name]}"' in page
               for name in ("occurred_at", "time_today") if data.get(name))
    assert all_reports(app) == []


@pytest.mark.parametrize("when", ["today", "other_day"])
def test_a_time_later_today_is_refused(app, client, make_unit, when):
    unit = make_unit()
    later = today_at(timedelta(minutes=30))
    typed = ({"time_today": f"{later:%H:%M}", "occurred_at": ""} if when == "today"
             else {"occurred_at": f"{later:%Y-%m-%dT%H:%M}"})
    response = client.post("/", data=form_data(unit.id, when=when, **typed))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert ("has not come yet today" if when == "today" else "cannot be in the future") in page
    assert all_reports(app) == []


def test_the_time_choices_are_in_swedish(client, make_unit):
    make_unit()
    page = client.get("/", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    for label in ("Alldeles nyss", "Tidigare i dag", "En annan dag", "Klockslag, om det var",
                  "av tidpunkten sparas bara timmen"):
        assert label in page


def test_html_in_a_report_is_shown_as_text(app, client, make_unit, make_user, login):
    unit = make_unit()
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    client.post("/", data=form_data(unit.id, text=f"Systemet visade {payload} i rutan"))
    login(make_user("coordinator"))
    [report] = all_reports(app)
    page = client.get(f"/triage/reports/{report.id}").get_data(as_text=True)
    assert payload not in page
    assert "&lt;script&gt;alert(" in page


def test_invalid_utf8_in_the_form_is_rejected(app, client, make_unit):
    unit = make_unit()
    body = (f"kind=incident&text=Systemet+kraschade+%FF%FE+igen&unit_id={unit.id}"
            "&occurred_at=2026-03-14T08%3A30&area=other&impact=none"
            f"&submission_token={secrets.token_urlsafe(24)}")
    response = client.post("/", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "UTF-8" in response.get_data(as_text=True)
    assert all_reports(app) == []


def test_invalid_utf8_in_the_address_is_rejected(client):
    assert client.get("/?x=%C3%28").status_code == 400


def test_oversized_request_is_refused(client):
    response = client.post("/", data={"text": "x" * 300_000})
    assert response.status_code == 413
