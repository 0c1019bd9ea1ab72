"""Issue 15 item 3: the `sql` connector against the real MariaDB server: parameters bound,
never formatted in; a time limit per statement; a row limit; failures transient or permanent."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import event
from tongban_sql_connector import demo_registers
from tongban_sql_connector.connector import SqlConnector, open_connector

from tongban.forms.formats import check_cn_id_number, check_cn_uscc
from tongban.plugin_api import ConnectorError

from .conftest import MARIADB_SERVER

OPTIONS = {"database_setting": "registers", "department": {"zh": "市公安局人口库", "en": "Police"},
           "timeout": 1, "max_rows": 50}
PERSON = {"sql": "SELECT name, household_address FROM people WHERE id_number = :id_number",
          "params": {"id_number": "applicant.id_number"}, "fields": {"name": "applicant.name"}}


@pytest.fixture
def connector(registers_url: str) -> Any:
    opened = open_connector(OPTIONS, {"registers": registers_url})
    yield opened
    opened.close()


def test_a_person_is_found_by_id_number(connector: SqlConnector) -> None:
    result = connector.fetch("person", PERSON, {"id_number": demo_registers.FIRST_ID_NUMBER},
                             timeout=1)
    assert result.rows == [{"name": "张三", "household_address": "江苏省苏州市虎丘区狮山路88号3幢402室"}]
    assert result.source == "市公安局人口库"


def test_an_injection_attempt_reaches_the_database_only_as_a_bound_parameter(
        connector: SqlConnector) -> None:
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
        sent.append((statement, parameters))

    event.listen(connector.engine, "before_cursor_execute", capture)
    attempt = "' OR '1'='1"
    result = connector.fetch("person", PERSON, {"id_number": attempt}, timeout=1)
    assert result.rows == []  # formatted in, it would have matched all 300 people
    [(statement, parameters)] = [(s, p) for s, p in sent if s.startswith("SELECT")]
    assert statement == ("SELECT name, household_address FROM people WHERE id_number = "
                         "%(id_number)s")
    assert parameters == {"id_number": attempt}


def test_a_statement_past_its_time_limit_is_stopped_as_a_transient_failure(
        connector: SqlConnector) -> None:
    started = time.monotonic()
    with pytest.raises(ConnectorError) as caught:
        connector.fetch("slow", {"sql": "SELECT SLEEP(5) AS s FROM people WHERE id_number = :n",
                                 "params": {"n": "x"}, "fields": {"s": "a"}},
                        {"n": demo_registers.FIRST_ID_NUMBER}, timeout=1)
    assert time.monotonic() - started < 3
    assert caught.value.transient
    assert "max_statement_time" in str(caught.value)


def test_no_more_rows_come_back_than_the_query_allows(connector: SqlConnector) -> None:
    query = {"sql": "SELECT id_number FROM people WHERE sex = :sex", "params": {"sex": "x"},
             "fields": {"id_number": "a"}, "max_rows": 7}
    assert len(connector.fetch("all", query, {"sex": "F"}, timeout=1).rows) == 7
    # the connector's own max_rows caps a query that asks for more
    assert len(connector.fetch("all", {**query, "max_rows": 500}, {"sex": "F"},
                               timeout=1).rows) == 50


def test_a_refused_connection_is_transient_and_health_says_degraded(closed_port_url: str) -> None:
    opened = open_connector(OPTIONS, {"registers": closed_port_url})
    try:
        with pytest.raises(ConnectorError) as caught:
            opened.fetch("person", PERSON, {"id_number": "x"}, timeout=1)
        assert caught.value.transient and "2003" in str(caught.value)
        assert opened.health().state == "degraded"
    finally:
        opened.close()


@pytest.mark.parametrize(("url_tail", "sql", "code"), [
    ("", "SELECT name FROM no_such_table WHERE id_number = :id_number", "1146"),
    ("", "SELECT no_such_column FROM people WHERE id_number = :id_number", "1054"),
])
def test_a_query_the_register_rejects_is_permanent(registers_url: str, url_tail: str, sql: str,
                                                   code: str) -> None:
    opened = open_connector(OPTIONS, {"registers": registers_url + url_tail})
    try:
        with pytest.raises(ConnectorError) as caught:
            opened.fetch("q", {**PERSON, "sql": sql}, {"id_number": "x"}, timeout=1)
        assert not caught.value.transient and code in str(caught.value)
    finally:
        opened.close()


def test_wrong_credentials_are_permanent_and_health_says_down(registers_url: str) -> None:
    url = registers_url.replace("root@", "tongban_nobody:wrong@")
    opened = open_connector(OPTIONS, {"registers": url})
    try:
        with pytest.raises(ConnectorError) as caught:
            opened.fetch("person", PERSON, {"id_number": "x"}, timeout=1)
        assert not caught.value.transient and "Access denied" in str(caught.value)
        assert "wrong" not in str(caught.value)  # never the password
        assert opened.health().state == "down"
    finally:
        opened.close()


def test_a_missing_setting_fails_to_open_naming_the_setting() -> None:
    with pytest.raises(ConnectorError) as caught:
        open_connector(OPTIONS, {})
    assert str(caught.value) == "the setting 'registers' (in CONNECTOR_SETTINGS) has no database URL"
    assert not caught.value.transient


def test_the_demo_registers_hold_valid_id_numbers_and_credit_codes(registers_url: str) -> None:
    everyone = demo_registers.people()
    assert len(everyone) == demo_registers.PEOPLE == len({p.id_number for p in everyone})
    assert all(check_cn_id_number(p.id_number) is None for p in everyone)
    assert all(check_cn_uscc(code) is None for code, _ in demo_registers.employers())
    assert demo_registers.people() == everyone  # the same people every time (fixed seed)


def test_seeding_again_leaves_the_registers_as_they_are(registers_url: str) -> None:
    name = registers_url.rsplit("/", 1)[1]
    assert demo_registers.seed(MARIADB_SERVER, name) is False
    opened = open_connector(OPTIONS, {"registers": registers_url})
    try:
        count = opened.fetch("n", {"sql": "SELECT COUNT(*) AS n FROM people WHERE sex <> :x",
                                   "params": {"x": "-"}, "fields": {"n": "a"}}, {"x": "-"},
                             timeout=1)
        months = opened.fetch("m", {"sql": "SELECT COUNT(*) AS n, MIN(base) AS base "
                                           "FROM contributions WHERE id_number = :id_number",
                                    "params": {"id_number": "a"}, "fields": {"n": "a"}},
                              {"id_number": demo_registers.FIRST_ID_NUMBER}, timeout=1)
    finally:
        opened.close()
    assert count.rows == [{"n": 300}]
    assert months.rows == [{"n": 48, "base": "9000.00"}]
