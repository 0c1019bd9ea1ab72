"""The flow editor's pages: each edit saved to the working copy with the revision as a lock,
refusals with the administrator's message and nothing changed, problems at the step with the
live flow untouched, undo and redo, the text view, the diagram redrawn, and who may edit."""

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
from tongban.console.layout import parse
from tongban.definitions.publish import current_version
from tongban.models import AuditEvent

from ..conftest import Personas

CODE = "enterprise-credit"
EDITOR = f"/admin/services/{CODE}/flow"
FLOW = "workflow_definitions/flows/enterprise-credit.yaml"


@pytest.fixture
def admin(personas: Personas) -> FlaskClient:
    return personas.as_("admin")


def _page(client: FlaskClient, query: str = "") -> str:
    response = client.get(EDITOR + query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _fields(html: str) -> dict[str, str]:
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    revision = re.search(r'name="revision" value="(\d+)"', html)
    assert token and revision
    return {"csrf_token": token.group(1), "revision": revision.group(1)}


def _post(client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    return client.post(EDITOR + path, data={**_fields(_page(client)), **data})


def _flow(session: Session) -> str:
    session.rollback()  # a new snapshot: the requests committed since
    draft = workspace.get_draft(session, CODE)
    assert draft is not None
    return draft.files[FLOW]


def _errors(html: str) -> list[str]:
    found = re.findall(r'<p class="tb-error-message"[^>]*><span class="tb-visually-hidden">'
                       r'[^<]*</span>\s*([^<]*)</p>', html)
    return [unescape(text).strip() for text in found]


STEP = {"name_zh": "信用审核", "name_en": "Credit review", "role": "reviewer",
        "department": "sh-scjgj", "district_of": "", "mode": "all", "deadline": "preset",
        "preset": "licence_decision", "working_days": "", "on_timeout": "escalate"}


def test_the_editor_lists_the_steps_in_flow_order_beside_the_diagram(admin: FlaskClient) -> None:
    html = _page(admin)
    order = [html.index(f'id="step-{node}"') for node in ("start", "intake", "review", "graded")]
    assert order == sorted(order)
    assert '<img class="tb-flow-diagram__svg"' in html
    assert "企业信用评价（示例）" in html
    panel = _page(admin, "?step=review")
    assert 'name="preset"' in panel and 'value="licence_decision"' in panel
    assert '<option value="sh-scjgj" selected>' in panel


def test_a_step_edit_is_saved_with_comments_kept_and_audited(
        admin: FlaskClient, session: Session) -> None:
    response = _post(admin, "/step/review", STEP)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("?step=review#step-review")
    review = parse(FLOW, _flow(session))["nodes"]["review"]
    assert list(review) == ["type", "name", "who", "mode", "operations", "deadline", "next"]
    assert review["mode"] == "all"
    assert review["deadline"] == {"preset": "licence_decision",
                                  "on_timeout": ["remind", "escalate"],
                                  "escalate_to": "department_admin"}
    actions = session.scalars(select(col(AuditEvent.action))
                              .where(col(AuditEvent.object_id) == CODE)).all()
    assert "workspace.save" in actions
    live = current_version(session, "flow", CODE)
    assert live is not None and "mode" not in live.content["nodes"]["review"]  # live untouched


@pytest.mark.parametrize(("change", "message"), [
    ({"name_zh": " "}, "请输入步骤的中文名称。"),
    ({"deadline": "working_days", "working_days": "0"},
     "请以工作日整数输入办理时限，范围为 1 至 999。"),
    ({"deadline": "preset", "preset": "nonsense"}, "请从列表中选择法定时限。"),
    ({"role": "citizen"}, "请选择办理该步骤的人员角色。"),
    ({"deadline": "", "on_timeout": "remind"},
     "没有办理时限的步骤无法在超时时处理：请选择办理时限，或不选择超时处理。"),
])
def test_a_bad_step_edit_is_refused_with_its_message_and_nothing_changes(
        admin: FlaskClient, session: Session, change: dict[str, str], message: str) -> None:
    before = _flow(session) if workspace.get_draft(session, CODE) else None
    response = _post(admin, "/step/review", {**STEP, **change})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in _errors(html)
    assert message in unescape(html)  # in the error summary too
    after = _flow(session)
    assert before is None or after == before
    assert parse(FLOW, after)["nodes"]["review"].get("mode") is None


def test_a_step_added_after_another_takes_over_its_next_and_its_actors(
        admin: FlaskClient, session: Session) -> None:
    response = _post(admin, "/step/intake/add", {"name_zh": "复核", "name_en": "Second look"})
    assert response.status_code == 303
    nodes = parse(FLOW, _flow(session))["nodes"]
    assert list(nodes) == ["start", "intake", "step_4", "review", "graded"]
    assert nodes["intake"]["next"] == "step_4"
    assert nodes["step_4"] == {"type": "task", "name": {"zh": "复核", "en": "Second look"},
                               "who": {"role": "counter_clerk", "department": "sh-scjgj"},
                               "next": "review"}
    html = _page(admin)
    assert html.index('id="step-step_4"') < html.index('id="step-review"')
    assert _post(admin, "/step/step_4/remove", {}).status_code == 303
    nodes = parse(FLOW, _flow(session))["nodes"]
    assert "step_4" not in nodes and nodes["intake"]["next"] == "review"


def test_removing_the_only_step_left_is_refused(admin: FlaskClient, session: Session) -> None:
    assert _post(admin, "/step/intake/remove", {}).status_code == 303
    before = _flow(session)
    response = _post(admin, "/step/review/remove", {})
    assert response.status_code == 422
    assert "流程至少需要一个步骤：请先添加另一个步骤，再移除此步骤。" \
        in _errors(response.get_data(as_text=True))
    assert _flow(session) == before


def test_an_unreachable_step_is_shown_at_the_step_draft_kept_live_untouched(
        admin: FlaskClient, session: Session) -> None:
    html = _page(admin, "?view=text")
    found = re.search(r'<textarea[^>]*>(.*?)</textarea>', html, re.S)
    assert found is not None
    text = unescape(found.group(1))
    broken = text.replace("    next: review\n", "    next: graded\n")
    assert broken != text
    response = admin.post(EDITOR + "/text", data={**_fields(html), "text": broken})
    assert response.status_code == 303
    assert _flow(session) == broken  # the draft kept
    page = _page(admin)
    message = ('node "review" cannot be reached from the start node "start": no path leads to '
               'it; expected every node on a path from the start')
    start = page.index('id="step-review"')
    step = page[start:page.index("</li>", start)]
    assert message in _errors(step)
    assert re.search(r"第\d+行：" + re.escape(message), unescape(page))
    live = current_version(session, "flow", CODE)
    assert live is not None and live.content["nodes"]["intake"]["next"] == "review"


def test_undo_and_redo_step_through_the_saves(admin: FlaskClient, session: Session) -> None:
    original = _page(admin, "?view=text")
    assert _post(admin, "/step/review", STEP).status_code == 303
    edited = _flow(session)
    assert _post(admin, "/undo", {}).status_code == 303
    assert parse(FLOW, _flow(session))["nodes"]["review"].get("mode") is None
    assert _post(admin, "/redo", {}).status_code == 303
    assert _flow(session) == edited
    assert "workspace.undo" in session.scalars(select(col(AuditEvent.action))).all()
    del original


def test_a_stale_revision_is_refused_and_nothing_changes(
        admin: FlaskClient, session: Session) -> None:
    html = _page(admin)
    assert _post(admin, "/step/review", STEP).status_code == 303
    saved = _flow(session)
    response = admin.post(EDITOR + "/step/review",
                          data={**_fields(html), **STEP, "name_zh": "另一个名称"})
    assert response.status_code == 409
    assert "另一个名称" not in _flow(session) and _flow(session) == saved


def test_a_branch_condition_is_built_from_the_form_s_choices(
        personas: Personas, session: Session) -> None:
    client = personas.as_("admin")
    editor = "/admin/services/household-transfer/flow"
    html = client.get(editor + "?step=reason").get_data(as_text=True)
    option = re.search(r'<option value="(transfer\.reason#\d+)"[^>]*>([^<]*)</option>', html)
    assert option is not None
    response = client.post(editor + "/step/reason/branch/0",
                           data={**_fields(html), "operator": "!=", "answer": option.group(1)})
    assert response.status_code == 303
    session.rollback()
    draft = workspace.get_draft(session, "household-transfer")
    assert draft is not None
    text = draft.files["workflow_definitions/flows/household-transfer.yaml"]
    branch = parse("x.yaml", text)["nodes"]["reason"]["branches"][0]
    assert branch["when"] == {"!=": [{"var": "answers.transfer.reason"}, "family"]}
    assert branch["to"] == "kinship"


def test_a_citizen_cannot_open_the_editor(personas: Personas) -> None:
    assert personas.as_("citizen").get(EDITOR).status_code in (302, 403)


def test_a_department_admin_edits_only_their_department_s_services(
        personas: Personas, session: Session) -> None:
    """cgjadmin runs 城管 (urban-event-report), not the credit service of 市场监管."""
    other = personas.as_("cgjadmin")
    assert other.get(EDITOR).status_code == 403
    own = other.get("/admin/services/urban-event-report/flow")
    assert own.status_code == 200
    html = own.get_data(as_text=True)
    response = other.post(EDITOR + "/step/review", data={**_fields(html), **STEP})
    assert response.status_code == 403
    session.rollback()
    assert workspace.get_draft(session, CODE) is None  # nothing made or changed


def test_a_value_the_lists_do_not_hold_is_shown_and_kept(
        admin: FlaskClient, session: Session) -> None:
    """A department missing from the catalogue stays selected (the check names it), so saving
    the panel for another field never swaps it silently for the first of the list."""
    html = _page(admin, "?view=text")
    found = re.search(r'<textarea[^>]*>(.*?)</textarea>', html, re.S)
    assert found is not None
    text = unescape(found.group(1))
    moved = text.replace("      role: reviewer\n      department: sh-scjgj\n",
                         "      role: reviewer\n      department: sh-nowhere\n")
    assert moved != text
    assert admin.post(EDITOR + "/text", data={**_fields(html), "text": moved}).status_code == 303
    panel = _page(admin, "?step=review")
    assert '<option value="sh-nowhere" selected>sh-nowhere</option>' in panel
    start = panel.index('id="step-review"')
    assert [e for e in _errors(panel[start:]) if e.startswith('unknown department "sh-nowhere"')]
    response = _post(admin, "/step/review", {**STEP, "department": "sh-nowhere"})
    assert response.status_code == 303
    assert parse(FLOW, _flow(session))["nodes"]["review"]["who"]["department"] == "sh-nowhere"


def test_a_branch_is_added_and_removed_from_dropdowns(
        personas: Personas, session: Session) -> None:
    client = personas.as_("admin")
    editor = "/admin/services/household-transfer/flow"
    html = client.get(editor + "?step=reason").get_data(as_text=True)
    assert '<option value="joint_review">' in html
    talent = re.search(r'<option value="(transfer\.reason#\d+)">人才引进</option>', html)
    assert talent is not None
    response = client.post(editor + "/step/reason/branch", data={
        **_fields(html), "to": "joint_review", "operator": "==", "answer": talent.group(1)})
    assert response.status_code == 303
    session.rollback()
    draft = workspace.get_draft(session, "household-transfer")
    assert draft is not None
    path = "workflow_definitions/flows/household-transfer.yaml"
    branches = parse(path, draft.files[path])["nodes"]["reason"]["branches"]
    assert branches[1] == {"when": {"==": [{"var": "answers.transfer.reason"}, "talent"]},
                           "to": "joint_review"}
    html = client.get(editor + "?step=reason").get_data(as_text=True)
    refused = client.post(editor + "/step/reason/branch", data={
        **_fields(html), "to": "", "operator": "==", "answer": talent.group(1)})
    assert refused.status_code == 422
    assert "请选择分支指向的步骤。" in _errors(refused.get_data(as_text=True))
    removed = client.post(editor + "/step/reason/branch/1/remove", data=_fields(html))
    assert removed.status_code == 303
    session.rollback()
    draft = workspace.get_draft(session, "household-transfer")
    assert draft is not None
    assert len(parse(path, draft.files[path])["nodes"]["reason"]["branches"]) == 1


def test_a_file_that_does_not_parse_is_kept_and_opens_in_the_text_view(
        admin: FlaskClient, session: Session) -> None:
    html = _page(admin, "?view=text")
    response = admin.post(EDITOR + "/text", data={**_fields(html), "text": "nodes: [1\n"})
    assert response.status_code == 303
    assert _flow(session) == "nodes: [1\n"  # the draft keeps what was typed
    page = _page(admin)
    assert "流程文件不是有效的 YAML：请先在文本视图中更正。" in unescape(page)
    assert '<textarea class="tb-textarea tb-editor-text" id="flow-text"' in page
    assert "tb-flow-diagram__svg" not in page
    refused = _post(admin, "/step/review", STEP)
    assert refused.status_code == 422
    summary = re.search(r'<ul class="tb-error-summary__list">(.*?)</ul>',
                        refused.get_data(as_text=True), re.S)
    assert summary is not None
    assert "流程文件不是有效的 YAML：请先在文本视图中更正。" in unescape(summary.group(1))
    assert _flow(session) == "nodes: [1\n"


def _text_area(html: str) -> tuple[dict[str, str], str]:
    """The text view's text area: its attributes and its text."""
    found = re.search(r'<textarea([^>]*)>(.*?)</textarea>', html, re.S)
    assert found is not None
    attributes = {name: unescape(value)
                  for name, value in re.findall(r'([\w-]+)=(?:"([^"]*)"|\'[^\']*\')',
                                                found.group(1))}
    phrases = re.search(r"data-phrases='([^']*)'", found.group(1))
    attributes["data-phrases"] = unescape(phrases.group(1)) if phrases else ""
    return attributes, unescape(found.group(2))


def test_the_text_view_carries_what_codemirror_needs(admin: FlaskClient) -> None:
    """The text area CodeMirror goes over (static/js/text-view.js): YAML, the schema for
    completion, the check for marks, the problems of the file as saved and CodeMirror's own
    words in the page's language."""
    html = _page(admin, "?view=text")
    attributes, _text = _text_area(html)
    assert attributes["data-code-editor"] == "yaml"
    assert attributes["data-schema-url"] == EDITOR + "/schema.json"
    assert attributes["data-check-url"] == EDITOR + "/check"
    assert json.loads(attributes["data-problems"]) == []  # the example has none
    assert json.loads(attributes["data-phrases"])["Find"] == "查找"
    assert 'src="/static/vendor/codemirror-yaml.js' in html
    assert 'src="/static/js/text-view.js' in html
    schema = admin.get(EDITOR + "/schema.json")
    assert schema.status_code == 200
    assert schema.get_json()["title"] == "Tongban approval flow definition"


def test_the_check_marks_the_problems_of_the_typed_text_and_saves_nothing(
        admin: FlaskClient, session: Session) -> None:
    html = _page(admin, "?view=text")
    _attributes, text = _text_area(html)
    before = _flow(session)
    broken = text.replace("  review:\n    type: task\n", "  review:\n    type: task\n    mode: sometimes\n")
    assert broken != text
    response = admin.post(EDITOR + "/check", data={"csrf_token": _fields(html)["csrf_token"],
                                                   "text": broken.replace("\n", "\r\n")})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    line = broken.splitlines().index("    mode: sometimes") + 1
    problems = response.get_json()["problems"]
    assert [(p["line"], p["severity"]) for p in problems] == [(line, "error")]
    assert problems[0]["message"].startswith('expected one of: "single"')
    assert _flow(session) == before  # nothing saved
    # The saved file's problems come with the page, at the same line, once it is saved.
    assert admin.post(EDITOR + "/text", data={**_fields(html), "text": broken}).status_code == 303
    attributes, _text = _text_area(_page(admin, "?view=text"))
    assert [p["line"] for p in json.loads(attributes["data-problems"])] == [line]
    # Text that is not YAML at all is marked where the reader stopped.
    unreadable = admin.post(EDITOR + "/check", data={"csrf_token": _fields(html)["csrf_token"],
                                                     "text": "code: x\nnodes: [1\n"})
    assert [p["line"] for p in unreadable.get_json()["problems"]] == [3]


def test_the_check_is_refused_without_the_token_and_to_other_departments(
        personas: Personas, session: Session) -> None:
    admin = personas.as_("admin")
    assert admin.post(EDITOR + "/check", data={"text": "code: x\n"}).status_code == 400
    other = personas.as_("cgjadmin")
    html = other.get("/admin/services/urban-event-report/flow").get_data(as_text=True)
    response = other.post(EDITOR + "/check", data={"csrf_token": _fields(html)["csrf_token"],
                                                   "text": "code: x\n"})
    assert response.status_code == 403
    assert personas.as_("citizen").get(EDITOR + "/schema.json").status_code in (302, 403)
    session.rollback()
    assert workspace.get_draft(session, CODE) is None
