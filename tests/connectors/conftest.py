"""Fixtures of the connector tests: a scratch copy of the demo registers on the MariaDB server
at 127.0.0.1:3306 (made once per run, dropped at the end), an app whose connectors read it,
and a closed port for a register that is down."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest
import tongban_sql_connector
from flask import Flask
from tongban_sql_connector import demo_registers

from tongban.connectors import registry

MARIADB_SERVER = os.environ.get("TONGBAN_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306")


@pytest.fixture(scope="session")
def registers_url() -> Iterator[str]:
    """The URL of this run's own copy of the demo registers (population, social insurance)."""
    name = f"tongban_test_registers_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    demo_registers.seed(MARIADB_SERVER, name)
    try:
        yield f"{MARIADB_SERVER}/{name}"
    finally:
        demo_registers.drop(MARIADB_SERVER, name)


@pytest.fixture(scope="session")
def closed_port_url() -> str:
    """A MariaDB URL on a loopback port nothing listens on: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"mysql+pymysql://root@127.0.0.1:{port}/tongban_demo_registers"


@pytest.fixture
def app_config(app_config: dict[str, object], registers_url: str) -> dict[str, object]:
    # Only the plugin under test, registered like the test kit does (whatever else the
    # environment has installed stays out).
    return {**app_config, "CONNECTOR_SETTINGS": {"demo_registers_url": registers_url},
            "CONNECTOR_RETRY_SECONDS": 0,  # a failed call is asked again at once
            "PLUGIN_ENTRY_POINTS": False, "PLUGINS": [tongban_sql_connector]}


@pytest.fixture
def app(app: Flask) -> Iterator[Flask]:
    """The app, its connectors' pools closed afterwards."""
    yield app
    registry(app).close()
