"""The shipped services notify without any change to their flows: a citizen's submission of
the residence-points application through the web writes its site message in the submission's
transaction, with the service's published name."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from tongban import db
from tongban.models import Application, Notification

from ..conftest import Personas
from ..web.journey import Journey
from ..web.test_journey import _fill_residence
from .world import channel_plugins


def test_a_demo_submission_through_the_web_writes_the_site_message(
        personas: Personas, app: Flask) -> None:
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")
    _fill_residence(journey)
    assert journey.submit().status_code == 302
    with db.new_session(app.extensions["tongban.engine"]) as session:
        application = session.scalars(select(Application)).one()
        [row] = session.scalars(select(Notification)).all()
    assert (row.kind, row.channel, row.user_id) == ("submitted", "site", application.submitter_id)
    assert row.subject == f"您的申请已提交（{application.reference}）"
    assert "您的“上海市居住证积分申请”申请已提交" in row.body


def test_channel_plugins_load_with_the_demo(app_config: dict[str, object]) -> None:
    from tongban import create_app
    from tongban.extend.manager import channels_of

    app = create_app({**app_config, "PLUGINS": channel_plugins(), "PLUGIN_ENTRY_POINTS": False})
    assert sorted(channels_of(app)) == ["email", "site", "sms"]
    app.extensions["tongban.engine"].dispose()
