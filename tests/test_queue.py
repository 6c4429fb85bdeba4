"""The triage queue: urgency order, filters, full-text search, keyset pages, bulk actions."""

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import event, select

from models import (
    AuditEvent,
    EmergingIssue,
    EmergingIssueReport,
    KnownIssue,
    Report,
    db,
    utcnow,
)
from tests.helpers import days_ago, fetch_report


def references(page: str) -> list[str]:
    return re.findall(r">(V-\d{6})<", page)


def ref(report_id: int) -> str:
    return f"V-{report_id:06d}"


@pytest.fixture
def listed(client):
    def fetch(query: str = "") -> list[str]:
        response = client.get(f"/triage/?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return references(response.get_data(as_text=True))
    return fetch


@pytest.fixture
def rate(app):
    """Give a report a risk and a safety score, as assessment and classification do."""
    def do_rate(report_id: int, consequence: int, likelihood: int, safety: float = 0.0) -> None:
        with app.app_context():
            report = db.session.get(Report, report_id)
            report.score_safety = safety
            report.set_risk(consequence, likelihood, confirmed=True)
            db.session.commit()
    return do_rate


def next_link(page: str) -> str | None:
    match = re.search(r'<a rel="next" href="([^"]+)"', page)
    return unescape(match.group(1)) if match else None


def test_default_order_is_risk_then_safety_score_then_age(listed, make_report, rate,
                                                          coordinator):
    old_low = make_report("Gammal liten risk", submitted=days_ago(9))
    new_low = make_report("Ny liten risk", submitted=days_ago(1))
    high = make_report("Hög risk", submitted=days_ago(3))
    high_safer = make_report("Hög risk och säkerhet", submitted=days_ago(2))
    unrated = make_report("Ingen risk bedömd", submitted=days_ago(5))
    rate(old_low, 1, 2)
    rate(new_low, 1, 2)
    rate(high, 4, 3, safety=0.2)
    rate(high_safer, 3, 4, safety=0.9)
    assert listed() == [ref(high_safer), ref(high), ref(old_low), ref(new_low), ref(unrated)]
    assert listed("order=newest") == [ref(new_low), ref(high_safer), ref(high), ref(unrated),
                                      ref(old_low)]


def test_pages_follow_the_cursor_and_keep_their_place(client, make_report, rate,
                                                      coordinator, app):
    ids = [make_report(f"Rapport {n}", submitted=days_ago(20 - n)) for n in range(7)]
    first = client.get("/triage/?unit=&q=Rapport").get_data(as_text=True)
    assert references(first) == [ref(i) for i in ids[:5]]
    link = next_link(first)
    assert "q=Rapport" in link and "after=" in link
    # A more urgent report arriving meanwhile goes to the first page, not into page two.
    rate(make_report("Rapport brådskande"), 4, 4)
    second = client.get(link).get_data(as_text=True)
    assert references(second) == [ref(i) for i in ids[5:]]
    assert next_link(second) is None
    assert "First page" in second


def test_uncertain_first_order_pages_too(client, listed, make_report, coordinator):
    sure = [make_report(f"Säker {n}", submitted=days_ago(9 - n)) for n in range(4)]
    unsure = [make_report(f"Osäker {n}", submitted=days_ago(9 - n), needs_review=True)
              for n in range(3)]
    first = client.get("/triage/?order=review").get_data(as_text=True)
    assert references(first) == [ref(i) for i in unsure + sure[:2]]
    assert references(client.get(next_link(first)).get_data(as_text=True)) == [
        ref(i) for i in sure[2:]]
    assert listed("category=needs_review") == [ref(i) for i in unsure]


def test_filters_by_category_status_unit_area_impact_language_and_dates(
        listed, make_report, coordinator, client):
    safety = make_report("Fel dos", is_safety=True, is_training=False, is_functionality=False,
                         area="medication", impact="harm", language="sv")
    other = make_report("Parking is full", is_safety=False, is_training=False,
                        is_functionality=False, unit="Akuten", language="en")
    unclassified = make_report("Ännu inte klassad", status="triaged", submitted=days_ago(30))
    resolved = make_report("Klar sedan länge", status="resolved")

    assert listed("category=safety") == [ref(safety)]
    assert listed("category=other") == [ref(other)]
    assert listed("category=unclassified&status=") == [ref(unclassified), ref(resolved)]
    assert listed("status=triaged") == [ref(unclassified)]
    assert ref(resolved) not in listed(), "finished reports are hidden by default"
    assert listed("status=resolved") == [ref(resolved)]
    assert listed("area=medication") == [ref(safety)]
    assert listed("impact=harm") == [ref(safety)]
    assert listed("language=en") == [ref(other)]
    day = days_ago(30).date().isoformat()
    assert listed(f"date_from={day}&date_to={day}") == [ref(unclassified)]
    page = client.get("/triage/").get_data(as_text=True)
    akuten = re.search(r'<option value="(\d+)">Akuten</option>', page).group(1)
    assert listed(f"unit={akuten}") == [ref(other)]


def test_filters_by_assignee_known_issue_and_overdue(app, listed, make_report, make_user,
                                                     coordinator):
    colleague = make_user("coordinator")
    with app.app_context():
        issue = KnownIssue(title="Provsvar saknas", created_by_id=coordinator.id)
        db.session.add(issue)
        db.session.commit()
        issue_id = issue.id
    mine = make_report("Min", assignee_id=coordinator.id, known_issue_id=issue_id)
    theirs = make_report("Deras", assignee_id=colleague.id,
                         due_at=utcnow() - timedelta(hours=1))
    nobody = make_report("Ingen", due_at=utcnow() + timedelta(hours=1))
    make_report("Klar men sen", status="closed", due_at=utcnow() - timedelta(days=2))

    assert listed(f"assignee={coordinator.id}") == [ref(mine)]
    assert listed("assignee=none") == [ref(nobody)]
    assert listed(f"known_issue={issue_id}") == [ref(mine)]
    assert listed("known_issue=none") == [ref(theirs), ref(nobody)]
    assert listed("overdue=y&status=") == [ref(theirs)], "a finished report is never overdue"


@pytest.mark.parametrize(("text", "query"), [
    ("Läkemedelslistan visade fel dos", "läkemedelslistan dos"),
    ("Läkemedelslistan visade fel dos", "lakemedelslistan"),
    ("The printers on the ward stopped", "printers ward"),
    ("Provsvar saknas i journalen", "PROVSVAR"),
    ("Kaliumvärdet syntes inte", "kalium"),
])
def test_search_finds_reports_by_their_words(listed, make_report, coordinator, text, query):
    wanted = make_report(text)
    make_report("Något helt annat om inloggningen")
    assert listed(f"q={query}") == [ref(wanted)]


def test_search_needs_every_word(listed, make_report, coordinator):
    make_report("Skrivaren fungerar inte")
    assert listed("q=skrivaren+journalen") == []


def test_search_reads_operators_as_plain_words(client, make_report, coordinator):
    make_report("Fel dos")
    for query in ['dos"', "dos OR *", "NEAR(dos", "dos -fel", "dos:fel"]:
        assert client.get("/triage/", query_string={"q": query}).status_code == 200, query


def test_search_follows_edits_of_the_text(app, listed, make_report, coordinator):
    report_id = make_report("Skrivaren på avdelningen är trasig")
    with app.app_context():
        db.session.get(Report, report_id).text = "Texten är utbytt"
        db.session.commit()
    assert listed("q=skrivaren") == []
    assert listed("q=utbytt") == [ref(report_id)]


@pytest.mark.parametrize("query", [
    "colour=red", "category=danger", "date_from=2026-13-01", "unit=999", "assignee=999",
    "known_issue=abc", "order=sideways", "after=garbage", "after=1.0~2~3", "q=%2B%2B%2B",
    "date_from=2026-05-02&date_to=2026-05-01", "page=2",
])
def test_bad_filters_are_rejected_with_400(client, make_report, coordinator, query):
    make_report()
    assert client.get(f"/triage/?{query}").status_code == 400


def audit_actions(app, report_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "report", AuditEvent.object_id == str(report_id))
            .order_by(AuditEvent.id)))


