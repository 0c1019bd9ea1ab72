"""Database engine and the per-request session.

SQLite (the embedded default) runs in WAL mode with a busy timeout and foreign keys on;
PostgreSQL is reached through DATABASE_URL. The schema comes from Alembic only.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, Executable, create_engine, event
from sqlalchemy.orm import configure_mappers
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 15_000


def make_engine(url: str, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        # A small pool keeps connections (and their PRAGMAs) across requests.
        engine = create_engine(
            url, echo=echo, pool_size=5, max_overflow=10,
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
            # Straight to the driver: this runs on every request that touches the database.
            # writing() marks its connection in info; transaction() passes an option.
            immediate = conn.info.get("sqlite_immediate") \
                or conn.get_execution_options().get("sqlite_immediate")
            conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                "BEGIN IMMEDIATE" if immediate else "BEGIN")

        event.listen(engine, "engine_disposed", _close_held_connections)
        return engine
    engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10)
    event.listen(engine, "engine_disposed", _close_held_connections)
    return engine


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    app.extensions["tongban.engine"] = make_engine(url, echo=app.config["SQL_ECHO"])
    # Set up the model classes now rather than on their first query: code that reads rows
    # with plain selects (applications.load_draft) may come first in a fresh worker.
    from . import models  # noqa: F401

    configure_mappers()
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    return current_app.extensions["tongban.engine"]


def session() -> Session:
    """The request's session; created on first use, closed at teardown."""
    if "db_session" not in g:
        g.db_session = Session(engine(), expire_on_commit=False)
    return g.db_session


def connection() -> Connection:
    """The request's plain (Core) connection, for the hot paths that read and write a row or
    two without the ORM's unit of work (drafts: every page view and post); created on first use,
    closed at teardown. A request may use it and :func:`session` side by side."""
    if "db_connection" not in g:
        g.db_connection = engine().connect()
    return g.db_connection


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
    db_connection = g.pop("db_connection", None)
    if db_connection is not None:
        db_connection.close()  # rolls back whatever was not committed


@contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
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


@contextmanager
def writing() -> Iterator[Connection]:
    """One unit of work on :func:`connection`: commit on success, roll back on any error.

    As :func:`transaction` does, it ends the connection's read snapshot first and, on SQLite,
    takes the write lock up front (BEGIN IMMEDIATE)."""
    conn = connection()
    if conn.in_transaction():
        conn.commit()
    conn.info["sqlite_immediate"] = True  # read by _sqlite_begin; info outlives the request
    try:
        with conn.begin():
            yield conn
    finally:
        conn.info["sqlite_immediate"] = False


