"""Known issues through the client, and the similarity index behind their suggestions."""

import re
import secrets
from datetime import date, datetime, timedelta

import pytest
from flask import render_template
from sqlalchemy import func, select

from app.known_issues import report_panels
from app.services import known_issues as known_issues_service
from app.services import similarity as similarity_service
from app.services.drafts import ReportDraft
from app.services.known_issues import (
    SPARKLINE_WEEKS,
    attach_reports,
    create_known_issue,
    edit_known_issue,
    suggest_known_issues,
    summaries,
)
from app.services.reports import submit_report
from app.services.similarity import index_reports, similar_reports
from ml.corpus import load_corpus
from models import KnownIssue, Report, ReportTerm, User, db, utcnow
from tests.helpers import PASSWORD, events
from trends.weeks import week_start

LAB = [
    "Labbsvaren syns inte i journalen sedan uppdateringen, vi fick ringa labbet.",
    "Lab results are not showing in the record since the update, we had to phone the lab.",
    "Provsvaren kommer inte över till journalen efter uppdateringen.",
]
PRINTER = [
    "Skrivaren på avdelningen skriver inte ut etiketter till proverna.",
    "The printer on the ward will not print labels for the samples.",
]
OTHER = "Kaffemaskinen i personalrummet är trasig sedan i fredags."


def page_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def report(app, make_report):
    """A report in the similarity index; returns its id."""
    def make(text: str, **fields) -> int:
        report_id = make_report(text, **fields)
        with app.app_context():
            index_reports([report_id])
        return report_id

    return make


def issue_of(app, report_id: int) -> int | None:
    with app.app_context():
        return db.session.get(Report, report_id).known_issue_id


def get_issue(app, issue_id: int) -> KnownIssue | None:
    with app.app_context():
        issue = db.session.get(KnownIssue, issue_id)
        if issue is not None:
            db.session.expunge(issue)
        return issue


def new_issue(app, actor: User, title: str = "Lab results missing",
              report_ids: list[int] = ()) -> int:
    with app.app_context():
        return create_known_issue(title, None, db.session.get(User, actor.id), report_ids).id


def issue_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(KnownIssue))


# Creating and editing ----------------------------------------------------------------------

def test_a_known_issue_is_created_from_a_report(app, client, coordinator, report):
    report_id = report(LAB[0])
    form = client.get(f"/known-issues/new?report={report_id}")
    assert form.status_code == 200
    assert f"V-{report_id:06d}" in page_text(form)
    response = client.post("/known-issues/new", data={
        "title": "  Lab results do not reach the record  ", "description": "Since go-live.",
        "report_id": str(report_id)})
    assert response.status_code == 302
    issue_id = issue_of(app, report_id)
    assert response.headers["Location"].endswith(f"/known-issues/{issue_id}")
    issue = get_issue(app, issue_id)
    assert (issue.title, issue.description, issue.is_open) == (
        "Lab results do not reach the record", "Since go-live.", True)
    [created] = events(app, "known_issue.create")
    assert (created.object_type, created.object_id) == ("known_issue", str(issue_id))
    [attached] = events(app, "known_issue.attach")
    assert (attached.object_type, attached.object_id) == ("report", str(report_id))
    assert attached.details == {"known_issue": issue_id, "previous": None}
    assert attached.actor_label == coordinator.email


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
def test_a_known_issue_needs_a_title_of_at_most_200_characters(app, client, coordinator, title):
    response = client.post("/known-issues/new", data={"title": title})
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    assert issue_count(app) == 0


@pytest.mark.parametrize("report_id", ["4242", "abc"])
def test_creating_from_a_missing_report_is_not_found(app, client, coordinator, report_id):
    assert client.get(f"/known-issues/new?report={report_id}").status_code == 404
    response = client.post("/known-issues/new", data={"title": "T", "report_id": report_id})
    assert response.status_code == 404
    assert issue_count(app) == 0


def test_title_and_description_are_edited(app, client, coordinator):
    issue_id = new_issue(app, coordinator)
    response = client.post(f"/known-issues/{issue_id}/edit",
                           data={"title": "Printer labels", "description": "Ward 12"})
    assert response.status_code == 302
    issue = get_issue(app, issue_id)
    assert (issue.title, issue.description) == ("Printer labels", "Ward 12")
    assert len(events(app, "known_issue.edit")) == 1
    client.post(f"/known-issues/{issue_id}/edit", data={"title": ""})
    assert get_issue(app, issue_id).title == "Printer labels"
    assert len(events(app, "known_issue.edit")) == 1
    assert "Title" in page_text(client.get(f"/known-issues/{issue_id}"))


