"""The guide editor's pages: the service file's names, guide, settings and materials edited as
web forms and saved to the working copy with the revision as a lock; every mistake at its field
with nothing changed; problems of the checks at the field with the draft kept and live
untouched; undo and redo; who may edit."""

from __future__ import annotations

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

CODE = "residence-points"
EDITOR = f"/admin/services/{CODE}/guide"
SERVICE = f"workflow_definitions/{CODE}.yaml"


@pytest.fixture
def admin(personas: Personas) -> FlaskClient:
    return personas.as_("deptadmin")  # 人社局's administrator: the service's department


def _page(client: FlaskClient) -> str:
    response = client.get(EDITOR)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _fields(html: str) -> dict[str, str]:
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    revision = re.search(r'name="revision" value="(\d+)"', html)
    assert token and revision
    return {"csrf_token": token.group(1), "revision": revision.group(1)}


def _post(client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    return client.post(EDITOR + path, data={**_fields(_page(client)), **data})


def _service(session: Session) -> str:
    session.rollback()  # a new snapshot: the requests committed since
    draft = workspace.get_draft(session, CODE)
    assert draft is not None
    return draft.files[SERVICE]


def _errors(html: str) -> dict[str, list[str]]:
    """The messages at each field: field id -> messages."""
    found: dict[str, list[str]] = {}
    for field, text in re.findall(r'<p class="tb-error-message" id="([^"]+)-error"><span '
                                  r'class="tb-visually-hidden">[^<]*</span>\s*([^<]*)</p>', html):
        found.setdefault(field, []).append(unescape(text).strip())
    return found


def _summary(html: str) -> list[tuple[str, str]]:
    box = re.search(r'<ul class="tb-error-summary__list">(.*?)</ul>', html, re.S)
    assert box is not None
    return [(href, unescape(text)) for href, text in
            re.findall(r'<li><a href="([^"]*)">([^<]*)</a></li>', box.group(1))]


GUIDE = {
    "name_zh": "上海市居住证积分申请", "name_en": "Shanghai residence permit points application",
    "summary_zh": "持有居住证的人员可申请积分。", "summary_en": "Permit holders can apply for points.",
    "audience": "citizen",
    "eligibility_zh": "持有有效居住证的人员", "eligibility_en": "People with a valid permit",
    "legal_basis_zh": "《上海市居住证管理办法》", "legal_basis_en": "Shanghai Residence Permit Regulations",
    "statutory_days": "20", "promised_days": "15",
    "fee_zh": "不收费", "fee_en": "Free of charge",
    "where_zh": "", "where_en": "",
    "contact_zh": "12345", "contact_en": "12345",
    "steps_zh": "网上申请\n审核", "steps_en": "Apply online\nReview",
    "draft_expiry_days": "30",
}


def test_the_page_shows_the_guide_and_materials_as_filled_in(admin: FlaskClient) -> None:
    html = unescape(_page(admin))
    assert "持有有效《上海市居住证》，且在本市合法稳定就业" in html
    assert 'id="statutory_days" name="statutory_days" value="20"' in html
    assert 'id="audience-citizen" name="audience" value="citizen" checked' in html
    assert 'id="material-0-name_zh" name="material-0-name_zh" value="居民身份证"' in html
    # The form's file questions are offered for where a material is collected.
    assert '<option value="materials.id_card" selected>' in html
    assert f'href="/admin/services/{CODE}/files/{SERVICE}#text"' in html


def _commented(admin: FlaskClient, session: Session) -> str:
    """The working copy's service file with comments typed in its text view."""
    html = _page(admin)
    text = _service(session)
    commented = "# 居住证积分\n" + text.replace("calendar: shanghai\n",
                                               "calendar: shanghai   # working days\n")
    assert commented.count("#") == 2
    file_page = f"/admin/services/{CODE}/files/{SERVICE}"
    assert admin.post(file_page, data={**_fields(html), "text": commented}).status_code == 302
    return commented


def test_the_guide_is_saved_with_comments_kept_audited_and_live_untouched(
        admin: FlaskClient, session: Session) -> None:
    _commented(admin, session)
    response = _post(admin, "", GUIDE)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{EDITOR}#guide")
    text = _service(session)
    assert text.startswith("# 居住证积分\ncode: residence-points\n")
    assert "calendar: shanghai   # working days\n" in text
    data = parse(SERVICE, text)
    assert data["guide"]["eligibility"] == {"zh": "持有有效居住证的人员",
                                            "en": "People with a valid permit"}
    assert "where" not in data["guide"]  # both languages emptied: the key goes
    assert data["guide"]["steps"] == [{"zh": "网上申请", "en": "Apply online"},
                                      {"zh": "审核", "en": "Review"}]
    assert data["materials"][0]["code"] == "id-card"  # untouched
    actions = session.scalars(select(col(AuditEvent.action))
                              .where(col(AuditEvent.object_id) == CODE)).all()
    assert "workspace.save" in actions
    live = current_version(session, "service", CODE)
    assert live is not None and "steps" not in live.content["guide"]


def test_saving_the_guide_unchanged_gives_back_the_file_byte_for_byte(
        admin: FlaskClient, session: Session) -> None:
    before = _commented(admin, session)
    html = _page(admin)
    values = {name: unescape(value) for name, value in
              re.findall(r'<input class="tb-input[^"]*" id="[^"]+" name="([^"]+)" value="([^"]*)"',
                         html) if not name.startswith(("material-", "new"))}
    values.update({name: unescape(value) for name, value in
                   re.findall(r'<textarea class="tb-textarea[^"]*" id="[^"]+" name="([^"]+)"'
                              r'[^>]*>([^<]*)</textarea>', html)})
    response = admin.post(EDITOR, data={**_fields(html), **values, "audience": "citizen"})
    assert response.status_code == 303
    assert _service(session) == before


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"name_en": " "}, "name_en", "请输入服务名称（英文）。"),
    ({"eligibility_zh": ""}, "eligibility_zh", "请输入申请条件（中文）。"),
    ({"statutory_days": "二十"}, "statutory_days",
     "请以工作日整数输入法定办结时限，范围为 0 至 365。"),
    ({"promised_days": "366"}, "promised_days",
     "请以工作日整数输入承诺办结时限，范围为 0 至 365。"),
    ({"audience": ""}, "audience", "请选择服务对象。"),
    ({"where_zh": "", "where_en": "Online"}, "where_zh", "请输入办理地点和方式（中文）。"),
    ({"steps_en": "Apply online"}, "steps_en",
     "请用两种语言填写每个办理步骤，每行一个：中文有 2 行，英文有 1 行。"),
    ({"draft_expiry_days": "0"}, "draft_expiry_days",
     "请以 1 至 365 的整数输入未完成申请的保留天数，或留空。"),
])
def test_a_bad_guide_is_refused_at_the_field_and_nothing_changes(
        admin: FlaskClient, session: Session, change: dict[str, str], field: str,
        message: str) -> None:
    admin.get(EDITOR)  # opens the working copy
    before = _service(session)
    response = _post(admin, "", {**GUIDE, **change})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert _errors(html) == {field: [message]}
    assert _summary(html) == [(f"#{field}", message)]
    assert _service(session) == before
    for name, value in change.items():  # what was typed is kept
        if name != "audience" and value.strip() and "\n" not in value:
            assert f'name="{name}" value="{value}"' in html or f">{value}</textarea>" in html


