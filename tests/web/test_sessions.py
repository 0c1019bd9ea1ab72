"""Server-side sessions (issue 10): ended on the server at sign-out, on a password change and on
deactivation; idle and absolute lifetimes; a new id at sign-in; no row for a visitor with
nothing to keep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tongban.models import User, WebSession, utcnow
from tongban.web import sessions

from ..conftest import Personas, csrf_token


def _cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def _replayed(app: Flask, cookie: str) -> FlaskClient:
    """Another browser that sends a copy of the cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def _signed_in(client: FlaskClient) -> bool:
    return "张三" in client.get("/").get_data(as_text=True)


def _rows(session) -> int:  # type: ignore[no-untyped-def]
    session.commit()  # a fresh read, not this session's earlier snapshot
    return session.scalar(select(func.count()).select_from(WebSession))


def _signed_in_citizen(app: Flask) -> FlaskClient:
    return Personas(app.test_client()).as_("citizen")


def _admin_page(client: FlaskClient):  # type: ignore[no-untyped-def]
    return client.get("/my")


def test_a_cookie_replayed_after_sign_out_gets_the_sign_in_page(demo, app) -> None:  # type: ignore[no-untyped-def]
    client = _signed_in_citizen(app)
    cookie = _cookie(client)
    assert cookie and _admin_page(_replayed(app, cookie)).status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    replay = _admin_page(_replayed(app, cookie))
    assert replay.status_code == 302 and replay.headers["Location"].startswith("/login")
    assert not _signed_in(_replayed(app, cookie))


def test_sign_out_deletes_the_session_row(demo, app, session) -> None:  # type: ignore[no-untyped-def]
    client = _signed_in_citizen(app)
    citizen = session.scalars(select(User).where(User.username == "citizen")).one()
    assert sessions.count_sessions(session, citizen.id) == 1
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    session.commit()
    assert sessions.count_sessions(session, citizen.id) == 0


@pytest.mark.parametrize("command", [("users", "set-password", "citizen", "--password",
                                      "a-new-password-2026"),
                                     ("users", "deactivate", "citizen")])
def test_a_password_change_or_deactivation_signs_out_every_session_of_the_user(
        demo, app, cli, command) -> None:  # type: ignore[no-untyped-def]
    phone, laptop = _signed_in_citizen(app), _signed_in_citizen(app)
    clerk = Personas(app.test_client()).as_("clerk")
    assert _signed_in(phone) and _signed_in(laptop)
    result = cli(*command)
    assert result.exit_code == 0, result.output
    assert "2 session(s) ended" in result.output
    assert not _signed_in(phone) and not _signed_in(laptop)
    assert _admin_page(phone).headers["Location"].startswith("/login")
    assert "李窗口" in clerk.get("/").get_data(as_text=True)  # other users stay signed in


