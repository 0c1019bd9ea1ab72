"""Shared fixtures: a migrated database per test (SQLite or PostgreSQL), the app, personas.

Choose the database with `--db=sqlite` (default) or `--db=postgresql`; `make test` runs both.
The schema always comes from the Alembic migrations, never from create_all.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, create_engine, text
from sqlmodel import Session

from tongban import PROJECT_ROOT, create_app
from tongban.migrate import upgrade

from .demo_snapshot import DemoSnapshot, take_postgres, take_sqlite
from .installed_packages import metadata_read_once
from .parsed_text import definitions_parsed_once
from .password_cost import quick_password_hashes
from .route_code import routes_compiled_once
from .sql_code import sql_compiled_once
from .template_code import SharedTemplateCode, share_compiled_templates

POSTGRES_ADMIN_URL = os.environ.get("TONGBAN_TEST_POSTGRES",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DEMO_PASSWORD = "tongban-demo-2026"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=["sqlite", "postgresql"],
                     default=os.environ.get("TONGBAN_TEST_DB", "sqlite"),
                     help="database the suite runs on")


def pytest_report_header(config: pytest.Config) -> str:
    return f"tongban test database: {config.getoption('--db')}"


# A test that asks for none of these never reaches the database under test.
DATABASE_FIXTURES = frozenset({"db_backend", "migrated_template", "database_url"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, run only the tests that use a database: one that asks for no database
    fixture gives the same answer on any database, and the SQLite run (which runs every test)
    has run it. Deselected, not skipped: the PostgreSQL run reports how many it left out."""
    if config.getoption("--db") != "postgresql":
        return
    keep: list[pytest.Item] = []
    left: list[pytest.Item] = []
    for item in items:
        uses = DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        (keep if uses else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = keep


@pytest.fixture(scope="session", autouse=True)
def _definitions_parsed_once() -> Iterator[None]:
    """tests/parsed_text.py"""
    with definitions_parsed_once():
        yield


@pytest.fixture(scope="session", autouse=True)
def _routes_compiled_once() -> Iterator[None]:
    """tests/route_code.py"""
    with routes_compiled_once():
        yield


@pytest.fixture(scope="session", autouse=True)
def _sql_compiled_once() -> Iterator[None]:
    """tests/sql_code.py"""
    with sql_compiled_once():
        yield


@pytest.fixture(scope="session", autouse=True)
def _metadata_read_once() -> Iterator[None]:
    """tests/installed_packages.py"""
    with metadata_read_once():
        yield


@pytest.fixture(scope="session", autouse=True)
def _quick_password_hashes() -> Iterator[None]:
    """tests/password_cost.py"""
    with quick_password_hashes():
        yield


@pytest.fixture(scope="session")
def db_backend(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--db")


@contextmanager
def _postgres_database(purpose: str) -> Iterator[str]:
    """A new, migrated PostgreSQL database of this run's, dropped afterwards."""
    name = f"tongban_{purpose}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # A scratch database: a commit need not wait for the WAL to reach the disk.
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = re.sub(r"/[^/]*$", f"/{name}", POSTGRES_ADMIN_URL)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_template(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database at the newest migration: a SQLite file to copy, or a PostgreSQL database."""
    if db_backend == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        upgrade(f"sqlite:///{path}")
        yield str(path)
        return
    with _postgres_database("test") as url:
        yield url


@pytest.fixture(scope="session")
def demo_snapshot(db_backend: str, migrated_template: str,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSnapshot]:
    """The demo's rows, loaded once per run (tests/demo_snapshot.py)."""
    folder = tmp_path_factory.mktemp("demo")
    if db_backend == "sqlite":
        path = folder / "demo.sqlite3"
        shutil.copyfile(migrated_template, path)
        yield take_sqlite(str(path), folder)
        return
    with _postgres_database("demo") as url:
        snapshot = take_postgres(url, folder)
    yield snapshot


class PostgresReset:
    """Empties the run's PostgreSQL test database between tests: DELETE, children first, and
    every sequence back to 1. TRUNCATE of every table cost ~0.7 s a test (a new file per table);
    DELETE of the few rows a test wrote costs milliseconds. One connection is kept for the run:
    a new server process per test would read the catalogue of every table again."""

    def __init__(self, url: str):
        self.engine = create_engine(url, pool_size=1, max_overflow=0)
        metadata = MetaData()
        metadata.reflect(self.engine)
        tables = [t.name for t in reversed(metadata.sorted_tables) if t.name != "alembic_version"]
        with self.engine.connect() as connection:
            sequences = connection.execute(text(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
                "FROM pg_sequences WHERE schemaname = 'public'")).scalars().all()
        self.statements = [text(f'DELETE FROM "{t}"') for t in tables]
        if sequences:
            self.statements.append(text("SELECT " + ", ".join(
                f"setval('{s}', 1, false)" for s in sequences)))
        self.statements.append(text("INSERT INTO audit_head (id, last_seq, last_hash) "
                                    "VALUES (1, 0, '')"))

    def __call__(self) -> None:
        with self.engine.begin() as connection:
            for statement in self.statements:
                connection.execute(statement)


@pytest.fixture(scope="session")
def postgres_reset(migrated_template: str) -> Iterator[PostgresReset]:
    reset = PostgresReset(migrated_template)
    yield reset
    reset.engine.dispose()


@pytest.fixture
def database_url(db_backend: str, migrated_template: str, tmp_path: Path,
                 request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated, empty database for one test."""
    if db_backend == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(migrated_template, path)
        yield f"sqlite:///{path}"
        return
    request.getfixturevalue("postgres_reset")()
    yield migrated_template


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, object]:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "DEFINITIONS_DIR": str(PROJECT_ROOT),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        # Every test client comes from one address: limits high enough never to trip by
        # accident (tests of the limits set their own).
        "LOGIN_RATE_LIMIT_ADDRESS": "10000 per minute",
        "LOGIN_RATE_LIMIT_ACCOUNT": "10000 per minute",
        "START_RATE_LIMIT": "10000 per minute",
        "SUBMIT_RATE_LIMIT": "10000 per minute",
        "SELF_CHECK_RATE_LIMIT": "10000 per minute",
        # No register URLs: a service's connectors fail at once, the same on every machine
        # (tests/connectors gives theirs a scratch copy of the demo registers on MariaDB).
        "CONNECTOR_SETTINGS": {},
    }


@pytest.fixture(scope="session")
def template_code() -> SharedTemplateCode:
    return SharedTemplateCode()


@pytest.fixture
def app(app_config: dict[str, object], tmp_path: Path,
        template_code: SharedTemplateCode) -> Iterator[Flask]:
    application = create_app(app_config, instance_path=tmp_path / "instance")
    share_compiled_templates(application.jinja_env, template_code)
    yield application
    application.extensions["tongban.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def demo(app: Flask, demo_snapshot: DemoSnapshot) -> Flask:
    """The shipped definitions published and one account per persona: the rows of one
    `load_demo` per run copied in, or a real `load_demo` where the test's database or
    definitions are not the usual ones."""
    from tongban.demo import load_demo

    if demo_snapshot.restore_into(app):
        return app
    with app.app_context():
        load_demo(app.extensions["tongban.engine"], Path(app.config["DEFINITIONS_DIR"]))
    return app


@pytest.fixture
def session(app: Flask):  # type: ignore[no-untyped-def]
    """A database session of its own, for arranging and checking rows.

    Deliberately outside any app context: a pushed context would be shared by the test
    client's requests (and with it `g`), which real requests never do.
    """
    with Session(app.extensions["tongban.engine"], expire_on_commit=False) as db_session:
        yield db_session


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class Personas:
    """Sign the test client in as one of the demo personas."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def login(self, username: str, password: str = DEMO_PASSWORD):  # type: ignore[no-untyped-def]
        token = csrf_token(self.client)
        return self.client.post("/login", data={"username": username, "password": password,
                                                "csrf_token": token})

    def as_(self, username: str) -> FlaskClient:
        response = self.login(username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return self.client


@pytest.fixture
def personas(demo: Flask, client: FlaskClient) -> Personas:
    return Personas(client)


@pytest.fixture
def cli(runner):  # type: ignore[no-untyped-def]
    """Invoke the `tongban` command line against the test app."""
    from tongban.cli import main

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, args=list(args))

    return invoke
