"""Staff follow the reports they sent with their name, and answer the coordinators."""

import re

import pytest

from tests.helpers import (
    BAD_BODIES,
    days_ago,
    events,
    page_text,
    send_as_coordinator,
    stored_messages,
)


@pytest.fixture
def staff(make_user, login):
    user = make_user("staff")
    login(user)
    return user


def references(page: str) -> list[str]:
    return re.findall(r">(V-\d{6})<", page)


def test_my_reports_lists_only_my_named_reports_newest_first(client, staff, make_user,
                                                             make_report):
    mine = [make_report(f"Min rapport nummer {n}", reporter=staff, submitted=days_ago(10 - n))
            for n in range(3)]
    make_report("Någon annans rapport", reporter=make_user())
    make_report("En anonym rapport")
    response = client.get("/report/mine")
    assert response.status_code == 200
    assert references(response.get_data(as_text=True)) == [f"V-{i:06d}" for i in reversed(mine)]


def test_my_reports_is_paginated(client, staff, make_report):
    ids = [make_report(f"Rapport {n}", reporter=staff, submitted=days_ago(10 - n))
           for n in range(7)]
    newest_first = [f"V-{i:06d}" for i in reversed(ids)]
    assert references(client.get("/report/mine").get_data(as_text=True)) == newest_first[:5]
    assert references(client.get("/report/mine?page=2").get_data(as_text=True)) == \
        newest_first[5:]


def test_my_reports_without_any_says_so_and_points_to_the_receipt_page(client, staff):
    page = page_text(client.get("/report/mine"))
    assert "You have not sent a report with your name yet." in page
    assert "follow them with their receipt code" in page


@pytest.mark.parametrize("query", ["page=0", "page=abc", "sort=id"])
def test_my_reports_rejects_bad_parameters(client, staff, query):
    assert client.get(f"/report/mine?{query}").status_code == 400


@pytest.mark.parametrize(("role", "allowed"), [("staff", True), ("coordinator", True),
                                               ("researcher", False), ("admin", False)])
def test_who_may_follow_their_own_reports(client, make_user, login, role, allowed):
    login(make_user(role))
    page = client.get("/").get_data(as_text=True)
    assert ('href="/report/mine"' in page) is allowed
    assert client.get("/report/mine").status_code == (200 if allowed else 403)


def test_a_visitor_is_sent_to_log_in(client, make_user, make_report):
    report_id = make_report(reporter=make_user())
    assert 'href="/report/mine"' not in client.get("/").get_data(as_text=True)
    for path in ("/report/mine", f"/report/mine/{report_id}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_my_report_shows_text_status_categories_and_messages(app, client, staff, make_user,
                                                             make_report):
    report_id = make_report("Etiketterna blev fel <script>x</script>", reporter=staff,
                            status="in_progress", is_safety=True, is_training=False,
                            is_functionality=True)
    coordinator = make_user("coordinator", email="samordnare@example.org")
    send_as_coordinator(app, report_id, coordinator, "Vilken skrivare var det?")
    response = client.get(f"/report/mine/{report_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Etiketterna blev fel &lt;script&gt;x&lt;/script&gt;" in html
    page = page_text(response)
    assert "In progress" in page and "Patient safety" in page and "Functionality" in page
    assert re.search(r"Coordination group,\s*\d{4}-\d\d-\d\d\s*Vilken skrivare var det\?", page)
    assert "samordnare@example.org" not in page
    [event] = events(app, "report.view")
    assert (event.actor_id, event.object_id) == (staff.id, str(report_id))


def test_another_users_report_is_404_and_cannot_be_answered(app, client, staff, make_user,
                                                            make_report):
    theirs = make_report("Någon annans rapport", reporter=make_user())
    assert client.get(f"/report/mine/{theirs}").status_code == 404
    response = client.post(f"/report/mine/{theirs}", data={"body": "Hej", "send": "1"})
    assert response.status_code == 404
    assert stored_messages(app, theirs) == []
    assert events(app, "report.view") == []


def test_an_anonymous_report_is_404_even_for_the_one_who_sent_it(app, client, staff, make_unit):
    unit = make_unit()
    client.post("/", data={"kind": "incident", "unit_id": str(unit.id), "area": "other",
                           "impact": "none", "occurred_at": "2026-03-01T10:00",
                           "identity": "anonymous", "text": "Systemet hängde sig igen.",
                           "submission_token": "a" * 30})
    assert client.get("/report/mine/1").status_code == 404
    assert references(client.get("/report/mine").get_data(as_text=True)) == []


def test_an_unknown_report_is_404(client, staff):
    assert client.get("/report/mine/4242").status_code == 404


def test_i_answer_on_my_report_without_my_name_on_the_message(app, client, staff, make_report):
    report_id = make_report(reporter=staff)
    response = client.post(f"/report/mine/{report_id}",
                           data={"body": "Det var skrivaren i korridoren.", "send": "1"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/report/mine/{report_id}#messages")
    [message] = stored_messages(app, report_id)
    assert (message.author, message.author_id) == ("reporter", None)
    page = page_text(client.get(f"/report/mine/{report_id}"))
    assert "Your answer is sent." in page
    assert re.search(r"You,\s*\d{4}-\d\d-\d\d\s*Det var skrivaren i korridoren.", page)
    [event] = events(app, "report.answer")
    assert (event.actor_id, event.object_id) == (staff.id, str(report_id))
    assert event.details == {"message_id": message.id}


def test_the_coordinator_sees_my_answer_as_the_reporters(app, client, staff, make_user, login,
                                                         make_report):
    report_id = make_report(reporter=staff)
    client.post(f"/report/mine/{report_id}", data={"body": "Mitt svar", "send": "1"})
    login(make_user("coordinator"))
    page = page_text(client.get(f"/triage/reports/{report_id}"))
    assert re.search(r"Reporter,\s*\d{4}-\d\d-\d\d\s*Mitt svar", page)


@pytest.mark.parametrize(("body", "error"), BAD_BODIES)
def test_a_bad_answer_shows_an_error_and_keeps_the_text(app, client, staff, make_report, body,
                                                        error):
    report_id = make_report(reporter=staff)
    response = client.post(f"/report/mine/{report_id}", data={"body": body, "send": "1"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert error in html
    assert body.strip() in html
    assert stored_messages(app, report_id) == []
    assert events(app, "report.answer") == []