def test_a_missing_known_issue_is_not_found(client, coordinator):
    assert client.get("/known-issues/4242").status_code == 404
    for action in ("edit", "resolution", "merge", "split", "detach"):
        assert client.post(f"/known-issues/4242/{action}", data={}).status_code == 404


# Lists and pages ---------------------------------------------------------------------------

def test_the_list_shows_counts_units_dates_and_a_sparkline(app, client, coordinator, report):
    today = utcnow().date()
    ids = [report(LAB[0], unit="Avdelning 12", submitted=datetime.combine(
               today - timedelta(days=20), datetime.min.time())),
           report(LAB[1], unit="Akuten"), report(LAB[2], unit="Akuten")]
    issue_id = new_issue(app, coordinator, "Lab results missing", ids)
    resolved = new_issue(app, coordinator, "Old printer fault")
    client.post(f"/known-issues/{resolved}/resolution", data={"note": "Driver updated."})
    text = page_text(client.get("/known-issues/"))
    assert "Lab results missing" in text and "Old printer fault" not in text
    assert f"{today - timedelta(days=20)}" in text and f"{today}" in text
    with app.app_context():
        summary = summaries([issue_id])[issue_id]
    assert (summary.count, summary.units) == (3, 2)
    # The older report falls two or three weeks back, depending on today's weekday.
    weeks_back = (week_start(today) - week_start(today - timedelta(days=20))).days // 7
    expected = [0] * SPARKLINE_WEEKS
    expected[-1], expected[-1 - weeks_back] = 2, 1
    assert summary.weekly == expected
    html = client.get("/known-issues/").get_data(as_text=True)
    assert 'class="sparkline"' in html and 'role="img"' in html
    assert ": " + ", ".join(map(str, expected)) in html
    everything = page_text(client.get("/known-issues/?status="))
    assert "Old printer fault" in everything and "Lab results missing" in everything
    assert "Lab results missing" not in page_text(client.get("/known-issues/?status=resolved"))


@pytest.mark.parametrize("query", ["status=closed", "page=0", "colour=red"])
def test_the_list_refuses_bad_filters(client, coordinator, query):
    assert client.get(f"/known-issues/?{query}").status_code == 400


def test_the_page_shows_reports_units_and_proposed_reports(app, client, coordinator, report):
    attached = report(LAB[0], unit="Akuten")
    look_alike = report(LAB[1])
    unrelated = report(OTHER)
    issue_id = new_issue(app, coordinator, "Lab results missing from the record", [attached])
    html = client.get(f"/known-issues/{issue_id}").get_data(as_text=True)
    text = page_text(client.get(f"/known-issues/{issue_id}"))
    assert "Akuten: 1" in text
    proposals = html.split('id="proposals"')[1]
    assert f"V-{look_alike:06d}" in proposals
    assert f"V-{unrelated:06d}" not in proposals
    assert "%" in proposals


def test_the_page_lists_its_reports_25_at_a_time_with_their_count(app, client, coordinator,
                                                                  make_report):
    reports = [make_report(LAB[n % len(LAB)], submitted=utcnow() - timedelta(days=30 - n))
               for n in range(30)]
    issue_id = new_issue(app, coordinator, "Lab results missing from the record", reports)
    first = client.get(f"/known-issues/{issue_id}")
    listed = first.get_data(as_text=True).split('id="reports"')[1].split('id="proposals"')[0]
    assert "30 reports · showing 1–25, newest first" in page_text(first)
    assert [int(n) for n in re.findall(r">V-(\d{6})</a>", listed)] == reports[:4:-1]
    second = client.get(f"/known-issues/{issue_id}?page=2")
    listed = second.get_data(as_text=True).split('id="reports"')[1].split('id="proposals"')[0]
    assert "showing 26–30" in page_text(second)
    assert [int(n) for n in re.findall(r">V-(\d{6})</a>", listed)] == reports[4::-1]


# Attaching and detaching -------------------------------------------------------------------

