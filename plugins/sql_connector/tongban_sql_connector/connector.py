"""An open `sql` connector: one pooled SQLAlchemy engine per connector block, statements run
as ``text(sql)`` with bound parameters, a time limit per statement and a row limit. Driver
errors become ConnectorError, transient (try again later) or permanent (an admin must act)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from tongban.plugin_api import ConnectorError, FetchResult, HealthReport, connector_setting

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_ROWS = 100

# MySQL/MariaDB error numbers worth trying again: the server unreachable, gone or busy, a
# statement stopped by its time limit, a lock not granted in time.
TRANSIENT_CODES = frozenset({
    1040,   # too many connections
    1053,   # server shutdown in progress
    1205,   # lock wait timeout
    1213,   # deadlock
    1317,   # query execution was interrupted
    1969,   # MariaDB: max_statement_time exceeded
    2002, 2003, 2005, 2006, 2013, 2055,  # cannot connect, server gone away, lost connection
    3024,   # MySQL: maximum statement execution time exceeded
})


def _code(exc: DBAPIError) -> int | None:
    args = getattr(exc.orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _is_mysql(engine: Engine) -> bool:
    return engine.dialect.name in ("mysql", "mariadb")


def classify(exc: BaseException) -> ConnectorError:
    """The ConnectorError for a driver or pool error (the message is for the administrator:
    the driver's words, never the URL or a password)."""
    if isinstance(exc, PoolTimeout):
        return ConnectorError("no free connection in the pool in time", transient=True)
    if isinstance(exc, DBAPIError):
        code = _code(exc)
        words = str(exc.orig).strip() or type(exc.orig).__name__
        if code is not None:
            return ConnectorError(f"database error {code}: {words}",
                                  transient=code in TRANSIENT_CODES)
        transient = exc.connection_invalidated or type(exc.orig).__name__ == "OperationalError"
        return ConnectorError(f"database error: {words}", transient=transient)
    return ConnectorError(f"database error: {exc}", transient=False)


class SqlConnector:
    def __init__(self, url: str, options: Mapping[str, Any]) -> None:
        self.options = dict(options)
        self.timeout = float(options.get("timeout", DEFAULT_TIMEOUT))
        self.max_rows = int(options.get("max_rows", DEFAULT_MAX_ROWS))
        self.source = str(options["department"]["zh"])
        parsed = make_url(url)
        connect_args: dict[str, Any] = {}
        if parsed.get_backend_name() in ("mysql", "mariadb"):
            # The socket's own limits: a server that stops answering mid-statement (or a
            # network that drops packets) still ends the call, whatever the SQL limit does.
            wait = max(1, round(self.timeout + 1))
            connect_args = {"connect_timeout": wait, "read_timeout": wait, "write_timeout": wait,
                            "charset": "utf8mb4"}
        pool = int(options.get("pool_size", 5))
        kwargs: dict[str, Any] = {"pool_pre_ping": True, "pool_recycle": 1800}
        if parsed.get_backend_name() != "sqlite":
            kwargs.update(pool_size=pool, max_overflow=pool, pool_timeout=self.timeout)
        self.engine = create_engine(parsed, connect_args=connect_args, **kwargs)

    def fetch(self, query_id: str, query: Mapping[str, Any], params: Mapping[str, Any], *,
              timeout: float) -> FetchResult:
        limit = min(int(query.get("max_rows", self.max_rows)), self.max_rows)
        seconds = min(timeout, self.timeout)
        sql = str(query["sql"]).strip().rstrip(";")
        try:
            with self.engine.connect() as connection:
                if _is_mysql(self.engine):
                    # MariaDB's per-statement limit, set for this statement only (a number we
                    # make, never text from a definition or an answer).
                    connection.exec_driver_sql(f"SET SESSION max_statement_time = {seconds:.3f}")
                result = connection.execute(text(sql), dict(params))
                rows = [dict(row) for row in result.mappings().fetchmany(limit)]
                result.close()
                if _is_mysql(self.engine):
                    connection.exec_driver_sql("SET SESSION max_statement_time = 0")
        except SQLAlchemyError as exc:
            raise classify(exc) from exc
        return FetchResult(rows=[{k: _plain(v) for k, v in row.items()} for row in rows],
                           source=self.source)

    def health(self) -> HealthReport:
        now = datetime.now(UTC)
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            error = classify(exc)
            return HealthReport("degraded" if error.transient else "down", str(error), now)
        return HealthReport("ok", "", now)

    def close(self) -> None:
        self.engine.dispose()


def _plain(value: Any) -> Any:
    """Values as JSON can keep them (dates as ISO text, decimals as text)."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if type(value).__name__ == "Decimal":
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def open_connector(options: Mapping[str, Any], settings: Mapping[str, Any]) -> SqlConnector:
    """The ConnectorType's ``open``: the URL is ``settings[options["database_setting"]]``."""
    name = options["database_setting"]
    url = connector_setting(settings, name, "database URL")
    try:
        return SqlConnector(url, options)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ConnectorError(f"the setting {name!r} is not a usable database URL: "
                             f"{type(exc).__name__}", transient=False) from None
