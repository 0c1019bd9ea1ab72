"""The form editor's pages: each edit saved to the working copy with the revision as a lock,
refusals with the administrator's message and nothing changed, undo and redo, the text view,
problems at the question, the preview drawn by the form engine, and who may edit."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlmodel import Session, col

from tongban.console import workspace
from tongban.console.form_editing import form_path
from tongban.definitions.publish import current_version
from tongban.models import AuditEvent

from ..conftest import Personas

CODE = "urban-event-report"
EDITOR = f"/admin/services/{CODE}/form"
FORM = "form_definitions/urban-event-report.json"


@pytest.fixture
def admin(personas: Personas) -> FlaskClient:
    return personas.as_("admin")


def _page(client: FlaskClient, query: str = "") -> str:
    response = client.get(EDITOR + query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _fields(html: str) -> dict[str, str]:
    """The CSRF token and the revision the page was drawn from."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    revision = re.search(r'name="revision" value="(\d+)"', html)
    assert token and revision
    return {"csrf_token": token.group(1), "revision": revision.group(1)}


def _post(client: FlaskClient, path: str, data: dict[str, Any], *,
          html: str | None = None) -> Any:
    fields = _fields(html if html is not None else _page(client))
    return client.post(EDITOR + path, data={**fields, **data})


def _form(session: Session) -> dict[str, Any]:
    session.rollback()  # a new snapshot: the requests committed since
    draft = workspace.get_draft(session, CODE)
    assert draft is not None
    return json.loads(draft.files[FORM])  # type: ignore[no-any-return]  # JSON object


def _revision(session: Session) -> int:
    session.rollback()  # a new snapshot: the requests committed since
    draft = workspace.get_draft(session, CODE)
    assert draft is not None
    return draft.revision


def _errors(html: str) -> list[str]:
    found = re.findall(r'<p class="tb-error-message"><span class="tb-visually-hidden">[^<]*'
                       r'</span>\s*([^<]*)</p>', html)
    return [unescape(text.strip()) for text in found]


def test_the_editor_lists_pages_and_questions_beside_the_preview(admin: FlaskClient,
                                                                 session: Session) -> None:
    html = _page(admin)
    assert "<h1 class=\"tb-heading-l\">表单编辑</h1>" in html
    assert "第1页：发生了什么" in html
    assert 'id="q-event.category"' in html
    assert "显示条件： “问题类别” 是 “市容环境”" in html
    assert f'src="/admin/services/{CODE}/form/preview?rev=1"' in html
    assert _revision(session) == 1  # opening the editor made the working copy


def test_the_editor_links_back_to_the_service(admin: FlaskClient) -> None:
    """The way back to the service page (its files, publish) is on the editor itself, as on
    the flow editor: the measure's administrator had only the browser's back button."""
    assert f'<a class="tb-link" href="/admin/services/{CODE}">返回服务</a>' in _page(admin)


