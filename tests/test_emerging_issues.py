"""Emerging issues through the client: the list, a group's page and every decision."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.services.grouping import group_report
from app.services.issue_profiles import group_of
from app.services.known_issues import create_known_issue, resolve
from models import (
    EmergingIssue,
    EmergingStatus,
    GroupingExclusion,
    KnownIssue,
    Report,
    User,
    db,
    utcnow,
)

TUBE = [
    "Proverna som skickades med rörposten kom aldrig fram till labbet.",
    "rorposten tappar proverna, labbet har inte fatt nagra prover",
    "Rörposten registrerar inte proverna, labbet säger att de aldrig kommit.",
]
LABELS = ["Etikettskrivaren skriver ut tomma etiketter till provrören.",
          "Etikettskrivaren ger blanka etiketter, kan inte märka provrören."]


def page_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def grouped(app, make_report):
    """Reports submitted in the last hours, each grouped; returns (group id, report ids)."""
    def make(texts, units=("Avdelning 12", "Akuten")) -> tuple[int, list[int]]:
        ids = []
        for i, text in enumerate(texts):
            report_id = make_report(text, unit=units[i % len(units)], area="test_results",
                                    submitted=utcnow() - timedelta(hours=len(texts) - i))
            with app.app_context():
                group_report(report_id)
            ids.append(report_id)
        with app.app_context():
            groups = {group_of(report_id) for report_id in ids}
        assert len(groups) == 1
        return groups.pop(), ids

    return make


def group_row(app, group_id: int) -> EmergingIssue:
    with app.app_context():
        group = db.session.get(EmergingIssue, group_id)
        db.session.expunge(group)
        return group


def known_issue(app, user: User, title: str = "Rörposten") -> int:
    with app.app_context():
        return create_known_issue(title, None, db.session.get(User, user.id)).id


def test_the_list_shows_open_groups_and_counts_the_single_reports(app, client, coordinator,
                                                                   grouped):
    grouped(TUBE)
    single, _ = grouped(LABELS[:1])
    text = page_text(client.get("/emerging-issues/"))
    assert "rörposten" in text
    assert "Avdelning 12 (2), Akuten (1)" in text
    assert group_row(app, single).title not in text
    assert "1 more report is like no other recent report yet." in text
    assert "Emerging issues" in page_text(client.get("/"))  # the menu


def test_the_list_pages_and_refuses_a_bad_page(client, coordinator):
    assert "No emerging issue awaits a decision." in page_text(client.get("/emerging-issues/"))
    assert client.get("/emerging-issues/?page=2").status_code == 200
    assert client.get("/emerging-issues/?colour=red").status_code == 400


def test_a_group_page_shows_members_units_and_areas(app, client, coordinator, grouped):
    group_id, ids = grouped(TUBE)
    text = page_text(client.get(f"/emerging-issues/{group_id}"))
    for report_id in ids:
        assert f"V-{report_id:06d}" in text
    assert "Akuten: 1" in text and "Avdelning 12: 2" in text
    assert "Test results: 3" in text
    assert client.get("/emerging-issues/9999").status_code == 404


def test_confirm_makes_a_known_issue_with_the_title_given(app, client, coordinator, grouped):
    group_id, ids = grouped(TUBE)
    response = client.post(f"/emerging-issues/{group_id}/confirm",
                           data={"title": "Rörposten tappar prover"})
    assert response.status_code == 302
    with app.app_context():
        issue = db.session.scalar(select(KnownIssue))
        assert response.headers["Location"].endswith(f"/known-issues/{issue.id}")
        assert issue.title == "Rörposten tappar prover"
        assert {report.id for report in issue.reports} == set(ids)
    assert group_row(app, group_id).status == EmergingStatus.CONFIRMED
    text = page_text(client.get(f"/emerging-issues/{group_id}"))
    assert "This group is part of the known issue Rörposten tappar prover" in text
    assert "Confirm as a known issue" not in text


def test_confirm_without_a_title_changes_nothing(app, client, coordinator, grouped):
    group_id, _ = grouped(TUBE)
    response = client.post(f"/emerging-issues/{group_id}/confirm", data={"title": " "},
                    follow_redirects=True)
    assert "Title of the known issue: This field is required." in page_text(response)
    assert group_row(app, group_id).is_undecided
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(KnownIssue)) == 0


def test_merge_into_an_open_known_issue(app, client, coordinator, grouped):
    issue_id = known_issue(app, coordinator)
    group_id, ids = grouped(TUBE)
    response = client.post(f"/emerging-issues/{group_id}/merge", data={"target": str(issue_id)})
    assert response.headers["Location"].endswith(f"/known-issues/{issue_id}")
    with app.app_context():
        assert {db.session.get(Report, i).known_issue_id for i in ids} == {issue_id}
    assert group_row(app, group_id).status == EmergingStatus.MERGED


@pytest.mark.parametrize(("target", "message"), [
    ("", "Known issue: Choose a known issue."),
    ("9999", "Nothing was changed: that known issue does not exist."),
    ("resolved", "Nothing was changed: the known issue is resolved. Reopen it first."),
])
def test_merge_into_a_missing_or_resolved_known_issue_changes_nothing(
        app, client, coordinator, grouped, target, message):
    if target == "resolved":
        issue_id = known_issue(app, coordinator, "Old")
        with app.app_context():
            resolve(issue_id, "Fixed.", db.session.get(User, coordinator.id))
        target = str(issue_id)
    group_id, ids = grouped(TUBE)
    response = client.post(f"/emerging-issues/{group_id}/merge",
                           data={"target": target}, follow_redirects=True)
    assert message in page_text(response)
    assert group_row(app, group_id).is_undecided
    with app.app_context():
        assert {db.session.get(Report, i).known_issue_id for i in ids} == {None}


def test_split_the_selected_reports_off(app, client, coordinator, grouped):
    group_id, ids = grouped(TUBE)
    response = client.post(f"/emerging-issues/{group_id}/split",
                           data={"split-report_ids": [str(ids[2])]})
    with app.app_context():
        new_id = group_of(ids[2])
        assert new_id != group_id
        assert db.session.get(GroupingExclusion, (ids[2], group_id)) is not None
    assert response.headers["Location"].endswith(f"/emerging-issues/{new_id}")
    assert group_row(app, group_id).member_count == 2


@pytest.mark.parametrize(("picked", "message"), [
    ([], "Tick at least one report."),
    (["other"], "Nothing was changed: tick reports of this emerging issue"),
    (["all"], "Nothing was changed: tick reports of this emerging issue"),
])
def test_a_bad_split_changes_nothing(app, client, coordinator, grouped, make_report,
                                     picked, message):
    group_id, ids = grouped(TUBE)
    other = make_report("Kaffemaskinen är trasig.")
    chosen = {"other": [str(other)], "all": [str(i) for i in ids]}.get(
        picked[0] if picked else "", [])
    response = client.post(f"/emerging-issues/{group_id}/split",
                           data={"split-report_ids": chosen}, follow_redirects=True)
    assert message in page_text(response)
    assert group_row(app, group_id).member_count == 3


def test_dismiss(app, client, coordinator, grouped):
    group_id, _ = grouped(TUBE)
    response = client.post(f"/emerging-issues/{group_id}/dismiss", data={},
                    follow_redirects=True)
    assert "The emerging issue is dismissed." in page_text(response)
    assert group_row(app, group_id).status == EmergingStatus.DISMISSED
    again = client.post(f"/emerging-issues/{group_id}/dismiss", data={},
                 follow_redirects=True)
    assert "Nothing was changed: the emerging issue is decided already." in page_text(again)


def test_move_a_report_out(app, client, coordinator, grouped, make_report):
    group_id, ids = grouped(TUBE)
    response = client.post(f"/emerging-issues/{group_id}/move-out",
                           data={"report_id": str(ids[0])}, follow_redirects=True)
    assert "The report is out of this emerging issue" in page_text(response)
    with app.app_context():
        assert group_of(ids[0]) is None
    stranger = make_report("Kaffemaskinen är trasig.")
    for report_id in (str(ids[0]), str(stranger), "x"):
        refused = client.post(f"/emerging-issues/{group_id}/move-out",
                              data={"report_id": report_id}, follow_redirects=True)
        assert ("Nothing was changed: that report is not in this emerging issue."
                if report_id != "x" else "Report: This field is required.") in page_text(refused)
    assert group_row(app, group_id).member_count == 2


@pytest.mark.parametrize("action", ["confirm", "merge", "split", "dismiss", "move-out"])
def test_decisions_on_an_unknown_group_are_404(client, coordinator, action):
    assert client.post(f"/emerging-issues/9999/{action}").status_code == 404


def test_staff_may_not_see_emerging_issues(client, make_user, login, grouped):
    group_id, _ = grouped(TUBE)
    login(make_user("staff"))
    assert client.get("/emerging-issues/").status_code == 403
    assert client.get(f"/emerging-issues/{group_id}").status_code == 403
