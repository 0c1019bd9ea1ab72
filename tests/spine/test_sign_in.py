"""Sign-in soundness (issue 10): no user-name discovery, failures counted exactly under parallel
guesses, and throttling instead of a lock anyone could trigger."""

from __future__ import annotations

import re
import threading
import uuid
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlmodel import Session

from tongban import accounts, create_app
from tongban.models import AuditEvent, User

from ..conftest import DEMO_PASSWORD, Personas, csrf_token
from ..password_cost import PLATFORM_HASHER, QUICK_HASHER

STRANGER = {"REMOTE_ADDR": "203.0.113.9"}
REDIS_URL = "redis://127.0.0.1:6379/0"


def _page_without_volatile_parts(response, username: str) -> str:  # type: ignore[no-untyped-def]
    html = response.get_data(as_text=True).replace(username, "NAME")
    return re.sub(r'value="[^"]*"', 'value=""', html)


def test_unknown_inactive_and_wrong_password_get_the_same_answer(demo, app, session) -> None:  # type: ignore[no-untyped-def]
    inactive = session.scalars(select(User).where(User.username == "clerk")).one()
    inactive.is_active = False
    session.commit()
    answers = {}
    for username in ("citizen", "clerk", "nobody"):
        response = Personas(app.test_client()).login(username, "wrong-password")
        answers[username] = (response.status_code,
                             _page_without_volatile_parts(response, username))
    assert answers["citizen"] == answers["clerk"] == answers["nobody"]
    assert answers["citizen"][0] == 422
    assert "用户名或密码不正确" in answers["citizen"][1]


