"""Publishing a working copy: all or nothing, a readable diff, effective dates, pinned
applications untouched, optimistic concurrency, four-eyes, history and rollback."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlmodel import Session, col

from tongban.applications import start_draft
from tongban.console import publishing as pub
from tongban.console import workspace as ws
from tongban.console.diff import diff_files
from tongban.console.layout import path_of, render
from tongban.db import unit_of_work
from tongban.definitions.publish import current_version, effective_version
from tongban.models import AuditEvent, DefinitionVersion, User, utcnow

SERVICE = "urban-event-report"
FORM = path_of("form", SERVICE)
FLOW = path_of("flow", SERVICE)
SERVICE_FILE = path_of("service", SERVICE)


def user(session: Session, username: str) -> User:
    found: User = session.scalars(select(User).where(col(User.username) == username)).one()
    return found


def versions(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(DefinitionVersion)) or 0


def edited_form(text: str) -> str:
    """The form with the category question relabelled and a question added."""
    form = json.loads(text)
    form["ui"]["fields"]["event.category"]["label"] = {"zh": "问题种类", "en": "Kind of problem"}
    event = form["schema"]["properties"]["event"]
    event["properties"]["street"] = {"type": "string", "title": "街道", "maxLength": 40}
    form["ui"]["fields"]["event.street"] = {"label": {"zh": "所在街道", "en": "Street"}}
    return json.dumps(form, ensure_ascii=False, indent=2)


def draft_with_form_edit(session: Session, admin: User) -> ws.ServiceDraft:
    draft = ws.open_draft(session, SERVICE, admin)
    ws.save_file(session, draft, FORM, edited_form(draft.files[FORM]),
                 expected_revision=draft.revision, user=admin)
    return draft


def test_publishing_stores_only_the_changed_files_as_new_versions(
        demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    seen = pub.live_marks(session, SERVICE)
    draft = draft_with_form_edit(session, admin)
    result = pub.publish_draft(session, draft, admin, seen=seen, comment="街道")
    session.commit()
    assert [(v.kind, v.code, v.version, v.comment) for v in result.created] \
        == [("form", SERVICE, 2, "街道")]
    assert draft.base_versions[FORM] == 2
    workspace = ws.get_workspace(session, SERVICE)
    assert workspace is not None and workspace.status == "live"
    assert "workspace.publish" in session.scalars(select(col(AuditEvent.action))).all()


def test_a_draft_with_a_problem_publishes_nothing(demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    seen = pub.live_marks(session, SERVICE)
    draft = ws.open_draft(session, SERVICE, admin)
    service = draft.files[SERVICE_FILE].replace("flow: urban-event-report", "flow: nowhere")
    ws.save_file(session, draft, FORM, edited_form(draft.files[FORM]), expected_revision=1,
                 user=admin)
    ws.save_file(session, draft, SERVICE_FILE, service, expected_revision=2, user=admin)
    before = versions(session)
    with pytest.raises(pub.ProblemsFound) as found:
        pub.publish_draft(session, draft, admin, seen=seen, comment="")
    assert [p.pointer for p in found.value.problems] == ["/flow"]
    assert versions(session) == before  # the good form was not published alone


def test_applications_started_before_keep_their_versions(demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    service_row = current_version(session, "service", SERVICE)
    old_form = current_version(session, "form", SERVICE)
    assert service_row is not None and old_form is not None
    in_flight = start_draft(session, service_row, old_form, user_id=None)
    seen = pub.live_marks(session, SERVICE)
    pub.publish_draft(session, draft_with_form_edit(session, admin), admin, seen=seen,
                      comment="")
    session.commit()
    session.refresh(in_flight)
    assert in_flight.form_version_id == old_form.id
    new_form = effective_version(session, "form", SERVICE)
    assert new_form is not None and new_form.version == 2


def test_a_version_waits_for_its_effective_date(demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    seen = pub.live_marks(session, SERVICE)
    start = utcnow() + timedelta(days=3)
    pub.publish_draft(session, draft_with_form_edit(session, admin), admin, seen=seen,
                      comment="", effective_from=start)
    session.commit()
    before, after = (effective_version(session, "form", SERVICE, at)
                     for at in (utcnow(), start + timedelta(seconds=1)))
    assert before is not None and after is not None
    assert (before.version, after.version) == (1, 2)
    latest = current_version(session, "form", SERVICE)
    assert latest is not None and latest.effective_from == start


def test_publishing_over_someone_elses_publish_is_a_conflict_with_their_diff(
        demo: Flask, session: Session) -> None:
    admin, other = user(session, "admin"), user(session, "cgjadmin")
    seen = pub.live_marks(session, SERVICE)  # the page opens
    # meanwhile another administrator publishes a flow change
    theirs = ws.open_draft(session, SERVICE, other)
    flow = theirs.files[FLOW].replace("zh: 立案", "zh: 受理立案", 1)
    assert flow != theirs.files[FLOW]
    ws.save_file(session, theirs, FLOW, flow, expected_revision=theirs.revision, user=other)
    pub.publish_draft(session, theirs, other, seen=seen, comment="faster")
    session.commit()
    ws.save_file(session, theirs, FORM, edited_form(theirs.files[FORM]),
                 expected_revision=theirs.revision, user=admin)
    before = versions(session)
    with pytest.raises(pub.PublishConflict) as conflict:
        pub.publish_draft(session, theirs, admin, seen=seen, comment="")
    assert conflict.value.authors == ["cgjadmin"]
    changed = [(d.path, d.status) for d in conflict.value.changes if d.status != "unchanged"]
    assert changed == [(FLOW, "changed")]
    assert [c.what for d in conflict.value.changes for c in d.changes] == ["step"]
    assert versions(session) == before


def test_four_eyes_needs_another_administrator(demo: Flask, session: Session) -> None:
    editor, approver = user(session, "cgjadmin"), user(session, "admin")
    pub.set_four_eyes(session, SERVICE, True, approver)
    seen = pub.live_marks(session, SERVICE)
    draft = draft_with_form_edit(session, editor)
    with pytest.raises(ws.WorkspaceRefused) as refused:
        pub.publish_draft(session, draft, editor, seen=seen, comment="")
    assert str(refused.value) == ("This service needs a second administrator to approve each "
                                  "publish: ask for approval instead.")
    pub.request_publish(session, draft, editor, seen=seen, comment="街道")
    with pytest.raises(ws.WorkspaceRefused) as own:
        pub.approve(session, draft, editor)
    assert str(own.value) == ("You edited this service or asked for this publish: another "
                              "administrator must approve it.")
    result = pub.approve(session, draft, approver)
    session.commit()
    assert [(v.kind, v.author, v.comment) for v in result.created] == [("form", "admin", "街道")]
    with pytest.raises(ws.WorkspaceRefused) as none_left:
        pub.approve(session, draft, approver)
    assert str(none_left.value) == "There is no publish waiting for approval."


def test_an_approval_of_a_changed_working_copy_is_refused(demo: Flask, session: Session) -> None:
    editor, approver = user(session, "cgjadmin"), user(session, "admin")
    pub.set_four_eyes(session, SERVICE, True, approver)
    seen = pub.live_marks(session, SERVICE)
    draft = draft_with_form_edit(session, editor)
    pub.request_publish(session, draft, editor, seen=seen, comment="")
    ws.save_file(session, draft, FORM, draft.files[FORM] + "\n", expected_revision=draft.revision,
                 user=user(session, "gajadmin"))
    before = versions(session)
    with pytest.raises(ws.WorkspaceRefused) as refused:
        pub.approve(session, draft, approver)
    assert str(refused.value) == ("The working copy changed after the approval was asked for; "
                                  "its editor must ask again.")
    assert versions(session) == before


def test_rollback_publishes_an_earlier_state_as_new_versions(demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    first = pub.history(session, SERVICE)
    assert len(first) == 1
    pub.publish_draft(session, draft_with_form_edit(session, admin), admin,
                      seen=pub.live_marks(session, SERVICE), comment="街道")
    session.commit()
    draft = ws.get_draft(session, SERVICE)
    assert draft is not None
    kept = dict(draft.files)
    states = pub.history(session, SERVICE)
    assert [s.marks[FORM] for s in states] == [2, 1]
    result = pub.rollback(session, SERVICE, states[-1].id, admin, comment="back")
    session.commit()
    assert [(v.kind, v.version) for v in result.created] == [("form", 3)]
    live, original = (current_version(session, "form", SERVICE),
                      session.scalars(select(DefinitionVersion).where(
                          col(DefinitionVersion.kind) == "form",
                          col(DefinitionVersion.version) == 1,
                          col(DefinitionVersion.code) == SERVICE)).one())
    assert live is not None and live.content == original.content
    assert [s.marks[FORM] for s in pub.history(session, SERVICE)] == [3, 2, 1]
    assert draft.files == kept  # the working copy is kept


def test_a_rollback_to_another_services_version_is_refused(demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    other = current_version(session, "service", "household-transfer")
    assert other is not None
    before = versions(session)
    with pytest.raises(ws.WorkspaceRefused) as refused:
        pub.rollback(session, SERVICE, other.id or 0, admin, comment="")
    assert str(refused.value) == ('That is version 1 of "household-transfer", not a '
                                  f'version of service "{SERVICE}"; nothing was rolled back.')
    assert versions(session) == before


def test_the_diff_names_questions_steps_and_keys(demo: Flask, session: Session) -> None:
    live = ws.live_files(session, SERVICE)
    service = live[SERVICE_FILE].replace("promised_days: 3", "promised_days: 2")
    flow = live[FLOW].replace("zh: 立案", "zh: 受理立案", 1)
    changed = {**live, FORM: edited_form(live[FORM]), SERVICE_FILE: service, FLOW: flow}
    diffs = {d.path: d for d in diff_files(live, changed)}
    assert [(c.change, c.what, c.name) for c in diffs[SERVICE_FILE].changes] \
        == [("changed", "key", "guide.promised_days")]
    assert (diffs[SERVICE_FILE].changes[0].before, diffs[SERVICE_FILE].changes[0].after) \
        == ("3", "2")
    form = [(c.change, c.what, c.name, c.label) for c in diffs[FORM].changes]
    assert form == [("changed", "question", "event.category",
                     {"zh": "问题种类", "en": "Kind of problem"}),
                    ("added", "question", "event.street", {"zh": "所在街道", "en": "Street"})]
    assert diffs[FORM].changes[0].keys == ("ui",)
    assert [(c.change, c.what) for c in diffs[FLOW].changes] == [("changed", "step")]
    assert diffs[FLOW].text and diffs[FLOW].text[0].startswith("--- live/")


def test_rendered_files_read_back_to_the_same_content(demo: Flask, session: Session) -> None:
    from tongban.console.layout import parse

    for path, row in ws.live_versions(session, "household-transfer").items():
        assert parse(path, render(row.kind, row.content)) == row.content


def test_two_publishes_at_once_one_wins_and_the_other_sees_a_conflict(
        demo: Flask, session: Session) -> None:
    engine = demo.extensions["tongban.engine"]
    admin = user(session, "admin")
    draft = draft_with_form_edit(session, admin)
    seen = pub.live_marks(session, SERVICE)
    session.commit()
    first_holds_the_lock = threading.Event()
    outcome: dict[str, object] = {}

    def second() -> None:
        first_holds_the_lock.wait(10)
        with Session(engine, expire_on_commit=False) as other:
            try:
                with unit_of_work(other):
                    mine = ws.get_draft(other, SERVICE)
                    assert mine is not None
                    pub.publish_draft(other, mine, user(other, "cgjadmin"), seen=seen,
                                      comment="second")
                outcome["second"] = "published"
            except pub.PublishConflict as conflict:
                outcome["second"] = conflict.authors

    thread = threading.Thread(target=second)
    thread.start()
    with Session(engine, expire_on_commit=False) as first, unit_of_work(first):
        mine = ws.get_draft(first, SERVICE)
        assert mine is not None
        pub.publish_draft(first, mine, user(first, "admin"), seen=seen, comment="first")
        first_holds_the_lock.set()
        time.sleep(0.5)  # the second publish is waiting for this transaction now
    thread.join(20)
    assert outcome == {"second": ["admin"]}
    session.rollback()
    assert session.scalars(select(col(DefinitionVersion.comment)).where(
        col(DefinitionVersion.code) == SERVICE, col(DefinitionVersion.version) > 1)).all() \
        == ["first"]
    assert draft.id is not None
