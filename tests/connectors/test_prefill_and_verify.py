"""Issue 15 item 3: the household-registration transfer prefilled from the population register
(with its source and time, changes flagged), the reviewer's register check (answers against
the register, mismatches flagged), results kept per draft or application and every call
audited; a register that is down leaves the form usable ("无法核验") and recovers."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlmodel import Session, col
from tongban_sql_connector.demo_registers import FIRST_ID_NUMBER

from tongban import db
from tongban.connectors import health_reports, registry
from tongban.definitions.publish import current_version
from tongban.models import Application, AuditEvent, ConnectorResult, Draft, saved_id

from ..conftest import Personas
from ..web import review_world
from ..web.journey import Journey

TAG = re.compile(r"<[^>]+>")
ADDRESS = "江苏省苏州市虎丘区狮山路88号3幢402室"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", TAG.sub(" ", html))


def _connector_events(session: Session) -> list[AuditEvent]:
    session.rollback()  # a new snapshot: what the requests wrote since
    return list(session.scalars(select(AuditEvent).where(col(AuditEvent.action).like("connector.%"))
                                .order_by(col(AuditEvent.seq))))


def _results(session: Session) -> list[ConnectorResult]:
    session.rollback()  # a new snapshot: what the requests wrote since
    return list(session.scalars(select(ConnectorResult).order_by(col(ConnectorResult.id))))


def _draft(session: Session, token: str) -> Draft:
    session.rollback()  # a new snapshot: what the requests wrote since
    found = session.scalars(select(Draft).where(col(Draft.token) == token)).one()
    return found


def _point_at(app: Flask, url: str) -> None:
    """The registers' URL changed (a register going down or coming back)."""
    found = registry(app)
    found.close()
    found.settings = {"demo_registers_url": url}


TRANSFER_PAGE = {"transfer.reason": "family", "transfer.from_region": "320505",
                 "transfer.from_address": ADDRESS, "transfer.to_address": "上海市徐汇区漕溪北路1号",
                 "transfer.to_district": "310104", "transfer.to_postal_code": "200030",
                 "transfer.with_family": "false"}


def test_a_citizens_transfer_starts_prefilled_from_the_population_register_with_its_source(
        personas: Personas, session: Session) -> None:
    client = personas.as_("citizen")
    journey = Journey(client, "household-transfer")
    answers = _draft(session, journey.token).answers
    assert answers["applicant"] == {"id_number": FIRST_ID_NUMBER, "name": "张三"}
    assert answers["transfer"] == {"from_address": ADDRESS, "from_region": "320505"}

    page = client.get(journey.first_page_url).get_data(as_text=True)
    assert 'value="张三"' in page
    start = page.index('id="prefill-notes"')
    notes = _text(page[start:page.index("</div>", start)])
    assert re.search(r"来自市公安局人口库，\d{4}-\d\d-\d\d \d\d:\d\d：", notes), notes
    assert "姓名" in notes and "居民身份证号码" not in notes  # this page's prefilled questions

    [row] = _results(session)
    assert (row.purpose, row.status, row.person, row.draft_id, row.application_id) == \
        ("prefill", "ok", FIRST_ID_NUMBER, _draft(session, journey.token).id, None)
    assert row.values == {"applicant.name": "张三", "transfer.from_address": ADDRESS,
                          "transfer.from_region": "320505"}
    [audited] = _connector_events(session)
    assert (audited.action, audited.actor_name, audited.object_type) == \
        ("connector.prefill", "citizen", "draft")
    assert audited.after is not None
    assert {k: audited.after[k] for k in ("connector", "query", "person", "status")} == \
        {"connector": "population", "query": "person", "person": FIRST_ID_NUMBER, "status": "ok"}


def test_the_kept_answer_is_reused_and_a_changed_answer_is_marked_for_the_applicant(
        personas: Personas, session: Session) -> None:
    client = personas.as_("citizen")
    journey = Journey(client, "household-transfer")
    response = journey.post("applicant", {"applicant.name": "张三", "applicant.id_number": FIRST_ID_NUMBER,
                                          "applicant.mobile": "13812345678"})
    assert response.status_code == 302
    changed = {**TRANSFER_PAGE, "transfer.from_address": "江苏省苏州市虎丘区狮山路90号"}
    assert journey.post("transfer", changed).status_code == 302
    assert len(_connector_events(session)) == 1  # the same person: the kept answer, no call

    notes = _text(client.get(journey.url("transfer")).get_data(as_text=True))
    assert f"迁出地详细地址： 您已修改 登记库中为 {ADDRESS}，审核人员会同时看到两者。" in notes
    answers = _draft(session, journey.token).answers
    assert answers["transfer"]["from_address"] == "江苏省苏州市虎丘区狮山路90号"