def test_unknown_inactive_and_wrong_password_do_the_same_work(demo, app, session,
                                                              monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The same timing comes from the same work: one argon2 verification each, whatever the name.
    inactive = session.scalars(select(User).where(User.username == "clerk")).one()
    inactive.is_active = False
    session.commit()
    verified: list[str] = []
    real = accounts._hasher

    class CountingHasher:
        def verify(self, hash_: str, password: str) -> bool:
            verified.append(hash_)
            return real.verify(hash_, password)

        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(real, name)

    monkeypatch.setattr(accounts, "_hasher", CountingHasher())
    for username in ("citizen", "clerk", "nobody"):
        verified.clear()
        Personas(app.test_client()).login(username, "wrong-password")
        assert len(verified) == 1, username
        # each hash as costly as a real one: the hasher's own argon2 parameters
        assert verified[0].split("$")[3] == _parameters(real.hash("x"))


def _parameters(argon2_hash: str) -> str:
    return argon2_hash.split("$")[3]


def test_passwords_are_hashed_with_argon2id_at_19_mib_and_two_passes() -> None:
    # The suite signs in with a cheaper hasher (tests/password_cost.py); the platform's is this.
    assert PLATFORM_HASHER.type.name == "ID"
    assert _parameters(PLATFORM_HASHER.hash("x")) == "m=19456,t=2,p=1"
    assert _parameters(accounts.hash_password("x")) == _parameters(QUICK_HASHER.hash("x"))


def _guess_in_parallel(app: Flask, user_id: int, threads: int, guesses: int) -> None:
    engine = app.extensions["tongban.engine"]
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def guess() -> None:
        try:
            barrier.wait()
            for _ in range(guesses):
                with Session(engine, expire_on_commit=False) as db:
                    db.connection(execution_options={"sqlite_immediate": True})
                    outcome = accounts.authenticate(db, "citizen", "wrong", alert_after=10)
                    assert not outcome.ok
                    db.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    workers = [threading.Thread(target=guess) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, errors


def test_parallel_wrong_passwords_are_each_counted_and_flagged_once(demo, app, session) -> None:  # type: ignore[no-untyped-def]
    user = session.scalars(select(User).where(User.username == "citizen")).one()
    session.commit()
    _guess_in_parallel(app, user.id, threads=8, guesses=3)
    session.expire_all()
    assert session.get(User, user.id).failed_logins == 24
    flagged = session.scalars(select(AuditEvent)
                              .where(AuditEvent.action == "user.login_failures")).all()
    assert len(flagged) == 1 and flagged[0].after == {"failed_logins": 10}


@pytest.fixture(params=["memory://", REDIS_URL])
def limited_app(request, app_config, tmp_path):  # type: ignore[no-untyped-def]
    """The app with low limits, counting in memory or in Redis (a prefix of its own per test,
    so parallel runs and earlier runs never share counters)."""
    from tongban.demo import load_demo

    config = {**app_config, "RATELIMIT_STORAGE_URI": request.param,
              "RATELIMIT_KEY_PREFIX": f"tongban-test-{uuid.uuid4().hex}",
              "LOGIN_RATE_LIMIT_ADDRESS": "8 per minute",
              "LOGIN_RATE_LIMIT_ACCOUNT": "3 per 15 minutes",
              "START_RATE_LIMIT": "2 per minute",
              "SUBMIT_RATE_LIMIT": "2 per minute"}
    application = create_app(config, instance_path=tmp_path / "instance")
    with application.app_context():
        load_demo(application.extensions["tongban.engine"],
                  Path(application.config["DEFINITIONS_DIR"]))
    yield application
    application.extensions["tongban.engine"].dispose()


def _login(client, username: str, password: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password,
                                        "csrf_token": token})


def test_a_stranger_guessing_cannot_lock_the_owner_out(limited_app) -> None:  # type: ignore[no-untyped-def]
    stranger = limited_app.test_client()
    stranger.environ_base.update(STRANGER)
    codes = [_login(stranger, "reviewer", "guess").status_code for _ in range(5)]
    assert codes == [422, 422, 422, 429, 429]
    # even the right password from the guesser's address waits out the window
    assert _login(stranger, "reviewer", DEMO_PASSWORD).status_code == 429
    # the owner, from their own address, signs in as usual
    owner = limited_app.test_client()
    assert _login(owner, "reviewer", DEMO_PASSWORD).status_code == 302


def test_a_throttled_sign_in_gets_a_429_page_in_the_users_language(limited_app) -> None:  # type: ignore[no-untyped-def]
    client = limited_app.test_client()
    for _ in range(3):
        _login(client, "citizen", "guess")
    page = _login(client, "citizen", "guess")
    assert page.status_code == 429
    html = page.get_data(as_text=True)
    assert "<title>请求过于频繁" in html  # a page, not a stack trace
    assert "您在短时间内尝试次数过多，请等待 15 分钟后重试。" in html
    client.post("/settings/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    english = _login(client, "citizen", "guess").get_data(as_text=True)
    assert "Too many requests" in english
    assert "You have made too many attempts in a short time. Wait 15 minutes and try again." \
        in english


def test_right_passwords_do_not_count_towards_the_account_limit(limited_app) -> None:  # type: ignore[no-untyped-def]
    client = limited_app.test_client()
    for _ in range(5):
        assert _login(client, "citizen", DEMO_PASSWORD).status_code == 302


def test_one_address_trying_many_accounts_is_throttled(limited_app) -> None:  # type: ignore[no-untyped-def]
    client = limited_app.test_client()
    codes = [_login(client, f"user{n}", "guess").status_code for n in range(9)]
    assert codes == [422] * 8 + [429]


def test_starting_applications_is_limited_per_account(limited_app) -> None:  # type: ignore[no-untyped-def]
    client = Personas(limited_app.test_client()).as_("citizen")
    token = csrf_token(client, "/services/urban-event-report")
    codes = [client.post("/services/urban-event-report/start",
                         data={"csrf_token": token}).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    other = Personas(limited_app.test_client()).as_("enterprise")  # another account: its own
    assert other.post("/services/urban-event-report/start",
                      data={"csrf_token": csrf_token(other, "/")}).status_code == 302


def test_submitting_is_limited_per_account(limited_app) -> None:  # type: ignore[no-untyped-def]
    client = Personas(limited_app.test_client()).as_("citizen")
    token = csrf_token(client, "/")
    codes = [client.post("/apply/no-such-draft/submit", data={"csrf_token": token}).status_code
             for _ in range(3)]
    assert codes[:2] != [429, 429] and codes[2] == 429
