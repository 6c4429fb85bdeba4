"""The report page as one decision, and the way through the queue from it: previous and next
in the queue's order and filters, "save and next", the back link and the language switch
keeping the filters."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from app.services import NotFound, ServiceError
from app.services.report_queries import ReportFilters
from app.services.triage import Decision, decide_report, queue_neighbours
from models import Label, Report, db
from tests.helpers import decision, events, fetch_report


def state(app, report_id: int) -> tuple:
    report = fetch_report(app, report_id)
    return (report.categories, report.labels_reviewed, report.status, report.assignee_id,
            report.consequence, report.likelihood, report.risk_confirmed, report.due_at,
            report.triaged_at, report.finished_at, report.priority)


def changes(app) -> list[str]:
    """The audit log's actions on reports, views left out."""
    return [event.action for event in events(app)
            if event.object_type == "report" and event.action != "report.view"]


def counts(app) -> tuple[int, int]:
    """How many changes the audit log holds, and how many labels there are."""
    with app.app_context():
        return len(changes(app)), db.session.query(Label).count()


def links(page: str) -> dict[str, str]:
    """The page's previous, next and back links (rel or text), HTML entities undone."""
    found = {rel: href for rel, href in re.findall(r'<a rel="(prev|next)" href="([^"]+)"', page)}
    back = re.search(r'<a href="([^"]+)">← ', page)
    if back:
        found["back"] = back.group(1)
    return {name: href.replace("&amp;", "&") for name, href in found.items()}


# One decision, one transaction

def test_one_save_decides_categories_status_assignee_and_risk(app, client, coordinator,
                                                              make_report):
    report_id = make_report()
    response = client.post(f"/triage/reports/{report_id}", data=decision(
        categories=["safety"], status="in_progress", assignee=str(coordinator.id),
        consequence="4", likelihood="3"))
    assert response.status_code == 302
    report = fetch_report(app, report_id)
    assert report.categories == ["safety"] and report.labels_reviewed
    assert report.status == "in_progress" and report.triaged_at is not None
    assert report.finished_at is None and report.assignee_id == coordinator.id
    assert (report.risk_score, report.risk_confirmed) == (12, True)
    assert report.due_at == report.arrived_at + timedelta(hours=24)
    assert report.priority >= 12
    assert changes(app) == ["report.review", "report.status", "report.assign", "report.risk"]


def test_saving_again_unchanged_audits_nothing_and_adds_no_labels(app, client, coordinator,
                                                                  make_report):
    report_id = make_report()
    data = decision(categories=["training"], status="triaged", consequence="3",
                    likelihood="2")
    client.post(f"/triage/reports/{report_id}", data=data)
    before = counts(app), state(app, report_id)
    again = client.post(f"/triage/reports/{report_id}", data=data, follow_redirects=True)
    assert (counts(app), state(app, report_id)) == before
    assert "Nothing changed on V-" in again.get_data(as_text=True)


@pytest.mark.parametrize("bad", [
    {"status": "archived"}, {"categories": ["danger"]}, {"assignee": "9999"},
    {"consequence": "5"}, {"likelihood": None}])
