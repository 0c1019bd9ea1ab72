"""Issue 10 (CPU denial of service): a JSON body is refused with 415 before it is read, on every
route that does not take JSON; a route that opts in parses with the standard parser."""

from __future__ import annotations

import io
import json

import pytest
from werkzeug.test import EnvironBuilder

from tongban.web.json_bodies import accepts_json, json_body

TWENTY_MB = 20 * 1024 * 1024


class CountingInput(io.RawIOBase):
    """A request body of ``size`` bytes that are made only when read, counting them."""

    def __init__(self, size: int):
        self.size, self.read_bytes = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        count = min(len(buffer), self.size - self.read_bytes)
        buffer[:count] = b"[" * count
        self.read_bytes += count
        return count


def _post_big_json(app, path: str, content_type: str = "application/json"):  # type: ignore[no-untyped-def]
    body = CountingInput(TWENTY_MB)
    environ = EnvironBuilder(path=path, method="POST", content_type=content_type).get_environ()
    environ["wsgi.input"] = body
    environ["CONTENT_LENGTH"] = str(TWENTY_MB)
    statuses: list[str] = []
    chunks = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    page = b"".join(chunks).decode("utf-8")
    return statuses[0], page, body.read_bytes


@pytest.mark.parametrize("path", ["/login", "/services/residence-points/start",
                                  "/apply/no-such-token/pages/applicant", "/no-such-page"])
def test_a_20_mb_json_post_is_refused_without_its_body_being_read(app, path) -> None:  # type: ignore[no-untyped-def]
    status, page, read = _post_big_json(app, path)
    assert status.startswith("415")
    assert read == 0
    assert "此页面不接受该格式的数据" in page


def test_a_json_flavoured_content_type_is_refused_too(app) -> None:  # type: ignore[no-untyped-def]
    status, _page, read = _post_big_json(app, "/login", "application/merge-patch+json")
    assert (status[:3], read) == ("415", 0)


def test_the_refusal_is_in_english_for_an_english_visitor(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    with client.session_transaction() as session:
        session["locale"] = "en"
    response = client.post("/login", data="{}", content_type="application/json")
    assert response.status_code == 415
    assert "This page does not accept data in that format." in response.get_data(as_text=True)


def test_a_chunked_json_body_of_unknown_length_is_refused_unread(app) -> None:  # type: ignore[no-untyped-def]
    body = CountingInput(TWENTY_MB)
    environ = EnvironBuilder(path="/login", method="POST",
                             content_type="application/json").get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": body, "HTTP_TRANSFER_ENCODING": "chunked",
                    "wsgi.input_terminated": True})
    statuses: list[str] = []
    b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert (statuses[0][:3], body.read_bytes) == ("415", 0)


def test_a_request_that_only_names_json_without_a_body_is_served(app) -> None:  # type: ignore[no-untyped-def]
    response = app.test_client().get("/login", headers={"Content-Type": "application/json"})
    assert response.status_code == 200


@pytest.fixture
def json_app(app):  # type: ignore[no-untyped-def]
    """The app with one route that opts in to JSON, as a future API route would."""
    @accepts_json
    def echo():  # type: ignore[no-untyped-def]
        return {"received": json_body()}

    app.add_url_rule("/test-json-echo", "test_json_echo", echo, methods=["POST"])
    app.config["WTF_CSRF_ENABLED"] = False  # an API route would authenticate another way
    return app


def test_a_route_that_opts_in_gets_its_json_parsed(json_app) -> None:  # type: ignore[no-untyped-def]
    response = json_app.test_client().post("/test-json-echo", json={"名": [1, {"a": None}]})
    assert response.status_code == 200
    assert response.get_json() == {"received": {"名": [1, {"a": None}]}}


def test_a_route_that_opts_in_refuses_json_nested_past_the_parser(json_app) -> None:  # type: ignore[no-untyped-def]
    body = "[" * 200_000 + "]" * 200_000
    response = json_app.test_client().post("/test-json-echo", data=body,
                                           content_type="application/json")
    assert response.status_code == 400


def test_a_route_that_opts_in_refuses_a_body_over_the_size_limit(json_app) -> None:  # type: ignore[no-untyped-def]
    json_app.config["MAX_CONTENT_LENGTH"] = 1024
    response = json_app.test_client().post("/test-json-echo",
                                           data=json.dumps({"x": "a" * 2048}),
                                           content_type="application/json")
    assert response.status_code == 413
