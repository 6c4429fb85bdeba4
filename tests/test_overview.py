"""The overview: its figures against seeded reports, its charts, spike alerts and the demo story."""

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.services.demo import SPIKE_AREA, SPIKE_UNITS, load_demo_data
from app.services.overview import build_overview, first_report_day, spike_alerts
from bench.spikes_replay import FIRST_DAY, alerts_per_day, as_of, first_report, quiet_region
from models import KnownIssue, Report, Status, db, utcnow


@pytest.fixture
def coordinator(make_user):
    return make_user("coordinator")


def test_only_coordinators_see_the_overview(client, login, make_user, coordinator):
    assert client.get("/overview").headers["Location"].startswith("/login")
    login(make_user("staff"))
    assert client.get("/overview").status_code == 403
    login(coordinator)
    page = client.get("/overview")
    assert page.status_code == 200 and "Spike alerts" in page.get_data(as_text=True)


def test_an_unknown_parameter_is_refused(client, login, coordinator):
    login(coordinator)
    response = client.get("/overview?days=9999")
    assert response.status_code == 400 and "Unknown parameter: days" in response.get_data(
        as_text=True)


def test_an_empty_database_gives_an_empty_overview(client, login, coordinator):
    login(coordinator)
    page = client.get("/overview").get_data(as_text=True)
    assert "No report was triaged" in page
    # Nothing is tested, so the page does not claim that nothing is unusual.
    assert "No spike" not in page
    assert "reports from the 28 days before today: 28 more days." in page
    assert "reports from the 8 weeks before the last 7 days: 62 more days." in page
    assert "No open known issue has reports." in page


@pytest.fixture
def seeded(app, make_report, make_user, coordinator):
    """Reports at known days, units and categories; returns the time they are relative to."""
    now = utcnow()
    staff = make_user("staff")

    def report(days: float, unit: str, categories: tuple[str, ...] | None, named=True, **fields):
        flags = ({} if categories is None else
                 {f"is_{c}": c in categories for c in ("safety", "training", "functionality")})
        return make_report(unit=unit, reporter=staff if named else None,
                           submitted=now - timedelta(days=days), **flags, **fields)

    # Ward A: three safety reports today, triaged after 2, 4 and 10 hours.
    for hours in (2, 4, 10):
        report(0, "Ward A", ("safety",), triaged_at=now + timedelta(hours=hours),
               status=Status.TRIAGED)
    report(2, "Ward A", ("training", "functionality"))
    report(10, "Ward A", ())  # other: none of the three
    report(1, "Ward A", None)  # not classified yet: in no category, but in the totals
    # An anonymous report arrives at midnight of its day: triaged six hours later.
    anonymous_day = (now - timedelta(days=3)).date()
    report(3, "Ward B", ("safety",), named=False, status=Status.RESOLVED,
           triaged_at=datetime.combine(anonymous_day, datetime.min.time()) + timedelta(hours=6),
           finished_at=now - timedelta(hours=1))
    # Ward B, five weeks ago: in the weekly chart, not in the heat map (last 28 days).
    b_old = [report(35, "Ward B", ("functionality",)) for _ in range(2)]
    report(200, "Ward C", ("safety",))  # outside every window
    with app.app_context():
        open_issue = KnownIssue(title="Lab results missing", created_by_id=coordinator.id)
        closed = KnownIssue(title="Old printer fault", created_by_id=coordinator.id)
        closed.resolve("Fixed the driver.")
        db.session.add_all([open_issue, closed])
        db.session.flush()
        first_a = db.session.scalar(select(func.min(Report.id)))
        for report_id in (first_a, b_old[0]):
            db.session.get(Report, report_id).known_issue_id = open_issue.id
        db.session.get(Report, b_old[1]).known_issue_id = closed.id
        db.session.commit()
    return now


