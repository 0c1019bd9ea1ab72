"""Issue 17 item 9: public progress (/progress), no sign-in, JavaScript off: the reference number
and the applicant's name, or a sealed decision's verification code, open the applicant's
timeline without private data; every miss gets the same words; every match is audited."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from tongban import audit, db, seals
from tongban.models import AuditEvent, SealedDocumentRecord, User
from tongban.public_progress import mask_name, normal_reference
from tongban.who_looked import APPLICATION_READ

from ..conftest import csrf_token
from . import review_world

REFERENCE = "2610-RSJ2-WEB9"
NO_MATCH = "没有与您填写的内容相符的办件，请核对后重试。"


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    return {**app_config, "PROGRESS_RATE_LIMIT": "10000 per minute"}


@pytest.fixture
def run(demo: Flask) -> review_world.Run:
    """张小明's residence-points application, accepted at the counter with a comment and
    waiting at the reviewers' group."""
    return review_world.build(demo.extensions["tongban.engine"], reference=REFERENCE, answers={
        "applicant": {"name": "张小明", "id_number": "310104199003071234",
                      "mobile": "13812345678"}})


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _find(client: FlaskClient, **data: str) -> tuple[int, str]:
    response = client.post("/progress/find", data={
        "csrf_token": csrf_token(client, "/progress"), **data})
    return response.status_code, response.get_data(as_text=True)


def _reads(session: Session) -> list[AuditEvent]:
    session.rollback()
    return list(session.scalars(select(AuditEvent).where(
        AuditEvent.action == APPLICATION_READ).order_by(AuditEvent.seq)))


def _seal_code(demo: Flask, run: review_world.Run) -> str:
    """A sealed 受理通知书 of the application, as the decision worker records it."""
    with db.new_session(demo.extensions["tongban.engine"]) as session, db.unit_of_work(session):
        row = SealedDocumentRecord(
            code=seals.new_code(), sha256="0" * 64, size=1, signer_id="ofd-seal",
            media_type="application/ofd", file_name="acceptance.ofd", storage_key="k",
            purpose="acceptance", title="受理通知书", application_id=run.application_id)
        session.add(row)
        session.flush()
        return row.code


def test_the_page_needs_no_sign_in_and_asks_in_chinese_with_hints_linked(
        client: FlaskClient) -> None:
    response = client.get("/progress")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<title>查询办件进度" in html
    for name in ("reference", "name", "code"):
        assert f'id="{name}" name="{name}"' in html
        assert f'aria-describedby="{name}-hint"' in html


def test_the_reference_and_the_name_open_the_timeline_without_private_data(
        demo: Flask, client: FlaskClient, run: review_world.Run, session: Session) -> None:
    status, html = _find(client, by="reference", reference=REFERENCE, name="张小明")
    assert status == 200, _text(html)[:400]
    text = _text(html)
    assert REFERENCE in text and "张*明" in text
    assert "上海市居住证积分申请" in text and "上海市人力资源和社会保障局" in text
    assert "窗口受理" in text and "初审" in text  # step names
    names = [u.display_name for u in session.scalars(select(User).where(
        User.username.in_(["clerk", "citizen", "reviewer"])))]
    for private in ("张小明", "310104199003071234", "13812345678", "材料齐全", *names):
        assert private not in text, private
    assert "窗口人员" not in text and "审核人员" not in text  # roles: department names only


@pytest.mark.parametrize("reference", [
    "2610-rsj2-web9", " 2610 RSJ2 WEB9 ", "２６１０－ＲＳＪ２－ＷＥＢ９", "2610RSJ2WEB9"])
def test_the_reference_may_be_typed_full_width_spaced_or_in_lower_case(
        client: FlaskClient, run: review_world.Run, reference: str) -> None:
    status, html = _find(client, by="reference", reference=reference, name="  张 小明　")
    assert status == 200, _text(html)[:400]
    assert normal_reference(reference) == REFERENCE