def test_a_proposed_report_is_attached_with_one_click(app, client, coordinator, report):
    first, second = report(LAB[0]), report(LAB[1])
    issue_id = new_issue(app, coordinator, report_ids=[first])
    response = client.post("/known-issues/attach", data={
        "issue": str(issue_id), "report_ids": [str(second), str(first)],
        "next": f"/known-issues/{issue_id}#proposals"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/known-issues/{issue_id}#proposals"
    assert issue_of(app, second) == issue_id
    # One entry for the report that moved; the one already in it is left alone.
    assert [e.object_id for e in events(app, "known_issue.attach")] == [str(first), str(second)]
    assert "1 report put in the known issue." in page_text(client.get(f"/known-issues/{issue_id}"))


def test_attaching_moves_a_report_from_another_known_issue(app, client, coordinator, report):
    report_id = report(LAB[0])
    old = new_issue(app, coordinator, report_ids=[report_id])
    new = new_issue(app, coordinator, "Another")
    client.post("/known-issues/attach", data={"issue": str(new), "report_ids": str(report_id)})
    assert issue_of(app, report_id) == new
    assert events(app, "known_issue.attach")[-1].details == {"known_issue": new, "previous": old}


@pytest.mark.parametrize("data", [
    {"issue": "4242", "report_ids": "REPORT"},
    {"issue": "ISSUE", "report_ids": "4242"},
    {"issue": "ISSUE", "report_ids": ["REPORT", "4242"]},
    {"issue": "ISSUE"},
    {"issue": "x", "report_ids": "REPORT"},
    {"issue": "ISSUE", "report_ids": "x"},
])
def test_attaching_with_bad_input_changes_nothing(app, client, coordinator, report, data):
    report_id = report(LAB[0])
    issue_id = new_issue(app, coordinator)
    values = {"ISSUE": str(issue_id), "REPORT": str(report_id)}
    data = {key: [values.get(v, v) for v in value] if isinstance(value, list)
            else values.get(value, value) for key, value in data.items()}
    response = client.post("/known-issues/attach", data=data)
    assert response.status_code == 302
    assert issue_of(app, report_id) is None
    assert events(app, "known_issue.attach") == []


def test_attaching_a_missing_report_says_so(app, client, coordinator):
    issue_id = new_issue(app, coordinator)
    client.post("/known-issues/attach", data={"issue": str(issue_id), "report_ids": "4242"})
    assert "Nothing was changed: that report or known issue does not exist" in page_text(
        client.get("/known-issues/"))


def test_a_resolved_known_issue_takes_no_reports(app, client, coordinator, report):
    report_id = report(LAB[0])
    issue_id = new_issue(app, coordinator)
    client.post(f"/known-issues/{issue_id}/resolution", data={"note": "Fixed."})
    client.post("/known-issues/attach", data={"issue": str(issue_id), "report_ids": report_id})
    assert issue_of(app, report_id) is None
    assert "Reopen it first" in page_text(client.get("/known-issues/"))


def test_attaching_goes_back_only_to_this_site(app, client, coordinator, report):
    report_id = report(LAB[0])
    issue_id = new_issue(app, coordinator)
    response = client.post("/known-issues/attach", data={
        "issue": str(issue_id), "report_ids": str(report_id), "next": "//evil.example/x"})
    assert response.headers["Location"] == "/known-issues/"
    assert issue_of(app, report_id) == issue_id


def test_a_report_is_detached_back_to_its_page(app, client, coordinator, report):
    report_id, other = report(LAB[0]), report(LAB[1])
    issue_id = new_issue(app, coordinator, report_ids=[report_id])
    # Not in this known issue: nothing changes.
    client.post(f"/known-issues/{issue_id}/detach", data={"report_id": str(other)})
    assert events(app, "known_issue.detach") == []
    back = f"/triage/reports/{report_id}#known-issue"
    response = client.post(f"/known-issues/{issue_id}/detach",
                           data={"report_id": str(report_id), "next": back})
    assert response.headers["Location"] == back
    assert issue_of(app, report_id) is None
    [detached] = events(app, "known_issue.detach")
    assert (detached.object_id, detached.details) == (str(report_id), {"known_issue": issue_id})


# Resolving, and what reporters see ---------------------------------------------------------

@pytest.mark.parametrize("note", ["", "   ", "x" * 5001])
def test_resolving_needs_a_note(app, client, coordinator, note):
    issue_id = new_issue(app, coordinator)
    client.post(f"/known-issues/{issue_id}/resolution", data={"note": note})
    assert get_issue(app, issue_id).is_open
    assert events(app, "known_issue.resolve") == []


def submit(app, unit_id: int, text: str, reporter: User | None):
    draft = ReportDraft(kind="incident", text=text, occurred_at=datetime(2026, 3, 1, 8, 30),
                        unit_id=unit_id, area="test_results", impact="none", suggestion=None,
                        submission_token=secrets.token_urlsafe(24))
    with app.app_context():
        user = db.session.get(User, reporter.id) if reporter else None
        submission = submit_report(draft, user)
        return submission.report.id, submission.receipt_code


def test_the_resolution_note_reaches_anonymous_and_named_reporters(
        app, client, make_user, make_unit, login):
    unit = make_unit()
    staff = make_user("staff")
    anonymous_id, receipt = submit(app, unit.id, LAB[0], None)
    named_id, _ = submit(app, unit.id, LAB[1], staff)
    reporter = app.test_client()
    reporter.post("/login", data={"email": staff.email, "password": PASSWORD})
    note = "The lab interface was restarted; results arrive again since 14:00."
    assert note not in page_text(client.post("/status", data={"receipt": receipt}))

    coordinator = make_user("coordinator")
    login(coordinator)
    issue_id = new_issue(app, coordinator, report_ids=[anonymous_id, named_id])
    assert note not in page_text(reporter.get(f"/report/mine/{named_id}"))
    response = client.post(f"/known-issues/{issue_id}/resolution", data={"note": f"  {note}  "})
    assert response.status_code == 302
    issue = get_issue(app, issue_id)
    assert (issue.is_open, issue.resolution_note) == (False, note)
    [resolved] = events(app, "known_issue.resolve")
    assert resolved.object_id == str(issue_id) and note not in str(resolved.details)

    assert note in page_text(app.test_client().post("/status", data={"receipt": receipt}))
    assert note in page_text(reporter.get(f"/report/mine/{named_id}"))
    # Reopened, the note is no longer shown as the answer.
    client.post(f"/known-issues/{issue_id}/resolution", data={"reopen": "1"})
    assert get_issue(app, issue_id).is_open
    assert note not in page_text(reporter.get(f"/report/mine/{named_id}"))
    assert len(events(app, "known_issue.reopen")) == 1


def test_reopening_an_open_known_issue_changes_nothing(app, client, coordinator):
    issue_id = new_issue(app, coordinator)
    client.post(f"/known-issues/{issue_id}/resolution", data={"reopen": "1"})
    assert events(app, "known_issue.reopen") == []


# Merging and splitting ---------------------------------------------------------------------

def test_merging_moves_every_report_and_removes_the_source(app, client, coordinator, report):
    a, b, c = report(LAB[0]), report(LAB[1]), report(LAB[2])
    source = new_issue(app, coordinator, "Duplicate", [a, b])
    target = new_issue(app, coordinator, "Lab results missing", [c])
    response = client.post(f"/known-issues/{source}/merge", data={"target": str(target)})
    assert response.headers["Location"].endswith(f"/known-issues/{target}")
    assert [issue_of(app, r) for r in (a, b, c)] == [target] * 3
    assert get_issue(app, source) is None
    moves = [e for e in events(app, "known_issue.attach") if e.details.get("merged")]
    assert sorted(e.object_id for e in moves) == sorted([str(a), str(b)])
    assert all(e.details["previous"] == source for e in moves)
    [merged] = events(app, "known_issue.merge")
    assert merged.details == {"into": target, "reports": 2}


@pytest.mark.parametrize("target", ["SELF", "RESOLVED", "4242", "", "x"])
def test_a_bad_merge_changes_nothing(app, client, coordinator, report, target):
    report_id = report(LAB[0])
    source = new_issue(app, coordinator, "Source", [report_id])
    resolved = new_issue(app, coordinator, "Resolved")
    client.post(f"/known-issues/{resolved}/resolution", data={"note": "Done."})
    value = {"SELF": str(source), "RESOLVED": str(resolved)}.get(target, target)
    response = client.post(f"/known-issues/{source}/merge", data={"target": value})
    assert response.headers["Location"].endswith(f"/known-issues/{source}")
    assert issue_of(app, report_id) == source and get_issue(app, source) is not None
    assert events(app, "known_issue.merge") == []
    if target in ("SELF", "RESOLVED"):
        assert "Nothing was changed" in page_text(client.get(f"/known-issues/{source}"))


def test_splitting_moves_the_selected_reports_to_a_new_known_issue(app, client, coordinator,
                                                                   report):
    lab, printer, printer2 = report(LAB[0]), report(PRINTER[0]), report(PRINTER[1])
    source = new_issue(app, coordinator, "Everything at go-live", [lab, printer, printer2])
    response = client.post(f"/known-issues/{source}/split", data={
        "split-report_ids": [str(printer), str(printer2)], "split-title": "Printer labels"})
    new = issue_of(app, printer)
    assert new not in (None, source) and issue_of(app, printer2) == new
    assert issue_of(app, lab) == source
    assert response.headers["Location"].endswith(f"/known-issues/{new}")
    assert get_issue(app, new).title == "Printer labels"
    moves = [e for e in events(app, "known_issue.attach") if e.details.get("split")]
    assert sorted(e.object_id for e in moves) == sorted([str(printer), str(printer2)])


@pytest.mark.parametrize("data", [
    {"split-title": "New"},
    {"split-report_ids": "OUTSIDER", "split-title": "New"},
    {"split-report_ids": "MEMBER", "split-title": ""},
    {"split-report_ids": "4242", "split-title": "New"},
])
def test_a_bad_split_changes_nothing(app, client, coordinator, report, data):
    member, outsider = report(LAB[0]), report(PRINTER[0])
    source = new_issue(app, coordinator, "Source", [member])
    values = {"MEMBER": str(member), "OUTSIDER": str(outsider)}
    client.post(f"/known-issues/{source}/split",
                data={key: values.get(value, value) for key, value in data.items()})
    assert issue_count(app) == 1
    assert (issue_of(app, member), issue_of(app, outsider)) == (source, None)


# Similar reports and suggestions -------------------------------------------------------------

def test_submitting_indexes_the_report_and_retention_unindexes_it(app, make_unit):
    unit = make_unit()
    report_id, _ = submit(app, unit.id, LAB[0], None)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReportTerm)
                                 .where(ReportTerm.report_id == report_id)) > 3
        report = db.session.get(Report, report_id)
        report.text_removed_on, report.text = date.today(), ""
        db.session.commit()
        similarity_service.unindex_removed_text()
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(ReportTerm)) == 0


