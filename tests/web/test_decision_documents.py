"""Issue 16 item 3: a decision produces its document (受理通知书, 不予受理告知书, 准予/不予许可
决定书) from the template of its outcome, in Chinese; the worker seals it as OFD and PDF with
the DECISION_SIGNERS, records each file with a verification code, and the applicant lists and
downloads them on their application page (404 for anyone else; each download audited). A
signer that fails is tried again later and nothing half-made is recorded. Here (tests/web) so
that the PostgreSQL lane runs it too."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlmodel import Session, col

from tongban import db, decisions, seals
from tongban.config import ConfigError
from tongban.extend.manager import decision_sealing, material_storage, signers_of
from tongban.models import (
    Application,
    AuditEvent,
    DecisionJob,
    DefinitionVersion,
    SealedDocumentRecord,
    saved_id,
)
from tongban.plugin_api import ConnectorError, DocumentDraft, SealedDocument
from tongban.testkit import start_app
from tongban.workflow import runtime

from .. import seal_plugins
from ..spine.flow_world import PASSWORD, World, build, open_tasks, submit


@pytest.fixture(scope="module")
def seal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("decision-seals")


def _storage_plugin() -> object:
    import tongban_local_storage

    return tongban_local_storage


def _start(tmp_path: Path, database_url: str, seal_dir: Path,
           **settings: Any) -> tuple[Flask, World]:
    plugins = [*seal_plugins.settings(seal_dir, tmp_path)["PLUGINS"], _storage_plugin()]
    app = start_app(plugins, database_url, tmp_path / "instance", {
        "SEAL_DIR": str(seal_dir), "MATERIAL_DIR": str(tmp_path / "materials"),
        "DECISION_SIGNERS": "ofd-seal,pdf-seal", "VERIFY_RATE_LIMIT": "10000 per minute",
        **settings})
    return app, build(app.extensions["tongban.engine"])


def _act(world: World, application_id: int, username: str, operation: str, **args: Any) -> None:
    with world.session() as session, db.unit_of_work(session):
        [task] = open_tasks(session, application_id)
        runtime.act(session, world.actor(username), saved_id(task), operation, version=None,
                    **args)


def _jobs(world: World) -> list[DecisionJob]:
    with world.session() as session:
        return list(session.scalars(select(DecisionJob).order_by(col(DecisionJob.id))))


def _documents(world: World, application_id: int) -> list[SealedDocumentRecord]:
    with world.session() as session:
        return seals.of_application(session, application_id)


def _seal_all(app: Flask) -> list[decisions.Outcome]:
    with app.app_context():
        sealing = decision_sealing(app)
    assert sealing is not None
    return decisions.seal_due(app.extensions["tongban.engine"], *sealing)


def _ofd_text(app: Flask, record: SealedDocumentRecord) -> str:
    with app.app_context():
        content = material_storage(app).get(record.storage_key)
    from tongban_ofd_seal import ofd

    page = ofd.parse(ofd.unpack(content)["Doc_0/Pages/Page_0/Content.xml"])
    return "".join(code.text or "" for code in page.iter(f"{ofd.OFD}TextCode"))  # lines joined


def test_an_approval_is_sealed_as_ofd_and_pdf_and_both_verify(
        tmp_path: Path, database_url: str, seal_dir: Path) -> None:
    app, world = _start(tmp_path, database_url, seal_dir)
    application_id = submit(world, "one-step")
    _act(world, application_id, "rev1", "approve")
    assert [(job.kind, job.state) for job in _jobs(world)] == [("approval", "pending")]

    [outcome] = _seal_all(app)
    assert (outcome.kind, outcome.state, len(outcome.codes)) == ("approval", "done", 2)
    ofd_doc, pdf_doc = _documents(world, application_id)
    assert (ofd_doc.media_type, pdf_doc.media_type) == ("application/ofd", "application/pdf")
    assert ofd_doc.title == pdf_doc.title == "准予行政许可决定书"
    with world.session() as session:
        reference = session.get(Application, application_id).reference  # type: ignore[union-attr]
    assert re.fullmatch(rf"准许〔\d{{4}}〕{reference}号", ofd_doc.reference)
    text = _ofd_text(app, ofd_doc)
    assert "Citizen：" in text and "本机关决定准予" in text and "d1" in text
    with app.app_context():
        signers = signers_of(app)
        for record in (ofd_doc, pdf_doc):
            found = seals.check_code(Session(app.extensions["tongban.engine"]), signers,
                                     material_storage(app), record.code)
            assert found.verdict == "valid", (record.media_type, found)
    assert _jobs(world)[0].state == "done"
    assert _seal_all(app) == []     # nothing left


def test_a_refusal_at_intake_gives_the_not_accepted_notice_with_its_reason_only(
        tmp_path: Path, database_url: str, seal_dir: Path) -> None:
    app, world = _start(tmp_path, database_url, seal_dir, DECISION_SIGNERS="ofd-seal")
    application_id = submit(world, "intake")
    _act(world, application_id, "rev1", "refuse_intake", reason="申请材料不齐全")
    assert [job.kind for job in _jobs(world)] == ["intake_refusal"]
    _seal_all(app)
    [document] = _documents(world, application_id)
    assert document.title == "不予受理告知书"
    text = _ofd_text(app, document)
    assert "理由：申请材料不齐全" in text and "六十日内依法申请行政复议" in text


def test_acceptance_then_approval_give_two_documents(tmp_path: Path, database_url: str,
                                                      seal_dir: Path) -> None:
    app, world = _start(tmp_path, database_url, seal_dir, DECISION_SIGNERS="ofd-seal")
    application_id = submit(world, "intake")
    _act(world, application_id, "rev1", "accept")
    _act(world, application_id, "rev2", "approve")
    assert [job.kind for job in _jobs(world)] == ["acceptance", "approval"]
    _seal_all(app)
    assert [d.title for d in _documents(world, application_id)] == ["受理通知书", "准予行政许可决定书"]


def test_a_rejection_gives_the_refusal_with_the_reviewer_s_comment_as_its_reason(
        tmp_path: Path, database_url: str, seal_dir: Path) -> None:
    app, world = _start(tmp_path, database_url, seal_dir, DECISION_SIGNERS="ofd-seal")
    application_id = submit(world, "one-step")
    _act(world, application_id, "rev1", "reject", comment="住所证明与登记地址不符")
    _seal_all(app)
    [document] = _documents(world, application_id)
    assert document.title == "不予行政许可决定书"
    assert "理由：住所证明与登记地址不符" in _ofd_text(app, document)


class _Failing:
    id = "failing"

    def __init__(self, transient: bool) -> None:
        self.transient = transient

    def seal(self, draft: DocumentDraft, *, purpose: str) -> SealedDocument:
        raise ConnectorError("the seal service is not answering", transient=self.transient)


def test_a_signer_that_fails_transiently_is_tried_again_and_nothing_is_recorded(
        tmp_path: Path, database_url: str, seal_dir: Path) -> None:
    app, world = _start(tmp_path, database_url, seal_dir)
    application_id = submit(world, "one-step")
    _act(world, application_id, "rev1", "approve")
    engine = app.extensions["tongban.engine"]
    with app.app_context():
        storage = material_storage(app)
        ofd_signer = signers_of(app)["ofd-seal"]
    [outcome] = decisions.seal_due(engine, [ofd_signer, _Failing(True)], storage)  # type: ignore[list-item]
    assert (outcome.state, outcome.attempt) == ("pending", 1)
    assert outcome.error == "failing: the seal service is not answering"
    assert _documents(world, application_id) == []     # the OFD made first is not recorded
    [job] = _jobs(world)
    assert job.last_error == outcome.error and job.next_attempt_at > job.created_at
    assert decisions.seal_due(engine, [ofd_signer], storage) == []   # not due yet
    [again] = decisions.seal_due(engine, [ofd_signer], storage, now=job.next_attempt_at)
    assert again.state == "done" and len(_documents(world, application_id)) == 1


def test_a_permanent_failure_marks_the_job_failed(tmp_path: Path, database_url: str,
                                                  seal_dir: Path) -> None:
    app, world = _start(tmp_path, database_url, seal_dir)
    application_id = submit(world, "one-step")
    _act(world, application_id, "rev1", "approve")
    with app.app_context():
        storage = material_storage(app)
    [outcome] = decisions.seal_due(app.extensions["tongban.engine"], [_Failing(False)],  # type: ignore[list-item]
                                   storage)
    assert outcome.state == "failed" and _jobs(world)[0].state == "failed"


def test_a_decision_signer_no_plugin_offers_stops_the_start(tmp_path: Path, database_url: str,
                                                             seal_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"Setting DECISION_SIGNERS names 'hsm-seal', which no "
                                          r"installed plugin offers \(offered: ofd-seal, "
                                          r"pdf-seal\)"):
        _start(tmp_path, database_url, seal_dir, DECISION_SIGNERS="ofd-seal,hsm-seal")


# The flow world's form is a stub; the application page draws the pinned form's labels.
FORM = {"title": {"zh": "申请表", "en": "Form"},
        "schema": {"type": "object", "properties": {"name": {"type": "string", "title": "name"}}},
        "ui": {"fields": {"name": {"label": {"zh": "姓名", "en": "Name"}}}}}


def _with_a_real_form(world: World) -> None:
    with world.session() as session, db.unit_of_work(session):
        row = session.get(DefinitionVersion, world.form_version_id)
        assert row is not None
        row.content = FORM
        session.add(row)


def _login(client: Any, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                            "csrf_token": token.group(1)})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def test_the_applicant_lists_and_downloads_the_documents_and_nobody_else_can(
        tmp_path: Path, database_url: str, seal_dir: Path) -> None:
    app, world = _start(tmp_path, database_url, seal_dir)
    _with_a_real_form(world)
    application_id = submit(world, "one-step")
    _act(world, application_id, "rev1", "approve")
    with world.session() as session:
        reference = session.get(Application, application_id).reference  # type: ignore[union-attr]
    client = app.test_client()
    _login(client, "citizen")
    page = client.get(f"/my/applications/{reference}").get_data(as_text=True)
    assert "您的决定文书正在盖章" in page
    _seal_all(app)
    ofd_doc, pdf_doc = _documents(world, application_id)
    page = client.get(f"/my/applications/{reference}").get_data(as_text=True)
    assert "决定文书" in page and seals.shown_code(ofd_doc.code) in page
    assert f'href="/verify?code={ofd_doc.code}"' in page
    response = client.get(f"/my/applications/{reference}/documents/{pdf_doc.code}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert response.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    with world.session() as session:
        audited = session.scalars(select(AuditEvent).where(
            col(AuditEvent.object_type) == "sealed_document")).all()
    assert [(e.object_id, e.actor_name) for e in audited] == [(pdf_doc.code, "citizen")]
    assert client.get(f"/my/applications/{reference}/documents/2345ABCD2345ABCD").status_code == 404

    stranger = app.test_client()
    _login(stranger, "citizen2")
    assert stranger.get(f"/my/applications/{reference}/documents/{pdf_doc.code}").status_code == 404
