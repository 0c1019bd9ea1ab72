"""The service guide shows the service's flow under 办理流程: Graphviz's SVG with its title and
the steps in words (a <details>, no JavaScript); the task page's macro marks the current node;
no Graphviz means the app does not start."""

from __future__ import annotations

import base64
import copy
import re
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from tongban import create_app
from tongban.models import DefinitionVersion
from tongban.workflow.diagram import GraphvizMissing

from ..conftest import csrf_token
from ..unit.flow_diagram_fixtures import POINTS

IMAGE = re.compile(r'<img class="tb-flow-diagram__svg" src="data:image/svg\+xml;base64,([^"]+)" '
                   r'alt="([^"]+)" width="\d+" height="\d+">')


def page_svg(html: str) -> tuple[str, str]:
    """The page's one flow drawing: the SVG inside its image, and the image's alt text."""
    found = IMAGE.findall(html)
    assert len(found) == 1, found
    data, alt = found[0]
    return base64.b64decode(data).decode("utf-8"), alt


def publish_flow_for(session: Session, service_code: str, flow: dict | None) -> None:
    """A new flow version and a newer service version naming it (what `defs publish` makes);
    with no flow, a service version naming none."""
    def newest(kind: str, code: str) -> DefinitionVersion | None:
        return session.exec(select(DefinitionVersion).where(
            col(DefinitionVersion.kind) == kind, col(DefinitionVersion.code) == code)
            .order_by(col(DefinitionVersion.version).desc())).first()

    service = newest("service", service_code)
    assert service is not None
    content = copy.deepcopy(service.content)
    content.pop("flow", None)
    if flow is not None:
        content["flow"] = flow["code"]
        before = newest("flow", flow["code"])
        session.add(DefinitionVersion(kind="flow", code=flow["code"],
                                      version=before.version + 1 if before else 1,
                                      content_hash="f" * 64, content=flow,
                                      source_path="flows/test.yaml", author="test"))
    session.add(DefinitionVersion(kind="service", code=service_code, version=service.version + 1,
                                  content_hash="s" * 64, content=content,
                                  source_path=service.source_path, author="test"))
    session.commit()


def test_the_guide_page_shows_the_flow_with_its_steps_in_words(demo: Flask, client: FlaskClient,
                                                                 session: Session) -> None:
    publish_flow_for(session, "residence-points", POINTS)
    html = client.get("/services/residence-points").get_data(as_text=True)
    assert '<h2 class="tb-heading-m" id="flow-diagram-heading">办理流程</h2>' in html
    svg, alt = page_svg(html)
    assert alt == "办理流程图：居住证积分审批"
    assert 'role="img"' in svg and "办理流程图：居住证积分审批</title>" in svg
    section = html[html.index('<section class="tb-flow-diagram"'):]
    assert "<svg" not in section[:section.index("</section>")]  # an image, not inline SVG text
    for name in ("窗口受理", "区级初审", "市级复审", "公安核查"):
        assert name in svg
    assert "【当前】" not in html  # nothing is current on a guide
    steps = re.search(r"<details class=\"tb-flow-diagram__steps\">(.*?)</details>", html, re.S)
    assert steps is not None
    assert "<summary>文字版办理步骤</summary>" in steps.group(1)
    assert "<li>条件分支：按顺序取第一个成立的条件：若 answers.points_total ≥ 120，转到 市级复审；" \
           "否则转到 区级初审</li>" in steps.group(1)
    # The page's language, the diagram's language.
    token = csrf_token(client, "/services/residence-points")
    client.post("/settings/language", data={"locale": "en", "csrf_token": token})
    english = client.get("/services/residence-points").get_data(as_text=True)
    assert ">Handling process</h2>" in english and "<summary>The steps in words</summary>" in english
    assert page_svg(english)[1] == "Flow diagram: Residence points approval"
    assert "Counter intake" in english and "窗口受理" not in english


def test_a_service_without_a_flow_has_no_diagram(demo: Flask, client: FlaskClient,
                                                 session: Session) -> None:
    publish_flow_for(session, "residence-points", None)
    html = client.get("/services/residence-points").get_data(as_text=True)
    assert "<h1" in html
    assert "办理流程" not in html and "tb-flow-diagram" not in html and 'role="img"' not in html


def test_the_macro_marks_the_current_node(app: Flask) -> None:
    with app.test_request_context("/"):
        html = render_template_string(
            '{% from "review/_flow_diagram.html" import flow_diagram %}'
            "{{ flow_diagram(flow, current=['police', 'hr']) }}", flow=POINTS)
    svg, alt = page_svg(html)
    assert svg.count("tb-flow-node--current") == 2
    assert "【当前】" in svg
    assert "<li>公安核查，然后转到 汇合（当前步骤）</li>" in html
    assert alt == "办理流程图：居住证积分审批（当前步骤：社保查询、公安核查）"


def test_the_app_does_not_start_without_graphviz(app_config: dict[str, object], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(GraphvizMissing, match="apt-get install graphviz"):
        create_app(app_config, instance_path=tmp_path / "instance")


@pytest.mark.parametrize("service", ["residence-points", "urban-event-report", "household-transfer"])
def test_each_demo_service_guide_draws_its_published_flow(demo: Flask, client: FlaskClient,
                                                          session: Session, service: str) -> None:
    flow_code = session.exec(select(DefinitionVersion).where(
        col(DefinitionVersion.kind) == "service", col(DefinitionVersion.code) == service)
        .order_by(col(DefinitionVersion.version).desc())).first().content["flow"]
    flow = session.exec(select(DefinitionVersion).where(
        col(DefinitionVersion.kind) == "flow", col(DefinitionVersion.code) == flow_code)
        .order_by(col(DefinitionVersion.version).desc())).first().content
    html = client.get(f"/services/{service}").get_data(as_text=True)
    assert ">办理流程</h2>" in html
    svg, _ = page_svg(html)
    for node_id, node in flow["nodes"].items():
        assert f'id="flow-node-{node_id}"' in svg
        if "name" in node:
            assert str(node["name"]["zh"]).split("\n")[0][:6] in svg, node_id
    assert html.count("<li>", html.index("tb-flow-diagram__steps")) >= len(flow["nodes"])


def test_the_task_page_shows_the_flow_with_the_current_step_marked(demo: Flask) -> None:
    from ..conftest import Personas
    from . import review_world

    run = review_world.build(demo.extensions["tongban.engine"])
    reviewer = Personas(demo.test_client()).as_("reviewer")
    html = reviewer.get(f"/review/tasks/{run.tasks['review']}").get_data(as_text=True)
    assert ">办理流程</h2>" in html
    svg, alt = page_svg(html)
    assert alt == "办理流程图：页面测试（当前步骤：初审）"
    current = re.findall(r'<g id="flow-node-(\w+)" class="[^"]*tb-flow-node--current', svg)
    assert current == ["review"]
    assert "【当前】" in svg
    assert "（当前步骤：初审）</title>" in svg
    steps = html[html.index('<details class="tb-flow-diagram__steps">'):]
    assert steps.count("（当前步骤）") == 1


def test_a_gateway_token_waiting_for_its_branches_is_not_where_it_stands() -> None:
    from tongban.web.flow_diagram import where_it_stands

    assert where_it_stands(POINTS, ["split", "police", "hr", "gone"]) == {"police", "hr"}
