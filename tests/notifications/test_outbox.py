"""Notifications are written in the transaction of the event that causes them: one row per
(event, person, channel) under a unique key, in the person's language, on the channels their
account can be reached by."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tongban import db
from tongban.models import Application, FlowEvent, Notification, saved_id
from tongban.workflow import runtime

from ..spine.flow_world import open_tasks, submit
from .world import reach, rows, start


def test_a_submission_writes_a_site_message_and_email_and_sms_when_the_account_has_them(
        tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    reach(world, "citizen", email="zhang.san@example.cn", phone="13800138000")
    submit(world, "one-step")
    found = rows(world)
    assert [(r.kind, r.channel, r.recipient, r.state) for r in found] == [
        ("submitted", "site", str(world.users["citizen"]), "pending"),
        ("submitted", "email", "zhang.san@example.cn", "pending"),
        ("submitted", "sms", "13800138000", "pending")]
    with world.session() as session:
        reference = session.scalars(select(Application.reference)).one()
    site = found[0]
    assert site.language == "zh" and site.subject == f"您的申请已提交（{reference}）"
    assert site.link == f"/my/applications/{reference}" and "{link}" in site.body
    assert len({r.key for r in found}) == 3


def test_an_account_without_address_or_number_gets_site_messages_only(
        tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    submit(world, "one-step")
    assert [r.channel for r in rows(world)] == ["site"]


def test_the_decision_is_told_in_the_person_s_language(tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    reach(world, "citizen", language="en")
    application_id = submit(world, "one-step")
    with world.session() as session, db.unit_of_work(session):
        [task] = open_tasks(session, application_id)
        runtime.act(session, world.actor("rev1"), saved_id(task), "reject", version=None,
                    comment="材料不全")
    found = rows(world)
    # A finished case, refused too, also asks to be rated (好差评, docs/ratings.md).
    assert [r.kind for r in found] == ["submitted", "refused", "rate_invite"]
    assert found[1].subject.startswith("Your application has been refused (")
    assert found[1].language == found[2].language == "en"


def test_a_correction_request_and_an_approval_each_notify(tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    application_id = submit(world, "one-step")
    with world.session() as session, db.unit_of_work(session):
        [task] = open_tasks(session, application_id)
        runtime.act(session, world.actor("rev1"), saved_id(task), "request_correction",
                    version=None, questions=["name"], comment="姓名与身份证不符")
    assert [r.kind for r in rows(world)] == ["submitted", "correction_requested"]
    assert rows(world)[1].subject.startswith("请补正您的申请")


def test_a_rolled_back_transition_leaves_no_notification(tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    application_id = submit(world, "one-step")
    with world.session() as session:
        with pytest.raises(RuntimeError), db.unit_of_work(session):
            [task] = open_tasks(session, application_id)
            runtime.act(session, world.actor("rev1"), saved_id(task), "approve", version=None,
                        comment="同意")
            session.flush()
            # submitted, approved and the invitation to rate
            assert session.scalar(select(func.count()).select_from(Notification)) == 3
            raise RuntimeError("the audit write failed after the decision")
    assert [r.kind for r in rows(world)] == ["submitted"]
    with world.session() as session:  # and the decision itself is gone with it
        assert session.scalar(select(func.count()).select_from(FlowEvent)
                              .where(FlowEvent.type == "ended")) == 0


def test_the_delivery_key_is_unique(tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    submit(world, "one-step")
    [row] = rows(world)
    with world.session() as session:
        with pytest.raises(IntegrityError), db.unit_of_work(session):
            session.add(Notification(key=row.key, kind=row.kind, reference=row.reference,
                                     channel="site", recipient=row.recipient, language="zh",
                                     subject="again", body="again", link=row.link))