def test_the_figures_match_the_seeded_reports(app, seeded):
    now = seeded
    with app.app_context():
        overview = build_overview(now)
    assert overview.days[-1] == now.date() and len(overview.days) == 30
    daily = overview.daily
    assert daily["safety"][-1] == 3 and sum(daily["safety"]) == 4
    assert daily["training"][-3] == 1 and daily["functionality"][-3] == 1
    assert daily["other"][-11] == 1 and sum(daily["other"]) == 1
    assert sum(overview.weekly["functionality"]) == 3  # two five weeks ago, one two days ago
    assert sum(overview.new_per_week) == 9  # every report but the one 200 days ago
    assert sum(overview.finished_per_week) == 1 and overview.finished_per_week[-1] in (0, 1)
    heat = {row.unit: row for row in overview.heat}
    assert set(heat) == {"Ward A", "Ward B"}
    assert heat["Ward A"].counts == {"safety": 3, "training": 1, "functionality": 1, "other": 1}
    assert heat["Ward A"].total == 6 and heat["Ward B"].total == 1
    assert heat["Ward A"].shades["safety"] == 5 and heat["Ward A"].shades["training"] == 2
    assert heat["Ward B"].shades["functionality"] == 0
    # Hours to triage: 2, 4, 10 and the anonymous report's 6 (from midnight): median 5.
    assert overview.triaged == 4 and overview.median_triage_hours == pytest.approx(5.0)
    [issue] = overview.known_issues
    assert issue.title == "Lab results missing" and issue.summary.count == 2
    assert issue.units == ["Ward A", "Ward B"] and sum(issue.summary.weekly) == 2
    assert overview.alerts == []


def test_the_page_draws_the_figures_and_lists_their_numbers(client, login, coordinator, seeded):
    login(coordinator)
    page = client.get("/overview").get_data(as_text=True)
    today = seeded.date().isoformat()
    # The daily chart: an SVG with a title, and its numbers in a table.
    assert '<title id="daily-title">Reports per day and category, the last 30 days</title>' in page
    assert f'<tr><th scope="row">{today}</th><td>3</td><td>0</td><td>0</td><td>0</td></tr>' in page
    assert page.count("<polyline") >= 4
    assert '<td class="heat-5 ink-light">3</td>' in page  # Ward A's safety reports, the most
    assert '<h2 id="flow-heading">New and finished reports</h2>' in page
    assert "Median 5.0 hours from arrival to triage, over the 4 reports" in page
    assert "Lab results missing" in page and "Old printer fault" not in page
    assert 'class="sparkline"' in page and 'aria-label="Reports per week' in page


def test_a_spike_in_one_unit_raises_an_alert_with_its_evidence(app, client, login, coordinator,
                                                                make_report, make_user):
    staff = make_user("staff")
    now = utcnow()
    # A history that covers the weekly test's baseline too.
    make_report(unit="Ward Y", area="printing", reporter=staff, submitted=now - timedelta(days=62))
    for days in range(1, 29):
        make_report(unit="Ward Y", area="printing", reporter=staff,
                    submitted=now - timedelta(days=days))
        if days % 4 == 0:
            make_report(unit="Ward X", area="login", reporter=staff,
                        submitted=now - timedelta(days=days))
    make_report(unit="Ward Y", area="printing", reporter=staff, submitted=now)
    for _ in range(12):
        make_report(unit="Ward X", area="login", reporter=staff, submitted=now)
    with app.app_context():
        overview = build_overview(now)
    fired = {(a.dimension, a.value, a.period) for a in overview.alerts}
    assert fired == {("unit", "Ward X", "day"), ("area", "login", "day"),
                     ("unit", "Ward X", "week"), ("area", "login", "week")}
    day = next(a.test for a in overview.alerts if a.period == "day")
    assert day.observed == 12 and day.baseline_mean == pytest.approx(7 / 28)
    login(coordinator)
    page = client.get("/overview").get_data(as_text=True)
    assert ">Unit: Ward X</a></strong> Far more than usual: 12 reports today, 48.0 times the" \
           " daily mean (0.2 a day over the 28 days before); chance does not explain it." in page
    assert "p = " not in page
    assert ">Affected area: Login and access</a></strong>" in page
    today = now.date().isoformat()
    week_from = (now.date() - timedelta(days=6)).isoformat()
    assert f'href="/triage/?area=login&amp;date_from={today}&amp;date_to={today}&amp;status="' \
        in page
    assert f'href="/triage/?area=login&amp;date_from={week_from}&amp;date_to={today}' \
           '&amp;status="' in page
    assert ">Unit: Ward Y</a></strong>" not in page
    assert "more day" not in page


