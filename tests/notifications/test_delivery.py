"""The worker delivers each notification once through its channel plugin, retries transient
failures with a doubling backoff, and gives up at once on permanent ones."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tongban.models import utcnow

from ..spine.flow_world import submit
from .conftest import Mailbox, free_port
from .world import deliver, reach, rows, start


def test_each_notification_is_delivered_once(tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    reach(world, "citizen", phone="13800138000")
    submit(world, "one-step")
    assert sorted((o.channel, o.state) for o in deliver(app)) == [("site", "sent"), ("sms", "sent")]
    assert deliver(app) == []  # nothing is due any more
    [sms] = [json.loads(line) for line in (tmp_path / "sms-twin.jsonl").read_text().splitlines()]
    sms_row = next(r for r in rows(world) if r.channel == "sms")
    assert sms["key"] == sms_row.key and sms["phone"] == "13800138000"
    assert sms["template_id"] == "TONGBAN_SUBMITTED_ZH"
    assert sms["params"] == {"reference": sms_row.reference,
                             "link": f"http://127.0.0.1:5000/my/applications/{sms_row.reference}"}
    assert all(r.state == "sent" and r.attempts == 1 and r.sent_at for r in rows(world))


def test_a_channel_asked_again_with_a_key_it_has_does_not_send_twice(
        tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    reach(world, "citizen", phone="13800138000")
    submit(world, "one-step")
    from tongban.extend.manager import channels_of
    from tongban.notify.delivery import message_of

    sms_row = next(r for r in rows(world) if r.channel == "sms")
    message = message_of(sms_row, "http://x")
    channels_of(app)["sms"].send(message)
    channels_of(app)["sms"].send(message)
    assert len((tmp_path / "sms-twin.jsonl").read_text().splitlines()) == 1


def test_a_transient_failure_is_retried_with_a_doubling_backoff(
        tmp_path: Path, database_url: str, smtp_server: tuple[int, Mailbox]) -> None:
    down = free_port()  # nothing listens there: the connection is refused
    app, world = start(tmp_path, database_url, SMTP_PORT=down, NOTIFY_BACKOFF_SECONDS=30)
    reach(world, "citizen", email="zhang.san@example.cn")
    submit(world, "one-step")
    now = utcnow() + timedelta(seconds=1)
    first = [o for o in deliver(app, now=now) if o.channel == "email"]
    assert [(o.state, o.attempt) for o in first] == [("pending", 1)]
    assert "Connection" in first[0].error and "refused" in first[0].error.lower()
    email = next(r for r in rows(world) if r.channel == "email")
    assert email.next_attempt_at == now + timedelta(seconds=30)
    assert deliver(app, now=now + timedelta(seconds=29)) == []  # not due yet
    second = deliver(app, now=now + timedelta(seconds=30))
    assert [(o.state, o.attempt) for o in second] == [("pending", 2)]
    email = next(r for r in rows(world) if r.channel == "email")
    assert email.next_attempt_at == now + timedelta(seconds=30 + 60)  # doubled
    # The mail server is back: the third try goes through, once.
    port, mailbox = smtp_server
    app.extensions["tongban.notification_channels"]["email"] = _email_channel(port)
    third = deliver(app, now=now + timedelta(seconds=90))
    assert [(o.state, o.attempt) for o in third] == [("sent", 3)]
    assert len(mailbox.messages) == 1


def _email_channel(port: int):  # type: ignore[no-untyped-def]
    import tongban_email_channel

    [channel] = tongban_email_channel.tongban_notification_channels(
        {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port})
    return channel


def test_tries_used_up_mark_the_notification_failed(tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url, SMTP_PORT=free_port(), NOTIFY_MAX_ATTEMPTS=2,
                       NOTIFY_BACKOFF_SECONDS=1)
    reach(world, "citizen", email="zhang.san@example.cn")
    submit(world, "one-step")
    now = utcnow() + timedelta(seconds=1)
    deliver(app, now=now)
    [last] = deliver(app, now=now + timedelta(seconds=5))
    assert (last.channel, last.state, last.attempt) == ("email", "failed", 2)


def test_a_permanent_failure_is_not_retried(tmp_path: Path, database_url: str,
                                            smtp_server: tuple[int, Mailbox]) -> None:
    port, mailbox = smtp_server
    app, world = start(tmp_path, database_url, SMTP_PORT=port)
    reach(world, "citizen", email="nobody@example.cn")
    submit(world, "one-step")
    outcome = next(o for o in deliver(app) if o.channel == "email")
    assert outcome.state == "failed" and outcome.attempt == 1
    assert "the mail server refused nobody@example.cn" in outcome.error
    assert "550" in outcome.error and mailbox.messages == []


def test_the_email_reaches_the_smtp_server_in_the_person_s_language(
        tmp_path: Path, database_url: str, smtp_server: tuple[int, Mailbox]) -> None:
    port, mailbox = smtp_server
    app, world = start(tmp_path, database_url, SMTP_PORT=port, MAIL_FROM="tongban@gov.example.cn",
                       BASE_URL="https://zwfw.example.gov.cn")
    reach(world, "citizen", email="zhang.san@example.cn", language="en")
    reach(world, "citizen2", email="li.si@example.cn")
    submit(world, "one-step")
    submit(world, "one-step", applicant="citizen2")
    deliver(app)
    by_to = {str(m["To"]): m for m in mailbox.messages}
    assert set(by_to) == {"zhang.san@example.cn", "li.si@example.cn"}
    english, chinese = by_to["zhang.san@example.cn"], by_to["li.si@example.cn"]
    assert str(english["From"]) == "tongban@gov.example.cn"
    assert str(english["Subject"]).startswith("Your application has been submitted (")
    assert str(english["Content-Language"]) == "en"
    reference = str(english["Subject"]).rsplit("(", 1)[1].rstrip(")")
    body = english.get_content()
    assert f"https://zwfw.example.gov.cn/my/applications/{reference}" in body
    assert "{link}" not in body
    assert str(chinese["Subject"]).startswith("您的申请已提交（")
    assert "您的“svc-one-step”申请已提交" in chinese.get_content()
    assert str(chinese["Content-Language"]) == "zh-CN"


def test_the_worker_command_delivers_the_notifications_waiting(
        tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    submit(world, "one-step")
    [row] = rows(world)
    from tongban.cli import main

    result = app.test_cli_runner().invoke(main, args=["flow", "work", "--once"])
    assert result.exit_code == 0, result.output
    assert f"notification {row.id} (site) attempt 1 sent" in result.output
    assert "1 notification(s) handled." in result.output
    assert rows(world)[0].state == "sent"
