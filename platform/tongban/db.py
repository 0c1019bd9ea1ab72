"""Database engines, sessions and units of work; no web request needed (see web/database.py).

SQLite (the embedded default) runs in WAL mode with a busy timeout and foreign keys on;
PostgreSQL is reached through DATABASE_URL. The schema comes from Alembic only. Every
statement goes through the engine's pool and a SQLAlchemy ``Session``, so engine events,
``SQL_ECHO``, the pool's limits and ``pool_pre_ping`` apply to all of them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import configure_mappers
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 15_000
POOL_SIZE = 5
POOL_MAX_OVERFLOW = 10


def make_engine(url: str, echo: bool = False, pool_size: int = POOL_SIZE) -> Engine:
    if url.startswith("sqlite"):
        # A small pool keeps connections (and their PRAGMAs) across requests.
        engine = create_engine(
            url, echo=echo, pool_size=pool_size, max_overflow=POOL_MAX_OVERFLOW,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
            # Let SQLAlchemy issue BEGIN itself so that transactions are real.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            # A writing unit of work takes the write lock up front (BEGIN IMMEDIATE), so it
            # never fails upgrading a read snapshot; reads stay concurrent (deferred BEGIN).
            # unit_of_work() asks for it with an execution option.
            immediate = conn.get_execution_options().get("sqlite_immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=pool_size,
                         max_overflow=POOL_MAX_OVERFLOW)


def open_database(url: str, echo: bool = False, pool_size: int = POOL_SIZE) -> Engine:
    """The engine for ``url``, with the SQLite file's folder made and the models set up now
    rather than on their first query. ``pool_size``: the connections kept open; a process
    whose threads each hold one (a worker) needs one per thread, or every checkout beyond the
    pool opens a connection and closes it again."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url, echo=echo, pool_size=pool_size)
    from . import models  # noqa: F401

    configure_mappers()
    return engine


def init_app(app: Any) -> None:
    """Give the app its engine (``app.extensions["tongban.engine"]``). Typed loosely: this
    module does not import Flask, so the CLI, a worker and the tests use it the same way."""
    app.extensions["tongban.engine"] = open_database(app.config["DATABASE_URL"],
                                                     echo=app.config["SQL_ECHO"])


def new_session(engine: Engine) -> Session:
    """A session whose objects stay readable after commit (pages render after the write)."""
    return Session(engine, expire_on_commit=False)


SessionFactory = Callable[[], Session]


def session_factory(target: Engine | SessionFactory) -> SessionFactory:
    """How a worker opens its sessions: on an engine, or through the caller's factory (a
    test's, or one that injects faults)."""
    if isinstance(target, Engine):
        return lambda: new_session(target)
    return target


@contextmanager
def held_session(engine: Engine) -> Iterator[Session]:
    """A session that keeps one pooled connection across its transactions: a worker's run of
    short transactions checks a connection out (and pings it) once, not once per commit."""
    with engine.connect() as connection, Session(bind=connection, expire_on_commit=False) as session:
        yield session


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """One unit of work on ``session``: commit on success, roll back on any error.

    It ends the session's read snapshot first and, on SQLite, takes the write lock up front
    (BEGIN IMMEDIATE)."""
    if session.in_transaction():
        # End the read snapshot before writing (see _sqlite_begin).
        session.commit()
    session.connection(execution_options={"sqlite_immediate": True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