def test_before_enough_history_a_burst_raises_no_alert_and_the_page_says_how_long(
        app, client, login, coordinator, make_report, make_user):
    staff = make_user("staff")
    now = utcnow()
    make_report(unit="Ward X", area="login", reporter=staff, submitted=now - timedelta(days=9))
    for _ in range(12):
        make_report(unit="Ward X", area="login", reporter=staff, submitted=now)
    with app.app_context():
        overview = build_overview(now)
    # Against 28 made-up quiet days, 12 reports today would have been an alert.
    assert overview.history_from == (now - timedelta(days=9)).date()
    assert overview.tests == [] and overview.days_to_wait == {"day": 19, "week": 53}
    login(coordinator)
    page = client.get("/overview").get_data(as_text=True)
    assert "Daily spike alerts start when there are reports from the 28 days before today:" \
           " 19 more days." in page
    assert "Weekly spike alerts start when there are reports from the 8 weeks before the last" \
           " 7 days: 53 more days." in page
    assert "<strong>Unit: Ward X</strong>" not in page and "No spike" not in page
    swedish = client.get("/overview", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert "de 28 dagarna före i dag: 19 dagar till." in swedish
    assert "före de senaste 7 dagarna: 53 dagar till." in swedish


def test_a_quiet_fresh_install_raises_next_to_no_alerts_then_a_real_spike_fires(app, make_report):
    """Nine quiet weeks from an empty database, replayed day by day (bench/spikes_replay.py).

    The history is read from the database, so only the first report is inserted; each
    day's counts go to the overview's alert function as prepared series.
    """
    series = quiet_region(seed=0, days=64)
    make_report(unit="Unit 1", submitted=datetime.combine(first_report(series), time(8)))
    with app.app_context():
        history_from = first_report_day()
    assert history_from == FIRST_DAY
    fired, made = [], {"day": set(), "week": set()}
    for offset in range(63):
        today = FIRST_DAY + timedelta(days=offset)
        for alert in spike_alerts(as_of(series, today), today, history_from):
            made[alert.period].add(offset)
            if alert.test.spike:
                fired.append((offset, alert))
    # The old rule (days before the first report are quiet ones) fails the bound by far.
    assert sum(alerts_per_day(series, date.min, days=63)) > 100
    assert len(fired) <= 1
    # Not for lack of testing: the daily tests run from the 29th day, the weekly on the 63rd.
    assert made == {"day": set(range(28, 63)), "week": {62}}
    # A real spike after the nine weeks: one unit sends 12 reports on the 64th day.
    today = FIRST_DAY + timedelta(days=63)
    spike = as_of(series, today)
    spike["unit", "Unit 7"][today] = spike["unit", "Unit 7"].get(today, 0) + 12
    alerts = spike_alerts(spike, today, history_from)
    assert ("unit", "Unit 7", "day") in {(a.dimension, a.value, a.period)
                                         for a in alerts if a.test.spike}
    assert not any(a.test.spike for a in spike_alerts(as_of(series, today), today, history_from))


def test_the_demo_story_makes_the_alert_fire_on_its_spike_only(app, active_model):
    with app.app_context():
        load_demo_data(300)
        overview = build_overview()
        spike_categories = {c for report in db.session.scalars(
            select(Report).where(Report.area == SPIKE_AREA, Report.submitted_on >= (
                utcnow() - timedelta(days=4)).date())) for c in report.categories}
        fired = {(a.dimension, a.value, a.period) for a in overview.alerts}
        assert {("area", SPIKE_AREA, "week")} | {("unit", u, "week") for u in SPIKE_UNITS} <= fired
        for dimension, value, _period in fired:
            assert (value in SPIKE_UNITS if dimension == "unit" else
                    value == SPIKE_AREA if dimension == "area" else value in spike_categories)
        # The coordinators' work is in the demo too.
        reports = db.session.scalars(select(Report)).all()
        statuses = {r.status for r in reports}
        assert {Status.NEW, Status.TRIAGED, Status.RESOLVED, Status.CLOSED} <= statuses
        assert all(r.finished_at for r in reports if not r.is_open)
        assert all(r.triaged_at for r in reports if r.status != Status.NEW)
        assert all(r.risk_score for r in reports if r.status != Status.NEW)
        assignees = {r.assignee.email for r in reports if r.assignee}
        assert assignees == {"coordinator@vaka.example", "coordinator2@vaka.example"}
        issues = {issue.status: issue for issue in db.session.scalars(select(KnownIssue))}
        assert issues["resolved"].resolution_note and len(issues["resolved"].reports) == 5
        assert {r.unit.name for r in issues["open"].reports} <= set(SPIKE_UNITS)
        assert overview.known_issues[0].title == issues["open"].title
