"""Issue 14 item 8: the users list, role grants scoped by department, deactivate (ends every
session at once), reactivate, reset password, and a user's audit trail."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select
from sqlmodel import col

from tongban.models import Department
from tongban.web.sessions import count_sessions

from ..conftest import Personas
from .staff_world import actions, grants, post, signed_in, text_of, user_named


def _dept_id(session, code: str) -> int:  # type: ignore[no-untyped-def]
    return session.scalars(select(col(Department.id)).where(col(Department.code) == code)).one()


def listed(client, query: str = "") -> set[str]:  # type: ignore[no-untyped-def]
    page = client.get(f"/admin/users{query}").get_data(as_text=True)
    return set(re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>', page))


def test_the_list_finds_users_by_text_department_and_role(personas) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("admin")
    assert listed(client, "?q=rsj_") == {"rsj_xuhui", "rsj_pudong", "rsj_city", "rsj_city2"}
    assert listed(client, "?department=sh-rsj-xuhui") == {"rsj_xuhui", "clerk_xuhui"}
    assert listed(client, "?role=department_admin") == {"deptadmin", "cgjadmin", "gajadmin",
                                                         "cityadmin"}
    # A department covers the ones below it.
    assert listed(client, "?department=sh-rsj&role=reviewer") == {
        "reviewer", "rsj_xuhui", "rsj_pudong", "rsj_city", "rsj_city2"}
    assert listed(client, "?q=王审") == {"reviewer"}  # the display name counts too


def test_a_department_admin_sees_only_the_staff_of_their_departments(personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("deptadmin")  # sh-rsj
    seen = listed(client)
    assert "rsj_xuhui" in seen and "clerk_pudong" in seen
    assert "gaj_city" not in seen and "citizen" not in seen and "admin" not in seen
    other = user_named(session, "gaj_city")
    assert client.get(f"/admin/users/{other.id}").status_code == 404


@pytest.mark.parametrize("username", ["citizen", "reviewer", "clerk"])
def test_people_who_administer_no_department_are_refused(personas, username) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_(username)
    for path in ("/admin/users", "/admin/departments", "/admin/users/import"):
        assert client.get(path).status_code == 403


def test_a_visitor_is_sent_to_sign_in(client, demo) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_platform_admin_grants_and_removes_a_role(personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("admin")
    target = user_named(session, "rsj_xuhui")
    response = post(client, f"/admin/users/{target.id}/grants",
                    {"role": "counter_clerk", "department": "sh-gaj-xuhui"})
    assert response.status_code == 302
    assert ("counter_clerk", _dept_id(session, "sh-gaj-xuhui")) in grants(session, "rsj_xuhui")
    page = client.get(response.headers["Location"])
    assert "角色已授予。" in text_of(page)
    grant_id = next(gid for gid, role in _member_grants(session, target.id)
                    if role == "counter_clerk")
    assert post(client, f"/admin/users/{target.id}/grants/{grant_id}/remove").status_code == 302
    assert ("counter_clerk", _dept_id(session, "sh-gaj-xuhui")) not in grants(session, "rsj_xuhui")
    assert actions(session, target.id)[-2:] == ["user.grant", "user.revoke"]


def _member_grants(session, user_id: int):  # type: ignore[no-untyped-def]
    from tongban.models import Membership

    session.commit()
    return [(m.id, m.role) for m in session.scalars(select(Membership)
                                                    .where(col(Membership.user_id) == user_id))]


def test_a_department_admin_grants_within_their_department(personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("deptadmin")  # department_admin of sh-rsj
    target = user_named(session, "rsj_xuhui")
    response = post(client, f"/admin/users/{target.id}/grants",
                    {"role": "counter_clerk", "department": "sh-rsj-xuhui"})
    assert response.status_code == 302
    assert ("counter_clerk", _dept_id(session, "sh-rsj-xuhui")) in grants(session, "rsj_xuhui")


@pytest.mark.parametrize(("role", "department", "message"), [
    ("counter_clerk", "sh-gaj-xuhui",
     "你只能在自己管理的部门内授予角色；sh-gaj-xuhui 不在其中。"),
    ("platform_admin", "sh-rsj", "只有平台管理员可以授予或移除平台管理员角色。"),
    ("reviewer", "", "请选择部门：你只能在自己管理的部门内授予角色。"),
])
def test_a_department_admin_cannot_grant_outside_or_above(personas, session, role, department,  # type: ignore[no-untyped-def]
                                                           message) -> None:
    client = personas.as_("deptadmin")
    target = user_named(session, "rsj_xuhui")
    before = grants(session, "rsj_xuhui")
    response = post(client, f"/admin/users/{target.id}/grants",
                    {"role": role, "department": department})
    assert response.status_code == 403
    assert message in html.unescape(text_of(response))
    assert grants(session, "rsj_xuhui") == before


@pytest.mark.parametrize(("form", "message"), [
    ({"role": "superuser", "department": "sh-rsj"}, "请从列表中选择角色。"),
    ({"role": "reviewer", "department": "sh-nowhere"}, "没有代码为 sh-nowhere 的部门。"),
    ({"role": "reviewer", "department": "sh-rsj-xuhui"}, "rsj_xuhui 在该部门已有此角色。"),
])
def test_a_grant_with_bad_input_changes_nothing(personas, session, form, message) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("admin")
    target = user_named(session, "rsj_xuhui")
    before = grants(session, "rsj_xuhui")
    response = post(client, f"/admin/users/{target.id}/grants", form)
    assert response.status_code == 422
    assert message in text_of(response)
    assert grants(session, "rsj_xuhui") == before


def test_an_admin_cannot_remove_their_own_admin_role(personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("deptadmin")
    me = user_named(session, "deptadmin")
    grant_id = _member_grants(session, me.id)[0][0]
    response = post(client, f"/admin/users/{me.id}/grants/{grant_id}/remove")
    assert response.status_code == 422
    assert "你不能移除自己的管理员角色：请另一位管理员操作。" in text_of(response)


def test_deactivating_ends_the_users_live_session_at_once(app, personas, session) -> None:  # type: ignore[no-untyped-def]
    their_browser = signed_in(app, "rsj_xuhui")
    assert their_browser.get("/review").status_code == 200
    target = user_named(session, "rsj_xuhui")
    assert count_sessions(session, target.id) == 1
    admin = personas.as_("deptadmin")
    response = post(admin, f"/admin/users/{target.id}/deactivate")
    assert response.status_code == 302
    assert "账号已停用，其所有会话已结束。" in text_of(admin.get(response.headers["Location"]))
    session.commit()
    assert count_sessions(session, target.id) == 0
    again = their_browser.get("/review")
    assert again.status_code == 302 and again.headers["Location"].startswith("/login")
    assert Personas(app.test_client()).login("rsj_xuhui").status_code == 422
    assert user_named(session, "rsj_xuhui").is_active is False
    assert actions(session, target.id)[-1] == "user.deactivate"
    # Reactivated, they sign in again.
    assert post(admin, f"/admin/users/{target.id}/reactivate").status_code == 302
    assert Personas(app.test_client()).login("rsj_xuhui").status_code == 302


def test_a_department_admin_cannot_deactivate_someone_working_elsewhere_too(personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("deptadmin")  # sh-rsj; "reviewer" also reviews for sh-cgj and sh-gaj
    target = user_named(session, "reviewer")
    response = post(client, f"/admin/users/{target.id}/deactivate")
    assert response.status_code == 403
    assert "reviewer 也在你管理的部门以外工作：请联系平台管理员。" in text_of(response)
    assert user_named(session, "reviewer").is_active


def test_no_one_deactivates_themselves(personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("admin")
    me = user_named(session, "admin")
    response = post(client, f"/admin/users/{me.id}/deactivate")
    assert response.status_code == 422 and "你不能停用自己的账号。" in text_of(response)
    assert user_named(session, "admin").is_active


def test_a_reset_password_is_shown_once_and_must_be_changed_at_sign_in(app, personas,  # type: ignore[no-untyped-def]
                                                                     session) -> None:
    their_browser = signed_in(app, "rsj_pudong")
    target = user_named(session, "rsj_pudong")
    admin = personas.as_("admin")
    response = post(admin, f"/admin/users/{target.id}/reset-password")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    password = html.unescape(page.split('<p class="tb-secret" lang="en">')[1].split("</p>")[0])
    assert len(password) >= 14
    assert "no-store" in response.headers["Cache-Control"]
    assert password not in admin.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert their_browser.get("/review").status_code == 302  # their session ended
    assert Personas(app.test_client()).login("rsj_pudong").status_code == 422  # old password
    browser = app.test_client()
    signing_in = Personas(browser).login("rsj_pudong", password)
    assert signing_in.headers["Location"].startswith("/account/password")
    # Until the password changes, every page leads back to the change.
    blocked = browser.get("/review")
    assert blocked.status_code == 302 and blocked.headers["Location"].startswith("/account/password")
    changed = post(browser, "/account/password", {"new": "a-new-pass-2026", "again": "a-new-pass-2026"},
                   page="/account/password")
    assert changed.status_code == 302
    assert browser.get("/review").status_code == 200
    assert user_named(session, "rsj_pudong").must_change_password is False
    assert actions(session, target.id)[-3:] == ["user.reset_password", "user.login",
                                               "user.change_password"]


def test_the_audit_trail_shows_what_they_did_and_what_was_done_to_them(app, personas,  # type: ignore[no-untyped-def]
                                                                      session) -> None:
    signed_in(app, "rsj_city")  # they did: user.login
    target = user_named(session, "rsj_city")
    admin = personas.as_("admin")
    post(admin, f"/admin/users/{target.id}/grants", {"role": "counter_clerk",
                                                     "department": "sh-rsj"})
    page = admin.get(f"/admin/users/{target.id}").get_data(as_text=True)
    trail = page.split('id="trail"')[1]
    assert "user.login" in trail and "user.grant" in trail and "user.create" in trail
    assert trail.index("user.grant") < trail.index("user.login")  # newest first


def test_a_form_without_its_csrf_token_is_refused(personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("admin")
    target = user_named(session, "rsj_city")
    assert client.post(f"/admin/users/{target.id}/deactivate").status_code == 400
    assert user_named(session, "rsj_city").is_active


def test_the_pages_speak_english_too(personas, session) -> None:  # type: ignore[no-untyped-def]
    from ..conftest import csrf_token

    client = personas.as_("deptadmin")
    client.post("/settings/language", data={"locale": "en",
                                            "csrf_token": csrf_token(client, "/admin/users")})
    assert "Users and roles" in client.get("/admin/users").get_data(as_text=True)
    response = post(client, f"/admin/users/{user_named(session, 'rsj_xuhui').id}/grants",
                    {"role": "reviewer", "department": "sh-gaj"})
    assert response.status_code == 403
    assert ("You may grant roles only within your departments; sh-gaj is not one of them."
            in text_of(response))
