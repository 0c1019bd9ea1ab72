"""Issue 14 item 8: the password policy (length, character classes, history, rotation as a
switch for 等保) stored in the database and applied at password change and reset."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col

from tongban.models import SecuritySetting, User, utcnow
from tongban.staff.passwords import classes_in

from ..conftest import DEMO_PASSWORD, Personas
from .staff_world import actions, post, signed_in, text_of, user_named

POLICY = {"min_length": "12", "min_classes": "3", "history_count": "3", "rotation_days": "90"}


def _save(client, **changes: str):  # type: ignore[no-untyped-def]
    return post(client, "/admin/security", {**POLICY, **changes}, page="/admin/security")


def _stored(session) -> SecuritySetting | None:  # type: ignore[no-untyped-def]
    session.commit()
    return session.get(SecuritySetting, 1)


def test_a_platform_admin_saves_the_policy(personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("admin")
    response = _save(client, rotation_enabled="1")
    assert response.status_code == 302
    policy = _stored(session)
    assert policy is not None and policy.min_length == 12 and policy.min_classes == 3
    assert policy.rotation_enabled and not policy.require_totp_for_staff
    assert "策略已保存" in text_of(client.get(response.headers["Location"]))
    page = client.get("/admin/security").get_data(as_text=True)
    assert 'id="rotation_enabled" name="rotation_enabled" value="1" checked' in page


@pytest.mark.parametrize(("field", "value", "message"), [
    ("min_length", "3", "请输入 8 到 64 之间的整数"),
    ("min_classes", "five", "请输入 1 到 4 之间的整数"),
    ("history_count", "-1", "请输入 0 到 24 之间的整数"),
    ("rotation_days", "", "请输入 1 到 3650 之间的整数"),
])
def test_a_bad_setting_is_named_and_nothing_is_saved(personas, session, field, value,  # type: ignore[no-untyped-def]
                                                     message) -> None:
    client = personas.as_("admin")
    response = _save(client, **{field: value})
    assert response.status_code == 422
    assert message in text_of(response)
    assert f'href="#{field}"' in response.get_data(as_text=True)
    assert _stored(session) is None


def test_only_a_platform_admin_sets_the_policy(personas) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("deptadmin")
    assert client.get("/admin/security").status_code == 403


def _change(client, new: str, current: str = DEMO_PASSWORD, again: str | None = None):  # type: ignore[no-untyped-def]
    return post(client, "/account/password", {"current": current, "new": new,
                                              "again": new if again is None else again},
                page="/account/password")


@pytest.mark.parametrize(("new", "current", "again", "message"), [
    ("Short1!", DEMO_PASSWORD, None, "密码至少须有 12 个字符"),
    ("onlylowercaseletters", DEMO_PASSWORD, None,
     "密码须至少包含以下 3 种字符：小写字母、大写字母、数字、其他字符"),
    (DEMO_PASSWORD, DEMO_PASSWORD, None, "请选择与最近 3 次密码都不同的新密码"),
    ("Good-Password-2026", "wrong", None, "当前密码不正确"),
    ("Good-Password-2026", DEMO_PASSWORD, "Good-Password-2027", "两次输入的新密码不一致"),
    ("", DEMO_PASSWORD, None, "请输入新密码"),
])
def test_a_password_against_the_policy_is_refused(app, personas, session, new, current, again,  # type: ignore[no-untyped-def]
                                                  message) -> None:
    _save(personas.as_("admin"))
    client = signed_in(app, "rsj_city")
    response = _change(client, new, current, again)
    assert response.status_code == 422
    assert message in html.unescape(text_of(response))
    assert Personas(app.test_client()).login("rsj_city").status_code == 302  # unchanged


def test_the_last_passwords_cannot_come_back(app, personas, session) -> None:  # type: ignore[no-untyped-def]
    _save(personas.as_("admin"))
    client = signed_in(app, "rsj_city")
    assert _change(client, "First-Pass-2026").status_code == 302
    assert _change(client, "Second-Pass-2026", "First-Pass-2026").status_code == 302
    refused = _change(client, DEMO_PASSWORD, "Second-Pass-2026")  # two changes ago
    assert refused.status_code == 422
    assert _change(client, "Third-Pass-2026", "Second-Pass-2026").status_code == 302
    # Three passwords later the first one is allowed again.
    assert _change(client, DEMO_PASSWORD, "Third-Pass-2026").status_code == 302
    target = user_named(session, "rsj_city")
    assert actions(session, target.id).count("user.change_password") == 4


def test_a_change_ends_the_other_sessions_and_keeps_this_one(app, demo, session) -> None:  # type: ignore[no-untyped-def]
    other = signed_in(app, "rsj_city")
    client = signed_in(app, "rsj_city")
    assert _change(client, "Brand-New-Pass-1").status_code == 302
    assert client.get("/review").status_code == 200
    assert other.get("/review").status_code == 302


def test_a_reset_password_meets_the_policy(personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("admin")
    _save(client, min_length="20", min_classes="4")
    target = user_named(session, "rsj_city")
    page = post(client, f"/admin/users/{target.id}/reset-password").get_data(as_text=True)
    password = html.unescape(page.split('<p class="tb-secret" lang="en">')[1].split("</p>")[0])
    assert len(password) >= 20 and classes_in(password) == 4


def test_rotation_asks_for_a_new_password_when_due_and_only_when_switched_on(app, personas,  # type: ignore[no-untyped-def]
                                                                              session) -> None:
    session.execute(update(User).where(col(User.username) == "rsj_city")
                    .values(password_changed_at=utcnow() - timedelta(days=91)))
    session.commit()
    admin = personas.as_("admin")
    _save(admin)
    assert Personas(app.test_client()).login("rsj_city").headers["Location"] == "/review"
    _save(admin, rotation_enabled="1")
    browser = app.test_client()
    response = Personas(browser).login("rsj_city")
    assert response.headers["Location"].startswith("/account/password")
    assert "请设置新密码" in text_of(browser.get(response.headers["Location"]))
    assert _change(browser, "Rotated-Pass-2026", current="").status_code == 302
    assert Personas(app.test_client()).login("rsj_city", "Rotated-Pass-2026").headers[
        "Location"] == "/review"


@pytest.mark.parametrize(("password", "message"), [
    ("short-1", "Your password must be at least 12 characters long"),
    ("alllowercaseletters", "Your password must mix at least 3 of"),
    (DEMO_PASSWORD, "Choose a password you have not used"),
])
def test_the_command_line_refuses_a_password_the_policy_refuses(app, personas, session, cli,  # type: ignore[no-untyped-def]
                                                                password, message) -> None:
    _save(personas.as_("admin"))
    before = user_named(session, "rsj_city").password_hash
    result = cli("users", "set-password", "rsj_city", "--password", password)
    assert result.exit_code == 1 and message in result.output, result.output
    assert user_named(session, "rsj_city").password_hash == before
    assert "user.set_password" not in actions(session, user_named(session, "rsj_city").id)
    assert cli("users", "set-password", "rsj_city", "--password", "Policy-Fine-2026").exit_code == 0
    assert Personas(app.test_client()).login(
        "rsj_city", "Policy-Fine-2026").status_code == 302