def test_every_mistake_of_the_guide_is_shown_at_once(admin: FlaskClient) -> None:
    response = _post(admin, "", {**GUIDE, "name_zh": "", "fee_en": "", "statutory_days": "x"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert _summary(html) == [
        ("#name_zh", "请输入服务名称（中文）。"),
        ("#statutory_days", "请以工作日整数输入法定办结时限，范围为 0 至 365。"),
        ("#fee_en", "请输入收费标准（英文，例如：Free of charge）。")]


def test_the_english_page_gives_the_english_messages(admin: FlaskClient) -> None:
    html = _page(admin)
    admin.post("/settings/language", data={"csrf_token": _fields(html)["csrf_token"],
                                           "locale": "en", "next": EDITOR})
    response = _post(admin, "", {**GUIDE, "name_en": "", "steps_zh": "申请"})
    assert response.status_code == 422
    assert _summary(response.get_data(as_text=True)) == [
        ("#name_en", "Enter the service name in English."),
        ("#steps_en", "Give each step in both languages, one a line: there are 1 in Chinese "
                      "and 2 in English.")]


def test_a_promised_time_over_the_statutory_one_is_saved_and_shown_at_the_field(
        admin: FlaskClient, session: Session) -> None:
    response = _post(admin, "", {**GUIDE, "promised_days": "25"})
    assert response.status_code == 303
    assert parse(SERVICE, _service(session))["guide"]["promised_days"] == 25
    html = unescape(_page(admin))
    start = html.index('id="promised_days"') - 1500
    assert "承诺时限（25 个工作日）长于法定时限（20 个工作日）" \
        in html[start:html.index('id="promised_days"')]  # in the page's language
    assert 'href="#promised_days"' in html  # the problem list links to the field
    live = current_version(session, "service", CODE)
    assert live is not None and live.content["guide"]["promised_days"] == 15


def test_materials_are_added_edited_moved_and_removed(
        admin: FlaskClient, session: Session) -> None:
    added = _post(admin, "/material", {"new-name_zh": "一寸照片", "new-name_en": "Photo",
                                       "new-collected": "@counter", "new-note_zh": "白底",
                                       "new-note_en": "White background", "new-code": ""})
    assert added.status_code == 303
    assert added.headers["Location"].endswith("#material-3")
    materials = parse(SERVICE, _service(session))["materials"]
    assert materials[3] == {"code": "material-4", "name": {"zh": "一寸照片", "en": "Photo"},
                            "required": False, "checked_at_counter": True,
                            "note": {"zh": "白底", "en": "White background"}}
    assert "name: {zh: 一寸照片, en: Photo}" in _service(session)  # one line, as the files
    edited = _post(admin, "/material/2", {
        "material-2-name_zh": "学历证书", "material-2-name_en": "Diploma",
        "material-2-required": "", "material-2-collected": "", "material-2-note_zh": "",
        "material-2-note_en": ""})
    assert edited.status_code == 303
    diploma = parse(SERVICE, _service(session))["materials"][2]
    assert diploma == {"code": "diploma", "type": "diploma",  # the catalogue type is kept
                       "name": {"zh": "学历证书", "en": "Diploma"}, "required": False,
                       "kind": ["original", "electronic"], "copies": 1,  # the guide's elements kept
                       "source": {"zh": "颁发学历（学位）的高等院校",
                                  "en": "The college or university that awarded it"}}
    moved = _post(admin, "/material/3/move", {"direction": "up"})
    assert moved.status_code == 303
    assert moved.headers["Location"].endswith("#material-2")
    codes = [m["code"] for m in parse(SERVICE, _service(session))["materials"]]
    assert codes == ["id-card", "residence-permit", "material-4", "diploma"]
    removed = _post(admin, "/material/2/remove", {})
    assert removed.status_code == 303
    codes = [m["code"] for m in parse(SERVICE, _service(session))["materials"]]
    assert codes == ["id-card", "residence-permit", "diploma"]


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"new-name_zh": ""}, "new-name_zh", "请输入材料名称（中文）。"),
    ({"new-name_en": ""}, "new-name_en", "请输入材料名称（英文）。"),
    ({"new-note_zh": "复印件"}, "new-note_en", "请输入材料说明（英文）。"),
    ({"new-code": "ID card"}, "new-code",
     "材料代码由小写字母、数字和连字符组成，以字母开头（例如 id-card）。"),
    ({"new-code": "diploma"}, "new-code", "材料代码“diploma”已被使用。"),
])
def test_a_bad_material_is_refused_at_the_field_and_nothing_changes(
        admin: FlaskClient, session: Session, change: dict[str, str], field: str,
        message: str) -> None:
    admin.get(EDITOR)
    before = _service(session)
    response = _post(admin, "/material", {"new-name_zh": "照片", "new-name_en": "Photo",
                                          "new-required": "1", "new-collected": "@counter",
                                          **change})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert _errors(html) == {field: [message]}
    assert _summary(html) == [(f"#{field}", message)]
    assert _service(session) == before


