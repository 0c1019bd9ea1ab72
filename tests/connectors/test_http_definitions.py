"""Issue 15 item 4: the `http` connector through the core. Its block in a service is checked at
load (an absolute URL, a stray or undeclared placeholder, a bad JSON pointer: each at its
file:line); enterprise credit grading ships the e-licence example of docs/connectors.md, the
enterprise sees its answers beside the licence and the reviewer's register check reads the
business licence from the twin; a 500 then a 200
is one kept result, a 401 shows the connector down, a slow API is "could not be verified"
and recovers."""

from __future__ import annotations

import functools
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tongban_http_connector
from flask import Flask
from sqlalchemy import select, update
from sqlmodel import Session, col
from tongban_http_connector import HTTP
from tongban_http_connector.twin import DEMO_TOKEN, DEMO_USCC, RunningTwin, serve
from tongban_sql_connector import SQL

from tongban import PROJECT_ROOT, db
from tongban.connectors import Outcome, Owner, health_reports, registry, run_query
from tongban.definitions.loader import load_directory
from tongban.definitions.publish import current_version
from tongban.models import Application, AuditEvent, ConnectorResult, saved_id

from ..conftest import Personas
from ..web import review_world
from ..web.journey import Journey, errors_in

SERVICE = "workflow_definitions/enterprise-credit.yaml"
TYPES = {"sql": SQL, "http": HTTP}
TAG = re.compile(r"<[^>]+>")


def _example() -> str:
    docs = (PROJECT_ROOT / "docs" / "connectors.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```yaml\n(connectors:\n.*?)```", docs, re.S)
               if "type: http" in b]
    return block


