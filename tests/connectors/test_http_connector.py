"""Issue 15 item 4: the `http` connector against the e-licence (电子证照) twin on loopback:
parameters reach the URL only URL-encoded, transient failures are retried with backoff (a 500
then a 200: one retry, one result), 4xx never, a slow API gives up at the time limit, and the
answer is mapped with JSON pointers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from tongban_http_connector.connector import HttpConnector, open_connector
from tongban_http_connector.templates import pointer_problem, resolve
from tongban_http_connector.twin import DEMO_TOKEN, DEMO_USCC, LI_SI, ZHANG_SAN, RunningTwin, serve

from tongban.plugin_api import ConnectorError


@pytest.fixture(scope="module")
def running() -> Iterator[RunningTwin]:
    with serve() as found:
        yield found


@pytest.fixture
def twin(running: RunningTwin) -> Iterator[RunningTwin]:
    running.behaviour.reset()
    yield running
    running.behaviour.reset()


OPTIONS: dict[str, Any] = {
    "base_url_setting": "elicence_url",
    "auth": {"header": "X-Auth-Token", "token_setting": "elicence_token"},
    "department": {"zh": "市大数据中心电子证照库", "en": "E-licence service"},
    "timeout": 2, "retries": 2, "backoff": 0.05, "max_rows": 5}
LICENCES: dict[str, Any] = {
    "path": "/persons/{id_number}/licences", "query": {"type": "{kind}"},
    "params": {"id_number": "applicant.id_number", "kind": "applicant.kind"},
    "rows": "/data/licences",
    "fields": {"/licenceName": "a.name", "/licenceNumber": "a.number", "/details/level": "a.level",
               "/details/no_such": "a.none"}}
BUSINESS: dict[str, Any] = {
    "path": "/enterprises/{uscc}/business-licence", "params": {"uscc": "enterprise.uscc"},
    "fields": {"/data/name": "enterprise.name", "/data/establishedOn": "enterprise.established_on"}}


def _open(twin: RunningTwin, **options: Any) -> HttpConnector:
    return open_connector({**OPTIONS, **options},
                          {"elicence_url": twin.base_url, "elicence_token": DEMO_TOKEN})


@pytest.fixture
def connector(twin: RunningTwin) -> Iterator[HttpConnector]:
    opened = _open(twin)
    yield opened
    opened.close()


def test_a_persons_licences_are_mapped_with_json_pointers(connector: HttpConnector,
                                                          twin: RunningTwin) -> None:
    result = connector.fetch("licences", LICENCES, {"id_number": ZHANG_SAN, "kind": ""}, timeout=2)
    assert result.source == "市大数据中心电子证照库"
    assert result.rows == [
        {"/licenceName": "居民身份证", "/licenceNumber": ZHANG_SAN, "/details/level": None,
         "/details/no_such": None},
        {"/licenceName": "学历证书", "/licenceNumber": "102691201205001234", "/details/level": "本科",
         "/details/no_such": None}]
    [asked] = twin.behaviour.requests
    assert asked["token"] == DEMO_TOKEN  # the header from the token setting
    education = connector.fetch("licences", LICENCES, {"id_number": ZHANG_SAN, "kind": "education"},
                                timeout=2)
    assert [row["/licenceName"] for row in education.rows] == ["学历证书"]
    assert twin.behaviour.requests[-1]["args"] == {"type": "education"}


def test_one_object_is_one_row_and_no_record_is_no_row(connector: HttpConnector) -> None:
    found = connector.fetch("business", BUSINESS, {"uscc": DEMO_USCC}, timeout=2)
    assert found.rows == [{"/data/name": "上海示例科技有限公司", "/data/establishedOn": "2016-05-20"}]
    # {"data": null}: without `rows` a row of nulls; `rows` pointing at it says no record
    assert connector.fetch("business", BUSINESS, {"uscc": "91310000132200821H"}, timeout=2).rows == \
        [{"/data/name": None, "/data/establishedOn": None}]
    one = {**BUSINESS, "rows": "/data", "fields": {"/name": "enterprise.name"}}
    assert connector.fetch("b", one, {"uscc": DEMO_USCC}, timeout=2).rows == \
        [{"/name": "上海示例科技有限公司"}]
    assert connector.fetch("b", one, {"uscc": "91310000132200821H"}, timeout=2).rows == []
    nobody = connector.fetch("licences", LICENCES, {"id_number": "110101200001010000", "kind": ""},
                             timeout=2)
    assert nobody.rows == []


def test_no_more_rows_come_back_than_the_query_allows(connector: HttpConnector) -> None:
    query = {**LICENCES, "max_rows": 1}
    assert len(connector.fetch("l", query, {"id_number": ZHANG_SAN, "kind": ""}, timeout=2).rows) == 1


@pytest.mark.parametrize("attempt", ["../admin?x=", "..", "a/b#c", "%2e%2e"])
def test_an_injection_attempt_stays_inside_one_url_encoded_path_segment(
        connector: HttpConnector, twin: RunningTwin, attempt: str) -> None:
    try:
        rows = connector.fetch("licences", LICENCES,
                               {"id_number": attempt, "kind": "x&type=resident_id"}, timeout=2).rows
    except ConnectorError as exc:  # a 404 for a path with a / in its segment: not retried
        assert not exc.transient
        rows = []
    assert rows == []  # nobody's licences
    [asked] = twin.behaviour.requests
    encoded = {"../admin?x=": "%2E%2E%2Fadmin%3Fx%3D", "..": "%2E%2E", "a/b#c": "a%2Fb%23c",
               "%2e%2e": "%252e%252e"}[attempt]
    assert asked["raw_uri"] == f"/api/v1/persons/{encoded}/licences?type=x%26type%3Dresident_id"
    assert asked["args"] == {"type": "x&type=resident_id"}  # one value, not a second parameter


def test_a_value_that_looks_like_a_person_reaches_only_that_persons_path(
        connector: HttpConnector, twin: RunningTwin) -> None:
    result = connector.fetch("licences", LICENCES, {"id_number": LI_SI, "kind": ""}, timeout=2)
    assert [row["/licenceNumber"] for row in result.rows] == [LI_SI]
    assert twin.behaviour.requests[0]["path"] == f"/api/v1/persons/{LI_SI}/licences"


def test_a_500_then_a_200_is_retried_once_with_one_result(connector: HttpConnector,
                                                          twin: RunningTwin) -> None:
    twin.behaviour.fail_once(500)
    result = connector.fetch("business", BUSINESS, {"uscc": DEMO_USCC}, timeout=2)
    assert result.rows == [{"/data/name": "上海示例科技有限公司", "/data/establishedOn": "2016-05-20"}]
    assert len(twin.behaviour.requests) == 2


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_other_transient_statuses_are_retried_with_backoff(connector: HttpConnector,
                                                           twin: RunningTwin, status: int) -> None:
    twin.behaviour.fail_once(status, status)
    started = time.monotonic()
    assert connector.fetch("business", BUSINESS, {"uscc": DEMO_USCC}, timeout=2).rows
    assert len(twin.behaviour.requests) == 3
    assert time.monotonic() - started >= 0.05 + 0.1  # backoff 0.05 s, then doubled


def test_transient_failures_past_the_retries_fail_as_transient(connector: HttpConnector,
                                                               twin: RunningTwin) -> None:
    twin.behaviour.fail_once(503, 503, 503, 503)
    with pytest.raises(ConnectorError) as caught:
        connector.fetch("business", BUSINESS, {"uscc": DEMO_USCC}, timeout=2)
    assert caught.value.transient and str(caught.value) == \
        "GET /enterprises/{uscc}/business-licence: HTTP 503"
    assert len(twin.behaviour.requests) == 3  # the first try and 2 retries


@pytest.mark.parametrize(("status", "message"), [
    (404, "GET /enterprises/{uscc}/business-licence: HTTP 404"),
    (400, "GET /enterprises/{uscc}/business-licence: HTTP 400"),
    (401, "GET /enterprises/{uscc}/business-licence: HTTP 401, the API refused the token "
          "(check the token setting)"),
])
def test_a_4xx_is_permanent_and_never_retried(connector: HttpConnector, twin: RunningTwin,
                                              status: int, message: str) -> None:
    twin.behaviour.fail_once(status)
    with pytest.raises(ConnectorError) as caught:
        connector.fetch("business", BUSINESS, {"uscc": DEMO_USCC}, timeout=2)
    assert (str(caught.value), caught.value.transient) == (message, False)
    assert len(twin.behaviour.requests) == 1


def test_a_refused_token_is_permanent_never_names_the_token_and_health_says_down(
        twin: RunningTwin) -> None:
    opened = open_connector({**OPTIONS, "health_path": "/health"},
                            {"elicence_url": twin.base_url, "elicence_token": "wrong-token-123"})
    try:
        with pytest.raises(ConnectorError) as caught:
            opened.fetch("business", BUSINESS, {"uscc": DEMO_USCC}, timeout=2)
        assert not caught.value.transient and "401" in str(caught.value)
        assert "wrong-token-123" not in str(caught.value) and "127.0.0.1" not in str(caught.value)
        assert len(twin.behaviour.requests) == 1
        assert opened.health().state == "down"
    finally:
        opened.close()


def test_a_slow_api_gives_up_at_the_time_limit_as_transient_then_recovers(
        twin: RunningTwin) -> None:
    opened = _open(twin, timeout=0.5, retries=3)
    try:
        twin.behaviour.delay = 3
        started = time.monotonic()
        with pytest.raises(ConnectorError) as caught:
            opened.fetch("business", BUSINESS, {"uscc": DEMO_USCC}, timeout=5)
        # the connector's 0.5 s, retries included (four waits of 0.5 s would be 2 s)
        assert time.monotonic() - started < 1.5
        assert caught.value.transient and "no answer within" in str(caught.value)
        twin.behaviour.delay = 0
        assert opened.fetch("business", BUSINESS, {"uscc": DEMO_USCC}, timeout=5).rows
    finally:
        opened.close()


def test_a_refused_connection_is_transient_and_health_says_degraded(twin: RunningTwin) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    opened = open_connector({**OPTIONS, "retries": 1}, {"elicence_url": f"http://127.0.0.1:{port}/api",
                                                        "elicence_token": DEMO_TOKEN})
    try:
        with pytest.raises(ConnectorError) as caught:
            opened.fetch("business", BUSINESS, {"uscc": DEMO_USCC}, timeout=2)
        assert caught.value.transient
        assert str(caught.value) == "the API could not be reached: ConnectError"
        assert opened.health().state == "degraded"
    finally:
        opened.close()


def test_a_post_fills_its_json_body_from_the_parameters(connector: HttpConnector,
                                                        twin: RunningTwin) -> None:
    query = {"method": "POST", "path": "/licences/verify",
             "body": {"holderId": "{id_number}", "licenceNumber": "{number}", "channel": "tongban"},
             "params": {"id_number": "applicant.id_number", "number": "education.certificate"},
             "fields": {"/data/valid": "education.valid"}}
    result = connector.fetch("v", query, {"id_number": ZHANG_SAN, "number": "102691201205001234"},
                             timeout=2)
    assert result.rows == [{"/data/valid": True}]
    assert twin.behaviour.requests[0]["json"] == {
        "holderId": ZHANG_SAN, "licenceNumber": "102691201205001234", "channel": "tongban"}


def test_missing_settings_fail_to_open_naming_the_setting() -> None:
    with pytest.raises(ConnectorError) as caught:
        open_connector(OPTIONS, {"elicence_url": "http://127.0.0.1:1/api"})
    assert str(caught.value) == "the setting 'elicence_token' (in CONNECTOR_SETTINGS) has no token"
    with pytest.raises(ConnectorError) as caught:
        open_connector(OPTIONS, {"elicence_url": "ftp://x", "elicence_token": "t"})
    assert str(caught.value) == "the setting 'elicence_url' is not an http:// or https:// URL"
    assert not caught.value.transient


@pytest.mark.parametrize(("document", "pointer", "value"), [
    ({"a": {"b/c": {"d~e": 1}}}, "/a/b~1c/d~0e", 1),
    ({"a": [10, 20]}, "/a/1", 20),
    ({"": 5}, "/", 5),
    ({"a": 1}, "", {"a": 1}),
])
def test_json_pointers_follow_rfc_6901(document: Any, pointer: str, value: Any) -> None:
    assert pointer_problem(pointer) is None
    assert resolve(document, pointer) == value
