"""SQL the dashboards need that SQLite and PostgreSQL spell differently: the local calendar
period of an instant and the hours between two instants. Each is one expression compiled per
dialect, so every figure is one GROUP BY query on either database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

PERIODS = ("day", "week", "month")


class period_start(FunctionElement[str]):  # noqa: N801 - an SQL function's name
    """The local day, week (its Monday) or month of a UTC instant as text: ``2026-03-09`` or
    ``2026-03``. ``offset_minutes`` is the zone's offset from UTC (China keeps one all year)."""

    type = String()
    inherit_cache = True
    # The period and the offset are written into the SQL text: they are part of the cache key.
    _traverse_internals = [*FunctionElement._traverse_internals,
                           ("period", InternalTraversal.dp_string),
                           ("offset_minutes", InternalTraversal.dp_plain_obj)]

    def __init__(self, instant: Any, period: str, offset_minutes: int) -> None:
        if period not in PERIODS:
            raise ValueError(f"unknown period {period!r}; expected one of {', '.join(PERIODS)}")
        self.period = period
        self.offset_minutes = int(offset_minutes)
        super().__init__(instant)


class hours_between(FunctionElement[float]):  # noqa: N801 - an SQL function's name
    """Hours (a fraction) from the first instant to the second."""

    type = Float()
    inherit_cache = True


def _arguments(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(argument, **kw) for argument in element.clauses]


# {local} is the instant moved to local time; SQLite's 'weekday 0' moves to the coming Sunday
# (or stays on one), six days back is its Monday.
_PERIOD_SQL = {
    "sqlite": {"day": "strftime('%Y-%m-%d', {local})", "month": "strftime('%Y-%m', {local})",
               "week": "date({local}, 'weekday 0', '-6 days')"},
    "postgresql": {"day": "to_char({local}, 'YYYY-MM-DD')", "month": "to_char({local}, 'YYYY-MM')",
                   "week": "to_char(date_trunc('week', {local}), 'YYYY-MM-DD')"},
}
_LOCAL_SQL = {"sqlite": "{instant}, '{minutes:+d} minutes'",
              "postgresql": "(({instant}) AT TIME ZONE 'UTC' + interval '{minutes} minutes')"}
_HOURS_SQL = {"sqlite": "((julianday({end}) - julianday({start})) * 24.0)",
              "postgresql": "(EXTRACT(EPOCH FROM ({end}) - ({start})) / 3600.0)"}


@compiles(period_start, "sqlite")
@compiles(period_start, "postgresql")
def _period(element: period_start, compiler: SQLCompiler, **kw: Any) -> str:
    (instant,) = _arguments(element, compiler, **kw)
    dialect = compiler.dialect.name
    local = _LOCAL_SQL[dialect].format(instant=instant, minutes=element.offset_minutes)
    return _PERIOD_SQL[dialect][element.period].format(local=local)


@compiles(hours_between, "sqlite")
@compiles(hours_between, "postgresql")
def _hours(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _arguments(element, compiler, **kw)
    return _HOURS_SQL[compiler.dialect.name].format(start=start, end=end)
