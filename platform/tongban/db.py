"""Database engine and the per-request session.

SQLite (the embedded default) runs in WAL mode with a busy timeout and foreign keys on;
PostgreSQL is reached through DATABASE_URL. The schema comes from Alembic only. Every
statement goes through the engine's pool and a SQLAlchemy ``Session``, so engine events,
``SQL_ECHO``, the pool's limits and ``pool_pre_ping`` apply to all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import configure_mappers
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 15_000
POOL_SIZE = 5
POOL_MAX_OVERFLOW = 10


def make_engine(url: str, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        # A small pool keeps connections (and their PRAGMAs) across requests.
        engine = create_engine(
            url, echo=echo, pool_size=POOL_SIZE, max_overflow=POOL_MAX_OVERFLOW,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            # Let SQLAlchemy issue BEGIN itself so that transactions are real.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            # A writing unit of work takes the write lock up front (BEGIN IMMEDIATE), so it
            # never fails upgrading a read snapshot; reads stay concurrent (deferred BEGIN).
            # transaction() asks for it with an execution option.
            immediate = conn.get_execution_options().get("sqlite_immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=POOL_SIZE,
                         max_overflow=POOL_MAX_OVERFLOW)


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    app.extensions["tongban.engine"] = make_engine(url, echo=app.config["SQL_ECHO"])
    # Set up the model classes now rather than on their first query in a request.
    from . import models  # noqa: F401

    configure_mappers()
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    return current_app.extensions["tongban.engine"]


def session() -> Session:
    """The request's session; created on first use, closed at teardown (its connection goes
    back to the pool)."""
    if "db_session" not in g:
        g.db_session = Session(engine(), expire_on_commit=False)
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


@contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work on the request's session: commit on success, roll back on any error.

    It ends the session's read snapshot first and, on SQLite, takes the write lock up front
    (BEGIN IMMEDIATE)."""
    db_session = session()
    if db_session.in_transaction():
        # End the read snapshot of this request before writing (see _sqlite_begin).
        db_session.commit()
    db_session.connection(execution_options={"sqlite_immediate": True})
    try:
        yield db_session
        db_session.commit()
    except BaseException:
        db_session.rollback()
        raise