def test_a_register_that_is_down_leaves_the_form_usable_and_it_recovers(
        demo: Flask, personas: Personas, session: Session, closed_port_url: str,
        registers_url: str) -> None:
    _point_at(demo, closed_port_url)
    client = personas.as_("citizen")
    journey = Journey(client, "household-transfer")  # the start still works
    page = client.get(journey.first_page_url)
    assert page.status_code == 200
    said = _text(page.get_data(as_text=True))
    assert "无法核验：市公安局人口库未应答。请自行填写，我们稍后会再次核验。" in said
    members = _text(client.get(journey.url("members")).get_data(as_text=True))
    assert "无法核验" not in members  # nothing on that page comes from the register
    [failed] = _results(session)
    assert (failed.status, failed.transient, failed.values) == ("unverified", True, None)
    assert "2003" in failed.error
    assert _draft(session, journey.token).answers == {"applicant": {"id_number": FIRST_ID_NUMBER}}
    [health] = health_reports(session, registry(demo))
    assert (health.service, health.connector, health.report.state) == \
        ("household-transfer", "population", "degraded")

    _point_at(demo, registers_url)  # back
    response = journey.post("applicant", {"applicant.name": "张小三", "applicant.id_number": FIRST_ID_NUMBER,
                                          "applicant.mobile": "13812345678"})
    assert response.status_code == 302
    [recovered] = _results(session)
    assert (recovered.status, recovered.attempts, recovered.error) == ("ok", 2, "")
    answers = _draft(session, journey.token).answers
    assert answers["applicant"]["name"] == "张小三"  # what the person typed stays
    assert answers["transfer"]["from_address"] == ADDRESS
    assert [e.after["status"] for e in _connector_events(session) if e.after] == ["unverified", "ok"]
    assert health_reports(session, registry(demo))[0].report.state == "ok"


def test_a_permanent_failure_shows_the_connector_down_in_health(
        demo: Flask, personas: Personas, session: Session, registers_url: str) -> None:
    _point_at(demo, registers_url.replace("root@", "tongban_nobody:wrong@"))
    Journey(personas.as_("citizen"), "household-transfer")
    [health] = health_reports(session, registry(demo))
    assert health.report.state == "down" and "Access denied" in health.report.detail
    assert "wrong" not in health.report.detail


# --- the reviewer's register check ------------------------------------------------------------

def _household_run(demo: Flask, answers: dict[str, Any]) -> review_world.Run:
    """review_world's run, its application made one of the household-transfer service."""
    engine = demo.extensions["tongban.engine"]
    run = review_world.build(engine, answers=answers)
    with db.new_session(engine) as session, db.unit_of_work(session):
        service = current_version(session, "service", "household-transfer")
        form = current_version(session, "form", "household-transfer")
        assert service is not None and form is not None
        session.execute(update(Application).where(col(Application.id) == run.application_id)
                        .values(service_code="household-transfer",
                                service_version_id=saved_id(service), form_version_id=saved_id(form)))
    return run


ANSWERS = {"applicant": {"name": "张三", "id_number": FIRST_ID_NUMBER, "mobile": "13812345678"},
           "transfer": {"from_address": "江苏省苏州市虎丘区狮山路90号", "from_region": "320505"}}


def _check_rows(html: str) -> list[str]:
    table = html[html.index('id="register-check"'):]
    table = table[:table.index("</table>")]
    return [_text(row).strip() for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)][1:]


