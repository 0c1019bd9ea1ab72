"""The rules editor's pages: indicators as a table, each edit saved to the working copy with the
revision as a lock, refusals with the administrator's message at the cell and nothing changed,
checker problems at the indicator with the live rule set untouched, undo and redo, the
simulation of the draft against live, the links to the editor, and who may edit."""

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
from tongban.console.layout import parse, render
from tongban.definitions.publish import current_version
from tongban.models import AuditEvent, User

from ..conftest import Personas

CODE = "residence-points"
EDITOR = f"/admin/services/{CODE}/rules"
RULES = "workflow_definitions/rules/sh-residence-points.yaml"
AGE = {"kind": "bands", "name_zh": "年龄", "name_en": "Age", "rows": "3",
       "row-1-from": "0", "row-1-to": "43", "row-1-points": "30",
       "row-2-from": "44", "row-2-to": "55", "row-2-points": "20",
       "row-3-from": "56", "row-3-to": "", "row-3-points": "0"}


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


def _rules(session: Session) -> str:
    session.rollback()  # a new snapshot: the requests committed since
    draft = workspace.get_draft(session, CODE)
    assert draft is not None
    return draft.files[RULES]


def _indicator(session: Session, indicator_id: str) -> dict[str, Any]:
    found = [i for i in parse(RULES, _rules(session))["indicators"] if i["id"] == indicator_id]
    assert len(found) == 1
    return dict(found[0])


def _errors(html: str) -> list[str]:
    found = re.findall(r'<p class="tb-error-message"[^>]*><span class="tb-visually-hidden">'
                       r'[^<]*</span>\s*([^<]*)</p>', html)
    return [unescape(text).strip() for text in found]


def _summary(html: str) -> str:
    found = re.search(r'<ul class="tb-error-summary__list">(.*?)</ul>', html, re.S)
    assert found is not None
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_the_indicators_are_listed_with_their_kind_and_most_points(admin: FlaskClient) -> None:
    html = _page(admin)
    order = [html.index(f'id="indicator-{i}"') for i in ("age", "education", "si_years",
                                                         "serious_crime")]
    assert order == sorted(order)
    row = html[html.index('id="indicator-education"'):]
    row = row[:row.index("</tr>")]
    assert "教育背景" in row and "Education" in row and "<td>110</td>" in row
    panel = _page(admin, "?indicator=age")
    assert 'name="row-1-from" value="0"' in panel and 'name="row-15-from" value="61"' in panel
    assert 'id="f-threshold" name="threshold" value="120"' in panel


def test_a_band_edit_is_saved_in_the_draft_and_audited_live_untouched(
        admin: FlaskClient, session: Session) -> None:
    response = _post(admin, "/indicator/age", AGE)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("?indicator=age#indicator-age")
    age = _indicator(session, "age")
    assert age["bands"] == [{"min": 0, "max": 43, "points": 30}, {"min": 44, "max": 55, "points": 20},
                            {"min": 56, "points": 0}]
    assert "workspace.save" in session.scalars(select(col(AuditEvent.action))
                                               .where(col(AuditEvent.object_id) == CODE)).all()
    live = current_version(session, "rules", "sh-residence-points")
    assert live is not None and len(live.content["indicators"][0]["bands"]) == 15


def test_rows_are_added_and_removed_keeping_what_was_typed(
        admin: FlaskClient, session: Session) -> None:
    assert _post(admin, "/indicator/age", {**AGE, "action": "add_row"}).status_code == 303
    bands = _indicator(session, "age")["bands"]
    assert bands[1:] == [{"min": 44, "max": 55, "points": 20}, {"min": 56, "max": 56, "points": 0},
                         {"min": 57, "points": 0}]
    html = _page(admin, "?indicator=age")
    assert 'name="row-4-from" value="57"' in html
    response = _post(admin, "/indicator/age", {**AGE, "row-1-points": "31",
                                                "action": "remove_row-2"})
    assert response.status_code == 303
    assert _indicator(session, "age")["bands"] == [{"min": 0, "max": 43, "points": 31},
                                                   {"min": 56, "points": 0}]


