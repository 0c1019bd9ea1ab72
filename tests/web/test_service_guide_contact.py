"""Issue 14 item 6: the guide's contact (which the lint asks for) and where to apply are shown
on the service page, in both languages; a guide without them shows neither heading."""

from __future__ import annotations

import copy

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from tongban.models import DefinitionVersion


def test_the_service_page_shows_where_to_apply_and_whom_to_ask(demo: Flask,
                                                              client: FlaskClient) -> None:
    html = client.get("/services/residence-points").get_data(as_text=True)
    assert ('<h2 class="tb-heading-m">办理地点</h2>\n'
            '  <p class="tb-body">用人单位所在区的人才服务中心，或网上办理</p>') in html
    assert '<h2 class="tb-heading-m">咨询方式</h2>\n  <p class="tb-body">上海市民服务热线 12345</p>' \
        in html
    with client.session_transaction() as cookie:
        cookie["locale"] = "en"
    text = client.get("/services/residence-points").get_data(as_text=True)
    assert "Questions about this service</h2>\n  <p class=\"tb-body\">Shanghai citizen service " \
           "hotline 12345</p>" in text
    assert "Where to apply" in text


def test_a_guide_without_a_place_shows_no_heading_for_it(demo: Flask, client: FlaskClient,
                                                         session: Session) -> None:
    row = session.exec(select(DefinitionVersion).where(
        col(DefinitionVersion.kind) == "service",
        col(DefinitionVersion.code) == "urban-event-report")).one()
    content = copy.deepcopy(row.content)
    del content["guide"]["where"]
    session.add(DefinitionVersion(kind="service", code=row.code, version=row.version + 1,
                                  content_hash="w" * 64, content=content,
                                  source_path=row.source_path, author="test"))
    session.commit()
    html = client.get("/services/urban-event-report").get_data(as_text=True)
    assert "办理地点" not in html
    assert "咨询方式" in html