def test_the_reviewer_sees_answers_against_the_register_with_mismatches_flagged(
        demo: Flask, session: Session) -> None:
    run = _household_run(demo, ANSWERS)
    reviewer = Personas(demo.test_client()).as_("reviewer")
    html = reviewer.get(f"/review/tasks/{run.tasks['review']}").get_data(as_text=True)
    rows = _check_rows(html)
    assert rows[0].startswith("姓名 张三 张三 市公安局人口库，") and rows[0].endswith(" 一致")
    assert rows[1].startswith(f"迁出地详细地址 江苏省苏州市虎丘区狮山路90号 {ADDRESS} 市公安局人口库，")
    assert rows[1].endswith(" 不一致")
    assert html.count('class="tb-row--flagged"') == 1
    assert rows[2].endswith(" 一致")  # the region code

    [row] = _results(session)
    assert (row.purpose, row.application_id, row.status) == ("verify", run.application_id, "ok")
    [audited] = _connector_events(session)
    assert (audited.action, audited.actor_name, audited.object_type, audited.object_id) == \
        ("connector.verify", "reviewer", "application", str(run.application_id))

    reviewer.get(f"/review/tasks/{run.tasks['review']}")
    assert len(_connector_events(session)) == 1  # kept: no second call
    reviewer.get(f"/review/tasks/{run.tasks['review']}?recheck=1")
    assert len(_connector_events(session)) == 2


def test_the_review_page_works_while_the_register_is_down_and_checks_again_later(
        demo: Flask, session: Session, closed_port_url: str, registers_url: str) -> None:
    run = _household_run(demo, ANSWERS)
    _point_at(demo, closed_port_url)
    reviewer = Personas(demo.test_client()).as_("reviewer")
    response = reviewer.get(f"/review/tasks/{run.tasks['review']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert all(r.endswith(" 无法核验") for r in _check_rows(html))
    assert "有登记库未应答：一分钟后再打开本页会重新核验，也可点击下方链接立即核验。" in _text(html)

    _point_at(demo, registers_url)
    rows = _check_rows(reviewer.get(f"/review/tasks/{run.tasks['review']}").get_data(as_text=True))
    assert rows[0].endswith(" 一致") and rows[1].endswith(" 不一致")


def test_tongban_connectors_health_lists_each_connector_and_fails_when_one_is_down(
        demo: Flask, personas: Personas, cli, registers_url: str) -> None:  # type: ignore[no-untyped-def]
    assert cli("connectors", "health").output == "No connector has been called yet.\n"
    Journey(personas.as_("citizen"), "household-transfer")
    result = cli("connectors", "health")
    assert result.exit_code == 0
    assert re.fullmatch(r"household-transfer/population: ok at \d{4}-\d\d-\d\d \d\d:\d\d UTC\n",
                        result.output), result.output
    _point_at(demo, registers_url.replace("root@", "tongban_nobody:wrong@"))
    Journey(personas.as_("citizen"), "household-transfer")
    result = cli("connectors", "health")
    assert result.exit_code == 1 and "household-transfer/population: down at " in result.output
    assert "Access denied" in result.output


def test_a_clerks_draft_is_prefilled_once_the_applicants_id_number_is_given(
        personas: Personas, session: Session) -> None:
    client = personas.as_("clerk")
    journey = Journey(client, "household-transfer")
    assert _draft(session, journey.token).answers == {}  # no account's ID number to start from
    assert _results(session) == []
    response = journey.post("applicant", {"applicant.name": "张三", "applicant.id_number": FIRST_ID_NUMBER,
                                          "applicant.mobile": "13812345678"})
    assert response.status_code == 302
    assert _draft(session, journey.token).answers["transfer"] == {"from_address": ADDRESS,
                                                                  "from_region": "320505"}
    [audited] = _connector_events(session)
    assert (audited.action, audited.actor_name) == ("connector.prefill", "clerk")
    page = _text(client.get(journey.url("transfer")).get_data(as_text=True))
    assert "来自市公安局人口库" in page and "迁出地详细地址" in page


def test_a_failed_call_is_not_repeated_before_the_retry_time(
        demo: Flask, personas: Personas, session: Session, closed_port_url: str) -> None:
    _point_at(demo, closed_port_url)
    registry(demo).retry_seconds = 60
    client = personas.as_("citizen")
    journey = Journey(client, "household-transfer")
    journey.post("applicant", {"applicant.name": "张三", "applicant.id_number": FIRST_ID_NUMBER,
                               "applicant.mobile": "13812345678"})
    assert len(_connector_events(session)) == 1  # the page save did not wait on the register again
    assert "无法核验" in _text(client.get(journey.url("applicant")).get_data(as_text=True))