def test_bulk_assign_status_and_categories_audit_each_report(app, client, make_report,
                                                            coordinator):
    ids = [make_report(f"Rapport {n}") for n in range(3)]
    untouched = make_report("Rör ej")
    for data in ({"action": "assign", "assignee": str(coordinator.id)},
                 {"action": "status", "status": "in_progress"},
                 {"action": "categories", "categories": ["safety", "training"]}):
        response = client.post("/triage/bulk", data={**data, "report_ids": ids,
                                                     "next": "/triage/?order=newest"})
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/triage/?order=newest")
    for report_id in ids:
        report = fetch_report(app, report_id)
        assert (report.assignee_id, report.status) == (coordinator.id, "in_progress")
        assert report.categories == ["safety", "training"] and report.labels_reviewed
        assert len(audit_actions(app, report_id)) == 3
        assert audit_actions(app, report_id)[-1] == "report.review"
    after = fetch_report(app, untouched)
    assert (after.assignee_id, after.status, after.labels_reviewed) == (None, "new", False)


def test_bulk_attach_to_a_known_issue(app, client, make_report, coordinator):
    with app.app_context():
        issue = KnownIssue(title="Provsvar saknas", created_by_id=coordinator.id)
        closed = KnownIssue(title="Löst", created_by_id=coordinator.id)
        closed.resolve("Åtgärdat")
        db.session.add_all([issue, closed])
        db.session.commit()
        issue_id, closed_id = issue.id, closed.id
    ids = [make_report(f"Provsvar {n}") for n in range(2)]
    refused = client.post("/triage/bulk", data={"action": "known_issue", "report_ids": ids,
                                                "known_issue": str(closed_id)})
    assert refused.status_code == 302, "a resolved issue is not offered"
    assert all(fetch_report(app, i).known_issue_id is None for i in ids)
    client.post("/triage/bulk", data={"action": "known_issue", "report_ids": ids,
                                      "known_issue": str(issue_id)})
    for report_id in ids:
        assert fetch_report(app, report_id).known_issue_id == issue_id
        assert audit_actions(app, report_id) == ["known_issue.attach"]