def test_a_material_s_upload_question_that_is_not_a_file_question_is_shown_at_it(
        admin: FlaskClient, session: Session) -> None:
    html = _page(admin)
    response = admin.post(EDITOR + "/material/0", data={
        **_fields(html), "material-0-name_zh": "居民身份证",
        "material-0-name_en": "Resident identity card", "material-0-required": "1",
        "material-0-collected": "applicant.name"})
    assert response.status_code == 303  # saved: the checks report it
    page = unescape(_page(admin))
    item = page[page.index('id="material-0"'):page.index('id="material-1"')]
    assert "材料“id-card”的 form_field“applicant.name”不是文件类问题（文件类问题：" in item
    assert "tb-flow-step--error" in page[page.index('id="material-0"') - 80:
                                          page.index('id="material-0"')]


def test_moving_the_first_material_up_is_refused(admin: FlaskClient) -> None:
    response = _post(admin, "/material/0/move", {"direction": "up"})
    assert response.status_code == 422
    assert ("#material-0", "该材料已在列表最前。") in _summary(response.get_data(as_text=True))
    missing = _post(admin, "/material/9/remove", {})
    assert missing.status_code == 422
    assert "列表中没有第 10 项材料。" in unescape(missing.get_data(as_text=True))


def test_undo_and_redo_step_through_the_saves(admin: FlaskClient, session: Session) -> None:
    admin.get(EDITOR)
    before = _service(session)
    assert _post(admin, "", GUIDE).status_code == 303
    after = _service(session)
    assert after != before
    assert _post(admin, "/undo", {}).status_code == 303
    assert _service(session) == before
    assert _post(admin, "/redo", {}).status_code == 303
    assert _service(session) == after


