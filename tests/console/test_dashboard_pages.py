"""Issue 14 item 9: /admin/dashboards and its CSV files, through the Flask client. Who may see
what, the filters (bad input: one exact message each, no figures), the tables the charts are
drawn from, and the CSV (UTF-8 with a BOM, the table's own figures)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from tongban import db
from tongban.models import Application, FlowInstance, FlowTask
from tongban.web import dashboards

from ..web.journey import csrf
from .history_world import NOW, seed

RANGE = {"from": "2025-12-01", "to": "2026-11-30"}


@pytest.fixture
def history(demo: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(dashboards, "now", lambda: NOW)
    seed(demo, 300)
    return demo


def _page(client: Any, **args: str) -> tuple[int, str]:
    response = client.get("/admin/dashboards", query_string=args)
    return response.status_code, response.get_data(as_text=True)


def _table(html: str, name: str) -> list[list[str]]:
    """The rows of one table as text (header row first)."""
    body = re.search(rf'<table[^>]* id="{name}-table".*?</table>', html, re.S)
    assert body, f"no table {name}"
    cells = []
    for row in re.findall(r"<tr>(.*?)</tr>", body.group(0), re.S):
        cells.append([re.sub(r"<[^>]+>", "", cell).strip()
                      for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)])
    return cells


def test_a_platform_admin_sees_every_figure_with_its_table_chart_and_csv_link(history, personas):
    client = personas.as_("admin")
    status, html = _page(client, **RANGE)
    assert status == 200
    for name in ("volumes", "departments", "backlog", "handling", "corrections", "returns",
                 "closed_loop"):
        assert f'id="{name}-table"' in html and f'data-chart-for="{name}-table"' in html
        assert f"/admin/dashboards/{name}.csv?" in html
    assert "vendor/echarts.min.js" in html and "js/dashboards.js" in html
    volumes = _table(html, "volumes")
    assert volumes[0][0] == "月" and volumes[0][-1] == "合计"
    assert [row[0] for row in volumes[1:]] == ["2025-12", *(f"2026-{m:02d}" for m in range(1, 12))]
    with db.new_session(history.extensions["tongban.engine"]) as session:
        in_range = session.scalar(select(func.count()).select_from(Application).where(
            Application.submitted_at >= datetime(2025, 11, 30, 16, tzinfo=UTC)))
    assert sum(int(row[-1]) for row in volumes[1:]) == in_range > 290
    assert {"城市管理事件上报", "上海市居住证积分申请"} <= set(volumes[0])


def test_charts_are_only_on_the_dashboards_page(history, personas):
    client = personas.as_("admin")
    assert "echarts" not in client.get("/admin/definitions").get_data(as_text=True)


def test_a_department_admin_sees_only_their_departments_services(history, personas):
    client = personas.as_("deptadmin")  # department admin of sh-rsj
    status, html = _page(client, **RANGE)
    assert status == 200
    volumes = _table(html, "volumes")
    assert volumes[0][1:] == ["上海市居住证积分申请", "合计"]
    assert [row[0] for row in _table(html, "departments")[1:]] == ["上海市人力资源和社会保障局"]
    assert 'id="closed_loop-table"' not in html
    assert '<option value="urban-event-report"' not in html


def test_a_district_admin_sees_the_figures_their_district_handled(history, personas):
    """A department admin of a district office (below the city bureau whose service it is)
    sees the reports whose steps their district took, and nothing else."""
    from tongban.accounts import create_user
    from tongban.models import Role

    with db.unit_of_work(db.new_session(history.extensions["tongban.engine"])) as session:
        create_user(session, "xuhui_admin", "Xuhui-Admin-2026", "徐汇管理",
                    [(Role.DEPARTMENT_ADMIN, "sh-cgj-xuhui")])
    personas.login("xuhui_admin", "Xuhui-Admin-2026")
    status, html = _page(personas.client, **RANGE)
    assert status == 200
    volumes = _table(html, "volumes")
    assert volumes[0][1:] == ["城市管理事件上报", "合计"]
    total = sum(int(row[-1]) for row in volumes[1:])
    with db.new_session(history.extensions["tongban.engine"]) as session:
        handled = session.scalar(select(func.count(func.distinct(FlowInstance.application_id)))
                                 .join(FlowTask, FlowTask.instance_id == FlowInstance.id)
                                 .where(FlowTask.candidate_department == "sh-cgj-xuhui"))
    assert 0 < total == handled
    assert 'id="closed_loop-table"' in html
    assert '<option value="residence-points"' not in html
    assert '<option value="sh-cgj-xuhui"' in html and '<option value="sh-rsj"' not in html


@pytest.mark.parametrize(("username", "status"), [("citizen", 403), ("reviewer", 403),
                                                  ("clerk", 403)])
def test_people_who_are_not_administrators_are_refused(history, personas, username, status):
    client = personas.as_(username)
    assert client.get("/admin/dashboards").status_code == status
    assert client.get("/admin/dashboards/volumes.csv").status_code == status


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(history, client):
    response = client.get("/admin/dashboards")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


BAD = [
    ({"from": "2026-13-01"}, "from", "请按年-月-日填写起始日期，例如 2026-01-01"),
    ({"to": "明天"}, "to", "请按年-月-日填写结束日期，例如 2026-12-31"),
    ({"from": "2026-06-02", "to": "2026-06-01"}, "from", "起始日期不能晚于结束日期"),
    ({"from": "2020-01-01", "to": "2026-06-01"}, "from", "日期范围最长为 3 年"),
    ({"from": "2025-01-01", "to": "2026-06-01", "period": "day"}, "period",
     "按日统计时日期范围最长为 366 天：请按周或按月统计，或缩短日期范围"),
    ({"period": "hour"}, "period", "请选择按日、按周或按月统计"),
    ({"service": "no-such-service"}, "service", "请从列表中选择事项"),
    ({"department": "sh-nowhere"}, "department", "请从列表中选择部门"),
]


@pytest.mark.parametrize(("args", "field", "message"), BAD,
                         ids=[f"{case[1]}-{index}" for index, case in enumerate(BAD)])
def test_bad_filters_get_one_clear_message_and_no_figures(history, personas, args, field,
                                                          message):
    client = personas.as_("admin")
    status, html = _page(client, **args)
    assert status == 400
    assert f'<a href="#{field}-error">{message}</a>' in html
    assert f'id="{field}-error"' in html
    assert "-table" not in html  # no figure is counted from a bad filter
    for value in args.values():
        assert f'value="{value}"' in html or value in ("hour", "no-such-service", "sh-nowhere")
    response = client.get("/admin/dashboards/volumes.csv", query_string=args)
    assert response.status_code == 400 and response.get_data(as_text=True) == message + "\n"


def test_a_department_admin_cannot_pick_another_departments_service(history, personas):
    client = personas.as_("deptadmin")
    status, html = _page(client, service="urban-event-report", **RANGE)
    assert status == 400 and "请从列表中选择事项" in html


def test_the_csv_is_utf8_with_a_bom_and_holds_the_tables_figures(history, personas):
    client = personas.as_("admin")
    _status, html = _page(client, period="week", **RANGE)
    response = client.get("/admin/dashboards/volumes.csv", query_string={"period": "week", **RANGE})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="dashboard-volumes-2025-12-01-2026-11-30.csv"'
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "周（自周一起）"
    assert rows == _table(html, "volumes")
    closed = client.get("/admin/dashboards/closed_loop.csv", query_string=RANGE)
    loop = list(csv.reader(io.StringIO(closed.get_data().decode("utf-8-sig"))))
    assert loop[0] == ["月", "上报数", "已结案", "平均结案小时数", "第 90 百分位小时数",
                       "按时率（%）", "返工率（%）"]
    assert len(loop) == 13 and all(len(row) == 7 for row in loop)


def test_an_unknown_csv_is_not_found(history, personas):
    assert personas.as_("admin").get("/admin/dashboards/users.csv").status_code == 404


def test_the_page_and_its_csv_in_english(history, personas):
    client = personas.as_("admin")
    page = client.get("/admin/dashboards").get_data(as_text=True)
    client.post("/settings/language", data={"csrf_token": csrf(page), "locale": "en",
                                            "next": "/admin/dashboards"})
    status, html = _page(client, **RANGE)
    assert status == 200 and "Applications by period" in html
    assert _table(html, "backlog")[0] == ["Service", "Open tasks", "Overdue", "Due soon"]
    response = client.get("/admin/dashboards/returns.csv", query_string=RANGE)
    assert response.get_data().decode("utf-8-sig").startswith("Reason,Returns,")
