"""Stored alerts: emerging issues and series spikes raised once, cleared, followed; the CLI."""

import html
import json
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select

from app.services import ServiceError
from app.services.alert_text import evidence_in_words
from app.services.alerts import (
    alert_report_ids,
    baseline_count,
    check_emerging_issue,
    dismiss,
    evaluate_alerts,
    link,
    mark_seen,
    open_alerts,
)
from app.services.similarity import index_reports
from ml import similarity
from models import (
    Alert,
    AlertState,
    EmergingIssue,
    EmergingIssueReport,
    EmergingStatus,
    KnownIssue,
    KnownIssueStatus,
    Report,
    Status,
    db,
    utcnow,
)
from models.base import WRITE_OPTION
from tests.helpers import events, fetch_report, persist

NOON = datetime(2026, 5, 4, 12)
FAULT = "Provsvaret för kalium syns inte i journalen efter uppgraderingen av labbmodulen."


def make_group(app, report_ids: list[int], *, status: str = EmergingStatus.OPEN,
               title: str = "kalium provsvar journal", text: str = FAULT) -> int:
    """An emerging issue holding these reports, its profile made from `text`."""
    with app.app_context():
        hours = db.session.scalars(select(Report.submitted_hour)
                                   .where(Report.id.in_(report_ids))).all()
        issue = EmergingIssue(title=title, status=status, member_count=len(report_ids),
                              profile=similarity.vectorize(text, "sv"),
                              first_report_at=min(hours), last_report_at=max(hours))
        db.session.add(issue)
        db.session.flush()
        db.session.add_all(EmergingIssueReport(report_id=report_id, emerging_issue_id=issue.id)
                           for report_id in report_ids)
        db.session.commit()
        return issue.id


def fault_reports(make_report) -> list[int]:
    """Four anonymous reports of one fault from two units within 7 hours of NOON."""
    return [make_report(FAULT, unit=unit, submitted=NOON - timedelta(hours=hours_before),
                        area="test_results")
            for hours_before, unit in ((7, "Avdelning 12"), (5, "Akuten"), (3, "Akuten"),
                                       (0, "Avdelning 12"))]


@pytest.fixture
def fault(make_report):
    return fault_reports(make_report)


def stored(app) -> list[Alert]:
    with app.app_context():
        alerts = db.session.scalars(select(Alert).order_by(Alert.id)).all()
        db.session.expunge_all()
        return list(alerts)


def test_a_new_topic_from_two_units_raises_one_emerging_alert(app, fault):
    issue_id = make_group(app, fault)
    with app.app_context():
        [alert] = evaluate_alerts(NOON + timedelta(minutes=10), notify=False)
        assert (alert.kind, alert.key, alert.title) == ("emerging", f"emerging:{issue_id}",
                                                        "kalium provsvar journal")
        evidence = alert.evidence
    assert evidence["report_ids"] == sorted(fault)
    assert evidence["units"] == ["Akuten", "Avdelning 12"]
    assert (evidence["observed"], evidence["baseline"], evidence["new_topic"]) == (4, 0, True)
    assert FAULT not in json.dumps(evidence)
    # Evaluated again, nothing fires twice.
    with app.app_context():
        assert evaluate_alerts(NOON + timedelta(hours=1), notify=False) == []
    assert [a.raised_at for a in stored(app)] == [NOON + timedelta(minutes=10)]


def test_reports_after_as_of_do_not_count(app, fault):
    make_group(app, fault)
    with app.app_context():
        assert evaluate_alerts(NOON - timedelta(hours=1), notify=False) == []
    assert stored(app) == []


def test_one_unit_of_anonymous_reports_is_not_enough(app, make_report):
    ids = [make_report(FAULT, submitted=NOON - timedelta(hours=h)) for h in (0, 1, 2, 3)]
    make_group(app, ids)
    with app.app_context():
        assert evaluate_alerts(NOON, notify=False) == []


def test_an_old_burst_outside_the_window_is_not_raised_late(app, fault):
    make_group(app, fault)
    with app.app_context():
        assert evaluate_alerts(NOON + timedelta(hours=20), notify=False) == []


