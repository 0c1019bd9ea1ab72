"""Issue 14 item 8: CSV bulk import with a dry run. A bad row stops the whole import, named
with its reason; UTF-8 with or without a BOM and GB18030 files are read alike."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from tongban.models import AuditEvent, User

from ..conftest import Personas
from .staff_world import grants, post, text_of, user_named

GOOD = ("username,display_name,department_code,roles\n"
        "li.ming,李明,sh-rsj-xuhui,reviewer\n"
        "wang.fang,王芳,sh-rsj,reviewer;department_admin\n"
        "rsj_city,钱复核,sh-rsj-pudong,reviewer\n")


def _users(session) -> int:  # type: ignore[no-untyped-def]
    session.commit()
    return session.scalar(select(func.count()).select_from(User))


def _events(session) -> int:  # type: ignore[no-untyped-def]
    session.commit()
    return session.scalar(select(func.count()).select_from(AuditEvent))


def _upload(client, data: bytes, action: str = "dry_run"):  # type: ignore[no-untyped-def]
    return post(client, "/admin/users/import",
                {"action": action, "file": (io.BytesIO(data), "staff.csv")},
                page="/admin/users/import", content_type="multipart/form-data")


def test_the_dry_run_shows_the_plan_and_writes_nothing(personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("admin")
    users, events = _users(session), _events(session)
    response = _upload(client, GOOD.encode("utf-8"))
    assert response.status_code == 200
    page = text_of(response)
    assert "新账号" in page and "增加角色：部门管理员" in page and "导入 3 行" in page
    assert "增加角色：审核人员" in page  # rsj_city gains sh-rsj-pudong
    assert _users(session) == users and _events(session) == events


def test_the_import_creates_accounts_with_one_time_passwords(app, personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("admin")
    users = _users(session)
    response = post(client, "/admin/users/import", {"action": "import", "text": GOOD},
                    page="/admin/users/import")
    assert response.status_code == 200
    assert _users(session) == users + 2
    new = user_named(session, "wang.fang")
    assert new.display_name == "王芳" and new.must_change_password
    assert {role for role, _dept in grants(session, "wang.fang")} == {"reviewer",
                                                                      "department_admin"}
    assert len(grants(session, "rsj_city")) == 2
    passwords = dict(re.findall(r"<td>([a-z.]+)</td><td>[^<]+</td><td><code lang=\"en\">([^<]+)</code>",
                                response.get_data(as_text=True)))
    assert set(passwords) == {"li.ming", "wang.fang"}
    signing_in = Personas(app.test_client()).login("li.ming", html.unescape(passwords["li.ming"]))
    assert signing_in.headers["Location"].startswith("/account/password")
    session.commit()
    imported = session.scalars(select(col(AuditEvent.action))
                               .where(col(AuditEvent.action) == "user.import")).all()
    assert len(imported) == 3


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_excel_files_in_utf8_with_bom_and_gb18030_are_read(personas, session, encoding) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("admin")
    data = GOOD.replace("\n", "\r\n").encode(encoding)
    assert _upload(client, data, action="import").status_code == 200
    assert user_named(session, "li.ming").display_name == "李明"


def test_chinese_headings_are_understood(personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("admin")
    text = "用户名,姓名,部门代码,角色\nzhao.lei,赵磊,sh-gaj,reviewer\n"
    response = post(client, "/admin/users/import", {"action": "import", "text": text},
                    page="/admin/users/import")
    assert response.status_code == 200 and user_named(session, "zhao.lei").display_name == "赵磊"


BAD_ROWS = [
    ("li.ming,李明,sh-nowhere,reviewer", "第 3 行：没有代码为 sh-nowhere 的部门。"),
    ("li.ming,李明,sh-rsj,chief", "第 3 行：chief 不是角色，请使用：citizen, enterprise, "
                                   "counter_clerk, reviewer, department_admin, platform_admin。"),
    ("li ming,李明,sh-rsj,reviewer",
     "第 3 行：用户名 li ming 只能包含字母、数字和 . _ @ -（最多 150 个字符）。"),
    ("li.ming,,sh-rsj,reviewer", "第 3 行：请填写姓名。"),
    (",李明,sh-rsj,reviewer", "第 3 行：请填写用户名。"),
    ("li.ming,李明,sh-rsj,", "第 3 行：请至少填写一个角色。"),
    ("wang.fang,王芳,sh-rsj,reviewer", "第 3 行：wang.fang 在第 2 行也出现了。"),
]


@pytest.mark.parametrize(("row", "message"), BAD_ROWS)
def test_one_bad_row_imports_nothing_and_is_named(personas, session, row, message) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("admin")
    users, events = _users(session), _events(session)
    text = f"username,display_name,department_code,roles\nwang.fang,王芳,sh-rsj,reviewer\n{row}\n"
    for action in ("dry_run", "import"):
        response = post(client, "/admin/users/import", {"action": action, "text": text},
                        page="/admin/users/import")
        assert response.status_code == 422
        page = html.unescape(text_of(response))
        assert "未导入任何内容" in page and message in page
    assert _users(session) == users and _events(session) == events


@pytest.mark.parametrize(("data", "message"), [
    (b"", "请选择 CSV 文件或粘贴其内容。"),
    (b"name,dept\nx,y\n", "第一行必须是列名：username, display_name, department_code, roles。"),
    (b"\xff\xfe\x00\x00 not text \x80\x80",
     "文件不是 UTF-8 或 GB18030 编码的文本：请在表格软件中另存为 CSV 后重试。"),
    (b"username,display_name,department_code,roles\n", "文件在列名之下没有任何行。"),
])
def test_a_file_that_is_not_a_staff_list_is_refused(personas, session, data, message) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("admin")
    users = _users(session)
    response = _upload(client, data) if data else post(
        client, "/admin/users/import", {"action": "dry_run", "text": ""},
        page="/admin/users/import")
    assert response.status_code == 422
    assert message in html.unescape(text_of(response))
    assert _users(session) == users


def test_a_department_admin_imports_only_into_their_departments(personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("deptadmin")  # sh-rsj
    text = ("username,display_name,department_code,roles\n"
            "li.ming,李明,sh-rsj-xuhui,reviewer\n"
            "zhou.jie,周杰,sh-gaj,reviewer\n"
            "sun.li,孙丽,sh-rsj,platform_admin\n")
    users = _users(session)
    response = post(client, "/admin/users/import", {"action": "import", "text": text},
                    page="/admin/users/import")
    assert response.status_code == 422
    page = html.unescape(text_of(response))
    assert "第 3 行：你只能在自己管理的部门内授予角色；sh-gaj 不在其中。" in page
    assert "第 4 行：只有平台管理员可以授予或移除平台管理员角色。" in page
    assert _users(session) == users
    good = "username,display_name,department_code,roles\nli.ming,李明,sh-rsj-xuhui,reviewer\n"
    response = post(client, "/admin/users/import", {"action": "import", "text": good},
                    page="/admin/users/import")
    assert response.status_code == 200 and _users(session) == users + 1


def test_row_problems_are_named_in_english_too(personas, session) -> None:  # type: ignore[no-untyped-def]
    from ..conftest import csrf_token

    client = personas.as_("admin")
    client.post("/settings/language", data={"locale": "en",
                                            "csrf_token": csrf_token(client, "/admin/users")})
    text = "username,display_name,department_code,roles\nli.ming,李明,sh-nowhere,reviewer\n"
    response = post(client, "/admin/users/import", {"action": "dry_run", "text": text},
                    page="/admin/users/import")
    assert response.status_code == 422
    assert "Row 2: There is no department with the code sh-nowhere." in text_of(response)
    assert "Nothing was imported" in text_of(response)