def test_bulk_action_with_a_missing_report_changes_nothing(app, client, make_report,
                                                           coordinator):
    real = make_report()
    response = client.post("/triage/bulk", data={"action": "status", "status": "closed",
                                                  "report_ids": [real, real + 1000]},
                           follow_redirects=True)
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert fetch_report(app, real).status == "new"


@pytest.mark.parametrize("data", [
    {"action": "status", "status": "closed", "report_ids": []},
    {"action": "status", "status": "lost"},
    {"action": "status"},
    {"action": "explode"},
    {"action": "status", "status": "closed", "report_ids": ["one"]},
    {"action": "assign", "assignee": "999"},
    {"action": "known_issue"},
])
def test_bad_bulk_actions_change_nothing(app, client, make_report, coordinator, data):
    report_id = make_report()
    response = client.post("/triage/bulk", data={"report_ids": [report_id], **data})
    assert response.status_code == 302
    report = fetch_report(app, report_id)
    assert (report.status, report.assignee_id) == ("new", None)


def test_bulk_action_refuses_too_many_reports(app, client, make_report, coordinator):
    report_id = make_report()
    response = client.post("/triage/bulk", data={"action": "status", "status": "closed",
                                                  "report_ids": [report_id] * 501},
                           follow_redirects=True)
    assert "at most 500" in response.get_data(as_text=True)
    assert fetch_report(app, report_id).status == "new"


def test_bulk_action_does_not_redirect_off_site(client, make_report, coordinator):
    report_id = make_report()
    response = client.post("/triage/bulk", data={"action": "status", "status": "triaged",
                                                  "report_ids": [report_id],
                                                  "next": "https://evil.example/"})
    assert response.headers["Location"].endswith("/triage/")


# The head of the page: counts, chosen filters as chips, one report a row -----------------

def counts_line(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.search(
        r'<p class="counts".*?</p>', page, re.S).group(0))).strip()


def test_the_queue_is_headed_by_open_new_and_overdue_counts(app, client, make_report,
                                                             coordinator):
    overdue = make_report("Försenad")
    make_report("Ny")
    finished = make_report("Klar")
    with app.app_context():
        db.session.get(Report, overdue).set_status("triaged")
        db.session.get(Report, overdue).due_at = utcnow() - timedelta(hours=1)
        db.session.get(Report, finished).set_status("resolved")
        db.session.commit()
    page = client.get("/triage/").get_data(as_text=True)
    assert counts_line(page) == "2 open 1 new 1 overdue"
    assert 'href="/triage/?status=new"' in page and 'href="/triage/?overdue=y"' in page


