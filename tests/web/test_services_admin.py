"""/admin/services: the workspace list, a new service, the service page, publish with its
diff and refusals, four-eyes, rollback, zip export and import (docs/console.md)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlmodel import Session, col
from werkzeug.test import TestResponse

from tongban.console import publishing as pub
from tongban.console import workspace as ws
from tongban.console.layout import path_of
from tongban.definitions.publish import current_version
from tongban.models import DefinitionVersion, Draft, ServiceWorkspace, User

from ..conftest import Personas, csrf_token

SERVICE = "urban-event-report"


def text_of(response: TestResponse) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.get_data(as_text=True))))


def post(client: FlaskClient, path: str, data: Mapping[str, object],
         page: str = "/admin/services", **kwargs: object) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data}, **kwargs)


def versions(session: Session) -> int:
    session.rollback()  # a new read: see what the requests committed
    return session.scalar(select(func.count()).select_from(DefinitionVersion)) or 0


def user(session: Session, username: str) -> User:
    found: User = session.scalars(select(User).where(col(User.username) == username)).one()
    return found


NEW = {"code": "street-stall", "name_zh": "临时摊位申请", "name_en": "Temporary stall permit",
       "department": "sh-cgj", "start": "blank", "source": ""}


def test_the_list_shows_each_administrator_their_departments_services(
        personas: Personas) -> None:
    admin = text_of(personas.as_("admin").get("/admin/services"))
    for code in ("urban-event-report", "household-transfer", "residence-points",
                 "enterprise-credit"):
        assert code in admin
    assert "上海市城市管理行政执法局" in admin and "已发布" in admin
    client = personas.as_("cgjadmin")
    own = text_of(client.get("/admin/services"))
    assert "urban-event-report" in own and "household-transfer" not in own


def test_the_workspace_is_for_administrators_only(personas: Personas, client: FlaskClient) -> None:
    assert client.get("/admin/services").status_code == 302  # to sign in
    assert personas.as_("reviewer").get("/admin/services").status_code == 403


@pytest.mark.parametrize("path", ["/admin/services/urban-event-report",
                                  "/admin/services/urban-event-report/publish",
                                  "/admin/services/urban-event-report/export.zip"])
def test_a_department_admin_cannot_open_another_departments_service(
        personas: Personas, path: str) -> None:
    assert personas.as_("deptadmin").get(path).status_code == 403


@pytest.mark.parametrize(("path", "data"), [
    ("/admin/services/urban-event-report/publish", {"marks": "", "comment": ""}),
    ("/admin/services/urban-event-report/rollback", {"version": "1"}),
    ("/admin/services/urban-event-report/archive", {}),
    ("/admin/services/urban-event-report/four-eyes", {"on": "1"}),
    ("/admin/services/urban-event-report/approve", {}),
])
def test_a_department_admin_cannot_change_another_departments_service(
        personas: Personas, session: Session, path: str, data: dict[str, str]) -> None:
    client = personas.as_("deptadmin")
    before = versions(session)
    assert post(client, path, data).status_code == 403
    assert versions(session) == before
    assert session.scalars(select(ServiceWorkspace)).all() == []


def test_a_new_blank_service_is_created_checked_and_published(
        personas: Personas, session: Session) -> None:
    client = personas.as_("cgjadmin")
    response = post(client, "/admin/services/new", NEW, "/admin/services/new")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/services/street-stall?done=created")
    page = text_of(client.get("/admin/services/street-stall"))
    assert "临时摊位申请" in page and "草稿" in page
    publish_page = client.get("/admin/services/street-stall/publish")
    html = text_of(publish_page)
    assert "全部检查通过" in html
    assert "新文件" in html  # the three files are new
    marks = re.search(r'name="marks" value="([^"]*)"', publish_page.get_data(as_text=True))
    assert marks is not None and marks.group(1) == ""
    done = post(client, "/admin/services/street-stall/publish",
                {"marks": "", "comment": "首次上线", "effective_from": ""},
                "/admin/services/street-stall/publish")
    assert done.status_code == 302, text_of(done)
    live = current_version(session, "service", "street-stall")
    assert live is not None and live.comment == "首次上线"
    assert client.get("/services/street-stall").status_code == 200
    assert "已发布" in text_of(client.get("/admin/services/street-stall"))


BAD_CODE = "服务代码由 3 至 64 个小写字母、数字和连字符组成，以字母开头（例如 residence-permit）。"
NEW_ERRORS = [
    ({"code": ""}, "code", BAD_CODE),
    ({"code": "Street_Stall"}, "code", BAD_CODE),
    ({"code": "departments"}, "code", BAD_CODE),
    ({"code": "urban-event-report"}, "code", "服务代码“urban-event-report”已被使用。"),
    ({"name_zh": ""}, "name_zh", "请输入服务的中文名称。"),
    ({"name_en": ""}, "name_en", "请输入服务的英文名称。"),
    ({"department": "sh-gaj"}, "department", "请选择您管理的部门。"),
    ({"start": "copy", "source": ""}, "source", "请选择要复制的服务。"),
    ({"start": "copy", "source": "household-transfer"}, "source", "请选择要复制的服务。"),
]


@pytest.mark.parametrize(("change", "field", "message"), NEW_ERRORS)
def test_a_bad_new_service_is_refused_with_its_message(
        personas: Personas, session: Session, change: dict[str, str], field: str,
        message: str) -> None:
    client = personas.as_("cgjadmin")
    response = post(client, "/admin/services/new", {**NEW, **change}, "/admin/services/new")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message in text_of(response)
    assert session.scalars(select(ServiceWorkspace)).all() == []


def test_a_copy_takes_the_form_and_flow_under_the_new_code(
        personas: Personas, session: Session) -> None:
    client = personas.as_("admin")
    response = post(client, "/admin/services/new",
                    {**NEW, "start": "copy", "source": "household-transfer"},
                    "/admin/services/new")
    assert response.status_code == 302
    draft = ws.get_draft(session, "street-stall")
    assert draft is not None
    assert set(draft.files) == {path_of(kind, "street-stall")
                                for kind in ("service", "form", "flow")}
    assert ws.check_draft(session, draft) == []


def _marks(client: FlaskClient, code: str) -> str:
    html = client.get(f"/admin/services/{code}/publish").get_data(as_text=True)
    found = re.search(r'name="marks" value="([^"]*)"', html)
    assert found is not None
    return unescape(found.group(1))


def _edit_form(session: Session, username: str) -> None:
    editor = user(session, username)
    draft = ws.open_draft(session, SERVICE, editor)
    text = draft.files[path_of("form", SERVICE)].replace('"问题类别"', '"问题种类"', 1)
    ws.save_file(session, draft, path_of("form", SERVICE), text,
                 expected_revision=draft.revision, user=editor)
    session.commit()


def test_the_publish_page_shows_the_change_by_question(personas: Personas,
                                                       session: Session) -> None:
    client = personas.as_("cgjadmin")
    _edit_form(session, "cgjadmin")
    page = text_of(client.get(f"/admin/services/{SERVICE}/publish"))
    assert "问题 event.category" in page and "已更改：schema" in page


def test_publishing_after_someone_else_did_is_a_409_with_their_diff(
        personas: Personas, session: Session) -> None:
    client = personas.as_("cgjadmin")
    marks = _marks(client, SERVICE)  # the page is opened
    other = user(session, "admin")
    draft = ws.open_draft(session, SERVICE, other)
    flow = draft.files[path_of("flow", SERVICE)].replace("zh: 立案", "zh: 受理立案", 1)
    ws.save_file(session, draft, path_of("flow", SERVICE), flow,
                 expected_revision=draft.revision, user=other)
    pub.publish_draft(session, draft, other, seen=pub.parse_marks(marks), comment="")
    session.commit()
    before = versions(session)
    response = post(client, f"/admin/services/{SERVICE}/publish",
                    {"marks": marks, "comment": "", "effective_from": ""})
    assert response.status_code == 409
    page = text_of(response)
    assert "您打开此页面后，其他人发布了此服务" in page
    assert "发布者：admin" in page and "已更改 环节 filing受理立案 已更改：name" in page
    assert versions(session) == before


@pytest.mark.parametrize(("value", "message"), [
    ("tomorrow", "请按 2027-01-01 这样的格式输入生效日期。"),
    ("2020-01-01", "生效日期不能早于今天。"),
])
def test_a_bad_effective_date_is_refused(personas: Personas, session: Session, value: str,
                                         message: str) -> None:
    client = personas.as_("cgjadmin")
    _edit_form(session, "cgjadmin")
    before = versions(session)
    response = post(client, f"/admin/services/{SERVICE}/publish",
                    {"marks": _marks(client, SERVICE), "comment": "", "effective_from": value})
    assert response.status_code == 422
    assert message in text_of(response)
    assert versions(session) == before


def test_four_eyes_in_the_browser(personas: Personas, session: Session) -> None:
    client = personas.as_("cgjadmin")
    assert post(client, f"/admin/services/{SERVICE}/four-eyes", {"on": "1"}).status_code == 302
    _edit_form(session, "cgjadmin")
    response = post(client, f"/admin/services/{SERVICE}/publish",
                    {"marks": _marks(client, SERVICE), "comment": "审批", "effective_from": ""})
    assert response.headers["Location"].endswith("?done=requested")
    before = versions(session)
    own = post(client, f"/admin/services/{SERVICE}/approve", {})
    assert own.status_code == 422
    assert "您编辑了此服务或申请了此次发布：须由另一位管理员批准。" in text_of(own)
    assert versions(session) == before
    other = personas.as_("admin")
    assert "批准并发布" in text_of(other.get(f"/admin/services/{SERVICE}/publish"))
    approved = post(other, f"/admin/services/{SERVICE}/approve", {})
    assert approved.status_code == 302, text_of(approved)
    session.rollback()
    form = current_version(session, "form", SERVICE)
    assert form is not None and (form.version, form.author, form.comment) == (2, "admin", "审批")


def test_rollback_in_the_browser_and_to_another_services_version(
        personas: Personas, session: Session) -> None:
    client = personas.as_("cgjadmin")
    _edit_form(session, "cgjadmin")
    post(client, f"/admin/services/{SERVICE}/publish",
         {"marks": _marks(client, SERVICE), "comment": "", "effective_from": ""})
    session.rollback()
    states = pub.history(session, SERVICE)
    page = client.get(f"/admin/services/{SERVICE}").get_data(as_text=True)
    assert f'name="version" value="{states[-1].id}"' in page
    other = current_version(session, "service", "household-transfer")
    assert other is not None
    before = versions(session)
    refused = post(client, f"/admin/services/{SERVICE}/rollback", {"version": str(other.id)})
    assert refused.status_code == 422
    assert ("那是“household-transfer”的第 1 版，不是服务“urban-event-report”的版本；"
            "未回滚任何内容。") in text_of(refused)
    assert versions(session) == before
    done = post(client, f"/admin/services/{SERVICE}/rollback", {"version": str(states[-1].id)})
    assert done.headers["Location"].endswith("?done=rolled_back")
    session.rollback()
    form = current_version(session, "form", SERVICE)
    assert form is not None and form.version == 3


def test_export_and_import_in_the_browser(personas: Personas, session: Session) -> None:
    client = personas.as_("cgjadmin")
    exported = client.get(f"/admin/services/{SERVICE}/export.zip")
    assert exported.status_code == 200 and exported.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(exported.data)).namelist()
    assert sorted(names) == sorted(ws.live_files(session, SERVICE))
    imported = post(client, f"/admin/services/{SERVICE}/import",
                    {"file": (io.BytesIO(exported.data), "service.zip")},
                    content_type="multipart/form-data")
    assert imported.headers["Location"].endswith("?done=imported")
    bad = io.BytesIO()
    with zipfile.ZipFile(bad, "w") as made:
        made.writestr("../evil.yaml", "x")
    refused = post(client, f"/admin/services/{SERVICE}/import",
                   {"file": (io.BytesIO(bad.getvalue()), "evil.zip")},
                   content_type="multipart/form-data")
    assert refused.status_code == 422
    assert "“../evil.yaml”在服务的文件夹之外；未导入任何内容。" in text_of(refused)


def test_the_file_view_numbers_lines_for_problem_links(personas: Personas,
                                                       session: Session) -> None:
    client = personas.as_("cgjadmin")
    editor = user(session, "cgjadmin")
    draft = ws.open_draft(session, SERVICE, editor)
    service = draft.files[path_of("service", SERVICE)].replace("flow: urban-event-report",
                                                               "flow: nowhere")
    ws.save_file(session, draft, path_of("service", SERVICE), service, expected_revision=1,
                 user=editor)
    session.commit()
    page = client.get(f"/admin/services/{SERVICE}/publish").get_data(as_text=True)
    line = next(n for n, text in enumerate(service.splitlines(), 1) if "flow: nowhere" in text)
    link = f'/admin/services/{SERVICE}/files/workflow_definitions/{SERVICE}.yaml#L{line}'
    assert link in page
    view = client.get(link.split("#")[0]).get_data(as_text=True)
    assert f'id="L{line}"' in view and "flow: nowhere" in view


def test_archiving_stops_publishing(personas: Personas, session: Session, demo: Flask) -> None:
    client = personas.as_("cgjadmin")
    assert post(client, f"/admin/services/{SERVICE}/archive", {}).status_code == 302
    _edit_form(session, "cgjadmin")
    response = post(client, f"/admin/services/{SERVICE}/publish",
                    {"marks": _marks(client, SERVICE), "comment": "", "effective_from": ""})
    assert response.status_code == 422
    assert "服务“urban-event-report”已归档；未发布任何内容。" in text_of(response)


def test_an_archived_service_is_no_longer_offered_and_can_come_back(
        personas: Personas, session: Session) -> None:
    client = personas.as_("cgjadmin")
    assert post(client, f"/admin/services/{SERVICE}/archive", {}).status_code == 302
    assert client.get(f"/services/{SERVICE}").status_code == 404
    assert SERVICE not in client.get("/").get_data(as_text=True)
    assert post(client, f"/services/{SERVICE}/start", {}, "/").status_code == 404
    assert "已归档" in text_of(client.get("/admin/services"))
    assert post(client, f"/admin/services/{SERVICE}/restore", {}).headers[
        "Location"].endswith("?done=restored")
    assert client.get(f"/services/{SERVICE}").status_code == 200


def test_only_a_platform_administrator_turns_four_eyes_off(
        personas: Personas, session: Session) -> None:
    client = personas.as_("cgjadmin")
    post(client, f"/admin/services/{SERVICE}/four-eyes", {"on": "1"})
    refused = post(client, f"/admin/services/{SERVICE}/four-eyes", {"on": "0"})
    assert refused.status_code == 422
    assert "只有平台管理员可以关闭双人复核。" in text_of(refused)
    session.rollback()
    workspace = ws.get_workspace(session, SERVICE)
    assert workspace is not None and workspace.four_eyes
    admin = personas.as_("admin")
    assert post(admin, f"/admin/services/{SERVICE}/four-eyes", {"on": "0"}).status_code == 302
    session.rollback()
    session.refresh(workspace)
    assert not workspace.four_eyes


def test_a_rollback_on_a_four_eyes_service_waits_in_the_working_copy(
        personas: Personas, session: Session) -> None:
    client = personas.as_("admin")
    _edit_form(session, "admin")
    post(client, f"/admin/services/{SERVICE}/publish",
         {"marks": _marks(client, SERVICE), "comment": "", "effective_from": ""})
    post(client, f"/admin/services/{SERVICE}/four-eyes", {"on": "1"})
    session.rollback()
    first = pub.history(session, SERVICE)[-1]
    before = versions(session)
    done = post(client, f"/admin/services/{SERVICE}/rollback", {"version": str(first.id)})
    assert done.headers["Location"].endswith("?done=state_restored")
    assert versions(session) == before  # nothing published yet
    draft = ws.get_draft(session, SERVICE)
    assert draft is not None
    assert draft.files[path_of("form", SERVICE)] == ws.live_files(session, SERVICE)[
        path_of("form", SERVICE)].replace('"问题种类"', '"问题类别"', 1)


def test_an_application_started_before_the_effective_date_uses_the_previous_version(
        personas: Personas, session: Session) -> None:
    client = personas.as_("cgjadmin")
    _edit_form(session, "cgjadmin")
    response = post(client, f"/admin/services/{SERVICE}/publish",
                    {"marks": _marks(client, SERVICE), "comment": "",
                     "effective_from": "2099-01-01"})
    assert response.status_code == 302
    started = post(client, f"/services/{SERVICE}/start", {}, f"/services/{SERVICE}")
    assert started.status_code == 302
    session.rollback()
    draft = session.scalars(select(Draft).order_by(col(Draft.id).desc())).first()
    assert draft is not None
    form = session.get(DefinitionVersion, draft.form_version_id)
    assert form is not None and form.version == 1
    latest = current_version(session, "form", SERVICE)
    assert latest is not None and latest.version == 2


def _revision(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="revision" value="(\d*)"', client.get(path).get_data(as_text=True))
    assert found is not None
    return found.group(1)


def test_a_file_is_edited_as_text_and_undone(personas: Personas, session: Session) -> None:
    client = personas.as_("cgjadmin")
    path = f"/admin/services/{SERVICE}/files/{path_of('service', SERVICE)}"
    text = ws.live_files(session, SERVICE)[path_of("service", SERVICE)]
    changed = text.replace("promised_days: 3", "promised_days: 2")
    saved = post(client, path, {"text": changed.replace("\n", "\r\n"), "revision": ""}, path)
    assert saved.headers["Location"].endswith("?saved=1")
    session.rollback()
    draft = ws.get_draft(session, SERVICE)
    assert draft is not None and draft.files[path_of("service", SERVICE)] == changed
    assert post(client, f"/admin/services/{SERVICE}/undo", {"step": "undo"}).status_code == 302
    session.rollback()
    session.refresh(draft)
    assert draft.files[path_of("service", SERVICE)] == text
    assert "撤销" in text_of(client.get(f"/admin/services/{SERVICE}"))


def test_a_text_saved_behind_another_save_is_a_409_and_keeps_the_text(
        personas: Personas, session: Session) -> None:
    client = personas.as_("cgjadmin")
    path = f"/admin/services/{SERVICE}/files/{path_of('form', SERVICE)}"
    ws.open_draft(session, SERVICE, user(session, "admin"))
    session.commit()
    revision = _revision(client, path)  # the page is opened
    _edit_form(session, "admin")  # someone saves meanwhile
    response = post(client, path, {"text": "{\"mine\": 1}", "revision": revision}, path)
    assert response.status_code == 409
    assert "您打开此页面后，其他人保存了此服务，因此您的文本未保存。" in text_of(response)
    assert "{&#34;mine&#34;: 1}" in response.get_data(as_text=True)
    session.rollback()
    draft = ws.get_draft(session, SERVICE)
    assert draft is not None and '"问题种类"' in draft.files[path_of("form", SERVICE)]


def test_a_file_outside_the_service_cannot_be_saved(personas: Personas, session: Session) -> None:
    client = personas.as_("cgjadmin")
    path = f"/admin/services/{SERVICE}/files/form_definitions/household-transfer.json"
    assert post(client, path, {"text": "{}", "revision": ""}).status_code == 404
    session.rollback()
    draft = ws.get_draft(session, SERVICE)
    assert draft is None or "form_definitions/household-transfer.json" not in draft.files


def test_every_edit_link_on_a_service_page_opens_an_editor(personas: Personas) -> None:
    """Each file of the service page says what it is and has an Edit link: to its editor where
    one exists (the form, the flow and the rules), else to the text box of its file page (the
    guide in the service file), which the measure's administrator had to find by the file name."""
    admin = personas.as_("admin")
    html = admin.get("/admin/services/residence-points").get_data(as_text=True)
    links = re.findall(r'<a href="([^"]+)">(?:编辑|Edit)<span', html)
    files = "/admin/services/residence-points/files/workflow_definitions"
    assert "/admin/services/residence-points/flow" in links
    assert "/admin/services/residence-points/rules" in links  # the rules editor
    assert f"{files}/residence-points.yaml#text" in links  # the guide: the service file's text
    assert len(links) == html.count("</code></a> · <a href=") == 4  # service, form, flow, rules
    for link in links:
        assert admin.get(link.partition("#")[0]).status_code == 200, link
    for name in ("办事指南、材料和设置：", "表单：", "流程：", "积分规则："):
        assert name in html, name