def test_a_stale_revision_is_refused_and_nothing_changes(
        admin: FlaskClient, session: Session) -> None:
    html = _page(admin)
    assert _post(admin, "", GUIDE).status_code == 303
    saved = _service(session)
    response = admin.post(EDITOR, data={**_fields(html), **GUIDE, "fee_zh": "收费"})
    assert response.status_code == 409
    page = unescape(response.get_data(as_text=True))
    assert "您的修改未保存" in page
    assert 'value="收费"' in page  # what was typed is shown again
    assert _service(session) == saved


def test_a_service_file_that_does_not_parse_sends_the_administrator_to_the_text_view(
        admin: FlaskClient, session: Session) -> None:
    html = _page(admin)
    file_page = f"/admin/services/{CODE}/files/{SERVICE}"
    assert admin.post(file_page, data={**_fields(html), "text": "guide: [1\n"}).status_code == 302
    page = unescape(_page(admin))
    assert "服务文件不是有效的 YAML：请先在文本视图中更正。" in page
    assert 'name="statutory_days"' not in page
    refused = _post(admin, "", GUIDE)
    assert refused.status_code == 422
    assert ("#guide", "服务文件不是有效的 YAML：请先在文本视图中更正。") not in \
        _summary(refused.get_data(as_text=True))
    assert "服务文件不是有效的 YAML：请先在文本视图中更正。" in unescape(
        refused.get_data(as_text=True))
    assert _service(session) == "guide: [1\n"


def test_the_service_page_s_edit_link_opens_the_guide_editor(admin: FlaskClient) -> None:
    html = admin.get(f"/admin/services/{CODE}").get_data(as_text=True)
    assert f'<a href="{EDITOR}">' in html
    assert f'href="/admin/services/{CODE}/files/{SERVICE}"' in html  # the text view stays


def test_a_department_admin_of_another_department_is_refused(
        personas: Personas, session: Session) -> None:
    """cgjadmin runs 城管 (urban-event-report), not 人社局's points service."""
    other = personas.as_("cgjadmin")
    assert other.get(EDITOR).status_code == 403
    own = other.get("/admin/services/urban-event-report/guide")
    assert own.status_code == 200
    response = other.post(EDITOR, data={**_fields(own.get_data(as_text=True)), **GUIDE})
    assert response.status_code == 403
    refused = other.post(EDITOR + "/material", data={**_fields(own.get_data(as_text=True)),
                                                     "new-name_zh": "x", "new-name_en": "x"})
    assert refused.status_code == 403
    session.rollback()
    assert workspace.get_draft(session, CODE) is None  # nothing made or changed


def test_a_citizen_cannot_open_the_editor(personas: Personas) -> None:
    assert personas.as_("citizen").get(EDITOR).status_code in (302, 403)
