"""The service workspace's storage: working copies, the optimistic lock, undo and redo, checks
against what is published, who may edit (docs/console.md)."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import select
from sqlmodel import Session, col

from tongban import PROJECT_ROOT
from tongban.console import workspace as ws
from tongban.console.layout import path_of
from tongban.definitions import load_directory
from tongban.definitions.tree import MemoryTree
from tongban.models import AuditEvent, User

SERVICE = "urban-event-report"
FORM = path_of("form", SERVICE)
SERVICE_FILE = path_of("service", SERVICE)


def user(session: Session, username: str) -> User:
    found = session.scalars(select(User).where(col(User.username) == username)).one()
    return found


def actions(session: Session, code: str) -> list[str]:
    return list(session.scalars(select(col(AuditEvent.action))
                                .where(col(AuditEvent.object_id) == code)
                                .order_by(col(AuditEvent.seq))))


def test_the_loader_reads_files_in_memory_as_it_reads_the_folder() -> None:
    files = {str(path.relative_to(PROJECT_ROOT)): path.read_text(encoding="utf-8")
             for folder in ("workflow_definitions", "form_definitions")
             for path in (PROJECT_ROOT / folder).rglob("*") if path.is_file()}
    in_memory = load_directory(MemoryTree(files))
    on_disk = load_directory(PROJECT_ROOT)
    assert in_memory.problems == on_disk.problems == []
    assert [(d.kind, d.code, d.path, d.content) for d in in_memory.all()] \
        == [(d.kind, d.code, d.path, d.content) for d in on_disk.all()]


def test_a_working_copy_starts_from_the_live_versions_and_checks_clean(
        demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    draft = ws.open_draft(session, SERVICE, admin)
    session.commit()
    assert set(draft.files) == {SERVICE_FILE, FORM, path_of("flow", SERVICE)}
    assert draft.base_versions == dict.fromkeys(draft.files, 1)
    assert json.loads(draft.files[FORM])["title"]["en"] == "Urban management event report"
    assert ws.check_draft(session, draft) == []
    assert ws.open_draft(session, SERVICE, admin).id == draft.id  # one working copy
    workspace = ws.get_workspace(session, SERVICE)
    assert workspace is not None and (workspace.status, workspace.department_code) \
        == ("live", "sh-cgj")
    assert actions(session, SERVICE) == ["workspace.open"]


def test_saves_bump_the_revision_and_undo_and_redo_walk_back_and_forth(
        demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    draft = ws.open_draft(session, SERVICE, admin)
    original = draft.files[FORM]
    first = original.replace("\n", "\n", 1) + " "
    ws.save_file(session, draft, FORM, first, expected_revision=1, user=admin)
    ws.save_file(session, draft, FORM, first + " ", expected_revision=2, user=admin)
    session.commit()
    assert draft.revision == 3 and len(draft.undo_stack) == 2
    ws.undo(session, draft, admin)
    assert (draft.files[FORM], draft.revision, len(draft.redo_stack)) == (first, 4, 1)
    ws.undo(session, draft, admin)
    assert draft.files[FORM] == original
    ws.redo(session, draft, admin)
    assert draft.files[FORM] == first
    ws.save_file(session, draft, FORM, "{}", expected_revision=draft.revision, user=admin)
    assert draft.redo_stack == []  # a new save clears redo
    session.commit()
    assert actions(session, SERVICE) == ["workspace.open", "workspace.save", "workspace.save",
                                         "workspace.undo", "workspace.undo", "workspace.redo",
                                         "workspace.save"]


def test_the_undo_stack_keeps_the_last_hundred(demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    draft = ws.open_draft(session, SERVICE, admin)
    for number in range(105):
        ws.save_file(session, draft, FORM, f"{number}", expected_revision=draft.revision,
                     user=admin)
    assert len(draft.undo_stack) == 100
    assert draft.undo_stack[-1][FORM] == "103"


def test_a_save_behind_another_is_refused_and_changes_nothing(
        demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    draft = ws.open_draft(session, SERVICE, admin)
    ws.save_file(session, draft, FORM, "{}", expected_revision=1, user=admin)
    session.commit()
    with pytest.raises(ws.StaleDraft) as refused:
        ws.save_file(session, draft, FORM, "[]", expected_revision=1, user=admin)
    session.rollback()
    assert refused.value.current_revision == 2
    stored = ws.get_draft(session, SERVICE)
    assert stored is not None and (stored.files[FORM], stored.revision) == ("{}", 2)


@pytest.mark.parametrize("path", ["workflow_definitions/household-transfer.yaml",
                                  "form_definitions/../secrets.json", "README.md",
                                  "form_definitions/household-transfer.json"])
def test_a_path_outside_the_service_is_refused(demo: Flask, session: Session, path: str) -> None:
    admin = user(session, "admin")
    draft = ws.open_draft(session, SERVICE, admin)
    with pytest.raises(ws.WorkspaceRefused) as refused:
        ws.save_file(session, draft, path, "x", expected_revision=1, user=admin)
    assert str(refused.value) == f'"{path}" is not one of the files of service "{SERVICE}".'
    assert draft.revision == 1 and path not in draft.files


def test_naming_a_new_flow_in_the_service_lets_the_draft_hold_it(
        demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    draft = ws.open_draft(session, SERVICE, admin)
    service = draft.files[SERVICE_FILE].replace("flow: urban-event-report", "flow: new-flow")
    ws.save_file(session, draft, SERVICE_FILE, service, expected_revision=1, user=admin)
    ws.save_file(session, draft, path_of("flow", "new-flow"), "x: 1", expected_revision=2,
                 user=admin)
    assert draft.base_versions[path_of("flow", "new-flow")] is None


def test_check_draft_places_a_broken_form_at_its_line(demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    draft = ws.open_draft(session, SERVICE, admin)
    lines = draft.files[FORM].splitlines()
    lines[2] = lines[2] + ","  # a trailing comma: not JSON
    ws.save_file(session, draft, FORM, "\n".join(lines), expected_revision=1, user=admin)
    problems = ws.check_draft(session, draft)
    assert [(p.file, p.line) for p in problems][:1] == [(FORM, 3)]


def test_check_draft_finds_a_service_naming_a_missing_flow(demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    draft = ws.open_draft(session, SERVICE, admin)
    service = draft.files[SERVICE_FILE].replace("flow: urban-event-report", "flow: nowhere")
    ws.save_file(session, draft, SERVICE_FILE, service, expected_revision=1, user=admin)
    problems = ws.check_draft(session, draft)
    assert [(p.file, p.pointer) for p in problems] == [(SERVICE_FILE, "/flow")]
    assert problems[0].message.startswith('the flow "nowhere" does not exist')


def test_check_draft_keeps_the_service_code(demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    draft = ws.open_draft(session, SERVICE, admin)
    service = draft.files[SERVICE_FILE].replace(f"code: {SERVICE}", "code: another-code")
    ws.save_file(session, draft, SERVICE_FILE, service, expected_revision=1, user=admin)
    assert [p.message for p in ws.check_draft(session, draft)] == [
        f'the service code must stay "{SERVICE}" (the file says "another-code")']


def test_a_hundred_question_form_is_saved_and_checked_clean(
        demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    draft = ws.open_draft(session, SERVICE, admin)
    form = json.loads(draft.files[FORM])
    form["schema"]["properties"]["extra"] = {
        "type": "object", "title": "补充",
        "properties": {f"q{n}": {"type": "string", "title": f"问题{n}", "maxLength": 50}
                       for n in range(100)}}
    form["ui"]["fields"]["extra"] = {"label": {"zh": "补充", "en": "More"}}
    form["ui"]["pages"].append({"id": "extra", "title": {"zh": "补充", "en": "More"},
                                "fields": ["extra"]})
    form["ui"]["fields"].update({f"extra.q{n}": {"label": {"zh": f"问题{n}", "en": f"Question {n}"}}
                                 for n in range(100)})
    text = json.dumps(form, ensure_ascii=False, indent=2)
    # How long this takes is bench/form_editor.py's to measure, against a 10-question form.
    ws.save_file(session, draft, FORM, text, expected_revision=1, user=admin)
    session.commit()
    assert ws.check_draft(session, draft) == []


@pytest.mark.parametrize(("username", "code", "expected"), [
    ("admin", SERVICE, True),
    ("cgjadmin", SERVICE, True),
    ("deptadmin", SERVICE, False),     # sh-rsj's admin
    ("deptadmin", "residence-points", True),
    ("gajadmin", "household-transfer", True),
    ("reviewer", "residence-points", False),
    ("admin", "no-such-service", True),
    ("cgjadmin", "no-such-service", False),
])
def test_who_may_edit_a_service(demo: Flask, session: Session, username: str, code: str,
                                expected: bool) -> None:
    assert ws.can_edit(session, user(session, username), code) is expected


def test_undo_keeps_only_the_files_a_step_changed_and_brings_back_a_removed_file(
        demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    draft = ws.open_draft(session, SERVICE, admin)
    original = dict(draft.files)
    ws.save_file(session, draft, FORM, "{}", expected_revision=1, user=admin)
    assert draft.undo_stack == [{FORM: original[FORM]}]
    only_service = {SERVICE_FILE: original[SERVICE_FILE]}
    ws.replace_all(session, draft, only_service, user=admin, action="workspace.import",
                   details={})
    assert draft.files == only_service
    ws.undo(session, draft, admin)
    assert draft.files == {**original, FORM: "{}"}
    ws.undo(session, draft, admin)
    assert draft.files == original
    ws.redo(session, draft, admin)
    ws.redo(session, draft, admin)
    assert draft.files == only_service
    with pytest.raises(ws.WorkspaceRefused) as refused:
        ws.redo(session, draft, admin)
    assert str(refused.value) == "There is nothing to redo."


def test_a_rendered_version_is_kept_by_its_content_not_its_row_id() -> None:
    from tongban.console.layout import render_version
    from tongban.definitions.publish import content_hash
    from tongban.models import DefinitionVersion

    def version(content: dict[str, object]) -> DefinitionVersion:
        return DefinitionVersion(id=1, kind="flow", code="f", version=1, source_path="",
                                 author="t", content=content,
                                 content_hash=content_hash(content))

    # another database (or the same one reset) gives the same id to another content
    assert render_version(version({"code": "a"})) == "code: a\n"
    assert render_version(version({"code": "b"})) == "code: b\n"