def test_redacting_indexes_the_new_text(app, client, coordinator, report):
    report_id = report("Ring 070-123 45 67 om labbsvaren som saknas i journalen.")
    with app.app_context():
        before = similarity_service.stored_vectors([report_id])[report_id]
    client.post(f"/triage/reports/{report_id}/redact")
    with app.app_context():
        after = similarity_service.stored_vectors([report_id])[report_id]
        assert after and after == similarity_service.text_vector(
            db.session.get(Report, report_id).text, "sv")
    assert before.keys() >= after.keys()


def test_the_rebuild_command_indexes_every_report(app, runner, make_report):
    ids = [make_report(text) for text in LAB + PRINTER]
    result = runner.invoke(args=["similarity", "rebuild"])
    assert result.exit_code == 0, result.output
    assert f"{len(ids)} reports have terms" in result.output
    with app.app_context():
        assert set(similarity_service.stored_vectors(ids)) == set(ids)


def test_similar_reports_among_many_are_the_near_duplicates(app, report, make_report,
                                                            monkeypatch):
    """Hundreds of other reports, several sharing single words: the duplicates come first."""
    others = [make_report(example.text) for example in load_corpus()[:400]]
    with app.app_context():
        index_reports(others)
    lab = [report(text) for text in LAB]
    printer = [report(text) for text in PRINTER]
    # Few postings per term: the newest reports of each term are still found.
    monkeypatch.setattr(similarity_service, "POSTINGS_PER_TERM", 50)
    with app.app_context():
        found = similar_reports(lab[0], limit=5)
        assert {r.id for r, _ in found[:2]} == set(lab[1:])
        assert all(0 < score <= 1 for _, score in found)
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
        assert found[0][1] > 0.4
        assert {r.id for r, _ in similar_reports(printer[1], limit=1)} == {printer[0]}
        assert lab[0] not in {r.id for r, _ in similar_reports(lab[0])}
        assert similar_reports(4242) == []


