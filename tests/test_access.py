"""Who may open what: every protected page for every role."""

import pytest

from tests.helpers import decision, fetch_report

PAGES = {
    "/": {"visitor", "staff", "coordinator", "researcher", "admin"},
    "/status": {"visitor", "staff", "coordinator", "researcher", "admin"},
    "/triage/": {"coordinator"},
    "/triage/reports/{report_id}": {"coordinator"},
    "/export/": {"coordinator", "researcher"},
    "/export/reports": {"coordinator", "researcher"},
    "/admin/models": {"coordinator", "admin"},
    "/admin/audit": {"admin"},
}


@pytest.mark.parametrize("role", ["visitor", "staff", "coordinator", "researcher", "admin"])
@pytest.mark.parametrize("path", list(PAGES))
def test_role_access(client, make_user, make_report, login, role, path):
    report_id = make_report()
    if role != "visitor":
        login(make_user(role))
    response = client.get(path.format(report_id=report_id))
    if role in PAGES[path]:
        assert response.status_code == 200
    elif role == "visitor":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ["staff", "researcher", "admin"])
def test_only_coordinators_can_change_a_report(app, client, make_user, make_report, login, role):
    report_id = make_report()
    login(make_user(role))
    response = client.post(f"/triage/reports/{report_id}",
                           data=decision(categories=["safety"], status="closed"))
    assert response.status_code == 403
    assert fetch_report(app, report_id).status == "new"


def test_unknown_report_is_404(client, make_user, login):
    login(make_user("coordinator"))
    assert client.get("/triage/reports/424242").status_code == 404
