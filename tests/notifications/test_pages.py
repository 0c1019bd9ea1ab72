"""What people see: site messages at /my/messages (unread count, mark read, the header link)
and, for platform administrators, the deliveries that wait or failed with a retry button."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from ..conftest import Personas, csrf_token
from ..spine.flow_world import PASSWORD, submit
from .world import deliver, reach, rows, start


def _sign_in(client: FlaskClient, username: str) -> FlaskClient:
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    return client


def _main(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True).split('id="main-content"', 1)[1]


def test_a_citizen_reads_the_site_message_and_marks_it_read(
        tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    submit(world, "one-step")
    client = _sign_in(app.test_client(), "citizen")
    assert "您的申请已提交" not in _main(client, "/my/messages")  # not delivered yet
    deliver(app)
    [row] = rows(world)
    page = client.get("/my/messages").get_data(as_text=True)
    assert 'href="/my/messages">消息<span class="tb-header__count" aria-label="1 条未读">1</span>' in page
    main = page.split('id="main-content"', 1)[1]
    assert f"您的申请已提交（{row.reference}）" in main and "1 条未读消息" in main
    assert f'href="/my/applications/{row.reference}"' in main and "{link}" not in main
    response = client.post("/my/messages/read", data={"message": str(row.id),
                                                      "csrf_token": csrf_token(client, "/my/messages")})
    assert response.status_code == 302 and response.headers["Location"] == "/my/messages"
    main = _main(client, "/my/messages")
    assert "0 条未读消息" in main and "标为已读" not in main
    assert rows(world)[0].read_at is not None


def test_nobody_reads_or_marks_another_person_s_messages(tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    submit(world, "one-step")
    deliver(app)
    [row] = rows(world)
    client = _sign_in(app.test_client(), "citizen2")
    assert row.reference not in _main(client, "/my/messages")
    client.post("/my/messages/read", data={"message": str(row.id),
                                           "csrf_token": csrf_token(client, "/my/messages")})
    assert rows(world)[0].read_at is None
    assert app.test_client().get("/my/messages").status_code == 302  # signed out: to /login


def test_a_permanent_failure_shows_on_the_admin_page_and_is_retried(
        tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    reach(world, "citizen", phone="not-a-number")
    submit(world, "one-step")
    deliver(app)
    sms = next(r for r in rows(world) if r.channel == "sms")
    assert sms.state == "failed"
    client = _sign_in(app.test_client(), "root")
    assert 'href="/admin/notifications"' in _main(client, "/admin")
    main = _main(client, "/admin/notifications")
    assert "<h1 class=\"tb-heading-l\">等待中或失败的通知</h1>" in main
    assert "not a phone number: &#39;not-a-number&#39;" in main and "1 次尝试后失败" in main
    assert f"{sms.reference}" in main and "site" not in main.split("<tbody>")[1]
    response = client.post("/admin/notifications/retry", data={
        "notification": str(sms.id), "csrf_token": csrf_token(client, "/admin/notifications")})
    assert response.status_code == 302
    again = next(r for r in rows(world) if r.channel == "sms")
    assert (again.state, again.attempts) == ("pending", 0)
    assert f"通知 {sms.key} 将重新发送。" in _main(client, response.headers["Location"])


def test_only_platform_admins_open_the_notifications_page(tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    client = _sign_in(app.test_client(), "admin")  # a department admin
    assert client.get("/admin/notifications").status_code == 403
    assert client.post("/admin/notifications/retry", data={
        "notification": "1", "csrf_token": csrf_token(client, "/admin")}).status_code == 403


def test_your_applications_links_to_the_messages(personas: Personas) -> None:
    client = personas.as_("citizen")
    assert 'href="/my/messages">消息</a>' in _main(client, "/my")