def test_adding_a_question_saves_the_working_copy_and_is_audited(admin: FlaskClient,
                                                                 session: Session) -> None:
    response = _post(admin, "/add", {"kind": "mobile", "label_zh": "备用电话",
                                     "label_en": "Other phone", "to_page": "reporter"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("?q=q5#q-q5")
    form = _form(session)
    assert form["schema"]["properties"]["q5"] == {"type": "string", "format": "cn-mobile",
                                                  "title": "备用电话"}
    assert form["ui"]["pages"][-1]["fields"][-1] == "q5"
    assert _revision(session) == 2
    events = session.scalars(select(AuditEvent).where(
        col(AuditEvent.action) == "workspace.save")).all()
    assert [e.object_id for e in events] == [CODE]
    # The live form is untouched until publishing.
    live = current_version(session, "form", CODE)
    assert live is not None and "q5" not in live.content["schema"]["properties"]


@pytest.mark.parametrize(("path", "data", "message"), [
    ("/add", {"kind": "text", "label_zh": " "}, "请填写问题的中文。"),
    ("/add", {"kind": "signature", "label_zh": "签名"}, "请选择问题类型。"),
    ("/question/event.description", {"label_zh": "描述", "min_length": "9",
                                     "max_length": "3"}, "最短回答不能长于最长回答。"),
    ("/question/event.description", {"label_zh": "描述", "max_length": "很多"}, "请填写整数。"),
    ("/question/event/move", {"direction": "up"}, "此问题已经在最前或最后。"),
    ("/question/event.category/move", {"direction": "up"},
     "组内的问题随所在的组移动：请在文本视图中修改顺序。"),
    ("/question/reporter.anonymous/delete", {},
     "“姓名”的显示条件用到了此问题：请先修改该条件。"),
    ("/question/reporter.name/condition", {"clause-count": "1", "clause-0-question": "",
                                           "combine": "all"}, "请选择条件针对的问题。"),
    ("/question/reporter.name/condition", {"clause-count": "1",
                                           "clause-0-question": "event.category",
                                           "clause-0-operator": "eq",
                                           "clause-0-answer": "reporter.anonymous::true"},
     "请选择条件所针对问题的一个答案。"),
])
def test_bad_edits_are_refused_with_a_message_and_change_nothing(
        admin: FlaskClient, session: Session, path: str, data: dict[str, str],
        message: str) -> None:
    html = _page(admin, "?q=event.description")
    before = _form(session)
    response = _post(admin, path, data, html=html)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in _errors(page)
    assert "<a href=\"#q-" in page or 'href="#q-add"' in page
    assert _form(session) == before
    assert _revision(session) == 1


def test_what_was_typed_is_kept_when_an_edit_is_refused(admin: FlaskClient) -> None:
    response = _post(admin, "/question/event.description",
                     {"q": "event.description", "label_zh": "事情经过", "hint_zh": "写清楚",
                      "min_length": "9", "max_length": "3"})
    page = response.get_data(as_text=True)
    assert 'value="事情经过"' in page and 'value="写清楚"' in page


def test_a_stale_save_is_refused_and_loses_nothing(admin: FlaskClient,
                                                   session: Session) -> None:
    html = _page(admin)
    assert _post(admin, "/add", {"kind": "text", "label_zh": "第一个"}, html=html
                 ).status_code == 303
    stale = _post(admin, "/text", {"text": '{"title": {"zh": "旧"}, "schema": {}}',
                                   "view": "text"}, html=html)
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert ("您打开此页后，其他人保存了此服务（现为第2版）。您的修改未保存，已在下方保留：请核对后再次保存。"
            in page)
    assert "{&#34;title&#34;: {&#34;zh&#34;: &#34;旧&#34;}, &#34;schema&#34;: {}}" in page
    assert "q5" in _form(session)["schema"]["properties"]
    assert _revision(session) == 2


def test_editing_a_question_writes_texts_limits_and_choices(admin: FlaskClient,
                                                            session: Session) -> None:
    response = _post(admin, "/question/event.category", {
        "label_zh": "问题类别", "label_en": "Kind of problem", "hint_zh": "选一个最接近的",
        "required": "1", "choice-count": "5",
        "choice-0-value": "environment", "choice-0-zh": "市容环境", "choice-0-en": "Streets",
        "choice-1-value": "street_order", "choice-1-zh": "", "choice-1-en": "",
        "choice-2-value": "facilities", "choice-2-zh": "市政设施", "choice-2-en": "",
        "choice-3-value": "construction", "choice-3-zh": "违法建设", "choice-3-en": "",
        "choice-4-zh": "其他", "choice-4-en": "Other"})
    assert response.status_code == 303
    category = _form(session)["schema"]["properties"]["event"]["properties"]["category"]
    assert [o["const"] for o in category["oneOf"]] == ["environment", "facilities",
                                                       "construction", "option-1"]
    # The removed choice was read by a condition: the check says so at that question.
    html = _page(admin)
    assert 'id="q-event.street_kind"' in html


def test_a_condition_built_from_dropdowns_is_written_as_json_logic(admin: FlaskClient,
                                                                   session: Session) -> None:
    response = _post(admin, "/question/event.happened_on/condition", {
        "combine": "any", "clause-count": "2",
        "clause-0-question": "event.category", "clause-0-operator": "eq",
        "clause-0-answer": "event.category::facilities",
        "clause-1-question": "reporter.anonymous", "clause-1-operator": "eq",
        "clause-1-answer": "reporter.anonymous::false"})
    assert response.status_code == 303
    rule = _form(session)["logic"][-1]
    assert rule == {"id": "show-event-happened_on", "show": "event.happened_on", "when": {
        "or": [{"==": [{"var": "event.category"}, "facilities"]},
               {"==": [{"var": "reporter.anonymous"}, False]}]}}
    html = _page(admin)
    assert "显示条件： “问题类别” 是 “市政设施” 或 “我希望匿名反映” 是 “否”" in html
    cleared = _post(admin, "/question/event.happened_on/condition", {"clear": "1"})
    assert cleared.status_code == 303
    assert all(r.get("show") != "event.happened_on" for r in _form(session)["logic"])


def test_moving_and_splitting_pages(admin: FlaskClient, session: Session) -> None:
    assert _post(admin, "/question/photos/move", {"direction": "up"}).status_code == 303
    pages = _form(session)["ui"]["pages"]
    assert pages[1]["fields"] == ["location", "photos"]
    assert len(pages) == 3  # the photos page had one question: it is gone with it
    assert _post(admin, "/question/photos/split", {"title_zh": "照片", "title_en": "Photos"}
                 ).status_code == 303
    pages = _form(session)["ui"]["pages"]
    assert [p["fields"] for p in pages][1:3] == [["location"], ["photos"]]
    assert pages[2]["title"] == {"zh": "照片", "en": "Photos"}


def test_undo_and_redo_step_through_saves(admin: FlaskClient, session: Session) -> None:
    _post(admin, "/add", {"kind": "text", "label_zh": "备注"})
    assert "q5" in _form(session)["schema"]["properties"]
    assert _post(admin, "/undo", {}).status_code == 303
    assert "q5" not in _form(session)["schema"]["properties"]
    assert _post(admin, "/redo", {}).status_code == 303
    assert "q5" in _form(session)["schema"]["properties"]
    assert _revision(session) == 4
    refused = _post(admin, "/redo", {})
    assert refused.status_code == 422
    assert "没有可重做的操作。" in refused.get_data(as_text=True)


def test_a_text_edit_that_breaks_the_schema_is_kept_and_shown_at_the_question_and_line(
        admin: FlaskClient, session: Session) -> None:
    _page(admin)
    text = _form(session)
    text["schema"]["properties"]["event"]["properties"]["description"]["maxLength"] = "很长"
    posted = json.dumps(text, ensure_ascii=False, indent=2) + "\n"
    response = _post(admin, "/text", {"text": posted, "view": "text"})
    assert response.status_code == 303
    session.rollback()  # a new snapshot: the requests committed since
    draft = workspace.get_draft(session, CODE)
    assert draft is not None and draft.files[FORM] == posted  # the draft is kept
    line = next(number for number, text in enumerate(posted.splitlines(), 1)
                if '"maxLength": "很长"' in text)
    message = "not a valid JSON Schema: '很长' is not of type 'integer'"
    page = _page(admin)
    at_question = page.split('id="q-event.description"')[1].split("</li>")[0]
    assert _errors(at_question) == [f"第{line}行：{message}"]
    assert "表单有1个问题，需改正后才能发布" in page
    text_view = _page(admin, "?view=text")
    problems = re.search(r'data-problems="([^"]*)"', text_view)
    assert problems is not None
    assert json.loads(unescape(problems.group(1))) == [{"line": line, "column": 26, "message": message}]
    live = current_version(session, "form", CODE)
    assert live is not None
    assert live.content["schema"]["properties"]["event"]["properties"]["description"][
        "maxLength"] != "很长"


def test_text_that_is_not_json_is_kept_and_the_text_view_shows(admin: FlaskClient) -> None:
    assert _post(admin, "/text", {"text": '{"title": ', "view": "text"}).status_code == 303
    html = _page(admin)
    assert "表单文件不是有效的JSON（第1行，第11列）：请在文本视图中改正。" in html
    assert 'id="form-text"' in html  # the question list cannot be drawn: the text view is


def test_the_preview_is_the_engine_s_page_in_either_language_and_elder_mode(
        admin: FlaskClient) -> None:
    _page(admin)
    response = admin.get(EDITOR + "/preview?page=reporter&lang=en&elder=1")
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)
    assert '<body class="tb-elder">' in html
    assert "Your contact details" in html
    assert 'id="tb-page-form"' in html
    chinese = admin.get(EDITOR + "/preview").get_data(as_text=True)
    assert '<h1 class="tb-heading-l">发生了什么</h1>' in chinese


def test_the_preview_checks_answers_typed_into_it_without_keeping_them(
        admin: FlaskClient, session: Session) -> None:
    html = _page(admin)
    response = admin.post(EDITOR + "/preview?page=reporter", data={
        "csrf_token": _fields(html)["csrf_token"], "reporter.anonymous": "false",
        "reporter.mobile": "123"})
    assert response.status_code == 200
    assert "tb-error-summary" in response.get_data(as_text=True)
    assert _revision(session) == 1


def test_the_schema_for_completion_is_served(admin: FlaskClient) -> None:
    response = admin.get(EDITOR + "/schema.json")
    assert response.status_code == 200
    assert response.get_json()["$id"] == "urn:tongban:form-definition"


@pytest.mark.parametrize(("user", "status"), [("deptadmin", 403), ("reviewer", 403),
                                              ("outsider", 403)])
def test_only_admins_of_the_service_s_department_may_edit(personas: Personas, user: str,
                                                          status: int) -> None:
    client = personas.as_(user)
    assert client.get(EDITOR).status_code == status
    assert client.get(EDITOR + "/preview").status_code == status


def test_a_department_admin_edits_a_service_of_their_department(personas: Personas,
                                                                session: Session) -> None:
    client = personas.as_("deptadmin")
    html = client.get("/admin/services/residence-points/form").get_data(as_text=True)
    assert "表单编辑" in html
    draft = workspace.get_draft(session, "residence-points")
    assert draft is not None and form_path("residence-points", draft.files)


def test_an_unknown_service_is_not_found(admin: FlaskClient) -> None:
    assert admin.get("/admin/services/no-such-service/form").status_code == 404


def test_lint_problems_are_shown_in_the_page_s_language(admin: FlaskClient,
                                                         session: Session) -> None:
    """Design-time lint speaks the console's language: Chinese by default, English when
    chosen; the phrases inside a message (which text, which language) are translated too."""
    _page(admin)
    text = _form(session)
    del text["ui"]["fields"]["event.description"]["label"]["en"]
    text["title"] = {"zh": "城市管理事件上报", "en": " "}
    posted = json.dumps(text, ensure_ascii=False, indent=2) + "\n"
    assert _post(admin, "/text", {"text": posted, "view": "text"}).status_code == 303
    label = next(n for n, line in enumerate(posted.splitlines(), 1) if '"zh": "问题描述"' in line)
    title = next(n for n, line in enumerate(posted.splitlines(), 1) if '"title": {' in line)
    page = _page(admin)
    at_question = page.split('id="q-event.description"')[1].split("</li>")[0]
    assert _errors(at_question) == [
        f'第{label - 1}行：问题“event.description”的标签没有英文文字；请添加 '
        'ui.fields["event.description"].label = {"zh": ..., "en": ...}，中英文都要有。']
    assert f'第{title}行：表单标题没有英文文字；请添加 "en"：英文文字。' in unescape(page)
    problems = re.search(r'data-problems="([^"]*)"', _page(admin, "?view=text"))
    assert problems is not None
    assert "表单标题没有英文文字" in json.loads(unescape(problems.group(1)))[0]["message"]
    english = admin.post("/settings/language", data={
        "csrf_token": _fields(page)["csrf_token"], "locale": "en", "next": EDITOR})
    assert english.status_code in (302, 303)
    page = unescape(_page(admin))
    assert ('the label of question "event.description" has no English text; add '
            'ui.fields["event.description"].label = {"zh": ..., "en": ...} with both texts') in page
    assert "the form's title has no English text; add \"en\": the English wording" in page
