"""A person's contact settings (/my/settings): email, mobile number, language and the channels
notifications come by. Bad input is refused with the exact message beside its field and changes
nothing; a change is audited; the outbox sends only where the person asked (issue 15)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlmodel import col

from tongban.models import AuditEvent, User

from ..conftest import csrf_token
from ..spine.flow_world import PASSWORD, World, submit
from .world import reach, rows, start

GOOD = {"email": "zhang.san@example.cn", "phone": "138 0013 8000", "language": "zh",
        "by_email": "1", "by_sms": "1"}


def _sign_in(client: FlaskClient, username: str = "citizen") -> FlaskClient:
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    return client


def _post(client: FlaskClient, answers: dict[str, str]) -> Any:
    return client.post("/my/settings", data={**answers,
                                             "csrf_token": csrf_token(client, "/my/settings")})


def _main(html: str) -> str:
    return html.split('id="main-content"', 1)[1]


def _user(world: World, username: str = "citizen") -> User:
    with world.session() as session:
        user = session.get(User, world.users[username])
        assert user is not None
        return user


def _contact_events(world: World) -> list[AuditEvent]:
    with world.session() as session:
        return list(session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "user.contact").order_by(col(AuditEvent.seq))))


def test_a_citizen_sets_how_to_be_reached_and_the_change_is_audited(
        tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    client = _sign_in(app.test_client())
    page = client.get("/my/settings").get_data(as_text=True)
    assert 'href="/my/settings">联系方式设置</a>' in page  # the header's link
    main = _main(page)
    assert '<h1 class="tb-heading-l">联系方式设置</h1>' in main
    assert '<label class="tb-label" for="email">电子邮箱地址（选填）</label>' in main
    assert 'id="phone" name="phone" type="tel"' in main and 'aria-describedby="phone-hint"' in main
    assert 'id="by_email" name="by_email" value="1">' in main  # nothing to send to: not ticked
    response = _post(client, {**GOOD, "language": "en"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/my/settings?saved=1"
    user = _user(world)
    assert (user.email, user.phone, user.language) == ("zhang.san@example.cn", "13800138000", "en")
    assert (user.notify_email, user.notify_sms) == (True, True)
    [event] = _contact_events(world)
    assert (event.actor_id, event.object_id) == (world.users["citizen"], str(world.users["citizen"]))
    assert event.before == {"email": "", "phone": "", "language": "zh", "by_email": False,
                            "by_sms": False}
    assert event.after == {"email": "z***@example.cn", "phone": "138****8000", "language": "en",
                           "by_email": True, "by_sms": True}
    main = _main(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Your contact settings are saved." in main  # and the page is now in English
    assert 'value="13800138000"' in main and 'id="by_sms" name="by_sms" value="1" checked>' in main
    _post(client, {**GOOD, "language": "en"})
    assert len(_contact_events(world)) == 1  # saving the same again changes nothing


BAD = [
    ({"email": "zhang.san"}, "email", "请按正确格式输入电子邮箱地址，例如 name@example.com"),
    ({"email": "zhang san@example.cn"}, "email",
     "请按正确格式输入电子邮箱地址，例如 name@example.com"),
    ({"email": "a@" + "b" * 250 + ".cn"}, "email",
     "请按正确格式输入电子邮箱地址，例如 name@example.com"),
    ({"email": ""}, "email", "请输入您的电子邮箱地址，或取消勾选下方的“电子邮件”"),
    ({"phone": "12800138000"}, "phone",
     "请输入中国大陆手机号码：以 13 至 19 开头的 11 位数字，例如 13800138000"),
    ({"phone": "1380013800"}, "phone",
     "请输入中国大陆手机号码：以 13 至 19 开头的 11 位数字，例如 13800138000"),
    ({"phone": "1380013800a"}, "phone",
     "请输入中国大陆手机号码：以 13 至 19 开头的 11 位数字，例如 13800138000"),
    ({"phone": ""}, "phone", "请输入您的手机号码，或取消勾选下方的“短信”"),
    ({"language": "fr"}, "language", "请选择中文或英文"),
    ({"language": ""}, "language", "请选择中文或英文"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD)
def test_bad_input_is_refused_beside_its_field_and_changes_nothing(
        tmp_path: Path, database_url: str, change: dict[str, str], field: str,
        message: str) -> None:
    app, world = start(tmp_path, database_url)
    reach(world, "citizen", email="old@example.cn", phone="13900139000", language="zh")
    client = _sign_in(app.test_client())
    response = _post(client, {**GOOD, **change})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count(message) == 2  # the summary at the top and the field
    assert f'<a href="#{field}">{message}</a>' in page
    assert (f'<p id="{field}-error" class="tb-error-message"><span class="tb-visually-hidden">'
            f'错误：</span> {message}</p>') in page
    assert f'aria-describedby="{field}-hint {field}-error" aria-invalid="true"' in page
    kept = {**GOOD, **change}
    if field != "email":
        assert f'value="{kept["email"]}"' in page  # every answer kept
    user = _user(world)
    assert (user.email, user.phone, user.language) == ("old@example.cn", "13900139000", "zh")
    assert _contact_events(world) == []


def test_the_messages_are_in_english_for_an_english_page(tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    client = _sign_in(app.test_client())
    client.post("/settings/language", data={"locale": "en", "next": "/my/settings",
                                            "csrf_token": csrf_token(client, "/my/settings")})
    page = _post(client, {**GOOD, "phone": "12345"}).get_data(as_text=True)
    assert ("Enter a mainland mobile number: 11 digits starting with 13 to 19, like "
            "13800138000") in page
    assert "<title>Error: Contact settings" in page


def test_a_post_without_its_csrf_token_or_signed_out_changes_nothing(
        tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    anonymous = app.test_client()
    response = anonymous.get("/my/settings")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    client = _sign_in(app.test_client())
    assert client.post("/my/settings", data=GOOD).status_code == 400
    assert _user(world).email is None and _contact_events(world) == []


def test_notifications_go_only_by_the_channels_the_person_chose(
        tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    client = _sign_in(app.test_client())
    _post(client, {**GOOD, "by_sms": ""})  # a number kept, text messages off
    submit(world, "one-step")
    assert [(r.channel, r.recipient) for r in rows(world)] == [
        ("site", str(world.users["citizen"])), ("email", "zhang.san@example.cn")]
    _post(client, {**GOOD, "email": "", "by_email": ""})  # the address taken away
    submit(world, "one-step")
    assert [r.channel for r in rows(world)][2:] == ["site", "sms"]


def test_a_sign_in_switches_to_the_person_s_language(tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    reach(world, "citizen", language="en")
    client = _sign_in(app.test_client())
    assert '<h1 class="tb-heading-l">Contact settings</h1>' in client.get(
        "/my/settings").get_data(as_text=True)
