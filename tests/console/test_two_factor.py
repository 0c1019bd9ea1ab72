"""Issue 14 item 8: TOTP two-step verification for staff, with real codes from pyotp:
enrolment with a QR code, the second sign-in step, replay refused, recovery codes, the
policy switch that requires it of staff, and an administrator's reset."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from flask.testing import FlaskClient

from ..conftest import Personas
from .staff_world import actions, post, signed_in, text_of, user_named


def _enrol(client: FlaskClient) -> tuple[str, list[str], str]:
    """Set up two-step verification in ``client``; returns the secret, the recovery codes and
    where the page goes on to."""
    page = client.get("/account/two-step").get_data(as_text=True)
    assert "<svg" in page and 'role="img"' in page
    secret = re.search(r'<span class="tb-secret" lang="en">([A-Z2-7 ]+)</span>', page)
    assert secret
    key = secret.group(1).replace(" ", "")
    response = post(client, "/account/two-step", {"code": pyotp.TOTP(key).now()},
                    page="/login")
    assert response.status_code == 200, text_of(response)
    body = response.get_data(as_text=True)
    codes = re.findall(r'<code class="tb-secret">([0-9a-f]{6}-[0-9a-f]{6})</code>', body)
    target = re.search(r'<a class="tb-button" href="([^"]+)"', body)
    assert target
    return key, codes, target.group(1)


def _next_code(key: str) -> str:
    """The code of the next 30-second step: accepted (clocks drift), and never the one
    enrolment used."""
    return pyotp.TOTP(key).at(time.time() + 30)


def _password_step(app) -> tuple[FlaskClient, str]:  # type: ignore[no-untyped-def]
    browser = app.test_client()
    response = Personas(browser).login("rsj_city")
    assert response.status_code == 302
    return browser, response.headers["Location"]


def test_enrolment_with_a_real_code_turns_it_on_and_gives_ten_recovery_codes(app, demo, session) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(app, "rsj_city")
    key, codes, _target = _enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    user = user_named(session, "rsj_city")
    assert user.totp_secret == key and user.totp_enabled_at is not None
    assert actions(session, user.id)[-1] == "user.totp_enable"


def test_a_wrong_enrolment_code_turns_nothing_on(app, demo, session) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(app, "rsj_city")
    client.get("/account/two-step")
    response = post(client, "/account/two-step", {"code": "000000"}, page="/login")
    assert response.status_code == 422
    assert "验证码不正确：请输入应用当前显示的 6 位验证码。" in text_of(response)
    assert user_named(session, "rsj_city").totp_secret is None


def test_sign_in_asks_for_the_code_and_a_code_works_once(app, demo, session) -> None:  # type: ignore[no-untyped-def]
    key, _codes, _target = _enrol(signed_in(app, "rsj_city"))
    user_id = user_named(session, "rsj_city").id
    logins = actions(session, user_id).count("user.login")
    browser, location = _password_step(app)
    assert location == "/login/verify"
    assert browser.get("/review").status_code == 302  # not signed in yet
    # The trail tells the password step from a completed sign-in.
    assert actions(session, user_id)[-1] == "user.password_ok"
    assert actions(session, user_id).count("user.login") == logins
    code = _next_code(key)
    response = post(browser, "/login/verify", {"code": code}, page="/login/verify")
    assert response.status_code == 302 and response.headers["Location"] == "/review"
    assert browser.get("/review").status_code == 200
    assert actions(session, user_id)[-1] == "user.login"
    assert actions(session, user_id).count("user.login") == logins + 1
    # The same code again, in another browser: refused.
    other, _ = _password_step(app)
    replay = post(other, "/login/verify", {"code": code}, page="/login/verify")
    assert replay.status_code == 422
    assert "验证码不正确或已使用过：请输入应用当前显示的验证码，或一个恢复码" in text_of(replay)
    assert other.get("/review").status_code == 302


def test_a_recovery_code_signs_in_once(app, demo, session) -> None:  # type: ignore[no-untyped-def]
    _key, codes, _target = _enrol(signed_in(app, "rsj_city"))
    browser, _ = _password_step(app)
    response = post(browser, "/login/verify", {"code": codes[3].upper()}, page="/login/verify")
    assert response.status_code == 302
    again, _ = _password_step(app)
    assert post(again, "/login/verify", {"code": codes[3]}, page="/login/verify").status_code == 422
    assert "user.recovery_code_used" in actions(session, user_named(session, "rsj_city").id)


def test_five_wrong_codes_ask_for_the_password_again(app, demo, session) -> None:  # type: ignore[no-untyped-def]
    _enrol(signed_in(app, "rsj_city"))
    browser, _ = _password_step(app)
    for _ in range(4):
        assert post(browser, "/login/verify", {"code": "123456"},
                    page="/login/verify").status_code == 422
    last = post(browser, "/login/verify", {"code": "123456"}, page="/login/verify")
    assert "验证码错误次数过多：请重新输入用户名和密码" in text_of(last)
    assert "登录已超时" in text_of(browser.get("/login/verify"))


def test_an_empty_code_is_asked_for(app, demo) -> None:  # type: ignore[no-untyped-def]
    _enrol(signed_in(app, "rsj_city"))
    browser, _ = _password_step(app)
    response = post(browser, "/login/verify", {"code": " "}, page="/login/verify")
    assert response.status_code == 422
    assert "请输入身份验证器应用中的 6 位验证码" in text_of(response)


def test_the_policy_switch_makes_staff_enrol_before_they_are_signed_in(app, personas,  # type: ignore[no-untyped-def]
                                                                       session) -> None:
    admin = personas.as_("admin")
    post(admin, "/admin/security", {"min_length": "8", "min_classes": "1", "history_count": "0",
                                    "rotation_days": "90", "require_totp_for_staff": "1"},
         page="/admin/security")
    browser, location = _password_step(app)
    assert location == "/login/verify"
    assert browser.get("/login/verify").headers["Location"] == "/account/two-step"
    assert browser.get("/review").status_code == 302  # not signed in until enrolled
    user_id = user_named(session, "rsj_city").id
    assert actions(session, user_id)[-1] == "user.password_ok"
    _key, codes, target = _enrol(browser)
    assert target == "/review" and len(codes) == 10
    assert browser.get("/review").status_code == 200
    assert actions(session, user_id)[-2:] == ["user.totp_enable", "user.login"]
    # Applicants are not staff: they sign in with their password alone.
    citizen = Personas(app.test_client()).login("citizen")
    assert citizen.headers["Location"] == "/my"


def test_an_admin_resets_a_lost_authenticator(app, personas, session) -> None:  # type: ignore[no-untyped-def]
    _enrol(signed_in(app, "rsj_city"))
    target = user_named(session, "rsj_city")
    admin = personas.as_("admin")
    response = post(admin, f"/admin/users/{target.id}/reset-two-factor")
    assert response.status_code == 302
    assert user_named(session, "rsj_city").totp_secret is None
    _browser, location = _password_step(app)
    assert location == "/review"
    refused = post(admin, f"/admin/users/{target.id}/reset-two-factor")
    assert refused.status_code == 422 and "rsj_city 尚未开启两步验证。" in text_of(refused)


@pytest.mark.parametrize("path", ["/login/verify", "/account/two-step"])
def test_the_second_step_without_a_password_step_goes_back_to_sign_in(client, demo, path) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code in (302, 422)
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")
    else:
        assert "登录已超时" in text_of(response)


def test_a_password_alone_cannot_replace_an_enrolled_authenticator(app, demo, session) -> None:  # type: ignore[no-untyped-def]
    key, _codes, _target = _enrol(signed_in(app, "rsj_city"))
    browser, location = _password_step(app)
    assert location == "/login/verify"
    response = browser.get("/account/two-step")
    assert response.status_code == 302 and response.headers["Location"] == "/login/verify"
    attempt = post(browser, "/account/two-step", {"code": "123456"}, page="/login")
    assert attempt.status_code == 302 and attempt.headers["Location"] == "/login/verify"
    assert user_named(session, "rsj_city").totp_secret == key
    assert browser.get("/review").status_code == 302


def test_a_signed_in_user_replaces_the_authenticator_only_with_a_code_of_the_one_in_use(  # type: ignore[no-untyped-def]
        app, demo, session) -> None:
    """A session left open is not enough to move two-step verification to another phone: the
    replacement asks for a code of the app in use (or a recovery code)."""
    client = signed_in(app, "rsj_city")
    key, codes, _target = _enrol(client)
    page = client.get("/account/two-step").get_data(as_text=True)
    assert 'id="current"' in page
    new_key = re.search(r'<span class="tb-secret" lang="en">([A-Z2-7 ]+)</span>', page)
    assert new_key
    new_code = pyotp.TOTP(new_key.group(1).replace(" ", "")).now()
    missing = post(client, "/account/two-step", {"code": new_code}, page="/login")
    assert missing.status_code == 422
    assert "请输入您现在使用的验证器应用显示的验证码，或一个恢复码" in text_of(missing)
    wrong = post(client, "/account/two-step", {"code": new_code, "current": "000000"},
                 page="/login")
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.get_data(as_text=True)
    assert user_named(session, "rsj_city").totp_secret == key  # nothing changed
    done = post(client, "/account/two-step", {"code": new_code, "current": codes[0]},
                page="/login")
    assert done.status_code == 200, text_of(done)
    assert user_named(session, "rsj_city").totp_secret == new_key.group(1).replace(" ", "")
