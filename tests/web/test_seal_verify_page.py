"""Issue 16 item 2: the public verification page (/verify), no sign-in, JavaScript off: a
verification code or a sealed file gives the verdict in words with who sealed it when; bad
input gets a message in the page's language and nothing is kept. Here (not in tests/seals) so
that it runs on PostgreSQL too."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from tongban import seals
from tongban.extend.manager import material_storage, signer, signers_of
from tongban.models import SealedDocumentRecord
from tongban.plugin_api import DocumentDraft

from .. import seal_plugins
from ..conftest import csrf_token

DRAFT = DocumentDraft(title="准予行政许可决定书", paragraphs=("申请人张三：", "决定准予许可。"),
                      issuer="某市公安局", issued_on=date(2026, 12, 3),
                      reference="某公许〔2026〕001号", department="police")


@pytest.fixture(scope="module")
def seal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("seals")   # the demo key store, made once for the module


@pytest.fixture
def app_config(app_config: dict[str, object], seal_dir: Path, tmp_path: Path) -> dict[str, object]:
    return {**app_config, **seal_plugins.settings(seal_dir, tmp_path / "materials")}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _issue(app: Flask, signer_id: str = "ofd-seal") -> SealedDocumentRecord:
    with app.app_context(), Session(app.extensions["tongban.engine"],
                                    expire_on_commit=False) as session:
        record = seals.issue(session, signers_of(app)[signer_id], material_storage(app), DRAFT,
                             purpose="decision")
        session.commit()
        return record


def _file(app: Flask, record: SealedDocumentRecord) -> bytes:
    with app.app_context():
        return material_storage(app).get(record.storage_key)


def _post(client: FlaskClient, **data: object) -> tuple[int, str]:
    response = client.post("/verify", data={"csrf_token": csrf_token(client, "/verify"), **data},
                           content_type="multipart/form-data")
    return response.status_code, response.get_data(as_text=True)


def _verdict(html: str) -> str:
    found = re.search(r'data-verdict="([a-z_]+)"', html)
    assert found, _text(html)[:500]
    return found.group(1)


def test_the_page_needs_no_sign_in_and_asks_for_a_code_or_a_file_in_chinese_by_default(
        client: FlaskClient) -> None:
    response = client.get("/verify")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<title>核验电子印章文件" in html
    assert 'enctype="multipart/form-data"' in html and 'name="code"' in html
    assert 'name="file"' in html and "<label" in html


def test_a_verification_code_gives_valid_with_the_seal_the_signer_and_the_time(
        app: Flask, client: FlaskClient) -> None:
    record = _issue(app)
    assert re.fullmatch(f"[{seals.CODE_ALPHABET}]{{16}}", record.code)
    typed = seals.shown_code(record.code).lower().replace("-", " ")   # as a person types it
    status, html = _post(client, code=typed)
    assert status == 200 and _verdict(html) == "valid"
    text = _text(html)
    assert "印章有效" in text
    assert "某市公安局电子印章（仅供测试 test only）" in text
    assert "准予行政许可决定书 (某公许〔2026〕001号)" in text
    assert seals.shown_code(record.code) in text
    # the printed link: /verify?code=...
    assert _verdict(client.get(f"/verify?code={record.code}").get_data(as_text=True)) == "valid"


def test_the_sealed_file_itself_gives_valid_and_the_platforms_record(app: Flask,
                                                                      client: FlaskClient) -> None:
    record = _issue(app)
    status, html = _post(client, file=(io.BytesIO(_file(app, record)), "decision.ofd"))
    assert status == 200 and _verdict(html) == "valid"
    assert seals.shown_code(record.code) in _text(html)


def test_a_pdf_decision_verifies_on_the_same_page(app: Flask, client: FlaskClient) -> None:
    record = _issue(app, "pdf-seal")
    assert record.media_type == "application/pdf" and record.file_name.endswith(".pdf")
    status, html = _post(client, file=(io.BytesIO(_file(app, record)), "decision.pdf"))
    assert status == 200 and _verdict(html) == "valid"


def test_a_tampered_file_says_so_in_words(app: Flask, client: FlaskClient) -> None:
    record = _issue(app)
    changed = bytearray(_file(app, record))
    changed[60] ^= 0x01
    status, html = _post(client, file=(io.BytesIO(bytes(changed)), "decision.ofd"))
    assert status == 200 and _verdict(html) == "tampered"
    assert "文件已被改动" in _text(html)


def test_a_kept_file_that_changed_in_storage_is_tampered(app: Flask, client: FlaskClient) -> None:
    record = _issue(app)
    with app.app_context():
        changed = _file(app, record).replace(b"PK", b"PK", 1) + b"trailing"
        stored = material_storage(app).put(changed, content_type=record.media_type)
    with Session(app.extensions["tongban.engine"]) as session:
        row = session.exec(select(SealedDocumentRecord)
                           .where(SealedDocumentRecord.code == record.code)).one()
        row.storage_key = stored.key
        session.add(row)
        session.commit()
    status, html = _post(client, code=record.code)
    assert _verdict(html) == "tampered"


def test_an_unknown_code_or_file_is_unknown(app: Flask, client: FlaskClient) -> None:
    status, html = _post(client, code="2345-6789-ABCD-EFGH")
    assert status == 200 and _verdict(html) == "unknown"
    assert "无法确认印章" in _text(html)
    status, html = _post(client, file=(io.BytesIO(b"just some text"), "note.txt"))
    assert status == 200 and _verdict(html) == "unknown"


@pytest.mark.parametrize(("data", "message"), [
    ({}, "请输入核验码或选择文件"),
    ({"code": "ABC-123"}, "请按文件上印的样子输入核验码：16 位字母和数字"),
    ({"code": "0000-1111-OOOO-IIII"}, "请按文件上印的样子输入核验码：16 位字母和数字"),
    ({"file": (io.BytesIO(b""), "empty.ofd")}, "所选文件是空文件，请重新选择"),
])
def test_bad_input_gets_the_exact_message_in_the_summary_and_inline(
        client: FlaskClient, data: dict[str, object], message: str) -> None:
    status, html = _post(client, **data)
    assert status == 422
    summary = re.search(r'<div class="tb-error-summary".*?</div>', html, re.S)
    assert summary and message in _text(summary.group(0))
    assert f"错误： {message}" in _text(html) or f"错误: {message}" in _text(html)
    assert "data-verdict" not in html


def test_the_page_speaks_english_when_asked(app: Flask, client: FlaskClient) -> None:
    record = _issue(app)
    client.post("/settings/language", data={"csrf_token": csrf_token(client, "/verify"),
                                            "locale": "en", "next": "/verify"})
    html = client.get(f"/verify?code={record.code}").get_data(as_text=True)
    assert "The seal is valid" in _text(html) and "<title>The seal is valid - Check a sealed" in html


def test_issuing_with_the_configured_signer_records_the_file_and_who_sealed_it(
        app: Flask, session: Session) -> None:
    with app.app_context():
        configured = signer(app)
    assert configured.id == "ofd-seal"
    record = _issue(app)
    row = session.exec(select(SealedDocumentRecord)
                       .where(SealedDocumentRecord.code == record.code)).one()
    assert row.signer_id == "ofd-seal" and row.media_type == "application/ofd"
    assert row.file_name == "某公许〔2026〕001号.ofd"
    assert row.sealed_by == "某市公安局电子印章（仅供测试 test only）"
    assert row.signed_at is not None and len(row.sha256) == 64


class _Broken:
    id = "broken"

    def verify_document(self, document: bytes) -> None:
        raise RuntimeError("a bug in a signer plugin")


def test_a_signer_that_breaks_on_a_file_gives_unknown_not_an_error(
        app: Flask, session: Session, caplog: pytest.LogCaptureFixture) -> None:
    with app.app_context():
        signers = {**signers_of(app), "broken": _Broken()}
    found = seals.check_file(session, signers, b"anything")  # type: ignore[arg-type]
    assert (found.verdict, found.reason) == ("unknown", "the broken signer could not check the file")
    assert "signer broken failed on a file handed in for checking" in caplog.text
    sealed = _file(app, _issue(app))
    assert seals.check_file(session, signers, sealed).verdict == "valid"  # type: ignore[arg-type]