def test_a_new_report_is_suggested_for_the_open_known_issue_it_looks_like(
        app, make_user, report):
    coordinator = make_user("coordinator")
    lab_issue = new_issue(app, coordinator, "Lab results missing from the record",
                          [report(text) for text in LAB[:2]])
    printer_issue_report = report(PRINTER[0])
    printer_issue = new_issue(app, coordinator, "Printer labels", [printer_issue_report])
    new, unrelated = report(LAB[2]), report(OTHER)
    with app.app_context():
        suggested = suggest_known_issues(new)
        assert [issue.id for issue, _ in suggested] == [lab_issue]
        assert suggested[0][1] >= 0.25
        assert suggest_known_issues(unrelated) == []
        # A report's own issue is left out. (Its "labels for the samples" shares one term
        # with the lab issue, which scores it at the threshold: 0.25 either side.)
        assert printer_issue not in [issue.id for issue, _ in
                                     suggest_known_issues(printer_issue_report)]


@pytest.fixture
def lab_reports(report):
    return [report(text) for text in LAB]


def test_resolved_known_issues_are_not_suggested(app, client, coordinator, lab_reports):
    issue_id = new_issue(app, coordinator, "Lab results", lab_reports[:2])
    client.post(f"/known-issues/{issue_id}/resolution", data={"note": "Fixed."})
    with app.app_context():
        assert suggest_known_issues(lab_reports[2]) == []