def test_a_kind_of_report_seen_before_needs_more_than_a_handful(app, make_report):
    # Reports are stored in time order: the baseline's ids come before the group's.
    before = [make_report(FAULT, unit="Akuten", submitted=NOON - timedelta(days=days))
              for days in range(24, 2, -1)]
    make_report("Skrivaren på avdelningen skriver inte ut etiketter.",
                submitted=NOON - timedelta(days=2))
    fault = fault_reports(make_report)
    with app.app_context():
        index_reports(range(1, fault[-1] + 1))
    issue_id = make_group(app, fault)
    with app.app_context():
        issue = db.session.get(EmergingIssue, issue_id)
        assert baseline_count(issue, NOON) == len(before)
        assert evaluate_alerts(NOON, notify=False) == []


def test_a_theme_reported_all_along_is_measured_against_its_own_rate(app, make_report):
    """A group as old as its history has no reports before it: its own members are its
    baseline, so a usual day of it alerts no one, and a burst of it does."""
    steady = [make_report(FAULT, unit=("Akuten", "Avdelning 12")[days % 2],
                          submitted=NOON - timedelta(days=days)) for days in range(27, 0, -1)]
    today = fault_reports(make_report)
    issue_id = make_group(app, steady + today)
    with app.app_context():
        issue = db.session.get(EmergingIssue, issue_id)
        assert baseline_count(issue, NOON) == len(steady)  # all in the 28 days before the window
        assert evaluate_alerts(NOON, notify=False) == []
        burst = [make_report(FAULT, unit=unit, submitted=NOON + timedelta(hours=1))
                 for unit in ("Akuten", "Avdelning 12") * 5]
        db.session.add_all(EmergingIssueReport(report_id=report_id, emerging_issue_id=issue_id)
                           for report_id in burst)
        db.session.commit()
        [alert] = evaluate_alerts(NOON + timedelta(hours=2), notify=False)
        assert alert.evidence["new_topic"] is False


def test_deciding_the_group_clears_its_alert_and_links_a_confirmed_one(app, fault, make_user):
    issue_id = make_group(app, fault)
    owner = make_user("coordinator")
    known = persist(app, KnownIssue(title="Kalium saknas", created_by_id=owner.id))
    with app.app_context():
        evaluate_alerts(NOON, notify=False)
        issue = db.session.get(EmergingIssue, issue_id)
        issue.status, issue.known_issue_id = EmergingStatus.CONFIRMED, known.id
        db.session.commit()
        assert evaluate_alerts(NOON + timedelta(hours=1), notify=False) == []
        assert open_alerts() == []
    [alert] = stored(app)
    assert (alert.state, alert.known_issue_id) == (AlertState.LINKED, known.id)
    assert alert.cleared_at == NOON + timedelta(hours=1)


def test_a_dismissed_group_clears_its_alert_unlinked(app, fault):
    issue_id = make_group(app, fault)
    with app.app_context():
        evaluate_alerts(NOON, notify=False)
        db.session.get(EmergingIssue, issue_id).status = EmergingStatus.DISMISSED
        db.session.commit()
        evaluate_alerts(NOON + timedelta(hours=1), notify=False)
    [alert] = stored(app)
    assert alert.state == AlertState.NEW and alert.cleared_at is not None


def test_the_per_submission_check_tests_one_group(app, fault, make_report):
    issue_id = make_group(app, fault)
    quiet = make_group(app, [make_report(FAULT, submitted=NOON)])
    with app.app_context():
        assert check_emerging_issue(quiet, NOON, notify=False) is None
        alert = check_emerging_issue(issue_id, NOON, notify=False)
        assert alert is not None and alert.emerging_issue_id == issue_id
        assert check_emerging_issue(issue_id, NOON, notify=False) is None


