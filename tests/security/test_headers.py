"""Security headers on pages, error pages, downloads and static files."""

import pytest

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def assert_security_headers(response) -> None:
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {"same-origin", "no-referrer"}
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_public_report_form(client):
    response = client.get("/")
    assert response.status_code == 200
    assert_security_headers(response)


def test_error_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert_security_headers(response)


def test_logged_in_triage_pages(client, make_user, login, make_report):
    report_id = make_report()
    login(make_user("coordinator"))
    for path in ("/triage/", f"/triage/reports/{report_id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response)


def test_csv_export_stays_no_store(client, make_user, login):
    login(make_user("researcher"))
    with client.get("/export/reports") as response:  # Closes the streamed body.
        assert response.status_code == 200
        assert_security_headers(response)
        assert response.headers.getlist("Cache-Control") == ["no-store"]


def test_hsts_over_https(client):
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    max_age = int(response.headers["Strict-Transport-Security"].split("=")[1].split(";")[0])
    assert max_age >= 60 * 60 * 24 * 180


def test_no_hsts_over_http(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("base_url", ["http://localhost", "https://localhost"])
def test_static_files_are_cacheable(client, base_url):
    with client.get("/static/vaka.css", base_url=base_url) as response:
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"] == CSP


def test_missing_static_file_is_not_cached(client):
    response = client.get("/static/no-such-file.css")
    assert response.status_code == 404
    assert_security_headers(response)