class DriverStatement:
    """A statement compiled once per database kind and run on the driver's cursor.

    For the draft read every form page makes and the draft save every page post makes:
    SQLAlchemy's execution path costs several times the statement itself. The SQL is
    SQLAlchemy's own compilation for the connection's dialect; parameters go through their
    types' bind processors and columns through their result processors (JSON written and
    parsed, SQLite's datetimes), so rows are written and read as ``conn.execute`` would.

    :meth:`read` reads one row and :meth:`write` runs one write, each on its own, on a
    connection the thread holds in autocommit (no pool checkout, no transaction left open).
    :meth:`first` reads on a given connection, outside SQLAlchemy's transaction bookkeeping:
    on SQLite the read is a statement of its own; on PostgreSQL it opens the driver's
    transaction, which ends when the connection goes back to the pool or a unit of work
    commits. :meth:`run` writes inside :func:`writing` (its ``BEGIN IMMEDIATE`` and commit
    are SQLAlchemy's), with the other statements of that unit of work.
    """

    def __init__(self, statement: Executable):
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, conn: Connection | Engine) -> _Compiled:
        dialect = conn.dialect
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            binds = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                     for name, bind in compiled.binds.items()}
            columns = [(column.key, column.type.dialect_impl(dialect).result_processor(
                dialect, None)) for column in getattr(self.statement, "selected_columns", ())]
            found = self._compiled[dialect.name] = _Compiled(
                compiled.string, tuple(compiled.positiontup or ()) if compiled.positional
                else None, binds, columns)
        return found

    @staticmethod
    def _execute(driver: Any, compiled: _Compiled, params: dict[str, Any]) -> Any:
        """A driver cursor that has run the statement with ``params``."""
        values = {name: process(params[name]) if process is not None else params[name]
                  for name, process in compiled.binds.items()}
        cursor = driver.cursor()
        try:
            cursor.execute(compiled.sql, tuple(values[name] for name in compiled.order)
                           if compiled.order is not None else values)
        except BaseException:
            cursor.close()
            raise
        return cursor

    def first(self, conn: Connection, **params: Any) -> dict[str, Any] | None:
        """The first row as a dict of column values, or None."""
        compiled = self._compile(conn)
        return self._first_row(conn.connection.driver_connection, compiled, params)

    def read(self, engine: Engine, **params: Any) -> dict[str, Any] | None:
        """The first row, read on its own, outside any unit of work: on this thread's held
        connection (see :func:`_held_connection`), which costs nothing to take, where a
        connection from the pool costs more than the read. A connection the server dropped
        is replaced once."""
        compiled = self._compile(engine)
        return _on_held(engine, lambda driver: self._first_row(driver, compiled, params))

    def write(self, engine: Engine, **params: Any) -> int:
        """Run a write that is one statement, committed on its own: on this thread's held
        connection, in autocommit, where the statement is its own transaction (as atomic and
        as durable as a unit of work holding only it), without a pool checkout or a BEGIN and
        COMMIT of SQLAlchemy's; on SQLite it waits for the write lock as any writer does.
        For statements that set values, and so are safe to run again: a connection the
        server dropped is replaced once and the statement run again. The number of rows it
        changed."""
        compiled = self._compile(engine)

        def execute(driver: Any) -> int:
            cursor = self._execute(driver, compiled, params)
            try:
                return int(cursor.rowcount)
            finally:
                cursor.close()

        return _on_held(engine, execute)

    def _first_row(self, driver: Any, compiled: _Compiled, params: dict[str, Any]
                   ) -> dict[str, Any] | None:
        cursor = self._execute(driver, compiled, params)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        return {key: process(value) if process is not None and value is not None else value
                for (key, process), value in zip(compiled.columns, row, strict=True)}

    def run(self, conn: Connection, **params: Any) -> int:
        """Run a write inside the connection's unit of work; the number of rows it changed."""
        if not conn.in_transaction():
            raise RuntimeError("DriverStatement.run writes inside db.writing()")
        cursor = self._execute(conn.connection.driver_connection, self._compile(conn), params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None
    """Bind names in the order of a positional paramstyle (SQLite); None for named ones."""
    binds: dict[str, Callable[[Any], Any] | None]
    columns: list[tuple[str, Callable[[Any], Any] | None]]


# --- Held connections for statements run on their own -------------------------------------------------------


class _HeldConnections:
    """One engine's held connections: one per thread, made on first use (taken from the pool
    once and detached from it), in autocommit, so that each statement run on one is a
    transaction of its own and none stays open between requests. All are closed when the
    engine is disposed."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.all: dict[Any, int] = {}  # driver connection -> the process that made it
        self.lock = threading.Lock()


_held_by_engine: weakref.WeakKeyDictionary[Engine, _HeldConnections] = weakref.WeakKeyDictionary()
_held_lock = threading.Lock()


def _held_of(engine: Engine) -> _HeldConnections:
    held = _held_by_engine.get(engine)
    if held is None:
        with _held_lock:
            held = _held_by_engine.setdefault(engine, _HeldConnections())
    return held


def _held_connection(engine: Engine) -> Any:
    """This thread's held driver connection for ``engine`` (a new one in a forked child)."""
    held = _held_of(engine)
    local = held.local
    driver = getattr(local, "driver", None)
    if driver is not None and local.pid == os.getpid():
        return driver
    proxied = engine.raw_connection()  # the engine's connect events (PRAGMAs) have run
    driver = proxied.driver_connection
    proxied.detach()
    if engine.dialect.name != "sqlite":  # SQLite's are in autocommit from connect on
        driver.autocommit = True
    with held.lock:
        held.all[driver] = os.getpid()
    local.driver, local.pid = driver, os.getpid()
    return driver


def _on_held(engine: Engine, work: Callable[[Any], Any]) -> Any:
    """``work(driver)`` on this thread's held connection; once more on a new connection if
    the server had dropped it."""
    driver = _held_connection(engine)
    try:
        return work(driver)
    except engine.dialect.loaded_dbapi.Error as exc:
        if not engine.dialect.is_disconnect(exc, driver, None):
            raise
        _drop_held_connection(engine, driver)
        return work(_held_connection(engine))


def _drop_held_connection(engine: Engine, driver: Any) -> None:
    held = _held_of(engine)
    with held.lock:
        held.all.pop(driver, None)
    if getattr(held.local, "driver", None) is driver:
        held.local.driver = None
    with contextlib.suppress(Exception):  # already broken: it is being dropped
        driver.close()


def _close_held_connections(engine: Engine) -> None:
    """``engine_disposed``: close every held connection this process made (threads
    make new ones on their next statement). One inherited from a parent process is left alone:
    closing it here would end the parent's session on a shared socket."""
    held = _held_by_engine.get(engine)
    if held is None:
        return
    with held.lock:
        drivers, held.all = [d for d, pid in held.all.items() if pid == os.getpid()], {}
    held.local = threading.local()
    for driver in drivers:
        with contextlib.suppress(Exception):  # closing at disposal is best effort
            driver.close()