def test_an_unknown_reference_and_a_wrong_name_get_the_same_answer_and_leave_no_trace(
        client: FlaskClient, run: review_world.Run, session: Session) -> None:
    unknown = _find(client, by="reference", reference="2610-RSJ2-WEBA", name="张小明")
    wrong = _find(client, by="reference", reference=REFERENCE, name="张大明")
    for status, html in (unknown, wrong):
        assert status == 422
        assert NO_MATCH in _text(html)
        assert 'aria-describedby="reference-hint reference-error"' in html
        assert 'href="#reference"' in html  # the summary links to the field
    assert _text(unknown[1]).replace("2610-RSJ2-WEBA", REFERENCE) == \
        _text(wrong[1]).replace("张大明", "张小明")
    assert _reads(session) == []


@pytest.mark.parametrize(("data", "field", "words"), [
    ({"by": "reference", "reference": "", "name": "张小明"}, "reference", "请输入受理编号"),
    ({"by": "reference", "reference": "2610-RSJ2", "name": "张小明"}, "reference",
     "请按回执上的样子输入受理编号，例如 2611-K7QX-9MPA"),
    ({"by": "reference", "reference": REFERENCE, "name": " 　"}, "name", "请输入申请人姓名"),
    ({"by": "code", "code": ""}, "code", "请输入核验码"),
    ({"by": "code", "code": "ABC"}, "code", "请按文件上印的样子输入核验码：16 位字母和数字"),
])
def test_bad_input_gets_its_message_keeps_what_was_typed_and_reads_nothing(
        client: FlaskClient, run: review_world.Run, session: Session, data: dict[str, str],
        field: str, words: str) -> None:
    status, html = _find(client, **data)
    assert status == 422
    assert words in _text(html)
    assert f'id="{field}-error"' in html and f'{field}-error"' in html
    assert _reads(session) == []


def test_a_verification_code_alone_opens_the_progress_even_from_a_link(
        demo: Flask, client: FlaskClient, run: review_world.Run) -> None:
    code = _seal_code(demo, run)
    status, html = _find(client, by="code", code=seals.shown_code(code).lower())
    assert status == 200 and REFERENCE in _text(html)
    response = client.get(f"/progress/find?code={seals.shown_code(code)}")
    assert response.status_code == 200 and REFERENCE in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "private, no-store"
    status, html = _find(client, by="code", code="2" * 16)
    assert status == 422 and NO_MATCH in _text(html)


def test_every_match_is_audited_with_how_it_was_found(
        demo: Flask, client: FlaskClient, run: review_world.Run, session: Session) -> None:
    code = _seal_code(demo, run)
    _find(client, by="reference", reference=REFERENCE, name="张小明")
    _find(client, by="code", code=code)
    events = _reads(session)
    assert [(e.object_id, e.actor_id, e.actor_name, e.after) for e in events] == [
        (REFERENCE, None, "anonymous", {"page": "public_progress",
                                        "found_by": "reference_and_name"}),
        (REFERENCE, None, "anonymous", {"page": "public_progress", "found_by": "code"})]
    assert audit.verify(session).ok


def test_the_page_speaks_english_when_asked(client: FlaskClient, run: review_world.Run) -> None:
    client.post("/settings/language", data={"csrf_token": csrf_token(client, "/progress"),
                                            "locale": "en", "next": "/progress"})
    status, html = _find(client, by="reference", reference="2610-RSJ2-WEBA", name="张小明")
    assert status == 422
    assert "No application matches what you entered. Check it and try again." in _text(html)
    status, html = _find(client, by="reference", reference=REFERENCE, name="张小明")
    assert status == 200 and "Initial review" in _text(html) and "张*明" in _text(html)


@pytest.mark.parametrize(("name", "masked"), [
    ("张小明", "张*明"), ("李四", "李*"), ("欧阳小锋", "欧**锋"), ("王", "*"),
    ("上海示例科技有限公司", "上********司")])
def test_names_are_masked_but_their_first_and_last_characters(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_a_service_whose_applicant_name_is_not_a_text_question_does_not_load() -> None:
    import json
    from pathlib import Path

    from tongban.definitions.materials import check_applicant_name
    from tongban.forms.definition import load_form

    form = load_form(json.loads(Path("form_definitions/household-transfer.json").read_text()),
                     name="household-transfer")
    assert check_applicant_name({"applicant_name": "applicant.name"}, form) == []
    for key in ("members.name", "applicant.nope", "applicant"):
        [(where, _template, params)] = check_applicant_name({"applicant_name": key}, form)
        assert where == ["applicant_name"] and params == {"key": key}