def test_a_gap_left_by_a_removed_row_is_kept_and_shown_at_the_row(
        admin: FlaskClient, session: Session) -> None:
    """The checker's problems do not refuse the edit: the draft keeps it, the page says where."""
    assert _post(admin, "/indicator/age", {**AGE, "action": "remove_row-2"}).status_code == 303
    html = _page(admin, "?indicator=age")
    message = "the bands leave a gap: 44 to 55 is in no band"
    assert any(error.startswith("Row 2, line") or "44 to 55" in error for error in _errors(html))
    assert message in unescape(html)
    assert re.search(r"第\d+行：" + re.escape(message), unescape(html))
    live = current_version(session, "rules", "sh-residence-points")
    assert live is not None and len(live.content["indicators"][0]["bands"]) == 15


@pytest.mark.parametrize(("change", "message"), [
    ({"row-2-from": "50", "row-2-to": "44"}, "第 2 档从 50 开始，晚于其终点 44。"),
    ({"row-2-from": "40"}, "第 1 档与第 2 档重叠：一个值只能落在一个档中。"),
    ({"row-2-points": "二十"}, "请以数字输入第 2 行的分值，例如 10。"),
    ({"name_en": " "}, "请输入指标的英文名称。"),
])
def test_a_bad_cell_is_refused_with_its_message_at_the_cell_and_nothing_changes(
        admin: FlaskClient, session: Session, change: dict[str, str], message: str) -> None:
    _page(admin)
    before = _rules(session)
    response = _post(admin, "/indicator/age", {**AGE, **change})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in _errors(html)
    assert _summary(html) == message
    for name, value in change.items():  # what was typed is shown again
        assert f'name="{name}" value="{value}"' in html
    assert _rules(session) == before


def test_removing_the_last_indicator_is_refused(admin: FlaskClient, session: Session) -> None:
    _page(admin)
    _rules(session)
    draft = workspace.get_draft(session, CODE)
    assert draft is not None
    doc = parse(RULES, draft.files[RULES])
    doc["indicators"] = [i for i in doc["indicators"] if i["id"] == "serious_crime"]
    user = session.get(User, draft.updated_by)
    assert user is not None
    workspace.save_file(session, draft, RULES, render("rules", doc),
                        expected_revision=draft.revision, user=user)
    session.commit()
    before = _rules(session)
    response = _post(admin, "/indicator/serious_crime/remove", {})
    assert response.status_code == 422
    message = "规则至少需要一个指标：请先添加另一个指标，再移除此指标。"
    assert _summary(response.get_data(as_text=True)) == message
    assert _rules(session) == before