def test_the_per_submission_check_writes_only_for_a_group_that_bursts(app, fault, make_report):
    """On SQLite a write transaction holds up every submission: a quiet group's test reads."""
    bursting = make_group(app, fault)
    quiet = make_group(app, [make_report(FAULT, submitted=NOON)])
    begun: list[bool] = []

    def on_begin(connection) -> None:
        begun.append(bool(connection.get_execution_options().get(WRITE_OPTION)))

    with app.app_context():
        event.listen(db.engine, "begin", on_begin)
        try:
            assert check_emerging_issue(quiet, NOON, notify=False) is None
            quiet_writes = sum(begun)
            assert check_emerging_issue(bursting, NOON, notify=False) is not None
        finally:
            event.remove(db.engine, "begin", on_begin)
    assert quiet_writes == 0 and sum(begun) == 1


@pytest.fixture
def go_live(make_report):
    """A quiet history from 40 days back, then five reports today in each of three units."""
    make_report(unit="Avdelning 1", submitted=NOON - timedelta(days=40))
    return [make_report(unit=unit, submitted=NOON - timedelta(hours=h))
            for unit in ("Avdelning 1", "Avdelning 2", "Avdelning 3") for h in range(5)]


def test_a_storm_of_unit_spikes_is_one_broad_rise_that_takes_the_other_spikes_in(app, go_live):
    """The same reports lift their units and their area: one fact, one alert."""
    with app.app_context():
        evaluate_alerts(NOON, notify=False)
    [storm] = stored(app)
    assert storm.key == "spike:*"
    assert storm.title == "Broad rise: 3 of 3 units at once, today, and 1 more series"
    assert [s["value"] for s in storm.evidence["series"]] == [
        "Avdelning 1", "Avdelning 2", "Avdelning 3"]
    assert [(o["dimension"], o["value"], o["period"]) for o in storm.evidence["others"]] == [
        ("area", "other", "day")]
    assert storm.evidence["report_ids"] == sorted(go_live)
    with app.test_request_context():
        assert "Rising with them: Other (15 today)." in evidence_in_words(storm)


def test_a_lone_spike_is_titled_in_the_installs_language(app, make_report, monkeypatch):
    make_report(unit="Avdelning 1", submitted=NOON - timedelta(days=40))
    for hours in range(5):
        make_report(unit="Avdelning 1", submitted=NOON - timedelta(hours=hours))
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "sv")
    with app.app_context():
        evaluate_alerts(NOON, notify=False)
    titles = {alert.key: alert.title for alert in stored(app)}
    assert titles["spike:unit:Avdelning 1:day"] == \
        "Ovanligt många rapporter: enheten Avdelning 1, i dag"


def test_a_spike_that_passed_is_cleared_and_may_fire_again(app, go_live):
    with app.app_context():
        evaluate_alerts(NOON, notify=False)
        assert evaluate_alerts(NOON + timedelta(days=1), notify=False) == []
        assert open_alerts() == []
        again = {a.key for a in evaluate_alerts(NOON, notify=False)}
    assert again == {"spike:*"}


def test_single_spikes_swallowed_by_a_storm_are_cleared(app, make_report):
    make_report(unit="Avdelning 1", submitted=NOON - timedelta(days=40))
    first = [make_report(unit="Avdelning 1", submitted=NOON - timedelta(hours=h))
             for h in range(6, 11)]
    with app.app_context():
        assert {a.key for a in evaluate_alerts(NOON - timedelta(hours=6), notify=False)} >= {
            "spike:unit:Avdelning 1:day"}
    for unit in ("Avdelning 2", "Avdelning 3"):
        for h in range(5):
            make_report(unit=unit, submitted=NOON - timedelta(hours=h))
    with app.app_context():
        evaluate_alerts(NOON, notify=False)
        assert "spike:*" in {a.key for a in open_alerts()}
        assert "spike:unit:Avdelning 1:day" not in {a.key for a in open_alerts()}
    assert first