def render_panels(app, report_id: int) -> str:
    with app.test_request_context():
        report = db.session.get(Report, report_id)
        return render_template("triage/_similar.html", report=report, **report_panels(report)) \
            + render_template("triage/_known_issue.html", report=report,
                              **report_panels(report))


def test_the_triage_partials_show_similar_reports_and_known_issues(app, make_user,
                                                                    lab_reports):
    coordinator = make_user("coordinator")
    issue_id = new_issue(app, coordinator, "Lab results missing", lab_reports[:1])
    html = render_panels(app, lab_reports[2])
    similar = html.split('id="known-issue"')[0]
    assert f"/triage/reports/{lab_reports[1]}" in similar and "% similar" in similar
    panel = html.split('id="known-issue"')[1]
    assert f'name="issue" value="{issue_id}"' in panel
    assert f"/known-issues/new?report={lab_reports[2]}" in panel
    html = render_panels(app, lab_reports[0])
    panel = html.split('id="known-issue"')[1]
    assert f'action="/known-issues/{issue_id}/detach"' in panel
    assert "/known-issues/new" not in panel


def test_the_panels_attach_and_come_back_to_the_report(app, client, coordinator, lab_reports):
    issue_id = new_issue(app, coordinator, "Lab results missing", lab_reports[:1])
    back = f"/triage/reports/{lab_reports[1]}#known-issue"
    response = client.post("/known-issues/attach", data={
        "issue": str(issue_id), "report_ids": str(lab_reports[1]), "next": back})
    assert response.headers["Location"] == back
    assert issue_of(app, lab_reports[1]) == issue_id


def test_a_kept_profile_is_read_again_when_its_reports_move_or_its_words_change(
        app, make_user, report, monkeypatch):
    """Profiles are kept for a while (PROFILE_TTL_S); a change here never waits for that."""
    coordinator = make_user("coordinator")
    issue_id = new_issue(app, coordinator, "Printer labels", [report(PRINTER[0])])
    new, lab = report(LAB[2]), [report(text) for text in LAB[:2]]

    def suggested() -> list[int]:
        with app.app_context():
            return [issue.id for issue, _ in suggest_known_issues(new)]

    def change(action, *args) -> None:
        with app.app_context():
            action(issue_id, *args, db.session.get(User, coordinator.id))

    assert suggested() == []  # the printer profile is now kept
    change(attach_reports, lab)
    assert suggested() == [issue_id], "its reports moved: read again"
    reads = []
    original = known_issues_service._read_profiles
    monkeypatch.setattr(known_issues_service, "_read_profiles",
                        lambda issues: reads.append([i.id for i in issues]) or original(issues))
    suggested()
    assert reads == [[]], "kept: nothing read"
    change(edit_known_issue, "Lab results missing", None)
    suggested()
    assert reads[-1] == [issue_id], "a new title is read at once"
    monkeypatch.setattr(known_issues_service, "PROFILE_TTL_S", 0)
    suggested()
    assert reads[-1] == [issue_id], "after PROFILE_TTL_S it is read again"