def _copy_definitions(root: Path) -> Path:
    """The shipped definitions, whose enterprise-credit service has the page's example."""
    for folder in ("workflow_definitions", "form_definitions"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    assert _example() in (root / SERVICE).read_text(encoding="utf-8")
    return root


@pytest.fixture
def defs(tmp_path: Path) -> Path:
    return _copy_definitions(tmp_path / "defs")


def _replace(root: Path, old: str, new: str) -> int:
    """Edit the service file; the 1-based line where ``new`` starts."""
    path = root / SERVICE
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return text[:text.index(new)].count("\n") + 1


def _problems(root: Path) -> list[str]:
    return [str(p) for p in load_directory(root, connector_types=TYPES).problems]


def test_enterprise_credit_ships_the_e_licence_example_of_docs_connectors_md(defs: Path) -> None:
    result = load_directory(defs, connector_types=TYPES)
    assert result.ok, [str(p) for p in result.problems]
    block = result.services["enterprise-credit"].content["connectors"]["licences"]
    assert block["type"] == "http" and block["verify"] == ["business_licence"]


AT = "/connectors/licences/queries/business_licence"
PATH = "path: /enterprises/{uscc}/business-licence"


@pytest.mark.parametrize(("old", "new", "where", "message"), [
    (PATH, "path: https://elicence.example.org/enterprises/{uscc}", f"{AT}/path",
     "the path is an absolute URL: a query gives only the path below the base URL, whose host "
     "comes from the base_url_setting"),
    (PATH, "path: //elicence.example.org/enterprises/{uscc}", f"{AT}/path",
     "the path is an absolute URL: a query gives only the path below the base URL, whose host "
     "comes from the base_url_setting"),
    (PATH, "path: /enterprises/{uscc}/{branch}", f"{AT}/path",
     'the placeholder {branch} is not a parameter "params" declares'),
    (PATH, "path: /enterprises/{uscc}?full=1", f"{AT}/path",
     'the path contains ? or #: put query-string parameters under "query"'),
    (PATH, "path: /enterprises/{uscc}/{0}", f"{AT}/path",
     "the path has a { or } that is not a {name} placeholder"),
    (PATH, "path: /enterprises/business-licence", f"{AT}/params/uscc",
     'the parameter "uscc" is declared but no {uscc} uses it in the path, query or body'),
    ("rows: /data", "rows: data", f"{AT}/rows",
     '"data" is not a JSON pointer: it must be empty or start with /'),
    ("/name: enterprise.name", "/na~2me: enterprise.name", f"{AT}/fields/~1na~02me",
     '"/na~2me" is not a JSON pointer: ~ must be followed by 0 (for ~) or 1 (for /)'),
    ("method: GET", "method: GET\n        body: {id: '{uscc}'}", f"{AT}/body",
     "a body is sent only with method: POST"),
])
def test_a_bad_http_query_is_a_load_error_at_its_line(defs: Path, old: str, new: str, where: str,
                                                      message: str) -> None:
    line = _replace(defs, old, new)
    if old == "method: GET":
        line += 1
    elif where.endswith("/params/uscc"):
        line += 1  # the params line follows the path line
    problems = _problems(defs)
    assert len(problems) == 1, problems
    assert re.match(rf"{re.escape(SERVICE)}:{line}:\d+: at {re.escape(where)} ", problems[0]), problems
    assert problems[0].endswith(message), problems


def test_a_base_url_written_into_the_definition_is_refused(defs: Path) -> None:
    line = _replace(defs, "base_url_setting: elicence_url",
                    "base_url: https://elicence.example.org/api")
    problems = _problems(defs)
    assert any(p.startswith(f"{SERVICE}:{line - 1}:") or p.startswith(f"{SERVICE}:{line}:")
               for p in problems), problems
    assert any('missing required key "base_url_setting"' in p for p in problems), problems


# --- through the core, against the twin --------------------------------------------------

@pytest.fixture(scope="module")
def running() -> Iterator[RunningTwin]:
    with serve() as found:
        yield found


@pytest.fixture
def twin(running: RunningTwin) -> Iterator[RunningTwin]:
    running.behaviour.reset()
    yield running
    running.behaviour.reset()


@pytest.fixture
def app_config(app_config: dict[str, Any], twin: RunningTwin, tmp_path: Path) -> dict[str, Any]:
    return {**app_config, "DEFINITIONS_DIR": str(_copy_definitions(tmp_path / "defs")),
            "CONNECTOR_SETTINGS": {"elicence_url": twin.base_url, "elicence_token": DEMO_TOKEN},
            "PLUGINS": [tongban_http_connector]}




def _call(app: Flask, session: Session, uscc: str = DEMO_USCC, **kwargs: Any) -> Outcome:
    service = {"code": "enterprise-credit", "connectors": {"licences": _block()}}
    return run_query(session, registry(app), service, "licences", "business_licence",
                     {"enterprise": {"uscc": uscc}}, owner=Owner(), purpose="verify",
                     actor_id=None, actor_name="reviewer", **kwargs)


@functools.cache
def _block() -> dict[str, Any]:
    """The example's block as the loader reads it."""
    with tempfile.TemporaryDirectory() as folder:
        result = load_directory(_copy_definitions(Path(folder)), connector_types=TYPES)
    block: dict[str, Any] = result.services["enterprise-credit"].content["connectors"]["licences"]
    return block


def _results(session: Session) -> list[ConnectorResult]:
    session.rollback()
    return list(session.scalars(select(ConnectorResult).order_by(col(ConnectorResult.id))))


def _events(session: Session) -> list[AuditEvent]:
    session.rollback()
    return list(session.scalars(select(AuditEvent).where(col(AuditEvent.action).like("connector.%"))
                                .order_by(col(AuditEvent.seq))))


def test_a_500_then_a_200_is_retried_once_and_kept_as_one_result(
        app: Flask, session: Session, twin: RunningTwin) -> None:
    twin.behaviour.fail_once(500)
    outcome = _call(app, session)
    assert (outcome.status, outcome.values) == (
        "ok", {"enterprise.name": "上海示例科技有限公司", "enterprise.established_on": "2016-05-20"})
    assert outcome.source == {"zh": "市大数据中心电子证照库",
                              "en": "Municipal Big Data Centre e-licence service"}
    assert len(twin.behaviour.requests) == 2
    [row] = _results(session)
    assert (row.status, row.attempts, row.person, row.source) == \
        ("ok", 1, DEMO_USCC, "市大数据中心电子证照库")
    [event] = _events(session)
    assert event.after is not None and event.after["status"] == "ok"
    assert _call(app, session).cached and len(twin.behaviour.requests) == 2  # kept: not asked again


def test_a_refused_token_is_not_retried_and_shows_the_connector_down(
        app: Flask, session: Session, twin: RunningTwin) -> None:
    twin.behaviour.refuse_all = True
    outcome = _call(app, session)
    assert outcome.status == "unverified"
    assert len(twin.behaviour.requests) == 1
    [health] = health_reports(session, registry(app))
    assert (health.service, health.connector, health.report.state) == \
        ("enterprise-credit", "licences", "down")
    assert "HTTP 401" in health.report.detail and DEMO_TOKEN not in health.report.detail


def test_a_missing_path_404_is_permanent_and_not_retried(app: Flask, session: Session,
                                                         twin: RunningTwin) -> None:
    twin.behaviour.fail_once(404)
    assert _call(app, session).status == "unverified"
    assert len(twin.behaviour.requests) == 1
    [row] = _results(session)
    assert (row.transient, row.error) == (False, "GET /enterprises/{uscc}/business-licence: HTTP 404")


def test_a_slow_api_is_could_not_be_verified_then_recovers(app: Flask, session: Session,
                                                           twin: RunningTwin) -> None:
    twin.behaviour.delay = 4  # past the example's 3 s
    started = time.monotonic()
    outcome = _call(app, session)
    assert time.monotonic() - started < 3.8
    assert outcome.status == "unverified"
    [row] = _results(session)
    assert (row.status, row.transient) == ("unverified", True) and "no answer within" in row.error
    assert health_reports(session, registry(app))[0].report.state == "degraded"

    twin.behaviour.delay = 0
    recovered = _call(app, session)  # CONNECTOR_RETRY_SECONDS is 0 in these tests
    assert recovered.status == "ok" and recovered.values["enterprise.name"] == "上海示例科技有限公司"
    [row] = _results(session)
    assert (row.status, row.attempts, row.error) == ("ok", 2, "")
    assert health_reports(session, registry(app))[0].report.state == "ok"


def test_an_enterprise_without_a_licence_is_no_record(app: Flask, session: Session) -> None:
    assert _call(app, session, uscc="91310000132200821H").status == "none"


def _check_rows(html: str) -> list[str]:
    table = html[html.index('id="register-check"'):]
    table = table[:table.index("</table>")]
    return [re.sub(r"\s+", " ", TAG.sub(" ", row)).strip()
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)][1:]