def test_people_follow_an_alert_and_every_step_is_audited(app, fault, make_user):
    make_group(app, fault)
    actor = make_user("coordinator")
    known = persist(app, KnownIssue(title="Kalium", created_by_id=actor.id))
    closed = persist(app, KnownIssue(title="Gammalt", created_by_id=actor.id,
                                     status=KnownIssueStatus.RESOLVED,
                                     resolution_note="Fixat", resolved_at=NOON))
    with app.app_context():
        [alert] = evaluate_alerts(NOON, notify=False)
        assert mark_seen(alert.id, actor).state == AlertState.SEEN
        assert [a.id for a in open_alerts()] == [alert.id]
        with pytest.raises(ServiceError, match="open known issue"):
            link(alert.id, closed.id, actor)
        assert db.session.get(Alert, alert.id).state == AlertState.SEEN
        linked = link(alert.id, known.id, actor)
        assert (linked.state, linked.known_issue_id) == (AlertState.LINKED, known.id)
        assert open_alerts() == []
        assert dismiss(alert.id, actor).state == AlertState.DISMISSED
        # A dismissed alert holds its key: the same group does not fire again.
        assert evaluate_alerts(NOON + timedelta(hours=1), notify=False) == []
    assert [e.action for e in events(app) if e.action.startswith("alert.")] == [
        "alert.seen", "alert.link", "alert.dismiss"]


