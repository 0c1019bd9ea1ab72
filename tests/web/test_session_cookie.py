"""Session cookies are kept opened once their signature has been checked (web._SessionInterface):
the same cookies and the same refusals as Flask's own signed-cookie sessions."""

from __future__ import annotations

import time

from flask import request, session


def _cookie(client) -> str:  # type: ignore[no-untyped-def]
    return client.get_cookie("session").value


def _signed_in(app, cookie: str) -> bool:  # type: ignore[no-untyped-def]
    fresh = app.test_client()
    fresh.set_cookie("session", cookie)
    return "张三" in fresh.get("/").get_data(as_text=True)


def test_a_kept_cookie_past_the_idle_limit_is_refused(demo, app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import Personas

    client = Personas(app.test_client()).as_("citizen")
    cookie = _cookie(client)
    assert _signed_in(app, cookie)  # opened and kept
    limit = app.permanent_session_lifetime.total_seconds()
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + limit - 5)
    assert _signed_in(app, cookie)
    monkeypatch.setattr(time, "time", lambda: now + limit + 5)
    assert not _signed_in(app, cookie)
    monkeypatch.setattr(time, "time", lambda: now - 60)  # signed "in the future": refused too
    assert not _signed_in(app, cookie)


def test_a_changed_cookie_is_refused_after_the_real_one_was_kept(demo, app) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import Personas

    cookie = _cookie(Personas(app.test_client()).as_("citizen"))
    assert _signed_in(app, cookie)
    payload, _, signature = cookie.rpartition(".")
    forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    assert not _signed_in(app, forged)
    assert not _signed_in(app, cookie[:-1])


def test_each_request_gets_its_own_copy_of_a_kept_session(demo, app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    with client.session_transaction() as stored:
        stored["draft_tokens"] = ["one"]
        stored["nested"] = {"list": [1]}
    cookie = _cookie(client)
    for _ in range(2):
        with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}):
            opened = app.session_interface.open_session(app, request)
            assert opened["draft_tokens"] == ["one"] and opened["nested"] == {"list": [1]}
            opened["draft_tokens"].append("two")  # changed in place, in this request only
            opened["nested"]["list"].append(2)
            assert not opened.modified


def test_a_session_read_in_a_view_is_not_sent_back_unchanged(demo, app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.get("/")  # a CSRF token: the session exists
    client.get("/")  # and the visitor's identifier (web._anonymous_session_identity)
    response = client.get("/login")
    assert "session=" not in response.headers.get("Set-Cookie", "")
    with app.test_request_context("/", headers={"Cookie": f"session={_cookie(client)}"}):
        app.preprocess_request()
        assert "csrf_token" in session
