"""Where a request may send the browser next (issue 10): only a path on this site, checked by
one function in every view that redirects to a target the request names."""

from __future__ import annotations

import pytest

from tongban.web.auth import safe_redirect_target

from ..conftest import DEMO_PASSWORD, csrf_token

ACCEPTED = ["/", "/my", "/services/residence-points?step=2#top", "/apply/abc/pages/x",
            "/path/with//double", "/中文"]
REFUSED = [None, "", "my", "//evil.example", "///evil.example", "/\\evil.example",
           "\\\\evil.example", "/\\/evil.example", "/a\\b", "https://evil.example/",
           "http:/evil.example", "javascript:alert(1)", " /my", "/\t/evil.example",
           "/\n/evil.example", "/my\r\nSet-Cookie: x=1", "/\x00", "/\x7f", "/\x85",
           "//evil.example/%2F.."]


@pytest.mark.parametrize("target", ACCEPTED)
def test_a_path_on_this_site_is_accepted(app, target: str) -> None:
    with app.test_request_context("/"):
        assert safe_redirect_target(target) == target


@pytest.mark.parametrize("target", REFUSED)
def test_anything_else_falls_back_to_the_home_page(app, target: str | None) -> None:
    with app.test_request_context("/"):
        assert safe_redirect_target(target) == "/"
        assert safe_redirect_target(target, "/my") == "/my"


@pytest.mark.parametrize("target", ["/\\evil.example", "//evil.example", "/\t/evil.example"])
def test_sign_in_does_not_redirect_off_site(personas, client, target: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"username": "citizen", "password": DEMO_PASSWORD,
                                            "csrf_token": csrf_token(client), "next": target})
    # An unsafe target is dropped for the landing page: an applicant's is their applications.
    assert response.status_code == 302 and response.headers["Location"] == "/my"


@pytest.mark.parametrize("path,data", [("/settings/language", {"locale": "en"}),
                                       ("/settings/elder", {"on": "1"}),
                                       ("/settings/session", {})])
def test_the_settings_pages_do_not_redirect_off_site(demo, client, path: str, data) -> None:  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/")
    response = client.post(path, data={**data, "csrf_token": token, "next": "/\\evil.example"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    kept = client.post(path, data={**data, "csrf_token": token, "next": "/my"})
    assert kept.headers["Location"] == "/my"