def test_the_new_password_works_and_the_old_one_no_longer_does(demo, app, cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("users", "set-password", "citizen", "--password", "a-new-password-2026") \
        .exit_code == 0
    personas = Personas(app.test_client())
    assert personas.login("citizen").status_code == 422
    assert personas.login("citizen", "a-new-password-2026").status_code == 302


def test_a_deactivated_user_cannot_sign_in_and_gets_the_usual_answer(demo, app, cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("users", "deactivate", "citizen").exit_code == 0
    response = Personas(app.test_client()).login("citizen")
    assert response.status_code == 422
    assert "用户名或密码不正确" in response.get_data(as_text=True)


def test_an_unknown_user_name_in_the_user_commands_is_a_clear_error(demo, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("users", "deactivate", "nobody")
    assert result.exit_code == 1 and 'no user named "nobody"' in result.output


def test_a_session_idle_past_the_limit_ends(demo, app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 30)
    client = _signed_in_citizen(app)
    idle = timedelta(minutes=30)
    start = utcnow()
    monkeypatch.setattr(sessions, "utcnow", lambda: start + idle - timedelta(minutes=2))
    assert _signed_in(client)  # in use: the idle clock starts again
    monkeypatch.setattr(sessions, "utcnow",
                        lambda: start + 2 * idle - timedelta(minutes=3))
    assert _signed_in(client)
    monkeypatch.setattr(sessions, "utcnow", lambda: start + 3 * idle)
    assert not _signed_in(client)


def test_a_session_in_constant_use_ends_at_the_absolute_limit(demo, app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client = _signed_in_citizen(app)
    absolute = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
    start = utcnow()
    now = start
    while now < start + absolute - timedelta(hours=1):  # a visit every hour
        now += timedelta(hours=1)
        monkeypatch.setattr(sessions, "utcnow", lambda now=now: now)
        assert _signed_in(client)
    monkeypatch.setattr(sessions, "utcnow", lambda: start + absolute + timedelta(minutes=1))
    assert not _signed_in(client)


def test_sign_in_gives_the_session_a_new_id(demo, app, session) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.get("/login")
    client.get("/login")
    planted = _cookie(client)  # what an attacker could have set in the victim's browser
    assert planted and _rows(session) == 1
    Personas(client).as_("citizen")
    assert _cookie(client) != planted
    assert _rows(session) == 1  # the anonymous row was replaced, not kept beside
    assert not _signed_in(_replayed(app, planted))


@pytest.mark.parametrize("cookie", ["made-up", "", "x" * 500, "\u00e9t\u00e9", "abc%00def"])
def test_an_unknown_or_tampered_id_starts_a_fresh_session(demo, app, session, cookie) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.set_cookie("session", cookie)
    response = client.get("/login")
    assert response.status_code == 200 and not _signed_in(client)
    assert _cookie(client) != cookie


def test_a_changed_character_in_a_signed_in_cookie_is_not_signed_in(demo, app) -> None:  # type: ignore[no-untyped-def]
    cookie = _cookie(_signed_in_citizen(app))
    assert cookie
    forged = ("A" if cookie[0] != "A" else "B") + cookie[1:]
    assert not _signed_in(_replayed(app, forged))
    assert _signed_in(_replayed(app, cookie))


def test_the_table_holds_a_hash_of_the_id_not_the_id(demo, app, session) -> None:  # type: ignore[no-untyped-def]
    cookie = _cookie(_signed_in_citizen(app))
    assert cookie
    hashes = session.scalars(select(WebSession.id_hash)).all()
    assert cookie not in hashes and len(hashes) == 1 and len(hashes[0]) == 64


def test_a_visitor_with_nothing_to_keep_gets_no_row_and_no_cookie(demo, app, session) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    for _ in range(5):
        response = client.get("/healthz")
        assert "Set-Cookie" not in response.headers
    assert _rows(session) == 0


def test_repeated_views_of_an_unchanged_session_write_nothing(demo, app, session) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.get("/")
    client.get("/")
    assert _rows(session) == 1
    seen = session.scalars(select(WebSession.last_seen_at)).one()
    for _ in range(5):
        assert "Set-Cookie" not in client.get("/").headers
    assert _rows(session) == 1 and session.scalars(select(WebSession.last_seen_at)).one() == seen


def test_language_and_elder_mode_are_kept_for_an_anonymous_visitor(demo, app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    token = csrf_token(client, "/")
    client.post("/settings/language", data={"locale": "en", "csrf_token": token, "next": "/"})
    assert 'lang="en"' in client.get("/").get_data(as_text=True)


def test_sessions_purge_deletes_only_expired_rows(demo, app, session, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _signed_in_citizen(app)
    old = utcnow() - timedelta(days=2)
    session.add(WebSession(id_hash="0" * 64, data="{}", created_at=old, last_seen_at=old,
                           expires_at=old + timedelta(hours=12)))
    session.commit()
    assert _rows(session) == 2
    result = cli("sessions", "purge")
    assert result.exit_code == 0 and "Deleted 1 expired session(s)." in result.output
    assert _rows(session) == 1


def test_expired_rows_are_purged_now_and_then_when_sessions_start(demo, app, session) -> None:  # type: ignore[no-untyped-def]
    old = utcnow() - timedelta(days=2)
    session.add(WebSession(id_hash="0" * 64, data="{}", created_at=old, last_seen_at=old,
                           expires_at=old + timedelta(hours=12)))
    session.commit()
    _signed_in_citizen(app)  # the first session this app starts
    assert "0" * 64 not in session.scalars(select(WebSession.id_hash)).all()
