"""/admin/services/<code>/bench and the publish gate: the cases listed with their results, a
case's run, a new run saved as a case into the working copy (undo takes it back), and a
publish refused while a case fails, nothing published (docs/console.md, "Test cases")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import unescape

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlmodel import Session, col
from werkzeug.test import TestResponse

from tongban.console import workspace as ws
from tongban.console.layout import case_path, path_of
from tongban.models import DefinitionVersion, User

from ..conftest import Personas, csrf_token

SERVICE = "household-transfer"
CASE = case_path(SERVICE, "talent-approved")
BENCH = f"/admin/services/{SERVICE}/bench"


def text_of(response: TestResponse) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def post(client: FlaskClient, path: str, data: Mapping[str, object]) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, BENCH), **data})


def versions(session: Session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(DefinitionVersion)) or 0


def admin(session: Session) -> User:
    found: User = session.scalars(select(User).where(col(User.username) == "admin")).one()
    return found


def test_the_bench_lists_the_services_cases_with_their_result(personas: Personas) -> None:
    page = text_of(personas.as_("admin").get(BENCH))
    assert "talent-approved 人才引进迁入浦东" in page and "通过" in page


def test_opening_a_case_shows_its_run_and_fills_the_form(personas: Personas) -> None:
    response = personas.as_("admin").get(f"{BENCH}?case=talent-approved")
    page = text_of(response)
    assert response.status_code == 200
    assert "2026-10-12T11:00 refused four_eyes decision police_city" in page
    assert "start → intake → reason" in page and "2026-12-10T23:59:59" in page
    html = response.get_data(as_text=True)
    assert 'name="answer-applicant.mobile" type="text" value="13812345678"' in html
    assert '<option selected>police_city2</option>' in html


def _run_form(client: FlaskClient, **more: str) -> dict[str, str]:
    html = client.get(f"{BENCH}?case=talent-approved").get_data(as_text=True)
    form = {unescape(name): unescape(value) for name, value in
            re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html)}
    for name in re.findall(r'<select[^>]*name="([^"]+)"', html):
        block = html.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
        chosen = re.search(r"<option selected>([^<]*)</option>", block)
        form[name] = unescape(chosen.group(1)) if chosen else ""
    form["users"] = unescape(re.search(r'<textarea[^>]*name="users"[^>]*>(.*?)</textarea>', html,
                                       re.S).group(1))  # type: ignore[union-attr]
    form.pop("csrf_token", None)
    return {**form, **more}


def test_a_new_run_is_shown_and_saved_as_a_case_that_undo_takes_back(
        personas: Personas, session: Session) -> None:
    client = personas.as_("admin")
    form = _run_form(client, **{"actor-6": "", "action-6": ""})  # without the final approval
    shown = post(client, BENCH, {**form, "run": "1"})
    assert shown.status_code == 200
    assert "in_progress" in text_of(shown)
    saved = post(client, BENCH, {**form, "save": "1", "name": "waits-for-decision",
                                 "title": "等待决定"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(
        "bench?case=waits-for-decision&saved=1")
    session.rollback()
    draft = ws.get_draft(session, SERVICE)
    assert draft is not None
    text = draft.files[case_path(SERVICE, "waits-for-decision")]
    assert "title: 等待决定" in text and "status: in_progress" in text
    page = text_of(client.get(f"{BENCH}?case=waits-for-decision&saved=1"))
    assert "waits-for-decision 等待决定 通过" in page
    again = post(client, BENCH, {**form, "save": "1", "name": "waits-for-decision"})
    assert again.status_code == 422 and "已有同名的测试用例，请换一个名称。" in text_of(again)
    ws.undo(session, draft, admin(session))
    session.commit()
    assert case_path(SERVICE, "waits-for-decision") not in draft.files


def test_a_run_the_form_refuses_says_which_answers(personas: Personas) -> None:
    client = personas.as_("admin")
    response = post(client, BENCH, {**_run_form(client), "answer-applicant.mobile": "123",
                                    "run": "1"})
    assert response.status_code == 422
    assert "applicant.mobile (format)" in text_of(response)


def test_bad_users_and_a_bad_name_are_refused_at_the_field(personas: Personas) -> None:
    client = personas.as_("admin")
    response = post(client, BENCH, {**_run_form(client), "users": "[", "save": "1",
                                    "name": "Bad Name"})
    assert response.status_code == 422
    page = text_of(response)
    assert "请用 YAML 填写用户" in page and "名称只能包含小写字母" in page
    assert 'href="#users"' in response.get_data(as_text=True)


def test_a_failing_case_refuses_the_publish_and_the_page_says_what_differed(
        personas: Personas, session: Session) -> None:
    editor = admin(session)
    draft = ws.open_draft(session, SERVICE, editor)
    text = draft.files[CASE].replace("  status: approved", "  status: rejected")
    ws.save_file(session, draft, CASE, text, expected_revision=draft.revision, user=editor)
    flow = draft.files[path_of("flow", SERVICE)]
    ws.save_file(session, draft, path_of("flow", SERVICE), flow + "\n",
                 expected_revision=draft.revision, user=editor)
    session.commit()
    client = personas.as_("admin")
    page = client.get(f"/admin/services/{SERVICE}/publish")
    words = text_of(page)
    assert "1 个测试用例未通过，在它们通过之前不能发布。" in words
    assert "status rejected approved" in words
    marks = unescape(re.search(r'name="marks" value="([^"]*)"',  # type: ignore[union-attr]
                               page.get_data(as_text=True)).group(1))
    before = versions(session)
    response = client.post(f"/admin/services/{SERVICE}/publish", data={
        "csrf_token": csrf_token(client, f"/admin/services/{SERVICE}/publish"),
        "marks": marks, "comment": "", "effective_from": ""})
    assert response.status_code == 422
    assert "本事项有 1 个测试用例未通过，未发布任何内容。" in text_of(response)
    assert versions(session) == before


def test_another_departments_admin_cannot_open_the_bench(personas: Personas) -> None:
    client = personas.as_("cgjadmin")
    assert client.get(BENCH).status_code == 403
    assert client.post(BENCH, data={"csrf_token": csrf_token(client, "/admin/services"),
                                    "run": "1"}).status_code == 403


def test_a_working_copy_opened_from_live_brings_the_repositorys_cases_and_exports_them(
        demo: object, session: Session) -> None:
    from tongban.console import archive

    draft = ws.open_draft(session, SERVICE, admin(session))
    assert CASE in draft.files and draft.base_versions[CASE] is None
    exported = archive.read_zip(archive.export_zip(draft.files), SERVICE)
    assert exported[CASE] == draft.files[CASE]
    other = case_path("residence-points", "x")
    bad = archive.export_zip({**draft.files, other: "title: x\n"})
    try:
        archive.import_zip(session, SERVICE, bad, admin(session))
    except ws.WorkspaceRefused as exc:
        assert str(exc) == f'"{other}" is not one of the files of service "{SERVICE}".'
    else:
        raise AssertionError("a case of another service was imported")
    try:
        ws.save_file(session, draft, other, "title: x\n", expected_revision=draft.revision,
                     user=admin(session))
    except ws.WorkspaceRefused as exc:
        assert str(exc) == f'"{other}" is not one of the files of service "{SERVICE}".'
    else:
        raise AssertionError("a case of another service was saved")


def test_publish_draft_refuses_a_failing_case_in_english_and_publishes_nothing(
        demo: object, session: Session) -> None:
    from tongban.console import publishing as pub

    editor = admin(session)
    draft = ws.open_draft(session, SERVICE, editor)
    text = draft.files[CASE].replace("approved: [police_pd]", "approved: [hr_city]")
    ws.save_file(session, draft, CASE, text, expected_revision=draft.revision, user=editor)
    session.commit()
    before = versions(session)
    draft = ws.open_draft(session, SERVICE, editor)
    try:
        pub.publish_draft(session, draft, editor, seen=pub.live_marks(session, SERVICE),
                          comment="")
    except pub.CasesFailed as exc:
        assert str(exc) == "1 test case(s) of the service failed; nothing was published."
        assert [(c.name, c.expected, c.actual) for c in exc.failed[0].failures] == [
            ("steps.district.approved", ["hr_city"], ["police_pd"])]
    else:
        raise AssertionError("published with a failing case")
    session.rollback()
    assert versions(session) == before