def test_alerts_check_prints_open_alerts_as_json(app, runner, fault, go_live):
    make_group(app, fault)
    result = runner.invoke(args=["alerts", "check", "--as-of", "2026-05-04T12:30:00+00:00",
                                 "--json", "--no-notify"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["kind"] for line in lines] == ["emerging", "spike"]
    emerging = lines[0]
    assert set(emerging) == {"id", "kind", "title", "raised_at", "units", "categories",
                             "report_ids", "evidence"}
    assert emerging["raised_at"] == "2026-05-04T12:30:00"
    assert emerging["report_ids"] == sorted(fault)
    assert emerging["units"] == ["Akuten", "Avdelning 12"]
    # Run again: the same open alerts, none raised twice.
    again = runner.invoke(args=["alerts", "check", "--as-of", "2026-05-04T13:00", "--json",
                                "--no-notify"])
    assert [json.loads(line)["id"] for line in again.output.splitlines()] == [
        line["id"] for line in lines]


def test_alerts_check_refuses_a_bad_moment_and_stores_nothing(app, runner, fault):
    make_group(app, fault)
    result = runner.invoke(args=["alerts", "check", "--as-of", "yesterday", "--no-notify"])
    assert result.exit_code == 2
    assert "'yesterday' is not an ISO 8601 date and time" in result.output
    assert stored(app) == []


def test_alerts_check_prints_one_line_per_open_alert(app, runner, fault):
    make_group(app, fault)
    result = runner.invoke(args=["alerts", "check", "--as-of", "2026-05-04T12:00",
                                 "--no-notify"])
    assert result.exit_code == 0
    [line] = result.output.splitlines()
    assert "emerging" in line and "2026-05-04 12:00" in line and "kalium provsvar" in line


def test_the_alerts_page_lists_alerts_and_people_act_on_them(app, client, coordinator, fault,
                                                             make_user):
    make_group(app, fault)
    known = persist(app, KnownIssue(title="Kalium saknas", created_by_id=coordinator.id))
    with app.app_context():
        [alert] = evaluate_alerts(NOON, notify=False)
        alert_id = alert.id
    page = client.get("/alerts").get_data(as_text=True)
    assert "kalium provsvar journal" in page and "A new topic: 4 like reports" in page
    assert "Raised at <time" in page and ">2026-05-04 at 14:00 (Swedish time)<" in page
    assert FAULT not in page
    assert client.post(f"/alerts/{alert_id}/seen").status_code == 302
    assert client.post(f"/alerts/{alert_id}/link", data={"known_issue": "999"}).status_code == 302
    assert stored(app)[0].state == AlertState.SEEN  # a bad choice changes nothing
    client.post(f"/alerts/{alert_id}/link", data={"known_issue": str(known.id)})
    assert (stored(app)[0].state, stored(app)[0].known_issue_id) == (AlertState.LINKED, known.id)
    client.post(f"/alerts/{alert_id}/dismiss")
    assert stored(app)[0].state == AlertState.DISMISSED
    assert client.post("/alerts/9999/seen").status_code == 302
    assert "that alert does not exist" in client.get("/alerts").get_data(as_text=True)


def test_a_coordinator_opts_in_to_alert_e_mails_on_the_alerts_page(app, client, coordinator):
    client.post("/alerts/notifications", data={"notify_alerts": "y"})
    with app.app_context():
        assert db.session.get(type(coordinator), coordinator.id).notify_alerts is True
    assert '<input checked id="notify_alerts"' in client.get("/alerts").get_data(as_text=True)
    client.post("/alerts/notifications", data={})
    with app.app_context():
        assert db.session.get(type(coordinator), coordinator.id).notify_alerts is False
    assert '<input id="notify_alerts"' in client.get("/alerts").get_data(as_text=True)


def test_the_overview_leads_with_emerging_issues(app, client, coordinator, fault):
    group_id = make_group(app, fault)
    with app.app_context():
        [_alert] = evaluate_alerts(NOON, notify=False)
    page = client.get("/overview").get_data(as_text=True)
    assert page.index("Emerging issues") < page.index("Spike alerts")
    assert f'href="/emerging-issues/{group_id}">kalium provsvar journal</a>' in page
    assert "4 reports · Akuten, Avdelning 12" in page


def test_a_series_spiking_today_and_over_the_week_is_one_alert():
    from app.services.alerts import _today_over_the_week

    wanted = {"spike:unit:Akuten:day": 1, "spike:unit:Akuten:week": 2,
              "spike:area:*:week": 3, "spike:unit:*:day": 4, "spike:unit:*:week": 5}
    assert sorted(_today_over_the_week(wanted)) == [
        "spike:area:*:week", "spike:unit:*:day", "spike:unit:Akuten:day"]


def broad_reports(make_report, area: str = "login") -> list[int]:
    """Four anonymous reports of one theme from four units within 7 hours of NOON."""
    return [make_report("Kan inte logga in, kortet fungerar inte sedan bytet.", unit=unit,
                        submitted=NOON - timedelta(hours=hours_before), area=area)
            for hours_before, unit in ((7, "Akuten"), (5, "Barn 3"), (3, "Avdelning 12"),
                                       (0, "Röntgen"))]


def everyday_reports(make_report, units: int = 16) -> list[int]:
    """One report each from `units` other units in the window: a region's units at work,
    against which a group from two or three of them is more than chance."""
    return [make_report("Inget särskilt att rapportera i dag.", unit=f"Avdelning {40 + n}",
                        submitted=NOON - timedelta(hours=n % 10)) for n in range(units)]


def test_broad_emerging_issues_at_once_are_one_alert(app, make_report):
    """Two groups from four units each fold into one theme alert; later ones, whatever
    their category, join it instead of raising their own; a local fault keeps its own."""
    everyday_reports(make_report)
    groups = [make_group(app, broad_reports(make_report), title=f"grupp {n}") for n in range(3)]
    groups.append(make_group(app, [make_report(
        "Journalen är så långsam att vi väntar minuter på varje sida.", unit=unit,
        submitted=NOON - timedelta(hours=hours)) for hours, unit in (
            (6, "Akuten"), (4, "Barn 3"), (2, "Avdelning 12"), (1, "Röntgen"))],
        title="långsamt"))
    local = make_group(app, [make_report(FAULT, unit=unit, area="login",
                                         submitted=NOON - timedelta(hours=hours))
                             for hours, unit in ((6, "Akuten"), (4, "Barn 3"), (2, "Akuten"),
                                                 (1, "Barn 3"), (0, "Akuten"))],
                       title="lokalt fel")
    with app.app_context():
        first = check_emerging_issue(groups[0], NOON, notify=False)
        assert first is not None and first.key == Alert.emerging_key(groups[0])
        for group_id in [groups[1], local]:
            check_emerging_issue(group_id, NOON, notify=False)
        open_now = {alert.key: alert for alert in db.session.scalars(select(Alert))
                    if alert.cleared_at is None}
        assert sorted(open_now) == [Alert.emerging_key(local), "theme:broad"]
        theme = open_now["theme:broad"]
        assert theme.evidence["groups"] == groups[:2]
        assert theme.title == "Many emerging issues at once, across units: Other"
        for group_id in groups[2:]:
            assert check_emerging_issue(group_id, NOON, notify=False) is None
        assert db.session.get(Alert, theme.id).evidence["groups"] == groups
        assert len(alert_report_ids(theme, NOON)) == 16


def alert_beside_the_theme(themed: list[int], group: int) -> Alert:
    """Raise the theme alert of the `themed` groups, then test `group`: its own alert,
    raised while the theme stays open and without it."""
    for group_id in themed:
        check_emerging_issue(group_id, NOON, notify=False)
    alert = check_emerging_issue(group, NOON, notify=False)
    assert alert is not None and alert.key == Alert.emerging_key(group)
    theme = db.session.scalar(select(Alert).where(Alert.key == "theme:broad"))
    assert theme.cleared_at is None and theme.evidence["groups"] == themed
    return alert


def test_a_fault_with_a_few_strays_from_other_units_keeps_its_own_alert(app, make_report):
    """Ten reports of a fault from two units and one each from three others: three units
    hold 85% of it, so it is local and raises its own alert while the theme is open; four
    reports from four units take all four to hold 80%, and fold."""
    themed = [make_group(app, broad_reports(make_report), title=f"grupp {n}") for n in range(2)]
    fault = [make_report(FAULT, unit=("Akuten", "Barn 3")[n % 2], area="test_results",
                         submitted=NOON - timedelta(hours=n % 8)) for n in range(10)]
    strays = [make_report("Labbsvaren kommer sent i dag.", unit=unit,
                          submitted=NOON - timedelta(hours=2))
              for unit in ("Avdelning 12", "Röntgen", "Kirurgen")]
    local = make_group(app, fault + strays, title="kalium provsvar")
    with app.app_context():
        alert_beside_the_theme(themed, local)


def test_a_flood_group_in_as_few_units_as_chance_gives_joins_the_theme_until_it_is_local(
        app, make_report):
    """While the theme is open, four reports from three of the twenty units reporting say
    nothing (chance often gives so few units): the group joins the theme.
    Three more from the same three units make it local: it gets its own alert and leaves
    the theme."""
    everyday_reports(make_report)
    themed = [make_group(app, broad_reports(make_report), title=f"grupp {n}") for n in range(2)]
    units = ("Akuten", "Barn 3", "Akuten", "Röntgen")
    first = [make_report(FAULT, unit=unit, area="test_results",
                         submitted=NOON - timedelta(hours=n)) for n, unit in enumerate(units)]
    group = make_group(app, first, title="kalium provsvar")
    with app.app_context():
        for group_id in themed:
            check_emerging_issue(group_id, NOON, notify=False)
        assert check_emerging_issue(group, NOON, notify=False) is None
        theme = db.session.scalar(select(Alert).where(Alert.key == "theme:broad"))
        assert theme.evidence["groups"] == sorted([*themed, group])
    later = [make_report(FAULT, unit=unit, area="test_results", submitted=NOON)
             for unit in ("Barn 3", "Röntgen", "Akuten")]
    with app.app_context():
        db.session.add_all(EmergingIssueReport(report_id=report_id, emerging_issue_id=group)
                           for report_id in later)
        db.session.commit()
        own = check_emerging_issue(group, NOON, notify=False)
        assert own is not None and own.key == Alert.emerging_key(group)
        assert own.evidence["broad"] is False
        assert db.session.get(Alert, theme.id).evidence["groups"] == themed
        # Evaluated again, it stays out of the theme and fires nothing twice.
        assert evaluate_alerts(NOON, notify=False) == []
        assert db.session.get(Alert, own.id).cleared_at is None


def test_a_group_about_patient_safety_in_as_few_units_as_chance_gives_keeps_its_own_alert(
        app, make_report):
    """Four reports from three of the twenty units reporting, two of them about patient
    safety: chance could give so few units, but a flood is not about harm, so the group
    raises its own alert while the theme is open. With one such report it joins the theme."""
    everyday_reports(make_report)
    themed = [make_group(app, broad_reports(make_report), title=f"grupp {n}") for n in range(2)]
    units = ("Akuten", "Barn 3", "Akuten", "Röntgen")

    def group_of(safety: int) -> int:
        reports = [make_report(FAULT, unit=unit, area="medication", is_safety=n < safety,
                               submitted=NOON - timedelta(hours=n))
                   for n, unit in enumerate(units)]
        return make_group(app, reports, title=f"dubbla doser {safety}")

    one, two = group_of(safety=1), group_of(safety=2)
    with app.app_context():
        for group_id in themed:
            check_emerging_issue(group_id, NOON, notify=False)
        assert check_emerging_issue(one, NOON, notify=False) is None
        own = check_emerging_issue(two, NOON, notify=False)
        assert own is not None and own.key == Alert.emerging_key(two)
        assert own.evidence["broad"] is False
        theme = db.session.scalar(select(Alert).where(Alert.key == "theme:broad"))
        assert theme.evidence["groups"] == sorted([*themed, one])


def test_a_fault_in_a_group_of_everyday_reports_from_many_units_is_judged_by_its_burst(
        app, make_report):
    """A group that had gathered a theme's everyday reports from eight units over the past
    days bursts with five reports from two units: those are what it is judged by, so it
    is local and raises its own alert while the theme is open."""
    everyday_reports(make_report)
    themed = [make_group(app, broad_reports(make_report), title=f"grupp {n}") for n in range(2)]
    earlier = [make_report(FAULT, unit=f"Avdelning {40 + n}", area="test_results",
                           submitted=NOON - timedelta(days=2 + n)) for n in range(8)]
    burst = [make_report(FAULT, unit=("Akuten", "Barn 3")[n % 2], area="test_results",
                         submitted=NOON - timedelta(hours=n)) for n in range(5)]
    group = make_group(app, earlier + burst, title="kalium provsvar")
    with app.app_context():
        own = alert_beside_the_theme(themed, group)
        assert own.evidence["broad"] is False and own.evidence["baseline"] == 8


def test_a_local_alert_folds_only_once_its_group_has_spread(app, make_report):
    """A fault's group that alerted on its own stays apart from the theme when reports
    from three more units join it; it folds once it has spread well beyond three units."""
    everyday_reports(make_report)
    fault = [make_report(FAULT, unit=("Akuten", "Barn 3")[n % 2], area="test_results",
                         submitted=NOON - timedelta(hours=n)) for n in range(5)]
    local = make_group(app, fault, title="kalium provsvar")
    themed = [make_group(app, broad_reports(make_report), title=f"grupp {n}") for n in range(2)]
    strays = [make_report("Labbsvaren kommer sent i dag.", unit=unit, submitted=NOON)
              for unit in ("Avdelning 12", "Röntgen", "Kirurgen")]
    with app.app_context():
        own = check_emerging_issue(local, NOON, notify=False)
        assert own is not None and own.evidence["broad"] is False
        db.session.add_all(EmergingIssueReport(report_id=report_id, emerging_issue_id=local)
                           for report_id in strays)
        db.session.commit()
        evaluate_alerts(NOON, notify=False)
        open_keys = {alert.key for alert in db.session.scalars(
            select(Alert).where(Alert.cleared_at.is_(None)))}
        assert Alert.emerging_key(local) in open_keys and "theme:broad" in open_keys
        theme = db.session.scalar(select(Alert).where(Alert.key == "theme:broad"))
        assert theme.evidence["groups"] == themed
    spread = [make_report("Labbsvaren kommer sent i dag.", unit=f"Avdelning {n}",
                          submitted=NOON) for n in range(20, 26)]
    with app.app_context():  # three units now hold 6 of 14 reports: it has spread, it folds
        db.session.add_all(EmergingIssueReport(report_id=report_id, emerging_issue_id=local)
                           for report_id in spread)
        db.session.commit()
        evaluate_alerts(NOON, notify=False)
        assert db.session.get(Alert, own.id).cleared_at is not None
        theme = db.session.scalar(select(Alert).where(Alert.key == "theme:broad"))
        assert theme.evidence["groups"] == sorted([*themed, local])


def test_a_spike_whose_rise_is_an_alerted_group_raises_nothing_of_its_own(app, fault,
                                                                         make_report):
    """The rise above the usual level is what counts: four reports of an alerted group
    explain a series of ten that usually has six, though they are less than half of it."""
    from app.services.alerts import _explained

    usual = [make_report(submitted=NOON - timedelta(hours=h)) for h in range(6)]
    group = make_group(app, fault)
    evidence = {"report_ids": sorted(fault + usual),
                "series": [{"observed": 10, "baseline_mean": 6.0}]}
    with app.app_context():
        assert not _explained(evidence)  # the group has not alerted yet
        assert check_emerging_issue(group, NOON, notify=False) is not None
        assert _explained(evidence)
        assert not _explained({**evidence, "series": [{"observed": 10, "baseline_mean": 1.0}]})
        assert not _explained({**evidence, "series": [{"observed": 10, "baseline_mean": 12}]})
def test_each_alert_links_to_the_queue_filtered_to_exactly_its_reports(app, client, coordinator,
                                                                       make_report, make_user):
    """A spike's series link to the queue by unit (or area) and the period's dates, every
    status; the queue behind a link shows the alert's reports and no others."""
    staff, now = make_user("staff"), utcnow()
    make_report(unit="Ward Y", area="printing", reporter=staff, submitted=now - timedelta(days=62))
    for days in range(1, 29):
        make_report(unit="Ward Y", area="printing", reporter=staff,
                    submitted=now - timedelta(days=days))
        if days % 4 == 0:
            make_report(unit="Ward X", area="login", reporter=staff,
                        submitted=now - timedelta(days=days))
    spike = [make_report(unit="Ward X", area="login", reporter=staff, submitted=now,
                         status=Status.CLOSED if n % 2 else Status.NEW) for n in range(12)]
    with app.app_context():
        raised = {alert.key: alert.id for alert in evaluate_alerts(now, notify=False)}
    assert "spike:unit:Ward X:day" in raised
    page = client.get("/alerts").get_data(as_text=True)
    today = now.date().isoformat()
    unit_x = fetch_report(app, spike[0]).unit_id
    link = (f'href="/triage/?unit={unit_x}&amp;date_from={today}&amp;date_to={today}'
            '&amp;status=">Ward X: 12 reports</a>')
    assert link in page
    assert "Far more than usual: 12 reports today, 48.0 times the daily mean (0.2 a day over" \
           " the 28 days before); chance does not explain it." in page
    shown = set()
    path = f"/triage/?unit={unit_x}&date_from={today}&date_to={today}&status="
    while path:
        queue = client.get(path).get_data(as_text=True)
        shown |= {int(ref) for ref in re.findall(r">V-(\d{6})<", queue)}
        after = re.search(r'href="(/triage/\?[^"]*after=[^"]+)"', queue)
        path = html.unescape(after.group(1)) if after else None
    assert shown == set(spike)  # the closed ones too: a spike counts every status


def test_an_emerging_issue_alert_links_its_issue_page_and_a_linked_one_the_queue(
        app, client, coordinator, fault):
    group_id = make_group(app, fault)
    known = persist(app, KnownIssue(title="Kalium saknas", created_by_id=coordinator.id))
    with app.app_context():
        [alert] = evaluate_alerts(NOON, notify=False)
        alert_id = alert.id
    page = client.get("/alerts").get_data(as_text=True)
    assert f'href="/emerging-issues/{group_id}">The emerging issue&#39;s reports</a>' in page
    client.post(f"/alerts/{alert_id}/link", data={"known_issue": str(known.id)})
    page = client.get("/alerts").get_data(as_text=True)
    assert (f'href="/triage/?known_issue={known.id}&amp;status=">The known issue&#39;s '
            "reports in the queue</a>") in page