def test_bad_input_saves_no_part_of_the_decision(app, client, coordinator, make_report, bad):
    report_id = make_report()
    before = counts(app), state(app, report_id)
    good = dict(categories=["safety"], status="closed", assignee=str(coordinator.id),
                consequence="4", likelihood="4")
    data = {name: value for name, value in decision(**{**good, **bad}).items()
            if value is not None}
    response = client.post(f"/triage/reports/{report_id}", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was saved. Please correct:" in page and 'class="error-summary"' in page
    assert (counts(app), state(app, report_id)) == before


def test_the_service_refuses_a_decision_as_a_whole(app, make_user, make_report):
    actor, staff = make_user("coordinator"), make_user("staff")
    report_id = make_report()
    before = counts(app), state(app, report_id)
    good = dict(categories=frozenset({"safety"}), status="closed", assignee_id=actor.id,
                consequence=4, likelihood=4)
    for bad in ({"assignee_id": staff.id}, {"status": "gone"}, {"likelihood": 0},
                {"categories": frozenset({"danger"})}):
        with app.app_context(), pytest.raises(ServiceError):
            decide_report(report_id, actor, Decision(**{**good, **bad}))
    with app.app_context(), pytest.raises(NotFound):
        decide_report(9999, actor, Decision(**good))
    assert (counts(app), state(app, report_id)) == before


def test_the_page_has_one_decision_form(client, coordinator, make_report):
    page = client.get(f"/triage/reports/{make_report()}").get_data(as_text=True)
    decision_form = re.search(r'<form [^>]*id="decision".*?</form>', page, re.S).group(0)
    for name in ("categories", "status", "assignee", "consequence", "likelihood"):
        assert f'name="{name}"' in decision_form
    assert page.count('name="status"') == 1 and page.count('name="assignee"') == 1
    assert len(re.findall(r'<input [^>]*type="submit"[^>]*>', decision_form)) == 2
    assert "Shortcuts" in page and "<kbd>j</kbd>" in page


# The way through the queue

@pytest.fixture
def queue(make_report):
    """Five open reports by urgency (priority), one closed, one of another unit."""
    ids = {name: make_report(priority=priority, unit=unit, status=status)
           for name, priority, unit, status in [
               ("a", 9.5, "Avdelning 12", "new"), ("b", 8.0, "Avdelning 12", "new"),
               ("closed", 7.0, "Avdelning 12", "closed"), ("c", 8.0, "Avdelning 12", "new"),
               ("other_unit", 6.0, "Akuten", "new"), ("d", 2.0, "Avdelning 12", "triaged")]}
    return ids


def neighbours(app, report_id: int, order: str = "urgency", **filters):
    with app.app_context():
        report = db.session.get(Report, report_id)
        found = queue_neighbours(ReportFilters(**filters), order, report)
        return found.previous, found.next


def test_previous_and_next_follow_the_queues_order_and_filters(app, queue):
    open_only = dict(statuses=frozenset({"new", "triaged", "in_progress"}))
    # Urgency: priority first, then the older (lower id) of equals: a, b, c, other_unit, d.
    assert neighbours(app, queue["a"], **open_only) == (None, queue["b"])
    assert neighbours(app, queue["b"], **open_only) == (queue["a"], queue["c"])
    assert neighbours(app, queue["c"], **open_only) == (queue["b"], queue["other_unit"])
    assert neighbours(app, queue["d"], **open_only) == (queue["other_unit"], None)
    with app.app_context():
        unit_id = db.session.get(Report, queue["a"]).unit_id
    one_unit = dict(open_only, unit_ids=frozenset({unit_id}))
    assert neighbours(app, queue["c"], **one_unit) == (queue["b"], queue["d"])
    # A report outside the filters (closed) still has its place in the order.
    assert neighbours(app, queue["closed"], **open_only) == (queue["c"], queue["other_unit"])
    # Newest first: by submission day, then the higher id.
    assert neighbours(app, queue["c"], "newest", **open_only) == (queue["other_unit"],
                                                                  queue["b"])


def test_the_queue_carries_its_filters_to_the_report_and_back(app, client, coordinator, queue):
    with app.app_context():
        unit_id = db.session.get(Report, queue["a"]).unit_id
    query = f"status=open&unit={unit_id}&order=urgency"
    page = client.get(f"/triage/?{query}").get_data(as_text=True)
    opened = re.search(rf'href="(/triage/reports/{queue["b"]}\?[^"]+)"', page).group(1)
    opened = opened.replace("&amp;", "&")
    assert parse_qs(urlsplit(opened).query) == parse_qs(query)

    page = client.get(opened).get_data(as_text=True)
    found = links(page)
    assert found["prev"].startswith(f"/triage/reports/{queue['a']}?")
    assert found["next"].startswith(f"/triage/reports/{queue['c']}?")
    assert urlsplit(found["back"]).path == "/triage/"
    for href in found.values():
        assert parse_qs(urlsplit(href).query) == parse_qs(query)

    # The language switch comes back to the same report with the same filters.
    switched = client.post("/language/en", data={"next": re.search(
        r'name="next" value="([^"]+)"', page).group(1).replace("&amp;", "&")})
    assert switched.headers["Location"] == opened


def test_save_and_next_goes_on_in_the_queue_keeping_its_filters(app, client, coordinator,
                                                                queue):
    query = "status=open&order=urgency"
    response = client.post(f"/triage/reports/{queue['b']}?{query}", data=decision(
        status="triaged", consequence="1", likelihood="1", save_next="y"))
    # The decision lowers b's priority: next is still the report after where b stood.
    assert response.headers["Location"] == f"/triage/reports/{queue['c']}?{query}"
    assert fetch_report(app, queue["b"]).status == "triaged"

    # b is now the least urgent, after d: the last of the queue.
    response = client.post(f"/triage/reports/{queue['b']}?{query}",
                           data=decision(status="triaged", consequence="1", likelihood="1",
                                         save_next="y"), follow_redirects=True)
    assert response.request.path == "/triage/"
    assert "That was the last report in this queue." in response.get_data(as_text=True)

    stay = client.post(f"/triage/reports/{queue['a']}?{query}", data=decision())
    assert stay.headers["Location"] == f"/triage/reports/{queue['a']}?{query}"


@pytest.mark.parametrize("query", ["status=nonsense", "unit=abc", "order=random",
                                   "after=x~y&order=urgency", "next=https://evil.example/"])
def test_carried_filters_that_do_not_validate_are_dropped(client, coordinator, queue, query):
    response = client.get(f"/triage/reports/{queue['b']}?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    found = links(page)
    assert found["back"] == "/triage/"
    assert all("?" not in href for href in found.values())
    assert not any("evil" in href for href in found.values())
    redirected = client.post(f"/triage/reports/{queue['b']}?{query}",
                             data=decision(save_next="y"))
    assert redirected.headers["Location"] == f"/triage/reports/{queue['c']}"
