"""Issue 15 item 1: one command (``tongban plugins``) and one page (/admin/plugins) list the
plugins, their hooks and their health, and each connector plugin's service connectors with the
state ``tongban connectors health`` reports: a permanent failure makes the plugin down."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlmodel import Session

from tongban.connectors import health_by_plugin, registry
from tongban.extend.manager import plugin_manager
from tongban.models import ConnectorResult

from ..conftest import Personas

AT = datetime(2026, 12, 3, 1, 30, tzinfo=UTC)


def _result(session: Session, service: str, connector: str, *, status: str = "ok",
            error: str = "", transient: bool = True) -> None:
    session.add(ConnectorResult(service_code=service, connector=connector, query_id="person",
                                purpose="prefill", params_hash="0" * 64, status=status,
                                error=error, transient=transient, checked_at=AT))
    session.commit()


def _lines_of(output: str, plugin: str) -> list[str]:
    """The plugin's block of ``tongban plugins``: its first line and the indented ones."""
    lines = output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{plugin} "))
    block = [lines[at]]
    for line in lines[at + 1:]:
        if not line.startswith("  "):
            break
        block.append(line)
    return block


def test_the_plugins_command_shows_a_connector_down_under_the_plugin_of_its_type(
        demo: Flask, session: Session, cli) -> None:  # type: ignore[no-untyped-def]
    _result(session, "household-transfer", "population", status="unverified",
            error="(1045) Access denied for user 'tongban_nobody'", transient=False)
    _result(session, "retired-service", "archive", status="unverified", error="no plugin",
            transient=False)
    result = cli("plugins")
    assert result.exit_code == 1
    sql = _lines_of(result.output, "sql")
    assert sql[1] == "  hooks: tongban_connector_types"
    assert sql[2] == "  health: down"
    assert sql[3] == ("  connector household-transfer/population: down at 2026-12-03 01:30 UTC: "
                      "(1045) Access denied for user 'tongban_nobody'")
    lines = result.output.splitlines()
    at = lines.index("Connectors whose type no installed plugin offers:")
    assert lines[at + 1] == ("  connector retired-service/archive: down at 2026-12-03 01:30 UTC: "
                             "no plugin")
    # The same report as the connectors' own command.
    alone = cli("connectors", "health")
    assert ("household-transfer/population: down at 2026-12-03 01:30 UTC: (1045) Access denied "
            "for user 'tongban_nobody'") in alone.output.splitlines()


def test_a_connector_that_answers_again_leaves_its_plugin_working(
        demo: Flask, session: Session, cli) -> None:  # type: ignore[no-untyped-def]
    _result(session, "household-transfer", "population", status="unverified",
            error="(2003) Can't connect", transient=True)
    with demo.app_context():
        grouped = health_by_plugin(session, plugin_manager(demo), registry(demo))
    assert [(c.connector, c.report.state) for c in grouped["sql"]] == [("population", "degraded")]
    assert _lines_of(cli("plugins").output, "sql")[2] == "  health: degraded"
    _result(session, "household-transfer", "population", status="ok")
    later = ConnectorResult(service_code="household-transfer", connector="population",
                            query_id="person", purpose="verify", params_hash="1" * 64,
                            status="ok", checked_at=datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    session.add(later)
    session.commit()
    sql = _lines_of(cli("plugins").output, "sql")
    assert sql[2:] == ["  health: ok",
                       "  connector household-transfer/population: ok at 2026-12-03 02:00 UTC"]


def test_the_plugin_page_shows_each_connector_under_its_plugin(
        personas: Personas, session: Session) -> None:
    _result(session, "household-transfer", "population", status="unverified",
            error="(1045) Access denied for user 'tongban_nobody'", transient=False)
    _result(session, "retired-service", "archive", status="unverified", error="no plugin",
            transient=False)
    html = personas.as_("admin").get("/admin/plugins").get_data(as_text=True)
    main = html.split('id="main-content"', 1)[1]
    section = main.split('<section id="plugin-sql"', 1)[1].split("</section>", 1)[0]
    assert '<strong class="tb-tag tb-tag--overdue">不可用</strong>' in section
    assert ('<dt class="tb-summary-list__key">连接器 household-transfer/population</dt>'
            in section)
    assert "最近调用于 2026-12-03 09:30" in section  # Beijing time
    assert "(1045) Access denied for user &#39;tongban_nobody&#39;" in section
    orphans = main.split('<section id="plugin-none"', 1)[1]
    assert "类型未由任何已安装插件提供的连接器" in orphans
    assert "连接器 retired-service/archive" in orphans
