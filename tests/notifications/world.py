"""The flow world of tests/spine with the channel plugins, and helpers to read the outbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlmodel import col

from tongban import db
from tongban.extend.manager import channels_of
from tongban.models import Notification, User
from tongban.notify import delivery
from tongban.testkit import start_app

from ..spine.flow_world import World, build


def channel_plugins() -> list[object]:
    import tongban_email_channel
    import tongban_site_messages
    import tongban_sms_twin

    return [tongban_site_messages, tongban_email_channel, tongban_sms_twin]


def start(tmp_path: Path, database_url: str, **settings: Any) -> tuple[Flask, World]:
    app = start_app(channel_plugins(), database_url, tmp_path / "instance",
                    {"SMS_TWIN_LOG": str(tmp_path / "sms-twin.jsonl"), **settings})
    return app, build(app.extensions["tongban.engine"])


def reach(world: World, username: str, *, email: str | None = None, phone: str | None = None,
          language: str | None = None) -> None:
    with world.session() as session, db.unit_of_work(session):
        user = session.get(User, world.users[username])
        assert user is not None
        user.email, user.phone, user.language = email, phone, language
        session.add(user)


def rows(world: World) -> list[Notification]:
    with world.session() as session:
        return list(session.scalars(select(Notification).order_by(col(Notification.id))))


def deliver(app: Flask, **kwargs: Any) -> list[delivery.Outcome]:
    return delivery.deliver_due(app.extensions["tongban.engine"], channels_of(app),
                                delivery.policy_from(app.config), **kwargs)