def test_a_count_stops_at_the_cap(client, make_report, coordinator, monkeypatch):
    monkeypatch.setattr("app.services.triage.COUNT_CAP", 2)
    for n in range(3):
        make_report(f"Rapport {n}")
    assert counts_line(client.get("/triage/").get_data(as_text=True)).startswith(
        "more than 2 open more than 2 new")


def test_chosen_filters_show_as_chips_that_remove_themselves(client, make_report,
                                                             coordinator):
    make_report("Skrivaren", area="printing")
    page = unescape(client.get("/triage/?area=printing&q=skrivaren&order=newest")
                    .get_data(as_text=True))
    chips = re.findall(r'<a class="chip" href="([^"]+)"[^>]*>([^<]+)<', page)
    assert [(text.strip(), href) for href, text in chips] == [
        ("Search: skrivaren", "/triage/?area=printing&order=newest"),
        ("Affected area: Printing", "/triage/?q=skrivaren&order=newest")]
    assert page.count(">Search: skrivaren") == 1, "the folded panel's line does not repeat them"
    assert "2 chosen" in page
    default = client.get("/triage/").get_data(as_text=True)
    assert 'class="chip"' not in default and "Open reports, all units" in default


def test_each_report_shows_a_line_of_its_text_and_the_bulk_form_follows_the_table(
        client, make_report, coordinator):
    make_report("Etiketterna skrivs ut på fel patient.")
    page = client.get("/triage/").get_data(as_text=True)
    assert re.search(r'<td colspan="8" class="excerpt">Etiketterna skrivs ut på fel patient.<',
                     page)
    assert page.index("</table>") < page.index('id="bulk"')


# Grouped by known or emerging issue ------------------------------------------------------

@pytest.fixture
def groups(app, make_report, rate, coordinator):
    """A known issue (three open reports, one finished), an open emerging issue (two), a
    forming one (a single report: no group yet) and two reports in no group."""
    with app.app_context():
        issue = KnownIssue(title="Provsvar saknas", created_by_id=coordinator.id)
        db.session.add(issue)
        db.session.commit()
        issue_id = issue.id
    known = [make_report(f"Provsvar {n}", known_issue_id=issue_id, submitted=days_ago(n + 1))
             for n in range(3)]
    make_report("Provsvar klart", known_issue_id=issue_id, status="closed")
    emerging = [make_report(f"Etiketter {n}", submitted=days_ago(n + 1)) for n in range(2)]
    alone = make_report("Ensam grupp")
    singles = [make_report("Ingen grupp", submitted=days_ago(4)), make_report("Ingen heller")]
    with app.app_context():
        open_group = EmergingIssue(title="etiketter · skrivare", status="open", member_count=2)
        forming = EmergingIssue(title="ensam", status="forming", member_count=1)
        db.session.add_all([open_group, forming])
        db.session.flush()
        db.session.add_all([EmergingIssueReport(report_id=r, emerging_issue_id=open_group.id)
                            for r in emerging])
        db.session.add(EmergingIssueReport(report_id=alone, emerging_issue_id=forming.id))
        db.session.commit()
        emerging_id = open_group.id
    rate(known[1], 4, 4)  # the known issue's most urgent report: the group's place
    rate(singles[0], 3, 3)
    rate(emerging[0], 2, 2)
    return dict(known_issue=issue_id, known=known, emerging_issue=emerging_id,
                emerging=emerging, alone=alone, singles=singles)


def group_rows(page: str) -> list[str]:
    """The grouped queue's group rows as text, in order."""
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", row)).strip() for row in re.findall(
        r'<tbody class="report-row group-row">(.*?)</tbody>', page, re.S)]


def rows_in_order(page: str) -> list[str]:
    """Group titles and report references as the rows come."""
    return re.findall(r'class="group-link"[^>]*><strong>([^<]+)</strong></a>|>(V-\d{6})<', page)


