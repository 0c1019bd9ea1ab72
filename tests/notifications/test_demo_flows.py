"""The shipped services notify without any change to their flows: a citizen's submission of
the residence-points application through the web writes its site message in the submission's
transaction, with the service's published name; the demo flows' correction requests and
decisions at the counter write theirs, in the applicant's language (issue 15 item 7)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlmodel import col

from tongban import db
from tongban.accounts import roles_of
from tongban.models import Application, Notification, User, saved_id
from tongban.policy import Actor
from tongban.workflow import runtime

from ..conftest import Personas
from ..spine.flow_world import open_tasks
from ..web.journey import PDF, RESIDENCE_PAGES, VALID_ID, Journey
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


# --- issue 15 item 7: the shipped flows notify on submission, correction request and decision --

HOUSEHOLD_PAGES: list[tuple[str, dict[str, Any]]] = [
    ("applicant", {"applicant.name": "张三", "applicant.id_number": VALID_ID,
                   "applicant.mobile": "13812345678"}),
    ("transfer", {"transfer.reason": "family", "transfer.from_region": "320505",
                  "transfer.from_address": "江苏省苏州市虎丘区狮山路88号",
                  "transfer.to_address": "上海市徐汇区漕溪北路1号", "transfer.to_district": "310104",
                  "transfer.to_postal_code": "200030", "transfer.with_family": "false"}),
]


def _submit_household(client: FlaskClient) -> None:
    journey = Journey(client, "household-transfer")
    for page_id, data in HOUSEHOLD_PAGES:
        assert journey.post(page_id, data).status_code == 302, page_id
    assert journey.post("materials", {
        "materials.id_card": (io.BytesIO(PDF), "身份证.pdf"),
        "materials.hukou_booklet": (io.BytesIO(PDF), "户口簿.pdf"),
        "materials.approval_letter": (io.BytesIO(PDF), "准予迁入证明.pdf")},
        content_type="multipart/form-data").status_code == 302
    assert journey.submit().status_code == 302


def _submit_residence(client: FlaskClient) -> None:
    journey = Journey(client, "residence-points")
    _fill_residence(journey)
    assert journey.post("applicant", {**RESIDENCE_PAGES[0][1],
                                      "applicant.work_district": "310104"}).status_code == 302
    assert journey.submit().status_code == 302


def _intake(app: Flask, reference: str, operation: str, **args: Any) -> None:
    """The 徐汇 counter clerk claims the application's intake task and does ``operation``."""
    with db.new_session(app.extensions["tongban.engine"]) as session, db.unit_of_work(session):
        clerk = session.scalars(select(User).where(col(User.username) == "clerk_xuhui")).one()
        actor = Actor.of(saved_id(clerk), roles_of(session, saved_id(clerk)))
        application = session.scalars(select(Application).where(
            col(Application.reference) == reference)).one()
        [task] = open_tasks(session, saved_id(application), "intake")
        runtime.act(session, actor, saved_id(task), "claim", version=None)
        runtime.act(session, actor, saved_id(task), operation, version=None, **args)


def _notifications(app: Flask) -> list[tuple[str, str, str, str]]:
    with db.new_session(app.extensions["tongban.engine"]) as session:
        return [(row.reference, row.kind, row.language, row.subject) for row in session.scalars(
            select(Notification).where(col(Notification.channel) == "site")
            .order_by(col(Notification.id)))]


@pytest.mark.parametrize(("service", "submit_one"), [
    ("household-transfer", _submit_household), ("residence-points", _submit_residence)])
def test_a_shipped_flow_notifies_on_submission_correction_request_and_decision(
        personas: Personas, app: Flask, service: str,
        submit_one: Callable[[FlaskClient], None]) -> None:
    client = personas.as_("citizen")
    submit_one(client)
    submit_one(client)
    with db.new_session(app.extensions["tongban.engine"]) as session:
        first, second = session.scalars(select(Application.reference)
                                        .order_by(col(Application.id))).all()
    _intake(app, first, "request_correction", questions=["applicant.mobile"],
            comment="手机号码无法接通")
    _intake(app, second, "refuse_intake", reason="不属于本事项受理范围")
    assert _notifications(app) == [
        (first, "submitted", "zh", f"您的申请已提交（{first}）"),
        (second, "submitted", "zh", f"您的申请已提交（{second}）"),
        (first, "correction_requested", "zh", f"请补正您的申请（{first}）"),
        (second, "refused", "zh", f"您的申请未获批准（{second}）"),
        (second, "rate_invite", "zh", f"请评价本次服务（{second}）")]  # 好差评: docs/ratings.md


def test_a_shipped_flow_tells_an_english_speaker_in_english(
        personas: Personas, app: Flask) -> None:
    with db.new_session(app.extensions["tongban.engine"]) as session, db.unit_of_work(session):
        citizen = session.scalars(select(User).where(col(User.username) == "citizen")).one()
        citizen.language = "en"
        session.add(citizen)
    _submit_household(personas.as_("citizen"))
    [(reference, _, _, _)] = _notifications(app)
    _intake(app, reference, "refuse_intake", reason="Not a case for this service")
    assert _notifications(app) == [
        (reference, "submitted", "en", f"Your application has been submitted ({reference})"),
        (reference, "refused", "en", f"Your application has been refused ({reference})"),
        (reference, "rate_invite", "en", f"Please rate our service ({reference})")]