def test_the_reviewer_sees_the_answers_against_the_business_licence(
        demo: Flask, session: Session, twin: RunningTwin) -> None:
    engine = demo.extensions["tongban.engine"]
    answers = {"enterprise": {"name": "上海示例科技公司", "uscc": DEMO_USCC, "established_on": "2016-05-20"}}
    run = review_world.build(engine, answers=answers)
    with db.new_session(engine) as fresh, db.unit_of_work(fresh):
        service = current_version(fresh, "service", "enterprise-credit")
        form = current_version(fresh, "form", "enterprise-credit")
        assert service is not None and form is not None
        assert "licences" in service.content["connectors"]  # the published example
        fresh.execute(update(Application).where(col(Application.id) == run.application_id)
                      .values(service_code="enterprise-credit", service_version_id=saved_id(service),
                              form_version_id=saved_id(form)))
    reviewer = Personas(demo.test_client()).as_("reviewer")
    html = reviewer.get(f"/review/tasks/{run.tasks['review']}").get_data(as_text=True)
    rows = _check_rows(html)
    assert rows[0].startswith("企业名称 上海示例科技公司 上海示例科技有限公司 市大数据中心电子证照库，")
    assert rows[0].endswith(" 不一致")
    # both dates as the form shows them (compared as given)
    assert rows[1].startswith("成立日期 2016年5月20日 2016年5月20日 ") and rows[1].endswith(" 一致")
    assert twin.behaviour.requests[-1]["path"] == f"/api/v1/enterprises/{DEMO_USCC}/business-licence"
    [event] = _events(session)
    assert (event.action, event.actor_name, event.object_id) == \
        ("connector.verify", "reviewer", str(run.application_id))


def test_an_enterprise_sees_its_answers_beside_the_business_licence_as_it_applies(
        personas: Personas, session: Session, twin: RunningTwin) -> None:
    """Issue 15 item 7: the shipped service reads the licence once the credit code is given."""
    client = personas.as_("enterprise")
    journey = Journey(client, "enterprise-credit")
    response = journey.post("enterprise", {"enterprise.name": "上海示例科技公司",
                                           "enterprise.uscc": DEMO_USCC,
                                           "enterprise.established_on": "2016-05-20"})
    assert response.status_code == 302, errors_in(response.get_data(as_text=True))
    assert twin.behaviour.requests[-1]["path"] == f"/api/v1/enterprises/{DEMO_USCC}/business-licence"
    html = client.get(journey.url("enterprise")).get_data(as_text=True)
    start = html.index('id="prefill-notes"')
    notes = re.sub(r"\s+", " ", TAG.sub(" ", html[start:html.index("</div>", start)]))
    assert re.search(r"来自市大数据中心电子证照库，\d{4}-\d\d-\d\d \d\d:\d\d：", notes), notes
    assert "企业名称： 您已修改 登记库中为 上海示例科技有限公司，审核人员会同时看到两者。" in notes
    assert "成立日期 " in notes and "成立日期：" not in notes  # the same date: not marked
    [event] = _events(session)
    assert (event.action, event.actor_name) == ("connector.prefill", "enterprise")