def test_grouped_queue_shows_each_issue_as_one_row_in_its_first_reports_place(
        client, groups):
    page = unescape(client.get("/triage/?group=issue").get_data(as_text=True))
    assert [title or reference for title, reference in rows_in_order(page)] == [
        "Provsvar saknas", ref(groups["singles"][0]), "etiketter · skrivare",
        ref(groups["alone"]), ref(groups["singles"][1])]
    known_row, emerging_row = group_rows(page)
    assert known_row.startswith("Known issue Provsvar saknas · 3 reports · latest ")
    assert emerging_row.startswith("Emerging issue etiketter · skrivare · 2 reports · latest ")
    # To the hour: an anonymous report keeps no finer time.
    assert re.fullmatch(r".* · latest \d{4}-\d\d-\d\d at \d\d:00 \([^)]+\)", known_row)


def test_a_group_row_counts_only_the_reports_the_filters_keep(client, groups):
    page = unescape(client.get("/triage/?group=issue&status=").get_data(as_text=True))
    assert group_rows(page)[0].startswith("Known issue Provsvar saknas · 4 reports")
    searched = unescape(client.get("/triage/?group=issue&q=etiketter").get_data(as_text=True))
    assert [title or reference for title, reference in rows_in_order(searched)] == [
        "etiketter · skrivare"]


def test_a_group_rows_link_opens_the_queue_of_its_reports_keeping_the_filters(client, groups):
    page = unescape(client.get("/triage/?group=issue&order=newest").get_data(as_text=True))
    links = re.findall(r'<a class="group-link" href="([^"]+)">', page)
    emerging_id, known_id = groups["emerging_issue"], groups["known_issue"]
    assert sorted(links) == sorted([f"/triage/?order=newest&known_issue={known_id}",
                                    f"/triage/?order=newest&emerging_issue={emerging_id}"])
    emerging = unescape(client.get(f"/triage/?emerging_issue={emerging_id}")
                        .get_data(as_text=True))
    assert references(emerging) == [ref(i) for i in groups["emerging"]]
    assert "Emerging issue: etiketter · skrivare" in emerging, "the chip names the group"
    assert references(client.get(f"/triage/?known_issue={known_id}").get_data(as_text=True)) \
        == [ref(groups["known"][1]), ref(groups["known"][0]), ref(groups["known"][2])]


def test_grouped_pages_follow_the_cursor_without_repeating_a_group(client, groups,
                                                                   make_report):
    later = [make_report(f"Sist {n}", submitted=days_ago(9 - n)) for n in range(2)]
    seen = []
    link = "/triage/?group=issue"
    pages = 0
    while link:
        response = client.get(link)
        assert response.status_code == 200
        page = unescape(response.get_data(as_text=True))
        seen += [title or reference for title, reference in rows_in_order(page)]
        link, pages = next_link(page), pages + 1
    assert pages == 2, "five rows a page in the tests"
    assert seen == ["Provsvar saknas", ref(groups["singles"][0]), "etiketter · skrivare",
                    ref(groups["alone"]), ref(groups["singles"][1]), *map(ref, later)]


def test_a_report_in_a_known_issue_and_an_emerging_one_counts_in_the_known_issue(
        app, client, groups):
    with app.app_context():
        report = db.session.get(Report, groups["emerging"][1])
        report.known_issue_id = groups["known_issue"]
        db.session.commit()
    rows = group_rows(unescape(client.get("/triage/?group=issue").get_data(as_text=True)))
    assert rows[0].startswith("Known issue Provsvar saknas · 4 reports")
    assert rows[1].startswith("Emerging issue etiketter · skrivare · 1 report ")


def test_the_grouped_page_runs_the_same_queries_however_many_groups(app, client, groups,
                                                                    make_report, coordinator):
    def statements() -> int:
        seen = []
        with app.app_context():
            engine = db.engine
        listen = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listen)
        try:
            assert client.get("/triage/?group=issue").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        return len(seen)

    before = statements()
    with app.app_context():
        for n in range(3):
            issue = KnownIssue(title=f"Fel {n}", created_by_id=coordinator.id)
            db.session.add(issue)
            db.session.flush()
            group_id = issue.id
            db.session.commit()
            make_report(f"Fel {n}", known_issue_id=group_id)
    assert statements() == before


@pytest.mark.parametrize("query", ["group=everything", "emerging_issue=abc",
                                   "emerging_issue=0"])
def test_bad_grouping_arguments_are_rejected_with_400(client, make_report, coordinator, query):
    make_report()
    assert client.get(f"/triage/?{query}").status_code == 400
