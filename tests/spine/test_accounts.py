"""Sign-in, counted failures, and role checks."""

from __future__ import annotations

from sqlalchemy import select

from tongban.models import AuditEvent, User

from ..conftest import DEMO_PASSWORD, csrf_token


def test_a_citizen_signs_in_and_out(personas, client) -> None:  # type: ignore[no-untyped-def]
    response = personas.login("citizen")
    # A citizen lands on their applications; staff land on the review inbox.
    assert response.status_code == 302 and response.headers["Location"] == "/my"
    assert "张三" in client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert "张三" not in client.get("/").get_data(as_text=True)


def test_a_wrong_password_says_so_without_saying_which_part(personas) -> None:  # type: ignore[no-untyped-def]
    response = personas.login("citizen", "wrong")
    assert response.status_code == 422
    assert "用户名或密码不正确" in response.get_data(as_text=True)


def test_ten_wrong_passwords_do_not_lock_the_owner_out_but_are_flagged(
        personas, client, session) -> None:  # type: ignore[no-untyped-def]
    # Issue 10: a stranger posting wrong passwords must not lock the account's owner out.
    for _ in range(10):
        assert personas.login("citizen", "wrong").status_code == 422
    user = session.scalars(select(User).where(User.username == "citizen")).one()
    assert user.failed_logins == 10
    flagged = session.scalars(select(AuditEvent)
                              .where(AuditEvent.action == "user.login_failures")).one()
    assert flagged.after == {"failed_logins": 10}

    assert personas.login("citizen", DEMO_PASSWORD).status_code == 302
    assert "张三" in client.get("/").get_data(as_text=True)


def test_a_right_password_resets_the_failure_count(personas, session) -> None:  # type: ignore[no-untyped-def]
    personas.login("citizen", "wrong")
    assert personas.login("citizen").status_code == 302
    session.expire_all()
    assert session.scalars(select(User).where(User.username == "citizen")).one().failed_logins == 0


def test_an_unknown_user_gets_the_same_message(personas) -> None:  # type: ignore[no-untyped-def]
    response = personas.login("nobody", "whatever")
    assert response.status_code == 422
    assert "用户名或密码不正确" in response.get_data(as_text=True)


def test_an_empty_form_asks_for_both_fields(client, demo) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"csrf_token": csrf_token(client)})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请输入用户名" in page and "请输入密码" in page
    assert 'href="#username"' in page  # the error summary links to the field


def test_the_outsider_is_refused_the_admin_pages_with_a_403_page(personas) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("outsider")
    response = client.get("/admin/definitions")
    assert response.status_code == 403
    assert "您没有权限查看此页面" in response.get_data(as_text=True)


def test_a_citizen_is_refused_the_admin_pages(personas) -> None:  # type: ignore[no-untyped-def]
    assert personas.as_("citizen").get("/admin/definitions").status_code == 403


def test_an_admin_sees_the_published_versions(personas) -> None:  # type: ignore[no-untyped-def]
    response = personas.as_("admin").get("/admin/definitions")
    assert response.status_code == 200
    assert "residence-points" in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(demo, client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/admin/definitions")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_sign_in_never_redirects_off_site(personas, client) -> None:  # type: ignore[no-untyped-def]
    token = csrf_token(client)
    response = client.post("/login", data={"username": "citizen", "password": DEMO_PASSWORD,
                                            "csrf_token": token, "next": "//evil.example/"})
    assert response.headers["Location"] == "/my"  # the landing page, never the other site


def test_the_session_cookie_is_httponly_and_samesite_lax(personas) -> None:  # type: ignore[no-untyped-def]
    response = personas.login("citizen")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