def test_a_stale_revision_is_refused_with_the_typed_edit_kept(
        admin: FlaskClient, session: Session) -> None:
    html = _page(admin, "?indicator=age")
    assert _post(admin, "/indicator/age", AGE).status_code == 303
    saved = _rules(session)
    response = admin.post(EDITOR + "/indicator/age",
                          data={**_fields(html), **AGE, "row-1-points": "29"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert _summary(page).startswith("您打开此页后，其他人保存了此服务")
    assert 'name="row-1-points" value="29"' in page
    assert _rules(session) == saved


def test_undo_and_redo_step_through_the_saves(admin: FlaskClient, session: Session) -> None:
    _page(admin)
    original = _rules(session)
    assert _post(admin, "/indicator/age", AGE).status_code == 303
    edited = _rules(session)
    assert _post(admin, "/undo", {}).status_code == 303
    assert _rules(session) == original
    assert _post(admin, "/redo", {}).status_code == 303
    assert _rules(session) == edited


def test_indicators_are_added_moved_and_removed(admin: FlaskClient, session: Session) -> None:
    response = _post(admin, "/indicator", {"kind": "per_unit", "name_zh": "志愿服务",
                                           "name_en": "Volunteering"})
    assert response.status_code == 303
    ids = [i["id"] for i in parse(RULES, _rules(session))["indicators"]]
    new = ids[-1]
    assert new.startswith("per_unit_")
    assert response.headers["Location"].endswith(f"?indicator={new}#indicator-{new}")
    assert _post(admin, f"/indicator/{new}/move", {"direction": "up"}).status_code == 303
    assert [i["id"] for i in parse(RULES, _rules(session))["indicators"]][-2] == new
    html = _page(admin)
    assert f'id="indicator-{new}"' in html and "个问题" not in html[html.index(
        f'id="indicator-{new}"'):][:600]  # the starter passes the checker
    assert _post(admin, f"/indicator/{new}/remove", {}).status_code == 303
    assert [i["id"] for i in parse(RULES, _rules(session))["indicators"]] == ids[:-1]


def test_the_pass_mark_is_changed(admin: FlaskClient, session: Session) -> None:
    assert _post(admin, "/outcome", {"threshold": "110"}).status_code == 303
    assert parse(RULES, _rules(session))["outcome"] == {"threshold": 110}
    refused = _post(admin, "/outcome", {"threshold": "很多"})
    assert refused.status_code == 422
    assert _summary(refused.get_data(as_text=True)) == "请以数字输入及格分，例如 120。"


def test_the_simulation_compares_the_draft_with_live(admin: FlaskClient) -> None:
    """Too few stored applications: 1,000 generated applicants, scored under the draft (pass mark
    lowered to 100) and live version 1; people only cross upwards."""
    assert _post(admin, "/outcome", {"threshold": "100"}).status_code == 303
    html = unescape(_page(admin, "?simulate=1"))
    section = html[html.index('id="simulation"'):]
    assert "草稿对比现行第 1 版 · 生成的 1,000 名申请人（种子 1）" in section
    assert "<tr><th scope=\"row\">标准分值</th><td>100</td><td>120</td></tr>" in section
    assert '<div class="tb-chart"><svg' in section
    gained = re.search(r"现达标（按第 1 版不达标）：(\d+)", section)
    lost = re.search(r"现不达标（按第 1 版达标）：(\d+)", section)
    assert gained and lost
    assert int(gained.group(1)) > 0 and int(lost.group(1)) == 0


def test_the_editor_is_linked_from_the_service_file_list_and_the_publish_page(
        admin: FlaskClient) -> None:
    service = admin.get(f"/admin/services/{CODE}").get_data(as_text=True)
    assert f'href="{EDITOR}"' in service
    publish = admin.get(f"/admin/services/{CODE}/publish").get_data(as_text=True)
    assert f'href="{EDITOR}?simulate=1#simulation"' in publish


def test_a_service_without_rules_has_no_rules_editor(admin: FlaskClient) -> None:
    assert admin.get("/admin/services/urban-event-report/rules").status_code == 404


def test_a_department_admin_of_another_department_is_refused(
        personas: Personas, session: Session) -> None:
    other = personas.as_("cgjadmin")
    assert other.get(EDITOR).status_code == 403
    html = other.get("/admin/services/urban-event-report/flow").get_data(as_text=True)
    assert other.post(EDITOR + "/indicator/age", data={**_fields(html), **AGE}).status_code == 403
    session.rollback()
    assert workspace.get_draft(session, CODE) is None


def test_a_citizen_cannot_open_the_editor(personas: Personas) -> None:
    assert personas.as_("citizen").get(EDITOR).status_code in (302, 403)


def test_a_rule_set_shared_by_a_copied_service_says_so_on_both_pages(
        admin: FlaskClient, session: Session) -> None:
    """A copy of a service shares its rule set (console/starters.py): each editor names the
    other service, and the copy's first edit puts the rule set in its own working copy."""
    token = _fields(_page(admin))["csrf_token"]
    created = admin.post("/admin/services/new", data={
        "csrf_token": token, "code": "residence-points-pilot", "name_zh": "积分试点",
        "name_en": "Points pilot", "department": "sh-rsj", "start": "copy",
        "source": CODE})
    assert created.status_code == 302, created.get_data(as_text=True)
    copy_editor = "/admin/services/residence-points-pilot/rules"
    html = unescape(admin.get(copy_editor).get_data(as_text=True))
    assert "此规则还被以下服务使用：residence-points。" in html
    assert "此规则还被以下服务使用：residence-points-pilot。" in unescape(_page(admin))
    response = admin.post(copy_editor + "/indicator/age", data={**_fields(html), **AGE})
    assert response.status_code == 303
    session.rollback()
    copy = workspace.get_draft(session, "residence-points-pilot")
    assert copy is not None and len(parse(RULES, copy.files[RULES])["indicators"][0]["bands"]) == 3


def test_a_grading_shows_its_grades_and_weights_and_says_when_there_is_no_sample(
        admin: FlaskClient, session: Session) -> None:
    editor = "/admin/services/enterprise-credit/rules"
    html = unescape(admin.get(editor + "?indicator=credit&simulate=1").get_data(as_text=True))
    assert 'name="grade-1-grade" value="A"' in html and 'name="threshold"' not in html
    assert '<option value="tax_score" selected>tax_score</option>' in html
    assert 'name="row-5-weight" value="10"' in html
    assert "没有可用于模拟的样本：使用该规则的服务还没有已存申请。" in html
    response = admin.post(editor + "/outcome", data={
        **_fields(html), "rows": "4", "action": "remove_grade-4",
        **{f"grade-{n}-{c}": v for n, row in enumerate(
            [("90", "A"), ("75", "B"), ("60", "C"), ("0", "D")], start=1)
           for c, v in zip(("min", "grade"), row, strict=True)}})
    assert response.status_code == 303
    session.rollback()
    draft = workspace.get_draft(session, "enterprise-credit")
    assert draft is not None
    rules = parse("x.yaml", draft.files["workflow_definitions/rules/enterprise-credit.yaml"])
    assert [g["grade"] for g in rules["outcome"]["grades"]] == ["A", "B", "C"]


def _text_area(html: str) -> tuple[str, str]:
    """The text view's text area: its opening tag and its text."""
    found = re.search(r'<textarea([^>]*)>(.*?)</textarea>', html, re.S)
    assert found is not None
    return found.group(1), unescape(found.group(2))


def test_the_text_view_edits_the_same_file_and_stays_open_after_a_save(
        admin: FlaskClient, session: Session) -> None:
    html = _page(admin)
    assert f'href="{EDITOR}?view=text"' in html  # the tab, beside the indicators
    text_view = _page(admin, "?view=text")
    tag, text = _text_area(text_view)
    assert 'id="rules-text" name="text"' in tag and 'data-code-editor="yaml"' in tag
    assert f'data-schema-url="{EDITOR}/schema.json"' in tag
    assert f'data-check-url="{EDITOR}/check"' in tag
    assert "\nexample: false\n" in text
    changed = text.replace("\nexample: false\n", "\nexample: true\n")
    response = admin.post(EDITOR + "/text",
                          data={**_fields(text_view), "view": "text", "text": changed})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{EDITOR}?view=text")
    assert _rules(session) == changed
    assert ("workspace.save", RULES) in [
        (e.action, (e.after or {}).get("path")) for e in session.scalars(select(AuditEvent))]
    live = current_version(session, "rules", "sh-residence-points")
    assert live is not None and live.content["example"] is False  # live untouched
    schema = admin.get(EDITOR + "/schema.json")
    assert schema.status_code == 200 and "indicators" in schema.get_json()["properties"]


def test_a_rules_file_that_does_not_parse_is_kept_and_opens_in_the_text_view(
        admin: FlaskClient, session: Session) -> None:
    html = _page(admin, "?view=text")
    response = admin.post(EDITOR + "/text",
                          data={**_fields(html), "view": "text", "text": "indicators: [1\n"})
    assert response.status_code == 303
    assert _rules(session) == "indicators: [1\n"
    page = _page(admin)  # the indicators' tab: only the text view can mend it
    tag, text = _text_area(page)
    assert text == "indicators: [1\n"
    found = re.search(r'data-problems="([^"]*)"', tag)
    assert found is not None
    marks = json.loads(unescape(found.group(1)))
    assert marks and marks[0]["line"] == 2  # where the reader stopped
    assert 'id="outcome"' not in page


def test_the_rules_check_marks_the_typed_text_and_saves_nothing(
        admin: FlaskClient, session: Session) -> None:
    html = _page(admin, "?view=text")
    _tag, text = _text_area(html)
    before = _rules(session)
    broken = text.replace("\nexample: false\n", "\nexample: maybe\n")
    response = admin.post(EDITOR + "/check", data={"csrf_token": _fields(html)["csrf_token"],
                                                   "text": broken})
    assert response.status_code == 200
    line = broken.splitlines().index("example: maybe") + 1
    assert [(p["line"], p["message"]) for p in response.get_json()["problems"]
            if p["severity"] == "error"] == [(line, "expected true or false, found text")]
    assert _rules(session) == before  # nothing saved
